import Dispatch
import Protocol
import Synchronization

/// One catalog target of a connector: its own instance of the connector, made from the connector's configuration
/// with the target's endpoint and settings, and its own context, so its writes are filed under its source.
final class TargetInstance: Sendable {
    let target: CatalogTarget
    let connector: (any IntegrationConnector)?
    let context: ConnectorContext
    private let configurationError: String?
    private let state = Mutex<(started: Bool, lastRefresh: Date?, failing: String?)>((false, nil, nil))

    init(target: CatalogTarget, config: IntegrationConnectorConfig, userId: String, secret: String?, client: SupervisorClient,
         services: WorkerServices, registry: ConnectorRegistry, logger: Logger) {
        self.target = target
        let logger = logger.with(["catalogTarget": .text(target.catalogTargetName)])
        context = ConnectorContext(config: config, userId: userId, secret: secret, client: client, logger: logger)
        do {
            connector = try registry.makeConnector(config, services: services)
            configurationError = nil
        } catch {
            connector = nil
            configurationError = "\(error)"
            state.withLock { $0.failing = "\(error)" }
            logger.error("catalog target configuration failed: \(error)")
        }
    }

    var status: CatalogTargetStatus {
        state.withLock { CatalogTargetStatus(catalogTargetName: target.catalogTargetName, lastRefreshTime: $0.lastRefresh, failingExceptionMessage: $0.failing) }
    }

    /// Starts the instance if it is new, then refreshes it; the error is the target's alone.
    func refresh() throws {
        guard let connector else { throw ConnectorError(configurationError ?? "not created") }
        if !state.withLock({ $0.started }) {
            try connector.start(context: context)
            state.withLock { $0.started = true }
        }
        try connector.refresh(context: context)
    }

    func record(_ error: (any Error)?) {
        state.withLock { state in
            state.failing = error.map { "\($0)" }
            if error == nil { state.lastRefresh = Date() }
        }
    }

    func disconnect() {
        if let connector, state.withLock({ $0.started }) { connector.disconnect() }
    }
}

extension ConnectorHost {
    /// A refresh of a connector with catalog targets: each target in turn, each with its own report naming it. A
    /// target that fails is reported, and the others go on; the connector stays WAITING and says which failed.
    func refreshTargets(_ targets: [TargetInstance]) -> RefreshOutcome {
        if status == .INITIALIZED { change(to: .WAITING) }
        guard status == .WAITING else { return outcome(reportId: nil, recording: .init()) }
        let started = Date()
        change(to: .REFRESHING)
        var total = ConnectorContext.Recording()
        var failures: [String] = []
        var lastReport: String?
        for instance in targets {
            let name = instance.target.catalogTargetName
            let targetStarted = Date()
            instance.context.startRecording()
            var outcome = ["catalogTargetName": name]
            do {
                try instance.refresh()
                instance.record(nil)
                outcome["outcome"] = "completed"
            } catch {
                instance.record(error)
                failures.append("\(name): \(error)")
                outcome["outcome"] = "failed"
                outcome["failingExceptionMessage"] = "\(error)"
            }
            let recording = instance.context.finishRecording()
            lastReport = publish(recording, started: targetStarted, outcome: outcome) ?? lastReport
            total.created += recording.created
            total.updated += recording.updated
            total.deleted += recording.deleted
        }
        state.withLock {
            $0.refreshCount += 1
            $0.lastRefreshTime = Date()
            $0.lastRefreshDuration = Date().timeIntervalSince(started)
        }
        change(to: .WAITING, message: failures.isEmpty ? nil : "catalog target(s) failed: " + failures.joined(separator: "; "))
        return outcome(reportId: lastReport, recording: total)
    }
}

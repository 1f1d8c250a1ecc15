import Dispatch
import Glibc
import Protocol
import Synchronization

/// Runs one connector through Egeria's lifecycle on its own serial queue, so a slow or stuck refresh delays
/// nothing but that connector; publishes each status change and each refresh's integration report.
final class ConnectorHost: Sendable {
    /// The connector's configuration; its refresh settings may change in place (``adopt(_:)``).
    var config: IntegrationConnectorConfig { settings.withLock { $0 } }
    private let settings: Mutex<IntegrationConnectorConfig>
    /// For a connector given catalog targets: one instance of it per target, refreshed one after another.
    let targets: [TargetInstance]?
    private let context: ConnectorContext
    private let connector: (any IntegrationConnector)?
    private let queue: DispatchQueue
    private let client: SupervisorClient
    private let publish: @Sendable (ConnectorStatusChanged.Params) -> Void
    private let serverName: String
    /// The integration group the connector runs in, which its reports name (nil outside a group).
    private let groupName: String?
    private let logger: Logger
    let state: Mutex<State>

    struct State {
        var status: IntegrationConnectorStatus
        var lastStatusChange = Date()
        var lastRefreshTime: Date?
        var failingExceptionMessage: String?
        var refreshCount = 0
        var lastRefreshDuration: Double?
    }

    init(config: IntegrationConnectorConfig, serverName: String, userId: String, groupName: String? = nil, secret: String? = nil, client: SupervisorClient,
         services: WorkerServices, registry: ConnectorRegistry, logger: Logger,
         publish: @escaping @Sendable (ConnectorStatusChanged.Params) -> Void) {
        self.settings = Mutex(config)
        self.client = client
        self.publish = publish
        self.serverName = serverName
        self.groupName = groupName
        self.logger = logger.with(["connector": .text(config.connectorName)])
        self.context = ConnectorContext(config: config, userId: userId, secret: secret, client: client, logger: self.logger)
        self.queue = DispatchQueue(label: "connector.\(config.connectorName)")
        if let catalogTargets = config.catalogTargets {
            // Each target gets its own instance and context: nothing of one target's settings or writes reaches another.
            let logger = self.logger
            targets = catalogTargets.map { target in
                TargetInstance(target: target, config: config.forTarget(target), userId: userId, secret: secret, client: client,
                               services: services, registry: registry, logger: logger)
            }
            connector = nil
            state = Mutex(State(status: .INITIALIZED))
        } else {
            targets = nil
            do {
                connector = try registry.makeConnector(config, services: services)
                state = Mutex(State(status: .INITIALIZED))
            } catch {
            connector = nil
            state = Mutex(State(status: .CONFIG_FAILED, failingExceptionMessage: "\(error)"))
            self.logger.error("connector configuration failed: \(error)")
            }
        }
        context.setWaitingHandler { [weak self] reason in self?.noteWaiting(reason) }
    }

    /// A connector at work (on its queue) says it waits on a third party, or no longer: only a WAITING status
    /// carries the reason, and only a change is published.
    private func noteWaiting(_ reason: String?) {
        let current = state.withLock { ($0.status, $0.failingExceptionMessage) }
        guard current.0 == .WAITING, current.1 != reason else { return }
        change(to: .WAITING, message: reason)
    }

    var name: String { config.connectorName }

    /// Takes a new configuration without re-creating the connector when only how often and whether it reports
    /// differ (what the host reads at each refresh); false when the connector itself must be re-created.
    func adopt(_ new: IntegrationConnectorConfig) -> Bool {
        settings.withLock { current in
            var same = new
            same.refreshTimeInterval = current.refreshTimeInterval
            same.refreshIntervalSeconds = current.refreshIntervalSeconds
            same.generateIntegrationReports = current.generateIntegrationReports
            same.refreshTimeoutSeconds = current.refreshTimeoutSeconds
            guard same == current else { return false }
            current = new
            return true
        }
    }

    /// Announces the initial status (INITIALIZED or CONFIG_FAILED).
    func announce() { publish(snapshot()) }

    /// Runs a refresh after any queued one; `completion` gets the outcome on the connector's queue.
    func refresh(completion: @escaping @Sendable (RefreshOutcome) -> Void) {
        queue.async { completion(self.performRefresh()) }
    }

    /// Disconnects the connector, waiting at most `timeoutSeconds` for a refresh in progress; false if it
    /// did not stop in time (the stuck refresh is abandoned on its own queue).
    @discardableResult
    func disconnect(timeoutSeconds: Double) -> Bool {
        let done = DispatchSemaphore(value: 0)
        connector?.stopping()
        targets?.forEach { $0.connector?.stopping() }
        queue.async {
            if let connector = self.connector, self.status != .CONFIG_FAILED { connector.disconnect() }
            self.targets?.forEach { $0.disconnect() }
            self.change(to: .SHUTDOWN)
            done.signal()
        }
        if done.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            logger.warning("connector did not disconnect within \(timeoutSeconds) s; its stuck refresh is abandoned")
            return false
        }
        return true
    }

    var status: IntegrationConnectorStatus { state.withLock { $0.status } }

    /// Whether the connector takes OpenLineage events.
    var takesLineage: Bool { connector is any LineageConsumer }

    /// Hands OpenLineage events to the connector on its queue, after any refresh queued before them. What it
    /// writes is reported as a refresh's writes are, with the number of events.
    func deliver(_ events: [DeliverLineage.Event], completion: @escaping @Sendable ((any Error)?) -> Void) {
        queue.async {
            guard let consumer = self.connector as? any LineageConsumer else {
                return completion(ConnectorError("connector \(self.name) takes no OpenLineage events"))
            }
            self.startIfNew(consumer)
            guard self.status == .WAITING else {
                return completion(ConnectorError("connector \(self.name) takes no OpenLineage events while \(self.status.rawValue)"))
            }
            let started = Date()
            self.context.startRecording()
            do {
                try consumer.publish(events, context: self.context)
            } catch {
                // Not FAILED: the same events come again in a second, and a third party back by then takes them.
                let recording = self.context.finishRecording()
                _ = self.publish(recording, started: started, outcome: ["outcome": "incomplete", "reason": "\(error)",
                                                                         "openLineageEvents": String(events.count)])
                return completion(error)
            }
            let recording = self.context.finishRecording()
            _ = self.publish(recording, started: started, outcome: ["outcome": "completed", "openLineageEvents": String(events.count)])
            completion(nil)
        }
    }

    // MARK: - Lifecycle (on `queue`)

    /// Starts a connector not started yet (its first refresh, or its first lineage batch): WAITING, or failed.
    private func startIfNew(_ connector: any IntegrationConnector) {
        guard status == .INITIALIZED else { return }
        do {
            try connector.start(context: context)
            change(to: .WAITING)
        } catch {
            fail(error, during: "start")
        }
    }

    private func performRefresh() -> RefreshOutcome {
        if let targets { return refreshTargets(targets) }
        guard let connector else { return outcome(reportId: nil, recording: .init()) }
        startIfNew(connector)
        guard status == .WAITING else { return outcome(reportId: nil, recording: .init()) }

        let started = Date()
        change(to: .REFRESHING)
        context.startRecording()
        do {
            try connector.refresh(context: context)
        } catch let error as RPCError where error.code == RPCError.unavailableCode {
            // The metadata access server is unreachable (Egeria's #6025): not the connector's fault. It stays
            // WAITING and the next refresh tries again; what was written so far is reported.
            let recording = context.finishRecording()
            let reportId = publish(recording, started: started, outcome: ["outcome": "incomplete", "reason": error.message])
            logger.warning("refresh incomplete, will retry at the next refresh: \(error.message)")
            change(to: .WAITING)
            return outcome(reportId: reportId, recording: recording)
        } catch let error as ConnectorError where error.kind == .waiting {
            // The third party is unreachable (a database down or hung): WAITING with the reason, retried at the
            // next refresh; the connector has written nothing it could not read.
            let recording = context.finishRecording()
            let reportId = publish(recording, started: started, outcome: ["outcome": "incomplete", "reason": error.message])
            logger.warning("refresh incomplete, will retry at the next refresh: \(error.message)")
            change(to: .WAITING, message: error.message)
            return outcome(reportId: reportId, recording: recording)
        } catch {
            // What was written before the failure is still reported, marked failed.
            let recording = context.finishRecording()
            let reportId = publish(recording, started: started, outcome: ["outcome": "failed", "failingExceptionMessage": "\(error)"])
            fail(error, during: "refresh")
            return outcome(reportId: reportId, recording: recording)
        }
        let recording = context.finishRecording()
        let reportId = publish(recording, started: started, outcome: ["outcome": "completed"])
        state.withLock {
            $0.refreshCount += 1
            $0.lastRefreshTime = Date()
            $0.lastRefreshDuration = Date().timeIntervalSince(started)
        }
        change(to: .WAITING)
        logger.debug("refresh done", ["created": .int(recording.created.count), "updated": .int(recording.updated.count),
                                      "deleted": .int(recording.deleted.count)])
        return outcome(reportId: reportId, recording: recording)
    }

    /// Builds and submits the refresh's integration report if anything changed and reports are on.
    func publish(_ recording: ConnectorContext.Recording, started: Date, outcome: [String: String]) -> String? {
        guard config.reportsEnabled && !recording.isEmpty else { return nil }
        let report = IntegrationReport(
            reportId: GUID.random(), serverName: serverName, connectorId: config.connectorId,
            connectorName: config.connectorName, refreshStartDate: started, refreshCompletionDate: Date(),
            createdElements: recording.created, updatedElements: recording.updated,
            deletedElements: recording.deleted,
            additionalProperties: outcome.merging(recording.structureCounts) { ours, _ in ours }.merging(groupName.map { ["integrationGroupName": $0] } ?? [:]) { ours, _ in ours })
        return submit(report) ? report.reportId : nil
    }

    /// Hands the report to the supervisor (in parts when it is too big for one line), holding on to it while
    /// the supervisor cannot take it (spool full, store unavailable): it retries from the first part with
    /// backoff rather than drop a report. False only for a refused report, which is logged with the reason.
    private func submit(_ report: IntegrationReport) -> Bool {
        let messages = report.parts() ?? [SubmitReport.Params(report: report)]
        var delay = 0.1
        attempt: while true {
            for params in messages {
                do {
                    _ = try client.call(SubmitReport.self, params)
                } catch where error.code == RPCError.unavailableCode {
                    logger.warning("integration report \(report.reportId) not accepted yet: \(error.message); retrying in \(delay) s")
                    usleep(UInt32(delay * 1_000_000))
                    delay = min(delay * 2, 5)
                    continue attempt
                } catch {
                    logger.error("integration report \(report.reportId) was refused: \(error.message)")
                    return false
                }
            }
            return true
        }
    }

    private func fail(_ error: any Error, during phase: String) {
        let message = "\(error)"
        let configuration = (error as? ConnectorError)?.kind == .configFailed
        logger.error("connector \(configuration ? "configuration " : "")failed during \(phase): \(message)")
        state.withLock { $0.failingExceptionMessage = message }
        change(to: configuration ? .CONFIG_FAILED : .FAILED)
    }

    /// `message` is kept beside a status that is not a failure (WAITING for an unreachable third party).
    func change(to status: IntegrationConnectorStatus, message: String? = nil) {
        state.withLock {
            $0.status = status
            $0.lastStatusChange = Date()
            if !status.isFailure { $0.failingExceptionMessage = message }
        }
        publish(snapshot())
    }

    private func snapshot() -> ConnectorStatusChanged.Params {
        state.withLock {
            .init(connectorName: config.connectorName, connectorId: config.connectorId, connectorStatus: $0.status,
                  lastStatusChange: $0.lastStatusChange, lastRefreshTime: $0.lastRefreshTime,
                  failingExceptionMessage: $0.failingExceptionMessage, refreshCount: $0.refreshCount,
                  lastRefreshDurationSeconds: $0.lastRefreshDuration,
                  catalogTargets: targets?.map(\.status))
        }
    }

    func outcome(reportId: String?, recording: ConnectorContext.Recording) -> RefreshOutcome {
        let snapshot = snapshot()
        return RefreshOutcome(connectorName: name, connectorStatus: snapshot.connectorStatus, reportId: reportId,
                              createdCount: recording.created.count, updatedCount: recording.updated.count,
                              deletedCount: recording.deleted.count,
                              failingExceptionMessage: snapshot.failingExceptionMessage)
    }
}

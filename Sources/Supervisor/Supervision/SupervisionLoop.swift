import Foundation
import Glibc
import Forwarding
import Protocol
import Store

/// The supervisor's core: one thread, one ordered event stream, one `switch`. Each worker's lifecycle
/// returns actions; this loop performs them (spawn, send, signal) and never blocks on a worker.
///
/// - Important: `run()` must be called on a long-lived thread (the main thread): workers die with the
///   thread that spawned them (parent-death signal).
final class SupervisionLoop {
    var config: DaemonConfig
    /// Where element writes and reports go, chosen at start.
    let access: AccessServer
    /// The daemon's store: the access server itself, or Egeria's mirror and spool.
    let store: EmbeddedStore
    let events: EventQueue
    let logger: Logger
    let notifier: SystemdNotifier?
    var services: [ServiceRuntime] = []
    let encoder = MessageEncoder()
    let decoder = PayloadDecoder()
    let startTime = Date()
    var periodic = PeriodicTasks()
    /// The control socket, for its connection figures in status and metrics.
    var control: ControlServer?
    /// The REST platform door, when configured.
    var platform: HTTPServer?
    /// What its OpenLineage door did, when the platform door runs.
    var lineageTally: LineageTally?
    /// Reset before the loop reads the store for new OpenLineage events.
    var lineageKick: LineageKick?
    /// Reads Egeria 6 integration groups, when the configuration names any.
    var groupFollower: GroupFollower?
    private var nextServiceID = 1
    private var shutdownDeadline: Double?

    init(config: DaemonConfig, access: AccessServer, store: EmbeddedStore, events: EventQueue, logger: Logger, notifier: SystemdNotifier?) {
        self.config = config
        self.access = access
        self.store = store
        self.events = events
        self.logger = logger
        self.notifier = notifier
        services = config.integrationServices.map(makeService)
    }

    func makeService(_ service: ServiceConfig) -> ServiceRuntime {
        defer { nextServiceID += 1 }
        return ServiceRuntime(id: nextServiceID, config: service,
                              lifecycle: WorkerLifecycle(timing: config.supervision.timing, restart: service.restart, remote: service.remote != nil), logger: logger)
    }

    func service(id: Int) -> ServiceRuntime? { services.first { $0.id == id } }

    /// This host's name, sent to workers so those elsewhere qualify host-bound names with theirs.
    static let hostName: String? = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    var isShuttingDown: Bool { shutdownDeadline != nil }

    /// Starts every worker and supervises until a shutdown completes; returns the exit code.
    func run() -> Int32 {
        let now = MonotonicClock.now()
        periodic.start(now: now, config: config, notifier: notifier)
        for service in services { perform(service.lifecycle.start(now: now), on: service) }
        while true {
            let deadline = ([shutdownDeadline, periodic.nextDeadline] + services.map(\.lifecycle.nextDeadline)).compactMap { $0 }.min()
            if let event = events.next(until: deadline) { handle(event) }
            let now = MonotonicClock.now()
            for service in services { perform(service.lifecycle.tick(now: now), on: service) }
            runPeriodicTasks(now: now)
            if isShuttingDown {
                if services.allSatisfy({ $0.process == nil }) { break }
                if let shutdownDeadline, now >= shutdownDeadline { forceKillAll(); break }
            }
        }
        sweepOrphans()
        store.close()
        writeMetricsFile()
        logger.notice("all workers stopped; integration-daemon exits")
        return 0
    }

    // MARK: - Events

    private func handle(_ event: SupervisorEvent) {
        switch event {
        case .workerMessage(let id, let generation, let message):
            guard let service = service(id: id) else { return }
            handleMessage(message, from: service, generation: generation)
        case .workerOversizedLine(let id, let generation, let count, let requestID):
            guard let service = service(id: id), generation == service.generation else { return }
            service.protocolViolations += 1
            service.logger.warning("protocol violation: dropped a \(count)-byte line on stdout (limit \(LineFramer.defaultMaxLineLength))",
                                   ["violations": .int(service.protocolViolations)])
            let hint = " (send a large report in parts: reports/submit with part.index and part.count)"
            service.connection?.send(encoder.errorResponse(id: requestID, error: .invalidRequest("line of \(count) bytes exceeds the \(LineFramer.defaultMaxLineLength)-byte limit\(hint)")))
        case .workerRefused(let id, let generation, let reason):
            guard let service = service(id: id), generation == service.generation else { return }
            service.protocolViolations += 1
            service.logger.warning("protocol violation: refused a call outside the service: \(reason)",
                                   ["violations": .int(service.protocolViolations)])
        case .workerExited(let id, let generation, let status):
            guard let service = service(id: id) else { return }
            workerExited(service, generation: generation, status: status)
            sweepOrphans()
        case .command(let call):
            run(call)
        case .lineageStored:
            lineageKick?.taken()
            services.forEach(deliverLineage)
        case .groupsRead(let readings, let reply):
            let changes = readings.map(apply)
            reply?(.success(.init(groups: changes)))
        case .signal(let signal):
            switch signal {
            case SIGTERM, SIGINT: beginShutdown(signal: signal)
            case SIGHUP:
                logger.notice("SIGHUP received: reloading \(config.file)")
                reload { _ in }
            default: logger.notice("ignoring signal \(SignalName.of(signal))")
            }
        }
    }

    private func handleMessage(_ message: Result<IncomingMessage, IncomingMessage.Violation>, from service: ServiceRuntime, generation: Int) {
        // After the exit was handled, late lines of that incarnation (its stdout reader runs on another
        // thread) are stale too: a last REFRESHING must not overwrite the FAILED just recorded.
        guard generation == service.generation, service.process != nil else { return }
        switch message {
        case .failure(let violation):
            service.protocolViolations += 1
            service.logger.warning("protocol violation: \(violation.error.message)", ["violations": .int(service.protocolViolations)])
            if violation.answerable { service.connection?.send(encoder.errorResponse(id: violation.id, error: violation.error)) }
        case .success(.request(let id, let method, _)):
            // Metadata and report requests never get here (MetadataProxy serves them); anything else is unknown.
            service.protocolViolations += 1
            service.logger.warning("protocol violation: unknown method \(method)")
            service.connection?.send(encoder.errorResponse(id: id, error: .methodNotFound(method)))
        case .success(.notification(let method, let line)):
            handleNotification(method: method, line: line, from: service)
        case .success(.response(let id, let outcome)):
            handleResponse(id: id, outcome: outcome, from: service)
        }
    }

    private func handleNotification(method: String, line: Data, from service: ServiceRuntime) {
        switch WorkerToDaemon.decode(method: method, line: line, decoder: decoder) {
        case .failure(let error):
            service.protocolViolations += 1
            service.logger.warning("protocol violation: \(error.message)")
        case .success(.connectorStatus(var status)):
            // A server's error may echo the password the connector sent it: masked here, before any door shows it.
            status.failingExceptionMessage = status.failingExceptionMessage.map(Redaction.scrub)
            let previous = service.connectorStatus[status.connectorName]?.connectorStatus
            service.record(status)
            if previous != status.connectorStatus && (status.connectorStatus.isFailure || previous?.isFailure == true) {
                service.logger.warning("connector \(status.connectorName) is \(status.connectorStatus.rawValue)",
                                       ["connector": .text(status.connectorName), "reason": .text(status.failingExceptionMessage ?? "")])
            }
        case .success(.lineageProgress(let progress)):
            lineageProgressed(service, progress)
        case .success(.submitReport), .success(.createElement), .success(.updateElement), .success(.deleteElement),
             .success(.writeElements), .success(.findElements):
            // A request sent without an id can never be answered.
            service.protocolViolations += 1
            service.logger.warning("protocol violation: \(method) sent as a notification, without an id to answer")
        }
    }

    private func handleResponse(id: RequestID, outcome: IncomingMessage.Outcome, from service: ServiceRuntime) {
        guard let call = service.incarnation?.pending.removeValue(forKey: id) else {
            service.protocolViolations += 1
            service.logger.warning("protocol violation: response to unknown request id \(id)")
            return
        }
        let now = MonotonicClock.now()
        switch (call, outcome) {
        case (.initialize, .result(let line)):
            switch decoder.result(Initialize.self, from: line) {
            case .success(let result) where result.protocolVersion == ProtocolVersion.current:
                service.incarnation?.readySince = Date()
                if let exitSeenAt = service.exitSeenAt { service.lastRestart.readySeconds = now - exitSeenAt }
                perform(service.lifecycle.handshakeCompleted(now: now), on: service)
                service.incarnation?.workerFacts = .init(pid: result.pid, hostName: result.hostName, residentMemoryBytes: nil)
                // Only connectors this service was configured with: a worker cannot name another's.
                let known = Set(service.config.connectors.map(\.connectorName))
                service.incarnation?.lineageConnectors = (result.lineageConnectors ?? []).filter(known.contains)
                service.logger.info("worker ready", ["pid": .int(Int(result.pid)), "workerVersion": .text(result.workerVersion), "host": .text(result.hostName ?? "-")])
                if isShuttingDown || service.removing { perform(service.lifecycle.stop(now: now), on: service); return }
                var started = service.config
                started.connectors = service.incarnation?.initializedWith ?? []
                let missed = ConfigDiff.connectorChanges(from: started, to: service.config)
                if !missed.isEmpty { apply(missed, to: service) }
                deliverLineage(service)
            case .success(let result):
                rejectHandshake(service, "worker speaks protocol version \(result.protocolVersion), the daemon \(ProtocolVersion.current)")
            case .failure(let error):
                rejectHandshake(service, error.message)
            }
        case (.initialize, .error(let error)):
            rejectHandshake(service, error.message)
        case (.heartbeat(let sentAt), let answer):
            service.incarnation?.heartbeatRoundTrip = now - sentAt
            service.lifecycle.answered(now: now)
            if case .result(let line) = answer, case .success(let facts) = decoder.result(Heartbeat.self, from: line) {
                // Read before the write: an assignment through `incarnation?` holds it exclusively while its value is made.
                let known = service.incarnation?.workerFacts
                service.incarnation?.workerFacts = .init(pid: facts.pid ?? known?.pid, hostName: facts.hostName ?? known?.hostName,
                                                         residentMemoryBytes: facts.residentMemoryBytes)
            }
        case (.shutdown, _):
            break
        case (.refresh(let collector), .result(let line)):
            switch decoder.result(RefreshConnectors.self, from: line) {
            case .success(let result):
                collector.succeed(result.refreshes.map { outcome in
                    var outcome = outcome
                    outcome.failingExceptionMessage = outcome.failingExceptionMessage.map(Redaction.scrub)
                    return outcome
                })
            case .failure(let error): collector.fail(service: service.config.urlMarker, Redaction.scrub(error.message))
            }
        case (.refresh(let collector), .error(let error)):
            collector.fail(service: service.config.urlMarker, Redaction.scrub(error.message))
        case (.connectorChange(let reply), .result(let line)):
            let result = decoder.result(ConfigureConnector.self, from: line)
            if case .success(let change) = result { lineageConnectorChanged(service, change) }
            reply(result)
        case (.lineage(let connector, let lastSeq), let outcome):
            lineageAnswered(service, connector: connector, lastSeq: lastSeq, outcome)
        case (.connectorChange(let reply), .error(let error)):
            var error = error
            error.message = Redaction.scrub(error.message)
            reply(.failure(error))
        }
    }

    private func rejectHandshake(_ service: ServiceRuntime, _ reason: String) {
        service.logger.error("worker refused the handshake: \(reason); stopping it")
        service.process?.signalGroup(SIGKILL)
    }

    private func workerExited(_ service: ServiceRuntime, generation: Int, status: TerminationStatus) {
        guard generation == service.generation else { return }
        let pid = service.process?.pid ?? 0
        storeAbortedReports(service, status: status)
        service.incarnationEnded(status)
        service.lastExitTime = Date()
        service.exitSeenAt = MonotonicClock.now()
        service.lastRestart = (nil, nil)
        let actions = service.lifecycle.exited(status, now: MonotonicClock.now())
        let cause = service.lifecycle.lastExit?.cause ?? .exit
        let next: String
        switch service.lifecycle.state {
        case .backingOff(let until):
            service.restartsByCause[cause, default: 0] += 1
            let delay = until - MonotonicClock.now()
            next = delay <= 0.0005 ? "restarting now" : "restarting in \(String(format: "%.3f", delay)) s"
        case .failed(let reason): next = "giving up: \(reason)"
        case .stopped(let reason): next = reason
        default: next = ""
        }
        let level: Logger.Level = isShuttingDown || cause == .requested || cause == .restart ? .info : .warning
        service.logger.log(level, "worker \(status); \(next)", ["pid": .int(Int(pid)), "cause": .text(cause.rawValue),
                                                                "restarts": .int(service.lifecycle.restartCount)])
        perform(actions, on: service)
    }

    /// A refresh cut short by the worker's end still gets a report: the writes the proxy saw since the
    /// connector's last report, marked `aborted`.
    private func storeAbortedReports(_ service: ServiceRuntime, status: TerminationStatus) {
        guard let tracker = service.incarnation?.tracker else { return }
        service.incarnation?.tracker = nil
        for report in tracker.abortedReports(serverName: config.localServerName, connectors: service.config.connectors,
                                             reason: "worker \(status)") {
            let logger = service.logger
            logger.warning("refresh of \(report.connectorName) was cut short; storing an aborted report of \(report.createdElements.count + report.updatedElements.count + report.deletedElements.count) element write(s)",
                           ["connector": .text(report.connectorName)])
            access.reports.submit(report, body: nil) { result in
                if case .failure(let error) = result { logger.error("aborted report \(report.reportId) not stored: \(error.message)") }
            }
        }
    }

    // MARK: - Actions

    func perform(_ actions: [WorkerLifecycle.Action], on service: ServiceRuntime) {
        for action in actions {
            switch action {
            case .spawn:
                spawn(service)
            case .sendInitialize:
                let params = InitializeMessage.params(service.config, daemon: config, logLevel: logger.level.rawValue, hostName: Self.hostName,
                                                      secrets: connectorSecrets(of: service))
                service.incarnation?.initializedWith = service.config.connectors
                send(Initialize.self, params, call: .initialize, to: service)
            case .sendHeartbeat:
                service.heartbeatSequence += 1
                send(Heartbeat.self, .init(sequence: service.heartbeatSequence), call: .heartbeat(sentAt: MonotonicClock.now()), to: service)
                // Lineage batches that failed are sent again from here, once their second has passed.
                deliverLineage(service)
            case .checkHealth:
                checkMemory(service)
                // A memory check that replaced the worker leaves no refresh to time.
                if service.lifecycle.isReady { checkRefreshDeadlines(service) }
            case .sendShutdown:
                send(Shutdown.self, Empty(), call: .shutdown, to: service)
            case .signalGroup(let signal):
                if signal != SIGCONT {
                    service.logger.log(signal == SIGKILL ? .warning : .info, "sending \(SignalName.of(signal)) to the worker's process group",
                                       ["pid": .int(Int(service.process?.pid ?? 0))])
                }
                service.process?.signalGroup(signal)
            case .gaveUp(let reason):
                serviceFailed(service, reason: reason)
            case .stoppedForGood(let reason):
                service.logger.info("worker down: \(reason)")
                if service.removing {
                    services.removeAll { $0 === service }
                    service.logger.notice("integration service removed")
                }
            }
        }
    }

    /// The secret for `connector` as it runs now: read where the configuration file says (now, so a rotated password
    /// file is picked up; a failure is logged), and only while the connector's endpoint is the one the file gives it.
    /// An endpoint an operator changed gets none, so a door cannot have a secret sent to a server of its choosing;
    /// a reload whose file names that endpoint restores it.
    func secret(of connector: IntegrationConnectorConfig, in service: ServiceRuntime) -> String? {
        let name = connector.connectorName
        guard let file = config.integrationServices.lazy.flatMap(\.connectors).first(where: { $0.connectorName == name }),
              ConnectorSecret.locationField(in: file.connection.configurationProperties) != nil else { return nil }
        guard file.connection.endpoint?.address == connector.connection.endpoint?.address else {
            service.logger.warning("connector \(name) gets no password: its endpoint was changed by an operator from the one the configuration file gives it",
                                   ["connector": .text(name)])
            return nil
        }
        return ConnectorSecret.secret(of: file) { name, problem in
            service.logger.error("connector \(name) gets no password: \(problem)", ["connector": .text(name)])
        }
    }

    /// Every connector's secret for `initialize`, by connector name (see ``secret(of:in:)``).
    func connectorSecrets(of service: ServiceRuntime) -> [String: String]? {
        var secrets: [String: String] = [:]
        for connector in service.config.connectors {
            if let secret = secret(of: connector, in: service) { secrets[connector.connectorName] = secret }
        }
        return secrets.isEmpty ? nil : secrets
    }

    private func serviceFailed(_ service: ServiceRuntime, reason: String) {
        service.logger.error("integration service FAILED: \(reason); its connectors stay down until it is restarted (restart --service), the others keep running")
        for connector in service.config.connectors {
            var status = service.connectorStatus[connector.connectorName] ?? ConnectorStatusChanged.Params(
                connectorName: connector.connectorName, connectorId: connector.connectorId, connectorStatus: .FAILED,
                lastStatusChange: Date(), lastRefreshTime: nil, failingExceptionMessage: nil, refreshCount: 0)
            status.connectorStatus = .FAILED
            status.lastStatusChange = Date()
            status.failingExceptionMessage = "worker for integration service \(service.config.urlMarker) failed: \(reason)"
            service.connectorStatus[connector.connectorName] = status
        }
        raiseIncident(service, classifier: "service-failed", background: "Integration service \(service.config.urlMarker) FAILED: \(reason). Last exit: \(service.lifecycle.lastExit.map { "\($0.status) (\($0.cause))" } ?? "none").")
    }

    private func spawn(_ service: ServiceRuntime) {
        service.generation += 1
        let process: WorkerProcess
        do { process = try WorkerProcess.spawn(argv: service.config.command) } catch {
            if ResourceShortage.isShortage(error) { return deferStart(service, error) }
            service.logger.error("\(error)")
            return perform(service.lifecycle.spawnFailed(reason: error.description, now: MonotonicClock.now()), on: service)
        }
        do {
            try attach(process, to: service)
        } catch {
            // Out of threads or fds: this incarnation cannot be supervised, so it must not run at all.
            process.abandon()
            service.logger.error("worker \(process.pid) killed at once: \(error)")
            if ResourceShortage.isShortage(error) { return deferStart(service, error) }
            return perform(service.lifecycle.spawnFailed(reason: "\(error)", now: MonotonicClock.now()), on: service)
        }
        if let exitSeenAt = service.exitSeenAt { service.lastRestart.spawnSeconds = MonotonicClock.now() - exitSeenAt }
        service.logger.info("worker started", ["pid": .int(Int(process.pid)), "generation": .int(service.generation)])
        perform(service.lifecycle.spawned(pid: process.pid, now: MonotonicClock.now()), on: service)
    }

    /// The daemon itself is short of fds, processes or memory: try again soon, and count nothing against the worker.
    private func deferStart(_ service: ServiceRuntime, _ error: any Error) {
        let actions = service.lifecycle.spawnDeferred(now: MonotonicClock.now())
        if service.lifecycle.deferredStarts == 1 || service.lifecycle.deferredStarts.isMultiple(of: 50) {
            service.logger.error("cannot start the worker: \(error); the daemon is short of its own resources, so this is retried and not counted as the service failing",
                                 ["attempts": .int(service.lifecycle.deferredStarts)])
        }
        perform(actions, on: service)
    }

    /// Connects a spawned worker: its stdin writer, stdout/stderr readers and exit watcher, sharing one
    /// cancellation. On a throw nothing of it is left running but what the cancellation ends.
    private func attach(_ process: WorkerProcess, to service: ServiceRuntime) throws {
        let cancellation: IOCancellation
        do { cancellation = try IOCancellation() } catch {
            [process.stdinFD, process.stdoutFD, process.stderrFD].forEach { close($0) }
            throw error
        }
        let connection: WorkerConnection
        do {
            connection = try WorkerConnection(fd: process.stdinFD, name: service.config.urlMarker, cancellation: cancellation)
        } catch {
            [process.stdinFD, process.stdoutFD, process.stderrFD].forEach { close($0) }
            throw error
        }
        let tracker = RefreshTracker()
        let events = events, id = service.id, generation = service.generation
        let proxy = MetadataProxy(access: access, store: store, connection: connection, tracker: tracker, scope: service.scope,
                                  onViolation: { events.post(.workerRefused(service: id, generation: generation, reason: $0)) })
        do {
            try WorkerOutput.attach(process, service: id, generation: generation, name: service.config.urlMarker,
                                    proxy: proxy, cancellation: cancellation, events: events, logger: logger)
        } catch {
            connection.close()
            cancellation.cancel()
            throw error
        }
        service.incarnation = ServiceRuntime.Incarnation(process: process, connection: connection, tracker: tracker)
    }

    func send<M: RPCMethod>(_ method: M.Type, _ params: M.Params, call: ServiceRuntime.PendingCall, to service: ServiceRuntime) {
        guard let connection = service.connection else { return }
        let id = service.makeRequestID()
        do {
            connection.send(try encoder.request(M.self, id: id, params: params))
            service.incarnation?.pending[id] = call
        } catch {
            service.logger.error("cannot encode \(M.name): \(error)")
        }
    }

    /// Sends a request whose line is written by hand (`line` gets the request's number).
    func send(line: (Int) -> Data, call: ServiceRuntime.PendingCall, to service: ServiceRuntime) {
        guard let connection = service.connection, case .number(let number) = service.makeRequestID() else { return }
        connection.send(line(number))
        service.incarnation?.pending[.number(number)] = call
    }

    /// Kills helpers that outlived their worker (re-parented to the daemon, its subreaper).
    private func sweepOrphans() {
        let killed = OrphanSweep.run(keeping: Set(services.compactMap { $0.process?.pid }))
        if killed > 0 { logger.warning("killed \(killed) process(es) left behind by exited workers") }
    }

    // MARK: - Shutdown

    private func beginShutdown(signal: Int32) {
        guard !isShuttingDown else {
            logger.warning("second \(SignalName.of(signal)) during shutdown: killing all workers now")
            forceKillAll()
            return
        }
        let s = config.supervision
        let now = MonotonicClock.now()
        shutdownDeadline = now + 2 * s.shutdownGraceSeconds + s.killGraceSeconds + 5
        logger.notice("\(SignalName.of(signal)) received: stopping \(services.count) worker(s)")
        notifier?.send("STOPPING=1\nSTATUS=stopping \(services.count) worker(s)")
        for service in services { perform(service.lifecycle.stop(now: now), on: service) }
    }

    private func forceKillAll() {
        for service in services { service.process?.signalGroup(SIGKILL) }
        shutdownDeadline = MonotonicClock.now()
    }
}

extension SupervisionConfig {
    var timing: WorkerLifecycle.Timing {
        WorkerLifecycle.Timing(heartbeatInterval: heartbeatIntervalSeconds, heartbeatTimeout: heartbeatTimeoutSeconds,
                               startTimeout: startTimeoutSeconds, shutdownGrace: shutdownGraceSeconds, killGrace: killGraceSeconds)
    }
}

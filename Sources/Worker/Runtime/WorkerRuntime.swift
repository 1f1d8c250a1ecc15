import Dispatch
import Glibc
import Protocol
import Synchronization

/// The worker's I/O loop: reads the supervisor's lines from stdin, answers requests, routes responses to
/// waiting connector calls. It never runs connector code, so a busy connector cannot delay a heartbeat.
final class WorkerRuntime: Sendable {
    static let version = "0.1.0"

    private let wire = LineWriter(fd: 1)
    private let encoder = MessageEncoder()
    private let decoder = PayloadDecoder()
    private let client: SupervisorClient
    private let scheduler = RefreshScheduler()
    private let registry: ConnectorRegistry
    private let hosts = Mutex<[ConnectorHost]?>(nil)
    /// What new connector hosts need; set by `initialize`.
    private let setup = Mutex<Initialize.Params?>(nil)
    /// Connector secrets by connector name, from `initialize` and `connectors/configure`.
    private let secrets = Mutex<[String: String]>([:])
    private let logger: Logger
    private let fence: SelfFence
    private let hostName = SelfFence.hostName()

    init(registry: ConnectorRegistry = .standard) {
        self.registry = registry
        self.client = SupervisorClient(wire: wire)
        let logger = Logger(label: "worker")
        self.logger = logger
        fence = SelfFence(logger: logger)
    }

    /// Serves stdin until EOF, then fences: a supervisor that died must not leave this worker behind, whatever
    /// its connectors are doing.
    func run() -> Never {
        do {
            try fence.start { [self] in
                let all = hosts.withLock { $0 } ?? []
                // In parallel, each bounded: one wedged connector must not hold up the others.
                DispatchQueue.concurrentPerform(iterations: all.count) { all[$0].disconnect(timeoutSeconds: SelfFence.disconnectSeconds) }
            }
        } catch {
            // Without the watch thread a lost supervisor is noticed only at stdin EOF; say so, and go on.
            logger.error("cannot start the self-fence thread: \(error); the worker exits only when stdin closes")
        }
        FramedInput.readLoop(fd: 0, maxLineLength: LineFramer.defaultMaxLineLength) { event in
            switch event {
            case .line(let line): handle(line)
            case .oversized(let count, _):
                violation(id: nil, .invalidRequest("line of \(count) bytes exceeds the \(LineFramer.defaultMaxLineLength)-byte limit"))
            }
        }
        client.close()
        fence.fence("stdin closed", code: 0)
        // The fence exits the process, at the latest at its grace deadline.
        while true { pause() }
    }

    private func handle(_ line: Data) {
        switch IncomingMessage.decode(line) {
        case .failure(let violation):
            if violation.answerable { self.violation(id: violation.id, violation.error) }
            else { logger.warning("protocol violation from supervisor: \(violation.error.message)") }
        case .success(.response(let id, let outcome)):
            if !client.complete(id: id, outcome: outcome) { logger.warning("response to unknown request id \(id)") }
        case .success(.notification(let method, _)):
            logger.debug("ignoring notification \(method)")
        case .success(.request(let id, let method, let line)):
            handleRequest(id: id, method: method, line: line)
        }
    }

    private func handleRequest(id: RequestID, method: String, line: Data) {
        switch DaemonToWorker.decode(method: method, line: line, decoder: decoder) {
        case .success(let request): handle(request, id: id)
        case .failure(let error): answer(id, Result<Empty, RPCError>.failure(error))
        }
    }

    private func handle(_ request: DaemonToWorker, id: RequestID) {
        switch request {
        case .initialize(let params):
            answer(id, initialize(params))
        case .heartbeat(let params):
            fence.heard()
            answer(id, Result<Heartbeat.Result, RPCError>.success(
                .init(sequence: params.sequence, pid: getpid(), hostName: hostName, residentMemoryBytes: SelfFence.residentBytes())))
        case .refresh(let params):
            refresh(id: id, params)
        case .shutdown:
            shutdown(id: id)
        case .restartConnector(let params):
            changeConnector(id: id, name: params.connectorName, config: nil)
        case .configureConnector(let params):
            secrets.withLock { $0[params.connector.connectorName] = params.secret }
            changeConnector(id: id, name: params.connector.connectorName, config: params.connector)
        case .removeConnector(let params):
            changeConnector(id: id, name: params.connectorName, config: nil, remove: true)
        case .deliverLineage(let params):
            guard let host = hosts.withLock({ $0?.first { $0.name == params.connectorName } }) else {
                return answer(id, Result<Empty, RPCError>.failure(.invalidParams(DeliverLineage.name, "no connector named \(params.connectorName)")))
            }
            let last = params.events.last?.seq ?? 0
            host.deliver(params.events) { [self] error in
                if let error {
                    answer(id, Result<Empty, RPCError>.failure(.internalError("\(params.connectorName): \(error)")))
                } else {
                    answer(id, Result<DeliverLineage.Result, RPCError>.success(.init(connectorName: params.connectorName, lastSeq: last)))
                }
            }
        }
    }

    private func initialize(_ params: Initialize.Params) -> Result<Initialize.Result, RPCError> {
        guard params.protocolVersion == ProtocolVersion.current else {
            return .failure(RPCError(code: RPCError.protocolVersionMismatchCode,
                                     message: "protocol version \(params.protocolVersion) is not supported; this worker speaks \(ProtocolVersion.current)"))
        }
        let serviceLogger = logger
        let created: [ConnectorHost]? = hosts.withLock { hosts in
            guard hosts == nil else { return nil }
            setup.withLock { $0 = params }
            secrets.withLock { $0 = params.connectorSecrets ?? [:] }
            let created = params.connectors.map { makeHost($0, params) }
            hosts = created
            return created
        }
        guard let created else { return .failure(.invalidRequest("initialize was already called")) }
        created.forEach { $0.announce() }
        do { try scheduler.start() } catch {
            // Without its scheduler the worker cannot refresh anything: refuse, and the daemon replaces it.
            return .failure(.internalError("\(error)"))
        }
        for host in created where host.status != .CONFIG_FAILED { scheduler.schedule(host, at: .now()) }
        fence.arm(heartbeatTimeoutSeconds: params.heartbeatTimeoutSeconds, memoryLimitMegabytes: params.memoryLimitMegabytes)
        serviceLogger.info("initialized", ["connectors": .int(created.count)])
        return .success(.init(protocolVersion: ProtocolVersion.current, workerVersion: Self.version, pid: getpid(), hostName: hostName,
                              lineageConnectors: created.filter(\.takesLineage).map(\.name)))
    }

    private func makeHost(_ config: IntegrationConnectorConfig, _ params: Initialize.Params) -> ConnectorHost {
        // The daemon's level: lines below it would only be dropped by the daemon.
        var hostLogger = logger
        hostLogger.level = params.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info
        return ConnectorHost(config: config, serverName: params.serverName, userId: params.userId, groupName: params.integrationGroupName,
                             secret: secrets.withLock { $0[config.connectorName] }, client: client,
                             services: WorkerServices(wire: wire, hostQualifier: params.daemonHostName.flatMap { $0 == hostName ? nil : hostName }),
                             registry: registry, logger: hostLogger) { [self] status in
            notify(status)
        }
    }

    /// Restart (config nil), reconfigure or add (config given), or remove one connector; the others are untouched.
    /// Runs off the I/O thread: disconnecting waits for a refresh that may need this thread's answers.
    private func changeConnector(id: RequestID, name: String, config newConfig: IntegrationConnectorConfig?, remove: Bool = false) {
        guard let params = setup.withLock({ $0 }) else {
            return answer(id, Result<Empty, RPCError>.failure(.invalidRequest("initialize first")))
        }
        let existing = hosts.withLock { $0?.first { $0.name == name } }
        if existing == nil && (remove || newConfig == nil) {
            return answer(id, Result<Empty, RPCError>.failure(.notFound("no connector named \"\(name)\" in this worker")))
        }
        if let existing, let newConfig, !remove, existing.adopt(newConfig) {
            // Only its refresh settings changed: the connector keeps its instance and state, as Egeria's daemon
            // keeps a connector whose connection is unchanged.
            if !existing.status.isFailure && existing.status != .SHUTDOWN {
                scheduler.reschedule(existing, at: newConfig.refreshPeriodSeconds.map { .now() + $0 })
            }
            logger.info("connector settings changed", ["connector": .text(name)])
            return answer(id, Result<ConnectorChangeResult, RPCError>.success(
                .init(connectorName: name, connectorStatus: existing.status, previousInstanceStopped: true, takesLineage: existing.takesLineage)))
        }
        DispatchQueue.global().async { [self] in
            let stopped = existing?.disconnect(timeoutSeconds: 2) ?? true
            if remove {
                hosts.withLock { $0?.removeAll { $0 === existing } }
                logger.info("connector removed", ["connector": .text(name)])
                return answer(id, Result<ConnectorChangeResult, RPCError>.success(
                    .init(connectorName: name, connectorStatus: .SHUTDOWN, previousInstanceStopped: stopped)))
            }
            let host = makeHost(newConfig ?? existing!.config, params)
            hosts.withLock { hosts in
                if let index = hosts?.firstIndex(where: { $0 === existing }) { hosts?[index] = host } else { hosts?.append(host) }
            }
            host.announce()
            if host.status != .CONFIG_FAILED { scheduler.schedule(host, at: .now()) }
            logger.info(existing == nil ? "connector added" : "connector re-created", ["connector": .text(name)])
            answer(id, Result<ConnectorChangeResult, RPCError>.success(
                .init(connectorName: name, connectorStatus: host.status, previousInstanceStopped: stopped, takesLineage: host.takesLineage)))
        }
    }

    private func refresh(id: RequestID, _ params: RefreshConnectors.Params) {
        let all = hosts.withLock { $0 } ?? []
        let targets = params.connectorName.map { name in all.filter { $0.name == name } } ?? all
        guard !targets.isEmpty else {
            let error: RPCError = params.connectorName.map { .notFound("no connector named \"\($0)\" in this worker") }
                ?? .notFound("this worker has no connectors")
            return answer(id, Result<Empty, RPCError>.failure(error))
        }
        let outcomes = Mutex<[RefreshOutcome]>([])
        let group = DispatchGroup()
        for host in targets {
            group.enter()
            host.refresh { outcome in
                outcomes.withLock { $0.append(outcome) }
                group.leave()
            }
        }
        group.notify(queue: .global()) { [self] in
            let sorted = outcomes.withLock { $0 }.sorted { $0.connectorName < $1.connectorName }
            answer(id, Result<RefreshConnectors.Result, RPCError>.success(.init(refreshes: sorted)))
        }
    }

    private func shutdown(id: RequestID) {
        let all = hosts.withLock { $0 } ?? []
        // Off the I/O thread: a refresh in progress may be waiting for a supervisor answer that only this
        // thread can deliver.
        DispatchQueue.global().async { [self] in
            // In parallel: one stuck connector must not hold up the others' disconnect.
            DispatchQueue.concurrentPerform(iterations: all.count) { all[$0].disconnect(timeoutSeconds: 2) }
            answer(id, Result<Empty, RPCError>.success(Empty()))
            exit(0)
        }
    }

    private func notify(_ status: ConnectorStatusChanged.Params) {
        guard let line = try? encoder.notification(ConnectorStatusChanged.self, params: status) else { return }
        send(line)
    }

    private func answer<R: Encodable>(_ id: RequestID, _ result: Result<R, RPCError>) {
        switch result {
        case .success(let value):
            do { send(try encoder.response(id: id, result: value)) }
            catch { send(encoder.errorResponse(id: id, error: .internalError("cannot encode result: \(error)"))) }
        case .failure(let error):
            send(encoder.errorResponse(id: id, error: error))
        }
    }

    private func violation(id: RequestID?, _ error: RPCError) {
        logger.warning("protocol violation from supervisor: \(error.message)")
        send(encoder.errorResponse(id: id, error: error))
    }

    private func send(_ line: Data) {
        do { try wire.write(line) } catch {
            // stdout is gone: the supervisor died. Nothing to report to; stdin EOF ends the process.
            logger.warning("cannot write to supervisor: \(error)")
        }
    }
}

import Glibc
import Protocol
import Synchronization

/// A connector that fails on purpose, for crash-recovery testing: on the N-th refresh of this worker
/// incarnation it exits, aborts, hangs the whole worker, throws, corrupts stdout, starts leaking memory or
/// stalls its refresh forever.
/// Every refresh writes one element before any failure, so its reports (completed, failed or aborted) have content.
final class ChaosConnector: IntegrationConnector {
    /// The failure to inject (`configurationProperties.failure`).
    enum Failure: String, CaseIterable {
        case none, exit, abort, hang, `throw`, garbage, leak, stall
    }

    let failure: Failure
    let afterRefreshes: Int
    let exitCode: Int32
    let leakMegabytes: Int
    /// What a `throw` failure says (`configurationProperties.message`), as a server's error would; `{secret}`
    /// becomes the connector's secret, as a server that echoes the password puts it there.
    let message: String?
    private let services: WorkerServices
    private let refreshes = Atomic<Int>(0)
    /// Addresses of the leaked blocks (raw pointers are not Sendable).
    private let leaked = Mutex<[UInt]>([])

    init(config: IntegrationConnectorConfig, services: WorkerServices) throws {
        let properties = config.connection.configurationProperties ?? [:]
        let failureName = properties["failure"]?.stringValue ?? "none"
        guard let failure = Failure(rawValue: failureName) else {
            throw ConnectorError("configurationProperties.failure must be one of \(Failure.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(failureName)\"")
        }
        self.failure = failure
        self.afterRefreshes = properties["afterRefreshes"]?.intValue ?? 1
        self.exitCode = Int32(clamping: properties["exitCode"]?.intValue ?? 3)
        self.leakMegabytes = properties["leakMegabytes"]?.intValue ?? 64
        self.message = properties["message"]?.stringValue
        self.services = services
        guard afterRefreshes >= 1 else { throw ConnectorError("configurationProperties.afterRefreshes must be at least 1") }
    }

    func refresh(context: ConnectorContext) throws {
        let count = refreshes.add(1, ordering: .relaxed).newValue
        // The element first, then the failure: a refresh cut short has written something, as real ones do,
        // and its report (aborted or failed) must account for it.
        _ = try context.createElement(
            typeName: "ChaosEvent", qualifiedName: "chaos::\(context.connectorName)::\(GUID.random())",
            // hasSecret: whether the daemon handed this connector a secret, which tests of where secrets go read.
            properties: ["refresh": .int(count), "failure": .string(failure.rawValue), "pid": .int(Int(getpid())),
                         "hasSecret": .bool(context.secret != nil)])
        if count == afterRefreshes {
            try inject(context: context, refresh: count)
        } else if failure == .leak && count > afterRefreshes {
            leak()
        }
    }

    func disconnect() {
        leaked.withLock { blocks in
            blocks.forEach { free(UnsafeMutableRawPointer(bitPattern: $0)) }
            blocks.removeAll()
        }
    }

    private func inject(context: ConnectorContext, refresh: Int) throws {
        switch failure {
        case .none:
            break
        case .exit:
            context.logger.warning("chaos: exiting the worker with code \(exitCode) on refresh \(refresh)")
            exit(exitCode)
        case .abort:
            context.logger.warning("chaos: aborting the worker on refresh \(refresh)")
            abort()
        case .hang:
            context.logger.warning("chaos: hanging the whole worker on refresh \(refresh)")
            // Holding the stdout lock forever stalls every writer, the I/O loop's heartbeat answers included:
            // a realistic deadlock, not just a sleeping connector.
            services.wire.withExclusiveAccess { while true { pause() } }
        case .throw:
            throw ConnectorError(message.map { $0.replacing("{secret}", with: context.secret ?? "") }
                ?? "chaos: refresh \(refresh) failed on purpose")
        case .garbage:
            context.logger.warning("chaos: writing garbage to stdout on refresh \(refresh)")
            var junk = Data("this is not JSON\n".utf8)
            junk.append(contentsOf: [0xFF, 0xFE, 0x00, 0x7B, 0x0A])
            junk.append(Data("{\"jsonrpc\":\"2.0\",\"method\":42}\n".utf8))
            junk.append(Data(repeating: UInt8(ascii: "x"), count: LineFramer.defaultMaxLineLength + 4096))
            junk.append(0x0A)
            try? services.wire.write(junk)
        case .leak:
            leak()
        case .stall:
            // Only this refresh blocks; the worker's I/O loop goes on answering heartbeats, as it does when a
            // real connector waits forever on a server that never answers.
            context.logger.warning("chaos: stalling refresh \(refresh) forever")
            while true { pause() }
        }
    }

    private func leak() {
        let bytes = leakMegabytes << 20
        guard let block = malloc(bytes) else { return }
        // Touch every page so the memory is resident, not just reserved.
        memset(block, 0xA5, bytes)
        let address = UInt(bitPattern: block)
        leaked.withLock { $0.append(address) }
    }
}

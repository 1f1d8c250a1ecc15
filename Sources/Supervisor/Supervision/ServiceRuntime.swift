import Foundation
import Protocol

/// Everything the loop knows about one integration service: its lifecycle, the current worker incarnation
/// (process, connection, calls in flight) and the latest connector statuses. Touched only by the loop thread.
final class ServiceRuntime {
    let index: Int
    let config: ServiceConfig
    let logger: Logger
    var lifecycle: WorkerLifecycle
    /// Incarnation number; events tagged with an older one are from a replaced worker.
    var generation = 0
    var process: WorkerProcess?
    var connection: WorkerConnection?
    var pending: [RequestID: PendingCall] = [:]
    private var nextRequestID = 1
    var heartbeatSequence = 0
    var protocolViolations = 0
    var heartbeatRoundTrip: Double?
    var readySince: Date?
    var lastExitTime: Date?
    var failureReason: String?
    /// When the last exit was seen (monotonic), and how long the restart that followed took to spawn and be ready.
    var exitSeenAt: Double?
    var lastRestart: (spawnSeconds: Double?, readySeconds: Double?) = (nil, nil)
    /// Latest status per connector from the current (or last) worker.
    var connectorStatus: [String: ConnectorStatusChanged.Params] = [:]
    /// Refreshes completed by earlier incarnations, so statistics survive restarts.
    var earlierRefreshes: [String: Int] = [:]

    /// A call the supervisor made to the worker and awaits.
    enum PendingCall {
        case initialize
        case heartbeat(sentAt: Double)
        case shutdown
    }

    init(index: Int, config: ServiceConfig, lifecycle: WorkerLifecycle, logger: Logger) {
        self.index = index
        self.config = config
        self.lifecycle = lifecycle
        self.logger = logger.with(["service": config.urlMarker])
    }

    func makeRequestID() -> RequestID {
        defer { nextRequestID += 1 }
        return .number(nextRequestID)
    }

    /// Forgets the ended incarnation, keeping its refresh counts.
    func incarnationEnded() {
        connection?.close()
        connection = nil
        process = nil
        pending.removeAll()
        readySince = nil
        for (name, status) in connectorStatus {
            earlierRefreshes[name, default: 0] += status.refreshCount
            connectorStatus[name]?.refreshCount = 0
        }
    }

    /// The worker state name operators see.
    var stateName: String {
        switch lifecycle.state {
        case .idle: "idle"
        case .starting: "starting"
        case .running: "running"
        case .stopping: "stopping"
        case .backingOff: "backoff"
        case .failed: "failed"
        case .stopped: "stopped"
        }
    }
}

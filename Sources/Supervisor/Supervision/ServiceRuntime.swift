import Foundation
import Protocol

/// Everything the loop knows about one integration service: its lifecycle, the current worker incarnation
/// (process, connection, calls in flight) and what outlives incarnations (connector statuses, counts, restart
/// history). Touched only by the loop thread.
final class ServiceRuntime {
    /// Unique for the daemon's life, never reused, so events of a removed service cannot reach a new one.
    let id: Int
    var config: ServiceConfig { didSet { scope.update(connectors: config.connectors) } }
    /// What its worker may touch; shared with each incarnation's metadata proxy.
    let scope: ServiceScope
    /// Being shut down because a reload removed it; dropped from the loop once its worker is gone.
    var removing = false
    /// For an Egeria 6 integration group: what its reads found.
    var groupState = GroupState()
    let logger: Logger
    var lifecycle: WorkerLifecycle
    /// Incarnation number; events tagged with an older one are from a replaced worker.
    var generation = 0
    /// The worker process now running, nil between one and the next. Everything that belongs to one worker is
    /// in it, so a new worker starts clean by construction.
    var incarnation: Incarnation?
    var process: WorkerProcess? { incarnation?.process }
    var connection: WorkerConnection? { incarnation?.connection }
    private var nextRequestID = 1
    var heartbeatSequence = 0
    var protocolViolations = 0
    var lastExitTime: Date?
    /// When the last exit was seen (monotonic), and how long the restart that followed took to spawn and be ready.
    var exitSeenAt: Double?
    var lastRestart: (spawnSeconds: Double?, readySeconds: Double?) = (nil, nil)
    /// Latest status per connector from the current (or last) worker.
    var connectorStatus: [String: ConnectorStatusChanged.Params] = [:]
    /// Refreshes completed by earlier incarnations, so statistics survive restarts.
    var earlierRefreshes: [String: Int] = [:]

    /// Restarts by cause (crash, exit, hang, start-timeout, memory, restart, spawn-failed), for metrics.
    var restartsByCause: [ExitCause: Int] = [:]
    /// Refresh durations per connector, from the workers' status notifications.
    var refreshDurations: [String: Histogram] = [:]

    /// One worker process, from spawn to exit.
    struct Incarnation {
        let process: WorkerProcess
        let connection: WorkerConnection
        /// Element writes not yet covered by a report; taken when the worker ends, for its aborted reports.
        var tracker: RefreshTracker?
        /// Calls made to this worker and not yet answered.
        var pending: [RequestID: PendingCall] = [:]
        var readySince: Date?
        /// The connectors its `initialize` carried: a change made while it started (a reload, a group's read) is
        /// sent once it is ready.
        var initializedWith: [IntegrationConnectorConfig] = []
        var heartbeatRoundTrip: Double?
        /// The larger of what the daemon sees and what the worker reports, at the last health check.
        var memoryBytes: Int?
        /// What the worker says of itself (handshake and heartbeats): its own pid, host and memory, which for a
        /// worker behind ssh or kubectl are not those of the process the daemon spawned.
        var workerFacts: WorkerFacts?
        /// Per connector, since when (monotonic, the daemon's clock) its current refresh has run.
        var refreshingSince: [String: Double] = [:]
        /// The connectors that take OpenLineage events, from the handshake.
        var lineageConnectors: [String] = []
        /// Those with a batch out (sent, or acknowledged and its cursor being saved).
        var lineageInFlight: Set<String> = []
        /// Not before this (monotonic) is a connector whose last batch failed sent another.
        var lineageRetryAt: [String: Double] = [:]
        /// The seqs of each connector's batch out: what a `lineage/progress` may acknowledge.
        var lineageBatches: [String: ClosedRange<Int>] = [:]
    }

    /// Per lineage connector, the last event a worker said it handled (`lineage/progress`): its cursor is being
    /// saved, and the next batch starts after it even if the save has not committed yet.
    var lineageHandled: [String: Int] = [:]

    /// The worker's own facts.
    struct WorkerFacts: Sendable {
        var pid: Int32?
        var hostName: String?
        var residentMemoryBytes: Int?
    }
    /// Refreshes that ran past their deadline, per connector, and when the last one was caught.
    var refreshOverruns: [String: Int] = [:]
    var lastRefreshOverrun: [String: Date] = [:]

    /// A call the supervisor made to the worker and awaits.
    enum PendingCall {
        case initialize
        case heartbeat(sentAt: Double)
        case shutdown
        /// An operator's `refresh`: the answer goes into the collector.
        case refresh(RefreshCollector)
        /// An operator's connector restart or configure (or a reload's), answered with the worker's result.
        case connectorChange(@Sendable (Result<ConnectorChangeResult, RPCError>) -> Void)
        /// A batch of OpenLineage events for one connector, up to `lastSeq`.
        case lineage(connector: String, lastSeq: Int)
    }

    init(id: Int, config: ServiceConfig, lifecycle: WorkerLifecycle, logger: Logger) {
        self.id = id
        self.config = config
        self.scope = ServiceScope(serviceName: config.urlMarker, connectors: config.connectors)
        self.lifecycle = lifecycle
        self.logger = logger.with(["service": .text(config.urlMarker)])
    }

    func makeRequestID() -> RequestID {
        defer { nextRequestID += 1 }
        return .number(nextRequestID)
    }

    /// Forgets the ended incarnation, keeping its refresh counts; operators' calls in flight get an error.
    func incarnationEnded(_ status: TerminationStatus) {
        guard let ended = incarnation else { return }
        incarnation = nil
        ended.connection.close()
        let reason = "the \(config.urlMarker) worker \(status) before answering"
        for call in ended.pending.values {
            switch call {
            case .refresh(let collector): collector.fail(service: config.urlMarker, reason)
            case .connectorChange(let reply): reply(.failure(.unavailable(reason)))
            // An unacknowledged lineage batch is sent again to the next incarnation, from the cursor.
            case .initialize, .heartbeat, .shutdown, .lineage: break
            }
        }
        for (name, status) in connectorStatus {
            earlierRefreshes[name, default: 0] += status.refreshCount
            connectorStatus[name]?.refreshCount = 0
        }
    }

    /// Records a connector status; a refresh count that went up adds the refresh's duration to the histogram.
    func record(_ status: ConnectorStatusChanged.Params) {
        let previous = connectorStatus[status.connectorName]?.refreshCount ?? 0
        if status.refreshCount > previous, let duration = status.lastRefreshDurationSeconds {
            refreshDurations[status.connectorName, default: Histogram()].observe(duration)
        } else if status.refreshCount < previous {
            // The connector was re-created inside its worker: its count restarted from zero.
            earlierRefreshes[status.connectorName, default: 0] += previous
        }
        if status.connectorStatus == .REFRESHING {
            if connectorStatus[status.connectorName]?.connectorStatus != .REFRESHING || incarnation?.refreshingSince[status.connectorName] == nil {
                incarnation?.refreshingSince[status.connectorName] = MonotonicClock.now()
            }
        } else {
            incarnation?.refreshingSince[status.connectorName] = nil
        }
        connectorStatus[status.connectorName] = status
    }

    /// The worker's state as operators see it.
    var state: WorkerState {
        switch lifecycle.state {
        case .idle: .idle
        case .starting: .starting
        case .running: .running
        case .stopping: .stopping
        case .backingOff where lifecycle.unreachableSince != nil: .unreachable
        case .backingOff: .backoff
        case .failed: .failed
        case .stopped: .stopped
        }
    }
}

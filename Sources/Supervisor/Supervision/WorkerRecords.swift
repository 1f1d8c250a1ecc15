/// Where a service's worker is, as status, metrics and the docs name it. The one list: metrics emit a series per
/// case, and a test holds docs/operations.md's table to these cases and meanings.
enum WorkerState: String, CaseIterable, Sendable {
    case idle, starting, running, stopping, backoff, unreachable, failed, stopped

    var meaning: String {
        switch self {
        case .idle: "not started yet"
        case .starting: "spawned; waiting for its `initialize` answer (at most `startTimeoutSeconds`)"
        case .running: "ready; heartbeats answered"
        case .stopping: "being stopped: shutdown requested, then SIGTERM, then SIGKILL"
        case .backoff: "exited; waiting to restart (quick repeated failures back off exponentially with jitter)"
        case .unreachable: "a remote worker's host cannot be reached (ssh exit 255): retried forever with capped backoff, never `failed`"
        case .failed: "a failure came after `maxRestarts` restarts within `withinSeconds`: given up, an incident report raised; other services keep running. `restart --service NAME` (or a reload that changes it) brings it back"
        case .stopped: "down on purpose (shutdown, or a `transient`/`temporary` restart policy)"
        }
    }
}

/// Why a worker's incarnation ended: `lastExit.cause` in status, the `cause` label of
/// `integration_daemon_worker_restarts_total`, the `cause` field of the exit's log line. The daemon's own reasons
/// for stopping a worker (requested, restart, hang, start-timeout, memory, refresh-timeout) are cases too.
enum ExitCause: String, CaseIterable, Sendable {
    case crash, exit, hang
    case startTimeout = "start-timeout"
    case memory
    case refreshTimeout = "refresh-timeout"
    case restart
    case spawnFailed = "spawn-failed"
    case unreachable
    case requested

    var meaning: String {
        switch self {
        case .crash: "non-zero exit or killed by a signal (`lastExit.signalName`)"
        case .exit: "exit code 0 without being asked"
        case .hang: "no heartbeat answered for `heartbeatTimeoutSeconds`; the daemon killed its process group"
        case .startTimeout: "no `initialize` answer in time"
        case .memory: "resident memory over `worker.memoryLimitMegabytes`; replaced, incident report raised"
        case .refreshTimeout: "a connector's refresh ran past its `refreshTimeoutSeconds` (default 900) while the worker still answered heartbeats; replaced, incident report raised"
        case .restart: "an operator asked (`restart --service`, or a reload that changed the worker command); not counted as a failure"
        case .spawnFailed: "the worker command could not be started"
        case .unreachable: "a remote worker's ssh connection failed or was lost; not counted against `maxRestarts`"
        case .requested: "stopped for good (shutdown, service removed)"
        }
    }

    /// An end that counts against the restart budget when it is quick.
    var isFailure: Bool { self != .requested && self != .restart && self != .exit }

    /// A worker ended this way is started again (unless the policy or budget says otherwise): the causes that
    /// `worker_restarts_total` counts.
    var restarts: Bool { self != .requested }
}

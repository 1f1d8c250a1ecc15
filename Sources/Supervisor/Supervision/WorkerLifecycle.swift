import Glibc
import Protocol

/// One worker's lifecycle as a pure state machine: events in, actions out. It keeps the *wanted* state
/// (up or down) apart from the *actual* one, as runsv does, and never touches a process itself; the
/// supervision loop performs the actions. Time is injected (`now`, monotonic seconds) so tests need no clock.
struct WorkerLifecycle: Sendable {
    /// Whether the worker should be running (desired state, separate from the actual one).
    enum Want: Sendable { case up, down }

    /// Where the worker actually is; data that exists only in one state lives in that case.
    enum State: Equatable, Sendable {
        /// Never started.
        case idle
        /// Spawned; waiting for the `initialize` answer until `deadline`.
        case starting(pid: Int32, since: Double, deadline: Double)
        /// Ready; heartbeats due at `nextHeartbeat`, hung once nothing was answered for the timeout.
        case running(pid: Int32, since: Double, readySince: Double, lastAnswer: Double, nextHeartbeat: Double)
        /// Being stopped; `step` is how far the teardown got, `nextStep` when to escalate.
        case stopping(pid: Int32, since: Double, readySince: Double?, cause: ExitCause, step: StopStep, nextStep: Double)
        /// Waiting to restart.
        case backingOff(until: Double)
        /// Gave up after too many restarts; the service is FAILED until an operator intervenes.
        case failed(reason: String)
        /// Down on purpose (shutdown), or not restarted by policy.
        case stopped(reason: String)
    }

    /// After SIGKILL, how long until it is sent again: the exit should follow at once, and a process that stays
    /// (stuck in the kernel, D state) is signalled again rather than forgotten.
    static let killRepeatSeconds = 5.0

    /// Teardown steps, in order: ask politely, SIGTERM the group, SIGKILL the group.
    enum StopStep: Sendable { case shutdownRequested, terminated, killed }

    /// What the loop must do next; the machine itself never acts.
    enum Action: Equatable, Sendable {
        case spawn
        case sendInitialize
        case sendHeartbeat
        /// Look at the running worker's health beyond its answers: resident memory against its limit, and each
        /// connector's refresh against its deadline. Due on the heartbeat's cadence, but its own event.
        case checkHealth
        case sendShutdown
        /// Send the signal to the worker's whole process group.
        case signalGroup(Int32)
        case gaveUp(reason: String)
        case stoppedForGood(reason: String)
    }

    /// The last end of a worker, for status.
    struct ExitRecord: Equatable, Sendable {
        var status: TerminationStatus
        var cause: ExitCause
        var uptimeSeconds: Double
    }

    private(set) var timing: Timing
    private(set) var state: State = .idle
    private(set) var want: Want = .down
    private(set) var restartCount = 0
    private(set) var quickFailures = 0
    private(set) var lastExit: ExitRecord?
    /// Starts put off in a row because the daemon itself was short of fds, processes or memory.
    private(set) var deferredStarts = 0
    private(set) var history: RestartHistory
    /// A worker behind a transport that can fail on its own (ssh): an unreachable host is retried forever with
    /// capped backoff, not counted against the restart budget.
    let remote: Bool
    /// Since when (monotonic) the remote worker has been unreachable; nil once a handshake succeeds.
    private(set) var unreachableSince: Double?
    private var policy: RestartPolicy
    private var backoff: Backoff
    private var healthyAfterSeconds: Double
    private let random: @Sendable () -> Double

    /// The durations the machine needs.
    struct Timing: Sendable {
        var heartbeatInterval: Double
        var heartbeatTimeout: Double
        var startTimeout: Double
        var shutdownGrace: Double
        var killGrace: Double
    }

    init(timing: Timing, restart: RestartSettings, remote: Bool = false, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.timing = timing
        self.remote = remote
        self.policy = restart.policy
        self.backoff = Backoff(initialSeconds: restart.initialBackoffSeconds, maxSeconds: restart.maxBackoffSeconds)
        self.history = RestartHistory(maxRestarts: restart.maxRestarts, withinSeconds: restart.withinSeconds)
        self.healthyAfterSeconds = restart.healthyAfterSeconds
        self.random = random
    }

    /// New timings and restart limits (a reload) for the running worker, without restarting it.
    mutating func reconfigure(timing: Timing, restart: RestartSettings) {
        self.timing = timing
        policy = restart.policy
        backoff = Backoff(initialSeconds: restart.initialBackoffSeconds, maxSeconds: restart.maxBackoffSeconds)
        healthyAfterSeconds = restart.healthyAfterSeconds
        var history = RestartHistory(maxRestarts: restart.maxRestarts, withinSeconds: restart.withinSeconds)
        for time in self.history.times { _ = history.recordFailure(at: time) }
        self.history = history
    }

    var pid: Int32? {
        switch state {
        case .starting(let pid, _, _), .running(let pid, _, _, _, _), .stopping(let pid, _, _, _, _, _): pid
        default: nil
        }
    }

    var isReady: Bool { if case .running = state { true } else { false } }

    // MARK: - Events

    /// The operator (or daemon start) wants the worker up.
    mutating func start(now: Double) -> [Action] {
        want = .up
        switch state {
        case .idle, .stopped, .failed:
            history = RestartHistory(maxRestarts: history.maxRestarts, withinSeconds: history.withinSeconds)
            quickFailures = 0
            state = .backingOff(until: now)
            return [.spawn]
        default:
            return []
        }
    }

    /// The first and the longest wait before a start put off for the daemon's own shortage is tried again.
    static let shortageRetrySeconds = (first: 0.05, max: 2.0)

    /// The loop spawned the process.
    mutating func spawned(pid: Int32, now: Double) -> [Action] {
        deferredStarts = 0
        state = .starting(pid: pid, since: now, deadline: now + timing.startTimeout)
        return [.sendInitialize]
    }

    /// The process could not be spawned at all: counts as a quick failure.
    mutating func spawnFailed(reason: String, now: Double) -> [Action] {
        lastExit = ExitRecord(status: .exited(127), cause: .spawnFailed, uptimeSeconds: 0)
        return afterEnd(abnormal: true, readySince: nil, now: now)
    }

    /// The daemon lacked fds, processes or memory to start the worker (``ResourceShortage``): the worker did
    /// nothing wrong, so the start is tried again with its own capped backoff and the restart budget is untouched.
    mutating func spawnDeferred(now: Double) -> [Action] {
        guard want == .up else { return [] }
        deferredStarts += 1
        let delay = min(Self.shortageRetrySeconds.max, Self.shortageRetrySeconds.first * pow(2, Double(min(deferredStarts - 1, 16))))
        state = .backingOff(until: now + delay)
        return []
    }

    /// The worker answered `initialize`.
    mutating func handshakeCompleted(now: Double) -> [Action] {
        guard case .starting(let pid, let since, _) = state else { return [] }
        state = .running(pid: pid, since: since, readySince: now, lastAnswer: now, nextHeartbeat: now + timing.heartbeatInterval)
        unreachableSince = nil
        return []
    }

    /// The worker answered a heartbeat (or any request): it is alive.
    mutating func answered(now: Double) {
        if case .running(let pid, let since, let ready, _, let next) = state {
            state = .running(pid: pid, since: since, readySince: ready, lastAnswer: now, nextHeartbeat: next)
        }
    }

    /// The operator or the daemon's shutdown wants the worker down.
    mutating func stop(now: Double) -> [Action] {
        want = .down
        if let actions = beginStop(cause: .requested, now: now) { return actions }
        state = .stopped(reason: "stopped on request")
        return [.stoppedForGood(reason: "stopped on request")]
    }

    /// The operator wants a fresh process: stop this one politely, then start another at once. A failed or
    /// stopped service is started again with a clean restart history.
    mutating func restartRequested(now: Double) -> [Action] {
        want = .up
        if let actions = beginStop(cause: .restart, now: now) { return actions }
        if case .backingOff = state {
            state = .backingOff(until: now)
            return [.spawn]
        }
        return start(now: now)
    }

    /// The first teardown step for a live process (nil when there is none): a ready worker is asked to shut
    /// down, one still starting gets SIGTERM.
    private mutating func beginStop(cause: ExitCause, now: Double) -> [Action]? {
        switch state {
        case .running(let pid, let since, let ready, _, _):
            state = .stopping(pid: pid, since: since, readySince: ready, cause: cause, step: .shutdownRequested,
                              nextStep: now + timing.shutdownGrace)
            return [.sendShutdown]
        case .starting(let pid, let since, _):
            state = .stopping(pid: pid, since: since, readySince: nil, cause: cause, step: .terminated,
                              nextStep: now + timing.shutdownGrace)
            return [.signalGroup(SIGTERM), .signalGroup(SIGCONT)]
        case .stopping:
            return []
        case .idle, .backingOff, .failed, .stopped:
            return nil
        }
    }

    /// The worker's resident memory went over its limit: replace it, counted as a failure. It is asked to shut
    /// down first (its connectors disconnect), then its process group, the transport included, is killed.
    mutating func memoryExceeded(now: Double) -> [Action] {
        guard case .running(let pid, let since, let ready, _, _) = state else { return [] }
        state = .stopping(pid: pid, since: since, readySince: ready, cause: .memory, step: .shutdownRequested, nextStep: now + timing.shutdownGrace)
        return [.sendShutdown]
    }

    mutating func refreshOverran(now: Double) -> [Action] {
        guard case .running(let pid, let since, let ready, _, _) = state else { return [] }
        return beginKill(pid: pid, since: since, readySince: ready, cause: .refreshTimeout, now: now)
    }

    /// Deadlines: heartbeats due, hang detection, teardown escalation, restart after backoff.
    mutating func tick(now: Double) -> [Action] {
        switch state {
        case .starting(let pid, let since, let deadline) where now >= deadline:
            return beginKill(pid: pid, since: since, readySince: nil, cause: .startTimeout, now: now)
        case .running(let pid, let since, let ready, let lastAnswer, let next):
            if now - lastAnswer >= timing.heartbeatTimeout {
                return beginKill(pid: pid, since: since, readySince: ready, cause: .hang, now: now)
            }
            guard now >= next else { return [] }
            state = .running(pid: pid, since: since, readySince: ready, lastAnswer: lastAnswer, nextHeartbeat: now + timing.heartbeatInterval)
            return [.sendHeartbeat, .checkHealth]
        case .stopping(let pid, let since, let ready, let cause, let step, let nextStep) where now >= nextStep:
            switch step {
            case .shutdownRequested:
                state = .stopping(pid: pid, since: since, readySince: ready, cause: cause, step: .terminated, nextStep: now + timing.shutdownGrace)
                return [.signalGroup(SIGTERM), .signalGroup(SIGCONT)]
            case .terminated:
                // SIGKILL cannot be ignored; the exit follows. Re-check later only to log a stuck exit.
                state = .stopping(pid: pid, since: since, readySince: ready, cause: cause, step: .killed, nextStep: now + Self.killRepeatSeconds)
                return [.signalGroup(SIGKILL)]
            case .killed:
                state = .stopping(pid: pid, since: since, readySince: ready, cause: cause, step: .killed, nextStep: now + Self.killRepeatSeconds)
                return [.signalGroup(SIGKILL)]
            }
        case .backingOff(let until) where want == .up && now >= until:
            return [.spawn]
        default:
            return []
        }
    }

    /// Whether this end of a remote worker is its transport failing, not the worker: ssh's own exit status (255)
    /// before the handshake, or while heartbeats had stopped (a lost connection); a start or heartbeat timeout (a
    /// silently dropped network). ssh also exits 255 when the remote worker is killed by a signal: with heartbeats
    /// answered until then, that is the worker crashing, and it counts against the budget.
    private func isUnreachable(_ status: TerminationStatus, now: Double) -> Bool {
        guard remote else { return false }
        if status == .exited(RemoteWorker.transportFailureExitCode) {
            switch state {
            case .starting: return true
            case .running(_, _, _, let lastAnswer, _): return now - lastAnswer > 1.5 * timing.heartbeatInterval
            case .stopping(_, _, _, let cause, _, _): return cause != .requested && cause != .restart
            default: return false
            }
        }
        if case .stopping(_, _, _, let cause, _, _) = state { return cause == .hang || cause == .startTimeout }
        return false
    }

    /// The worker process ended.
    mutating func exited(_ status: TerminationStatus, now: Double) -> [Action] {
        if want == .up, isUnreachable(status, now: now), case let since? = startTime {
            lastExit = ExitRecord(status: status, cause: .unreachable, uptimeSeconds: now - since)
            unreachableSince = unreachableSince ?? now
            quickFailures += 1
            restartCount += 1
            let delay = backoff.delay(quickFailures: quickFailures, random: random())
            state = .backingOff(until: now + delay)
            return delay == 0 ? [.spawn] : []
        }
        let since: Double, readySince: Double?, cause: ExitCause, abnormal: Bool
        switch state {
        case .starting(_, let s, _):
            (since, readySince) = (s, nil)
            (cause, abnormal) = status.isSuccess ? (.exit, false) : (.crash, true)
        case .running(_, let s, let ready, _, _):
            (since, readySince) = (s, ready)
            (cause, abnormal) = status.isSuccess ? (.exit, false) : (.crash, true)
        case .stopping(_, let s, let ready, let stopCause, _, _):
            (since, readySince) = (s, ready)
            (cause, abnormal) = (stopCause, stopCause.isFailure)
            if stopCause == .restart && want == .up {
                lastExit = ExitRecord(status: status, cause: cause, uptimeSeconds: now - since)
                quickFailures = 0
                restartCount += 1
                state = .backingOff(until: now)
                return [.spawn]
            }
        default:
            return []
        }
        lastExit = ExitRecord(status: status, cause: cause, uptimeSeconds: now - since)
        if want == .down {
            state = .stopped(reason: "stopped on request")
            return [.stoppedForGood(reason: "stopped on request")]
        }
        return afterEnd(abnormal: abnormal, readySince: readySince, now: now)
    }

    /// When the current incarnation was spawned.
    private var startTime: Double? {
        switch state {
        case .starting(_, let since, _), .running(_, let since, _, _, _), .stopping(_, let since, _, _, _, _): since
        default: nil
        }
    }

    var nextDeadline: Double? {
        switch state {
        case .starting(_, _, let deadline): deadline
        case .running(_, _, _, let lastAnswer, let next): min(next, lastAnswer + timing.heartbeatTimeout)
        case .stopping(_, _, _, _, _, let nextStep): nextStep
        case .backingOff(let until): want == .up ? until : nil
        default: nil
        }
    }

    // MARK: - Private

    private mutating func beginKill(pid: Int32, since: Double, readySince: Double?, cause: ExitCause, now: Double) -> [Action] {
        state = .stopping(pid: pid, since: since, readySince: readySince, cause: cause, step: .terminated, nextStep: now + timing.killGrace)
        // SIGCONT so a stopped (SIGSTOP) worker can act on the SIGTERM.
        return [.signalGroup(SIGTERM), .signalGroup(SIGCONT)]
    }

    private mutating func afterEnd(abnormal: Bool, readySince: Double?, now: Double) -> [Action] {
        guard policy.shouldRestart(abnormal: abnormal) else {
            let reason = "not restarted: restart policy \(policy.rawValue)"
            state = .stopped(reason: reason)
            return [.stoppedForGood(reason: reason)]
        }
        guard history.recordFailure(at: now) else {
            // Counted in failures, beside status's restart count: the last failure is the one not restarted.
            let reason = "\(history.count) failures within \(ConfigReader.format(history.withinSeconds)) s, one more than maxRestarts \(history.maxRestarts) allows"
            state = .failed(reason: reason)
            return [.gaveUp(reason: reason)]
        }
        if let readySince, now - readySince >= healthyAfterSeconds { quickFailures = 0 } else { quickFailures += 1 }
        let delay = backoff.delay(quickFailures: quickFailures, random: random())
        restartCount += 1
        state = .backingOff(until: now + delay)
        return delay == 0 ? [.spawn] : []
    }
}

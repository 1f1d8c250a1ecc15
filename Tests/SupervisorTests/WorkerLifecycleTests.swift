import Glibc
import Protocol
import Testing
@testable import Supervisor

/// The lifecycle state machine and restart policy as pure values: events in, actions out, time injected.
@Suite("Worker lifecycle")
struct WorkerLifecycleTests {
    static let timing = WorkerLifecycle.Timing(heartbeatInterval: 1, heartbeatTimeout: 3, startTimeout: 5, shutdownGrace: 2, killGrace: 0.5)

    func lifecycle(_ restart: RestartSettings = RestartSettings(), random: Double = 0.5) -> WorkerLifecycle {
        WorkerLifecycle(timing: Self.timing, restart: restart, random: { random })
    }

    /// A lifecycle that is running (handshake done) at `t`.
    func running(_ restart: RestartSettings = RestartSettings(), at t: Double = 0) -> WorkerLifecycle {
        var l = lifecycle(restart)
        #expect(l.start(now: t) == [.spawn])
        #expect(l.spawned(pid: 100, now: t) == [.sendInitialize])
        #expect(l.handshakeCompleted(now: t) == [])
        #expect(l.isReady)
        return l
    }

    @Test func start_spawnsThenSendsInitialize() {
        var l = lifecycle()
        #expect(l.start(now: 0) == [.spawn])
        #expect(l.spawned(pid: 42, now: 0) == [.sendInitialize])
        #expect(l.pid == 42)
        #expect(!l.isReady)
        #expect(l.nextDeadline == 5)
    }

    @Test("a start put off for the daemon's own shortage is retried with capped backoff and never spends the restart budget")
    func spawnDeferred_isRetriedWithoutCountingAFailure() {
        var l = lifecycle()
        #expect(l.start(now: 0) == [.spawn])
        var now = 0.0
        var delays: [Double] = []
        for _ in 0..<200 {
            #expect(l.spawnDeferred(now: now) == [])
            guard case .backingOff(let until) = l.state else { Issue.record("not backing off: \(l.state)"); return }
            delays.append(until - now)
            #expect(l.tick(now: until - 0.001) == [])
            now = until
            #expect(l.tick(now: now) == [.spawn])
        }
        #expect(delays.first == WorkerLifecycle.shortageRetrySeconds.first)
        #expect(abs((delays.max() ?? 0) - WorkerLifecycle.shortageRetrySeconds.max) < 1e-9)
        #expect(l.restartCount == 0 && l.lastExit == nil && l.deferredStarts == 200)
        // The next real start resets the shortage backoff, and a real failure still counts.
        #expect(l.spawned(pid: 7, now: now) == [.sendInitialize])
        #expect(l.deferredStarts == 0)
        _ = l.exited(.signaled(SIGKILL), now: now + 0.1)
        #expect(l.restartCount == 1 && l.lastExit?.cause == .crash)
    }

    @Test("a start put off while the worker is wanted down does not come back")
    func spawnDeferred_whenStoppedDoesNothing() {
        var l = lifecycle()
        #expect(l.spawnDeferred(now: 0) == [])
        #expect(l.state == .idle)
    }

    @Test("the door's share of fds leaves supervision its reserve, whatever maxConnections says")
    func descriptorBudget() {
        let reserved = DescriptorBudget.reserve(services: 3)
        #expect(reserved >= ControlServer.maxConnections + ControlServer.refusalSlots + 3 * DescriptorBudget.perWorker)
        let small = DescriptorBudget(limit: 1024, raisedFrom: nil, reserved: reserved)
        #expect(small.doorConnections(configured: 1024) == 1024 - reserved - DescriptorBudget.doorRefusalSlots)
        #expect(small.doorConnections(configured: 10) == 10)
        let large = DescriptorBudget(limit: 1 << 20, raisedFrom: 1024, reserved: reserved)
        #expect(large.doorConnections(configured: 1024) == 1024)
        let tiny = DescriptorBudget(limit: 100, raisedFrom: nil, reserved: reserved)
        #expect(tiny.doorConnections(configured: 1024) == 1)
    }

    @Test func heartbeat_isSentEachInterval_andAnswersKeepItAlive() {
        var l = running()
        #expect(l.tick(now: 0.5) == [])
        #expect(l.tick(now: 1.0) == [.sendHeartbeat, .checkHealth])
        l.answered(now: 1.01)
        #expect(l.tick(now: 2.0) == [.sendHeartbeat, .checkHealth])
        l.answered(now: 2.01)
        #expect(l.tick(now: 3.0) == [.sendHeartbeat, .checkHealth])
        #expect(l.isReady)
    }

    @Test func hang_whenNoAnswerForTimeout_termsThenKillsTheGroup() {
        var l = running()
        _ = l.tick(now: 1)
        _ = l.tick(now: 2)
        #expect(l.tick(now: 3.0) == [.signalGroup(SIGTERM), .signalGroup(SIGCONT)])
        #expect(l.tick(now: 3.2) == [])
        #expect(l.tick(now: 3.5) == [.signalGroup(SIGKILL)])
        let actions = l.exited(.signaled(SIGKILL), now: 3.6)
        #expect(l.lastExit?.cause == .hang)
        #expect(l.restartCount == 1)
        // A run that was ready for 3 s (healthy after 1 s) restarts at once.
        #expect(actions == [.spawn])
    }

    @Test func startTimeout_killsAWorkerThatNeverAnswersInitialize() {
        var l = lifecycle()
        _ = l.start(now: 0)
        _ = l.spawned(pid: 1, now: 0)
        #expect(l.tick(now: 4.9) == [])
        #expect(l.tick(now: 5) == [.signalGroup(SIGTERM), .signalGroup(SIGCONT)])
        _ = l.exited(.signaled(SIGTERM), now: 5.1)
        #expect(l.lastExit?.cause == .startTimeout)
    }

    @Test func crash_afterHealthyRun_restartsImmediately() {
        var l = running()
        #expect(l.exited(.signaled(SIGKILL), now: 10) == [.spawn])
        #expect(l.restartCount == 1)
        #expect(l.lastExit == .init(status: .signaled(SIGKILL), cause: .crash, uptimeSeconds: 10))
    }

    @Test func quickFailures_backOffExponentially_withJitterWithinBounds() {
        var settings = RestartSettings()
        settings.initialBackoffSeconds = 0.1
        settings.maxBackoffSeconds = 0.5
        settings.maxRestarts = 100
        var l = lifecycle(settings, random: 1.0)
        _ = l.start(now: 0)
        var now = 0.0
        var delays: [Double] = []
        for _ in 0..<5 {
            _ = l.spawned(pid: 1, now: now)
            #expect(l.exited(.exited(3), now: now + 0.01) == [])
            guard case .backingOff(let until) = l.state else { Issue.record("not backing off"); return }
            delays.append(until - (now + 0.01))
            now = until
            #expect(l.tick(now: now) == [.spawn])
        }
        // random = 1.0 gives the full base: 0.1, 0.2, 0.4, then capped at 0.5.
        for (delay, expected) in zip(delays, [0.1, 0.2, 0.4, 0.5, 0.5]) { #expect(abs(delay - expected) < 1e-9) }
    }

    @Test func jitter_staysBetweenHalfAndFullBase() {
        let backoff = Backoff(initialSeconds: 1, maxSeconds: 30)
        #expect(backoff.delay(quickFailures: 0, random: 0.7) == 0)
        #expect(backoff.delay(quickFailures: 3, random: 0) == 2)
        #expect(backoff.delay(quickFailures: 3, random: 0.999) < 4)
        #expect(backoff.delay(quickFailures: 50, random: 1) == 30)
    }

    @Test func restart_whenMoreThanMaxRestartsInWindow_givesUp() {
        var settings = RestartSettings()
        settings.maxRestarts = 3
        settings.withinSeconds = 60
        settings.initialBackoffSeconds = 0
        settings.maxBackoffSeconds = 0
        var l = lifecycle(settings)
        _ = l.start(now: 0)
        for i in 0..<3 {
            _ = l.spawned(pid: 1, now: Double(i))
            #expect(l.exited(.exited(1), now: Double(i) + 0.1) == [.spawn], "restart \(i + 1)")
        }
        _ = l.spawned(pid: 1, now: 3)
        let actions = l.exited(.exited(1), now: 3.1)
        guard case .gaveUp(let reason)? = actions.first else { Issue.record("did not give up: \(actions)"); return }
        #expect(reason == "4 failures within 60 s, one more than maxRestarts 3 allows")
        guard case .failed = l.state else { Issue.record("not failed"); return }
        #expect(l.nextDeadline == nil)
    }

    @Test func restartHistory_forgetsFailuresOutsideTheWindow() {
        var history = RestartHistory(maxRestarts: 2, withinSeconds: 10)
        let accepted = [0, 5, 10.5, 11].map { history.recordFailure(at: $0) }
        // At 10.5 the failure at 0 has left the window; at 11 three are inside it (5, 10.5, 11).
        #expect(accepted == [true, true, true, false])
        #expect(history.count == 3)
    }

    @Test func transient_restartsOnlyAbnormalExits() {
        var settings = RestartSettings()
        settings.policy = .transient
        var l = running(settings)
        guard case .stoppedForGood? = l.exited(.exited(0), now: 5).first else { Issue.record("restarted a clean exit"); return }
        var m = running(settings)
        #expect(m.exited(.exited(2), now: 5) == [.spawn])
    }

    @Test func temporary_isNeverRestarted() {
        var settings = RestartSettings()
        settings.policy = .temporary
        var l = running(settings)
        guard case .stoppedForGood(let reason)? = l.exited(.signaled(SIGKILL), now: 5).first else { Issue.record("restarted"); return }
        #expect(reason.contains("temporary"))
    }

    @Test func stop_asksPolitely_thenTerms_thenKills_andDoesNotRestart() {
        var l = running()
        #expect(l.stop(now: 10) == [.sendShutdown])
        #expect(l.tick(now: 11) == [])
        #expect(l.tick(now: 12) == [.signalGroup(SIGTERM), .signalGroup(SIGCONT)])
        #expect(l.tick(now: 14) == [.signalGroup(SIGKILL)])
        #expect(l.exited(.signaled(SIGKILL), now: 14.1) == [.stoppedForGood(reason: "stopped on request")])
        #expect(l.restartCount == 0)
        #expect(l.pid == nil)
    }

    @Test func stop_whileBackingOff_cancelsTheRestart() {
        var settings = RestartSettings()
        settings.initialBackoffSeconds = 5
        settings.maxBackoffSeconds = 5
        var l = lifecycle(settings)
        _ = l.start(now: 0)
        _ = l.spawned(pid: 1, now: 0)
        _ = l.exited(.exited(1), now: 0.1)
        #expect(l.stop(now: 0.2) == [.stoppedForGood(reason: "stopped on request")])
        #expect(l.tick(now: 100) == [])
    }

    @Test func spawnFailure_countsAsAQuickFailure() {
        var settings = RestartSettings()
        settings.maxRestarts = 1
        var l = lifecycle(settings)
        _ = l.start(now: 0)
        #expect(l.spawnFailed(reason: "ENOENT", now: 0) == [])
        guard case .backingOff = l.state else { Issue.record("not backing off"); return }
        guard case .gaveUp? = l.spawnFailed(reason: "ENOENT", now: 1).first else { Issue.record("did not give up"); return }
    }

    @Test func staleEvents_areIgnored() {
        var l = lifecycle()
        #expect(l.exited(.exited(0), now: 0) == [])
        #expect(l.handshakeCompleted(now: 0) == [])
        #expect(l.tick(now: 0) == [])
    }

    @Test("a remote worker whose host is unreachable (ssh exit 255, timeouts) is retried forever with capped backoff, never FAILED")
    func remote_unreachable_isRetriedForever() {
        var restart = RestartSettings()
        restart.maxRestarts = 2
        restart.initialBackoffSeconds = 0.1
        restart.maxBackoffSeconds = 1
        var l = WorkerLifecycle(timing: Self.timing, restart: restart, remote: true, random: { 0.99 })
        var t = 0.0
        #expect(l.start(now: t) == [.spawn])
        for round in 0..<20 {
            _ = l.spawned(pid: Int32(100 + round), now: t)
            t += 0.05
            _ = l.exited(.exited(255), now: t)
            #expect(l.lastExit?.cause == .unreachable)
            guard case .backingOff(let until) = l.state else { Issue.record("not backing off: \(l.state)"); return }
            #expect(until - t <= 1.0 + 1e-9, "backoff is capped")
            t = until
            _ = l.tick(now: t)
        }
        #expect(l.unreachableSince == 0.05)
        // A start timeout (silent drop) is unreachable too; a handshake ends the episode.
        _ = l.spawned(pid: 500, now: t)
        _ = l.tick(now: t + 5)
        _ = l.exited(.signaled(SIGTERM), now: t + 5.1)
        #expect(l.lastExit?.cause == .unreachable)
        guard case .backingOff(let until) = l.state else { Issue.record("not backing off"); return }
        _ = l.tick(now: until)
        _ = l.spawned(pid: 501, now: until)
        _ = l.handshakeCompleted(now: until + 0.5)
        #expect(l.unreachableSince == nil)
        #expect(l.isReady)
    }

    @Test("a remote worker that crashes on its side still counts against the budget; a local exit 255 is a crash")
    func remote_crash_countsAgainstBudget() {
        var restart = RestartSettings()
        restart.maxRestarts = 1
        var remote = WorkerLifecycle(timing: Self.timing, restart: restart, remote: true, random: { 0.5 })
        _ = remote.start(now: 0)
        _ = remote.spawned(pid: 1, now: 0)
        _ = remote.handshakeCompleted(now: 0.1)
        _ = remote.exited(.exited(1), now: 0.2)
        #expect(remote.lastExit?.cause == .crash)
        _ = remote.tick(now: 10)
        _ = remote.spawned(pid: 2, now: 10)
        _ = remote.handshakeCompleted(now: 10.1)
        #expect(remote.exited(.signaled(SIGKILL), now: 10.2) == [.gaveUp(reason: "2 failures within 60 s, one more than maxRestarts 1 allows")])

        var local = lifecycle()
        _ = local.start(now: 0)
        _ = local.spawned(pid: 1, now: 0)
        _ = local.exited(.exited(255), now: 0.1)
        #expect(local.lastExit?.cause == .crash)
        #expect(local.unreachableSince == nil)
    }

    @Test("over the memory limit: asked to shut down, then SIGTERM and SIGKILL to its group; counted as a failure")
    func memory_asksThenKills() {
        var l = running()
        #expect(l.memoryExceeded(now: 1) == [.sendShutdown])
        #expect(l.tick(now: 1 + Self.timing.shutdownGrace) == [.signalGroup(SIGTERM), .signalGroup(SIGCONT)])
        #expect(l.tick(now: 1 + 2 * Self.timing.shutdownGrace) == [.signalGroup(SIGKILL)])
        _ = l.exited(.signaled(SIGKILL), now: 6)
        #expect(l.lastExit?.cause == .memory)
        #expect(l.history.times.count == 1)
    }
}

import Dispatch
import Glibc
import Protocol
import Synchronization

/// Ends a worker that has lost its supervisor: no heartbeat within the timeout `initialize` gave (a partition,
/// a stopped or wedged daemon), stdin closed, or resident memory over its limit. It disconnects the connectors
/// (each within a bound, all at once) and exits; its own thread `_exit`s the process if that does not finish in
/// ``graceSeconds``, so even a connector wedged in native code cannot keep the worker alive.
///
/// A partitioned worker is therefore gone within heartbeatTimeoutSeconds + ``graceSeconds`` of its last heartbeat,
/// under 2 s past the timeout: the daemon replaces a worker that misses heartbeats for that same timeout, so two
/// live workers of one service never overlap for longer.
final class SelfFence: Sendable {
    /// From the decision to fence to the process being gone, at most.
    static let graceSeconds = 1.0
    /// Each connector's disconnect is given this long.
    static let disconnectSeconds = 0.8
    /// How often resident memory is compared with the limit, when there is one.
    static let memoryCheckSeconds = 0.5

    private struct State {
        var lastHeard = MonotonicClock.now()
        var timeout: Double?
        var memoryLimitBytes: Int?
        var exitDeadline: Double?
        var exitCode: Int32 = 0
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let disconnectAll = Mutex<(@Sendable () -> Void)?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Starts watching; `disconnectAll` is how a fence stops the connectors.
    func start(disconnectAll: @escaping @Sendable () -> Void) throws(OSThread.StartError) {
        self.disconnectAll.withLock { $0 = disconnectAll }
        try OSThread.start(name: "self-fence") { [self] in watch() }
    }

    /// From `initialize`: the heartbeat timeout and the memory limit to enforce.
    func arm(heartbeatTimeoutSeconds: Double?, memoryLimitMegabytes: Int?) {
        state.withLock { state in
            state.lastHeard = MonotonicClock.now()
            state.timeout = heartbeatTimeoutSeconds.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            state.memoryLimitBytes = memoryLimitMegabytes.flatMap { $0 > 0 ? $0 << 20 : nil }
        }
        wake.signal()
    }

    /// A heartbeat arrived.
    func heard() {
        state.withLock { $0.lastHeard = MonotonicClock.now() }
    }

    /// Disconnects every connector and exits with `code`; the watch thread `_exit`s at the grace deadline.
    func fence(_ reason: String, code: Int32) {
        let first = state.withLock { state -> Bool in
            guard state.exitDeadline == nil else { return false }
            state.exitDeadline = MonotonicClock.now() + Self.graceSeconds
            state.exitCode = code
            return true
        }
        guard first else { return }
        logger.warning("fencing: \(reason); disconnecting connectors and exiting", ["exitCode": .int(Int(code))])
        wake.signal()
        let stored: (@Sendable () -> Void)? = disconnectAll.withLock { $0 }
        let disconnect: @Sendable () -> Void = stored ?? { @Sendable in }
        do {
            try OSThread.start(name: "fence-exit") {
                disconnect()
                LogSink.flush(timeoutSeconds: 0.2)
                exit(code)
            }
        } catch {
            // No thread for a clean exit: the watch thread's deadline still ends the process.
        }
    }

    private func watch() {
        while true {
            let (deadline, code, timeout, last, limit) = state.withLock { ($0.exitDeadline, $0.exitCode, $0.timeout, $0.lastHeard, $0.memoryLimitBytes) }
            let now = MonotonicClock.now()
            if let deadline {
                if now >= deadline {
                    LogSink.flush(timeoutSeconds: 0.1)
                    _exit(code)
                }
                _ = wake.wait(timeout: .now() + max(0.01, deadline - now))
                continue
            }
            if let timeout, now - last > timeout {
                fence("no heartbeat for \(Int((now - last) * 1000)) ms (timeout \(Int(timeout * 1000)) ms)", code: WorkerExitCode.fenced)
                continue
            }
            if let limit, let bytes = Self.residentBytes(), bytes > limit {
                fence("resident memory \(bytes >> 20) MiB is over the limit of \(limit >> 20) MiB", code: WorkerExitCode.memoryLimit)
                continue
            }
            // Sleeps until the heartbeat deadline (a heartbeat in between moves it; the thread then sleeps again),
            // or the next memory check: an idle worker wakes once per timeout, not on a fixed tick.
            var interval = timeout.map { max(0.01, last + $0 - now + 0.001) } ?? 3600
            if limit != nil { interval = min(interval, Self.memoryCheckSeconds) }
            _ = wake.wait(timeout: .now() + interval)
        }
    }

    /// This process's resident memory, from /proc/self/statm.
    static func residentBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        let fields = buffer[0..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The host name the kernel gives this worker (its UTS namespace's).
    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

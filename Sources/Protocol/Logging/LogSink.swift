import Dispatch
import Glibc
import Synchronization

/// Where every ``Logger`` line goes. By default a direct write to stderr (a worker's stderr is drained by
/// its supervisor). The daemon installs a bounded buffer instead: its stderr may be a journald or log
/// shipper that stalls, and a blocked log write must never stall supervision. Lines that do not fit are
/// dropped and counted; a filter (the daemon's secret redaction) sees every line first.
public enum LogSink {
    private final class Buffer: Sendable {
        let capacityBytes: Int
        let filter: @Sendable (String) -> String
        let state = Mutex(State())
        let wake = DispatchSemaphore(value: 0)
        let idle = DispatchSemaphore(value: 0)

        struct State {
            var lines: [String] = []
            var bytes = 0
            var dropped = 0
            var writing = false
            var flushWaiters = 0
        }

        init(capacityBytes: Int, filter: @escaping @Sendable (String) -> String) {
            self.capacityBytes = capacityBytes
            self.filter = filter
        }

        func enqueue(_ line: String) {
            let mustWake = state.withLock { state -> Bool in
                guard state.bytes + line.utf8.count <= capacityBytes else {
                    state.dropped += 1
                    droppedTotal.add(1, ordering: .relaxed)
                    return false
                }
                state.lines.append(line)
                state.bytes += line.utf8.count
                defer { state.writing = true }
                return !state.writing
            }
            if mustWake { wake.signal() }
        }

        func run() {
            while true {
                wake.wait()
                while true {
                    let (batch, dropped) = state.withLock { state -> ([String], Int) in
                        defer { state.lines.removeAll(keepingCapacity: true); state.bytes = 0; state.dropped = 0 }
                        return (state.lines, state.dropped)
                    }
                    if batch.isEmpty && dropped == 0 {
                        let waiters = state.withLock { state -> Int in
                            // Re-check under the lock: a line queued since the take must not be stranded.
                            guard state.lines.isEmpty else { return -1 }
                            state.writing = false
                            defer { state.flushWaiters = 0 }
                            return state.flushWaiters
                        }
                        if waiters < 0 { continue }
                        for _ in 0..<waiters { idle.signal() }
                        break
                    }
                    var text = batch.joined()
                    if dropped > 0 {
                        text += "\(dropped) log line(s) dropped: stderr did not drain\n"
                    }
                    LogSink.writeDirect(text)
                }
            }
        }

        /// Waits up to `timeoutSeconds` for queued lines to be written.
        func flush(timeoutSeconds: Double) {
            let mustWait = state.withLock { state -> Bool in
                guard state.writing else { return false }
                state.flushWaiters += 1
                return true
            }
            if mustWait { _ = idle.wait(timeout: .now() + timeoutSeconds) }
        }
    }

    private static let buffer = Mutex<Buffer?>(nil)
    private static let droppedTotal = Atomic<Int>(0)

    /// Lines dropped since start because stderr did not drain (status and metrics show it).
    public static var droppedLines: Int { droppedTotal.load(ordering: .relaxed) }

    /// Sends every later line through a bounded buffer written by its own thread; `filter` sees each line.
    /// If the thread cannot start, lines keep going straight to stderr.
    public static func installBuffered(capacityBytes: Int = 1 << 20, filter: @escaping @Sendable (String) -> String) throws(OSThread.StartError) {
        let installed = Buffer(capacityBytes: capacityBytes, filter: filter)
        try OSThread.start(name: "log-writer") { installed.run() }
        buffer.withLock { $0 = installed }
    }

    /// Writes (or queues) one finished line, newline included.
    public static func emit(_ line: String) {
        if let installed = buffer.withLock({ $0 }) {
            installed.enqueue(installed.filter(line))
        } else {
            writeDirect(line)
        }
    }

    /// Waits (bounded) for queued lines to reach stderr, before the process exits.
    public static func flush(timeoutSeconds: Double = 2) {
        buffer.withLock { $0 }?.flush(timeoutSeconds: timeoutSeconds)
    }

    private static func writeDirect(_ text: String) {
        var text = text
        text.withUTF8 { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

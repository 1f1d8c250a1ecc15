import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization

/// The supervisor's sending side of one worker's stdin: lines are queued and written by a dedicated
/// thread, so a worker that stops reading can never block the supervision loop. The fd is non-blocking and
/// the writer waits on it together with the incarnation's cancellation, so a full pipe held open by a
/// lingering descendant cannot keep the thread (or the fd) alive after the incarnation ends.
final class WorkerConnection: Sendable {
    private let fd: Int32
    private let cancellation: IOCancellation
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    /// Queued bytes beyond which further lines are dropped; a worker this far behind is hung and will be replaced.
    private let maxQueuedBytes: Int

    private struct State {
        var queue: [Data] = []
        var queuedBytes = 0
        var closed = false
        var broken = false
        /// The writer is awake (writing or about to look at the queue): no need to signal it.
        var writing = false
    }

    /// Takes ownership of `fd` once the writer thread runs; throws (leaving `fd` to the caller) if it cannot start.
    init(fd: Int32, name: String, cancellation: IOCancellation, maxQueuedBytes: Int = 64 << 20) throws(OSThread.StartError) {
        self.fd = fd
        self.cancellation = cancellation
        self.maxQueuedBytes = maxQueuedBytes
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        try OSThread.start(name: "writer-\(name)") { [self] in writeLoop() }
    }

    /// Queues a line for the worker; false if it was dropped (connection closed, broken or far behind).
    @discardableResult
    func send(_ line: Data) -> Bool {
        let (accepted, mustWake) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed, !state.broken, state.queuedBytes + line.count <= maxQueuedBytes else { return (false, false) }
            state.queue.append(line)
            state.queuedBytes += line.count
            // One wake-up per burst, not per line: a busy writer drains the queue before it sleeps again.
            defer { state.writing = true }
            return (true, !state.writing)
        }
        if mustWake { wake.signal() }
        return accepted
    }

    /// Stops the writer after what is queued and closes the worker's stdin (the worker sees EOF).
    func close() {
        let mustWake = state.withLock { state -> Bool in
            state.closed = true
            defer { state.writing = true }
            return !state.writing
        }
        if mustWake { wake.signal() }
    }

    private func writeLoop() {
        while true {
            wake.wait()
            while true {
                let (batch, closed) = state.withLock { state -> ([Data], Bool) in
                    defer { state.queue.removeAll(keepingCapacity: true); state.queuedBytes = 0 }
                    if state.queue.isEmpty && !state.closed { state.writing = false }
                    return (state.queue, state.closed)
                }
                if batch.isEmpty && !closed { break }
                if !batch.isEmpty {
                    var joined = Data()
                    joined.reserveCapacity(batch.reduce(0) { $0 + $1.count })
                    batch.forEach { joined.append($0) }
                    if !write(joined) {
                        // EPIPE or cancelled: the worker is gone; its exit event follows. Nothing more can be written.
                        state.withLock { $0.broken = true }
                    }
                }
                if closed || state.withLock({ $0.broken }) {
                    Glibc.close(fd)
                    return
                }
            }
        }
    }

    /// Writes all of `data`, waiting for room while the incarnation lasts; false on error or cancellation.
    private func write(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n >= 0 {
                    offset += n
                } else if errno == EAGAIN {
                    guard cancellation.wait(fd: fd, for: Int16(POLLOUT)) else { return false }
                } else if errno != EINTR {
                    return false
                }
            }
            return true
        }
    }
}

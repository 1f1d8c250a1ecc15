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
        /// Lines waiting, back to back: a line is copied in, or written in place, with no buffer of its own.
        var queue: [UInt8] = []
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
        send(reserving: line.count) { $0.raw(line) }
    }

    /// Queues the line `write` writes (ending in `\n`), in place in the queue: the answer to every report goes
    /// this way, with no allocation of its own. `reserving` is about its length, for the queue's limit.
    @discardableResult
    func send(reserving byteCount: Int, _ write: (inout JSONWriter) -> Void) -> Bool {
        let (accepted, mustWake) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed, !state.broken, state.queue.count + byteCount <= maxQueuedBytes else { return (false, false) }
            JSONWriter.append(to: &state.queue, write)
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
        // The queue and this buffer trade places at each turn, so both keep their capacity (up to a bound).
        var batch: [UInt8] = []
        while true {
            wake.wait()
            while true {
                let closed = state.withLock { state -> Bool in
                    if state.queue.isEmpty && !state.closed { state.writing = false }
                    swap(&state.queue, &batch)
                    return state.closed
                }
                if batch.isEmpty && !closed { break }
                if !batch.isEmpty && !write(batch) {
                    // EPIPE or cancelled: the worker is gone; its exit event follows. Nothing more can be written.
                    state.withLock { $0.broken = true }
                }
                // A burst's buffer is kept for the next (512 acknowledgements take 46 KB), unless it was larger: a
                // page of elements must not stay allocated for every worker that ever asked for one.
                if batch.capacity > 64 << 10 { batch = [] } else { batch.removeAll(keepingCapacity: true) }
                if closed || state.withLock({ $0.broken }) {
                    Glibc.close(fd)
                    return
                }
            }
        }
    }

    /// Writes all of `data`, waiting for room while the incarnation lasts; false on error or cancellation.
    private func write(_ data: [UInt8]) -> Bool {
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

import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization

/// The supervisor's sending side of one worker's stdin: lines are queued and written by a dedicated
/// thread, so a worker that stops reading can never block the supervision loop.
final class WorkerConnection: Sendable {
    private let fd: Int32
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

    init(fd: Int32, name: String, maxQueuedBytes: Int = 64 << 20) {
        self.fd = fd
        self.maxQueuedBytes = maxQueuedBytes
        OSThread.start(name: "writer-\(name)") { [self] in writeLoop() }
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
                    do { try LineWriter.writeAll(fd: fd, joined) } catch {
                        // EPIPE: the worker is gone; its exit event follows. Nothing more can be written.
                        state.withLock { $0.broken = true }
                    }
                }
                if closed {
                    Glibc.close(fd)
                    return
                }
            }
        }
    }
}

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
    }

    init(fd: Int32, name: String, maxQueuedBytes: Int = 64 << 20) {
        self.fd = fd
        self.maxQueuedBytes = maxQueuedBytes
        OSThread.start(name: "writer-\(name)") { [self] in writeLoop() }
    }

    /// Queues a line for the worker; false if it was dropped (connection closed, broken or far behind).
    @discardableResult
    func send(_ line: Data) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed, !state.broken, state.queuedBytes + line.count <= maxQueuedBytes else { return false }
            state.queue.append(line)
            state.queuedBytes += line.count
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// Stops the writer after what is queued and closes the worker's stdin (the worker sees EOF).
    func close() {
        state.withLock { $0.closed = true }
        wake.signal()
    }

    private func writeLoop() {
        while true {
            wake.wait()
            let (batch, closed) = state.withLock { state -> ([Data], Bool) in
                defer { state.queue.removeAll(keepingCapacity: true); state.queuedBytes = 0 }
                return (state.queue, state.closed)
            }
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

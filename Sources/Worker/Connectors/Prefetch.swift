import Dispatch
import Synchronization

/// A value computed on another thread from the moment it is made, for work that can overlap with the caller's
/// (reading open metadata while a database's catalogue is read). `value()` waits for it, or rethrows. The work
/// is bounded by its own calls' timeouts (a supervisor call gives up after 120 s).
final class Prefetch<T: Sendable>: Sendable {
    /// The outcome and its signal, shared with the thread that computes it.
    private final class Slot: Sendable {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    private let slot = Slot()

    init(_ work: @escaping @Sendable () throws -> T) {
        DispatchQueue.global().async { [slot] in
            let result = Result { try work() }
            slot.outcome.withLock { $0 = result }
            slot.done.signal()
        }
    }

    func value() throws -> T {
        slot.done.wait()
        slot.done.signal()
        return try slot.outcome.withLock { $0! }.get()
    }
}

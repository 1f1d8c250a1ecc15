import Dispatch
import Foundation
import Protocol
import Synchronization

/// The one ordered stream of events the supervision loop consumes; any thread may post.
final class EventQueue: Sendable {
    private let events = Mutex(Pending())

    /// Posted events not yet taken; `head` avoids shifting the array on every take.
    private struct Pending {
        var items: [SupervisorEvent] = []
        var head = 0
    }
    private let available = DispatchSemaphore(value: 0)

    func post(_ event: SupervisorEvent) {
        events.withLock { $0.items.append(event) }
        available.signal()
    }

    /// The next event, or nil once `deadline` (monotonic seconds) passes with none.
    func next(until deadline: Double?) -> SupervisorEvent? {
        if let deadline {
            let wait = max(0, deadline - MonotonicClock.now())
            guard available.wait(timeout: .now() + wait) == .success else { return nil }
        } else {
            available.wait()
        }
        return events.withLock { pending in
            let event = pending.items[pending.head]
            pending.head += 1
            if pending.head == pending.items.count {
                pending.items.removeAll(keepingCapacity: pending.items.count < 4096)
                pending.head = 0
            }
            return event
        }
    }
}

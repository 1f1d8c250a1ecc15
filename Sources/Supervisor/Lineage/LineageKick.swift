import Synchronization

/// Tells the supervision loop that the door stored new OpenLineage events, once however many arrive before the
/// loop looks: at thousands of events a second, one loop event per stored event would be a queue of no news.
final class LineageKick: Sendable {
    private let pending = Atomic(false)
    private let post: @Sendable () -> Void

    init(post: @escaping @Sendable () -> Void) { self.post = post }

    /// After an event is stored.
    func kick() {
        if !pending.exchange(true, ordering: .acquiringAndReleasing) { post() }
    }

    /// By the loop, before it reads the store, so an event stored meanwhile kicks again.
    func taken() { pending.store(false, ordering: .releasing) }
}

import Foundation

/// A queue handed from producers to one consuming thread, which sleeps when it is empty. A class with a plain
/// lock: the same queue as a `Mutex`-held tuple leaked every operation in optimized builds on this toolchain
/// (found with a probe that measured resident memory).
package final class PendingQueue<Item>: @unchecked Sendable {
    private var items: [Item] = []
    private var awake = false
    private let lock = NSLock()

    /// Queues one; true when the consumer sleeps and must be woken.
    package func append(_ item: Item) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        items.append(item)
        defer { awake = true }
        return !awake
    }

    /// How many are queued now.
    package var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return items.count
    }

    /// Takes up to `max` in order; an empty answer means the consumer goes to sleep.
    package func take(max: Int) -> [Item] {
        takeUpTo(max, sleepingIfEmpty: true)
    }

    /// Takes up to `max` in order, for a consumer that stays awake whatever the answer.
    package func takeMore(max: Int) -> [Item] {
        takeUpTo(max, sleepingIfEmpty: false)
    }

    private func takeUpTo(_ max: Int, sleepingIfEmpty: Bool) -> [Item] {
        lock.lock()
        defer { lock.unlock() }
        if items.isEmpty {
            if sleepingIfEmpty { awake = false }
            return []
        }
        guard items.count > max else {
            defer { items = [] }
            return items
        }
        let taken = Array(items[..<max])
        items = Array(items[max...])
        return taken
    }
}

import Foundation
import Protocol
import Synchronization

/// A run of failed store writes (disk full, I/O error), from the first failure to the first success after it:
/// logged once at each end, shown in status, and meanwhile writes are refused at once but for one probe a
/// second that finds out whether space is back.
package final class WriteEpisode: Sendable {
    /// Why the store cannot be written, since when.
    package struct Failure: Sendable, Equatable {
        package var since: Date
        package var reason: String
        /// Monotonic time of the last write tried.
        package var lastAttempt: Double
    }

    /// While writes fail, how often one is let through.
    package static let probeIntervalSeconds = 1.0

    private let failure = Mutex<Failure?>(nil)
    /// Whether `failure` is set, readable without its lock: every report asks, from each worker's reading
    /// thread, and on this toolchain a contended `Mutex` (a priority-inheritance futex) spins before it sleeps,
    /// which cost a tenth of the daemon's CPU with eight workers (swiftlang/swift#88440).
    private let failing = Atomic<Bool>(false)
    private let logger: Logger?
    private let path: String

    package init(logger: Logger?, path: String) {
        self.logger = logger
        self.path = path
    }

    package var current: Failure? { failure.withLock { $0 } }

    /// nil when a write may go ahead; while writes fail, a retryable refusal except for one probe a second.
    package func refusal() -> RPCError? {
        // A write that slips past as an episode begins is tried and fails with its transaction: still refused.
        guard failing.load(ordering: .acquiring) else { return nil }
        return failure.withLock { failure -> RPCError? in
            guard var current = failure else { return nil }
            let now = MonotonicClock.now()
            if now - current.lastAttempt >= Self.probeIntervalSeconds {
                current.lastAttempt = now
                failure = current
                return nil
            }
            return .unavailable("the embedded store cannot be written (\(current.reason)); nothing was stored, retry later")
        }
    }

    /// How a transaction ended (nil: committed).
    package func note(_ error: SQLiteDatabase.SQLiteError?) {
        // A commit in a healthy store changes nothing. Read as unset while another thread starts an episode, it
        // is ordered before that start, as it would be had it taken the lock first.
        if error == nil && !failing.load(ordering: .acquiring) { return }
        let change = failure.withLock { failure -> (started: Failure?, endedAfter: Double?) in
            switch (failure, error) {
            case (nil, nil): return (nil, nil)
            case (nil, let error?):
                failure = Failure(since: Date(), reason: error.message, lastAttempt: MonotonicClock.now())
                failing.store(true, ordering: .releasing)
                return (failure, nil)
            case (let current?, nil):
                failure = nil
                failing.store(false, ordering: .releasing)
                return (nil, Date().timeIntervalSince(current.since))
            case (var current?, let error?):
                current.reason = error.message
                failure = current
                return (nil, nil)
            }
        }
        if let started = change.started {
            logger?.error("the embedded store cannot be written: \(started.reason); reports are refused and workers keep them until it can (\(path))")
        }
        if let seconds = change.endedAfter {
            logger?.notice("the embedded store is writable again after \(String(format: "%.1f", seconds)) s; accepting reports")
        }
    }
}

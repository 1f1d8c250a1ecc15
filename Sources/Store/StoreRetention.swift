import Dispatch
import Foundation
import Protocol
import Synchronization

/// Deletes reports and OpenLineage events past `store.retention` while the daemon runs: at most ``batchSize`` per transaction, so
/// report intake interleaves with it and no pass stops the world. A report not yet forwarded is never deleted.
///
/// Age counts from the refresh's completion time. Per connector, the newest `maxReportsPerConnector`
/// forwarded (or embedded-stored) reports are kept (newest by completion time, then arrival), besides any still
/// waiting for the access server.
package final class StoreRetention: Sendable {
    package static let batchSize = 500
    /// How often retention looks for work when the last pass found none.
    package static let idleSeconds = 1.0

    private let store: EmbeddedStore
    private let stop = DispatchSemaphore(value: 0)

    package init(store: EmbeddedStore) { self.store = store }

    /// Starts the retention thread; a daemon that cannot start it runs on, logging that disk is unbounded.
    package func start() {
        do { try OSThread.start(name: "store-retention") { [self] in loop() } } catch {
            store.logger?.error("cannot start store retention (\(error)); reports past retention will not be deleted")
        }
    }

    private func loop() {
        while true {
            let deleted = max(store.pruneBatch(), store.pruneLineageBatch())
            // A full batch means more is waiting: go on at once (the writer serves reports in between).
            if deleted >= Self.batchSize { continue }
            // Caught up: hand some free pages back, then rest.
            store.returnFreePages()
            if stop.wait(timeout: .now() + Self.idleSeconds) == .success { return }
        }
    }
}

extension EmbeddedStore {
    /// Deletes up to one batch of reports past retention and waits until that is committed; how many.
    package func pruneBatch(now: Date = Date()) -> Int {
        let done = DispatchSemaphore(value: 0)
        let count = Mutex(0)
        queuePruneBatch(now: now) { deleted in
            count.withLock { $0 = deleted }
            done.signal()
        }
        done.wait()
        return count.withLock { $0 }
    }

    /// Queues ``pruneBatch(now:)``'s work on the writer; `completion` gets how many went once that is committed.
    package func queuePruneBatch(now: Date = Date(), completion: @escaping @Sendable (Int) -> Void) {
        let cutoff = Int(EpochMillis.int64(now.addingTimeInterval(-retention.maxAgeDays * 86_400)))
        let maxKept = retention.maxReportsPerConnector, limit = StoreRetention.batchSize
        write({ database -> Int in
            var doomed: [(seq: Int, reportId: String, connector: String)] = []
            let old = try database.statement("SELECT seq, report_id, connector FROM reports WHERE time_ms < ? AND state != 0 LIMIT ?")
                .bind(.int(cutoff), .int(limit))
            while try old.step() { doomed.append((old.int(0), old.text(1), old.text(2))) }
            if doomed.count < limit {
                let crowded = try database.statement("SELECT connector, kept FROM connector_totals WHERE kept > ? LIMIT 16").bind(.int(maxKept))
                var over: [(String, Int)] = []
                // As this transaction leaves them: the writer may already have deleted what the last one owed.
                let tally = self.intakeTally.value
                while try crowded.step() {
                    let excess = crowded.int(1) + tally.unflushedKept(of: crowded.text(0)) - maxKept
                    if excess > 0 { over.append((crowded.text(0), excess)) }
                }
                let taken = Set(doomed.map(\.seq))
                for (connector, excess) in over where doomed.count < limit {
                    let oldest = try database.statement("SELECT seq, report_id FROM reports WHERE connector = ? AND state != 0 ORDER BY time_ms, seq LIMIT ?")
                        .bind(.text(connector), .int(min(excess, limit - doomed.count)))
                    while try oldest.step() {
                        if !taken.contains(oldest.int(0)) { doomed.append((oldest.int(0), oldest.text(1), connector)) }
                    }
                }
            }
            for report in doomed {
                try database.statement("DELETE FROM reports WHERE seq = ?").bind(.int(report.seq)).run()
                try database.statement("DELETE FROM dead_letters WHERE report_id = ?").bind(.text(report.reportId)).run()
                try database.statement("UPDATE connector_totals SET kept = kept - 1 WHERE connector = ?").bind(.text(report.connector)).run()
            }
            return doomed.count
        }, completion: { result in completion((try? result.get()) ?? 0) })
    }

    /// Gives up to 1,024 free pages (4 MiB) back to the file system when they are more than a tenth of the
    /// file, and only once retention has caught up: a steady stream reuses freed pages in place, and moving
    /// pages while a backlog of deletions waits would slow retention below the intake rate.
    package func returnFreePages() {
        let done = DispatchSemaphore(value: 0)
        write({ database -> Bool in
            let free = try database.statement("PRAGMA freelist_count")
            let freePages = try free.step() ? free.int(0) : 0
            let total = try database.statement("PRAGMA page_count")
            let pages = try total.step() ? total.int(0) : 0
            guard freePages > 256 && freePages * 10 > pages else { return false }
            try database.execute("PRAGMA incremental_vacuum(1024)")
            return true
        }, completion: { _ in done.signal() })
        done.wait()
    }
}

import CSQLite
import Dispatch
import Foundation
import Protocol
import Synchronization

/// The store's one writer: a thread that owns the writing connection and commits whatever is queued, from
/// every worker, in one transaction (group commit), with what queues while it runs (for up to
/// ``defaultTopUpSeconds``). Each operation runs inside its own savepoint, so one that
/// fails (a duplicate name) is undone alone; a storage failure (disk full, I/O error) rolls back the whole
/// transaction and fails every operation in it, so nothing is acknowledged that is not on disk.
///
/// A committed transaction's operations finish only once ``WALSync`` has synced the WAL after the commit; the
/// writer goes on with the next transaction meanwhile, and starts it at once with work an earlier one left
/// (`afterBegin`), so that work mostly fills time the writer would otherwise wait for operations.
package final class StoreWriter: Sendable {
    /// An operation made of two closures, for the writer's own markers and for tests.
    package final class Operation: StoreOperation {
        private let body: @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
        private let done: @Sendable (Error?) -> Void

        package init(run: @escaping @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?, finish: @escaping @Sendable (Error?) -> Void) {
            body = run
            done = finish
        }

        package func run(_ database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError? { body(database) }
        package func finish(_ error: Error?) { done(error) }
    }

    /// At most this many operations share one transaction, so a flood cannot make one commit huge.
    package static let maxBatch = 8_192

    /// How long a transaction goes on taking in operations that queue while it runs, by default.
    ///
    /// A commit writes every page its transaction touched, once, and with many connectors each transaction also
    /// upserts every connector's totals and deletes what each left past its cap: with 100 connectors that is a
    /// page of `reports_by_connector_time` and two statements per connector whatever the number of reports, so
    /// fewer, larger commits cost less per report. It was first taken in only while a WAL sync ran (when the
    /// commit's own sync could not begin anyway); once the cap's deletes moved to the next transaction, taking
    /// in whatever queues measured better for one worker over 100 connectors (36,800 against 34,100 reports/s,
    /// writer 18.9 against 21.0 µs a report, medians of 5 interleaved runs) and the same for eight workers.
    /// Bounded, so an operation waits at most this long (and ``maxBatch``) past its turn for its commit.
    package static let defaultTopUpSeconds = 0.010

    private let queue = PendingQueue<any StoreOperation>()
    private let wake = DispatchSemaphore(value: 0)
    /// The writing connection, handed to the writer thread at start and used by no other thread after.
    private let database: ThreadConfined<SQLiteDatabase>
    /// Runs after a transaction's operations and before its commit, for writes they share (per-connector
    /// totals); its failure fails the transaction.
    private let beforeCommit: @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
    /// Runs first in every transaction, for work an earlier one left (retention's deletes past a cap); its
    /// failure fails the transaction.
    private let afterBegin: @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
    /// True when `afterBegin` has work: the writer then begins a transaction at once, with nothing queued, rather
    /// than sleep; what queues meanwhile joins it as usual.
    private let owesWork: @Sendable () -> Bool
    /// Told (on the writer thread) that a transaction was rolled back, so state kept for it can be dropped.
    private let onRollback: @Sendable () -> Void
    /// Told how each transaction ended (nil: committed and on disk), so the store can track a failure episode.
    private let onDurable: @Sendable (SQLiteDatabase.SQLiteError?) -> Void
    private let sync: WALSync
    private let checkpointer: WALCheckpointer
    private let topUpSeconds: Double
    private let logger: Logger?
    /// Writer-thread state once the WAL was lost (``WALSync/walLost``): whether the whole WAL has been copied
    /// into the database file since, and whether that was logged.
    private let afterLoss = ThreadConfined((copied: false, logged: false))

    /// `syncFile` stands in for `fdatasync` in tests; `checkpointThread` false leaves checkpoints to the writer, as
    /// when that thread cannot start; `topUpSeconds` 0 commits each transaction with what it found queued.
    package init(database: SQLiteDatabase, afterBegin: @escaping @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError? = { _ in nil },
         owesWork: @escaping @Sendable () -> Bool = { false }, beforeCommit: @escaping @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError? = { _ in nil },
         onRollback: @escaping @Sendable () -> Void = {}, onDurable: @escaping @Sendable (SQLiteDatabase.SQLiteError?) -> Void,
         syncFile: @escaping @Sendable (Int32) -> Int32 = { fdatasync($0) }, logger: Logger? = nil,
         checkpointThread: Bool = true, topUpSeconds: Double = StoreWriter.defaultTopUpSeconds) throws(OSThread.StartError) {
        self.database = ThreadConfined(database)
        self.topUpSeconds = topUpSeconds
        self.beforeCommit = beforeCommit
        self.afterBegin = afterBegin
        self.owesWork = owesWork
        self.onRollback = onRollback
        self.onDurable = onDurable
        self.logger = logger
        sync = try WALSync(databasePath: database.path, syncFile: syncFile)
        checkpointer = WALCheckpointer(path: database.path, logger: logger, thread: checkpointThread)
        try OSThread.start(name: "store-writer") { [self] in loop() }
    }

    /// Queues an operation; it runs on the writer thread, in order with every other.
    package func submit(_ operation: any StoreOperation) {
        if queue.append(operation) { wake.signal() }
    }

    /// Committed transactions waiting for their sync to begin.
    package var waitingForSync: Int { sync.waiting }

    /// The last checkpoint that finished, by either thread.
    package var lastCheckpoint: WALCheckpointer.Pass? { checkpointer.lastPass }

    /// Blocks until everything queued so far has been committed and synced (or has failed).
    package func drain() {
        let done = DispatchSemaphore(value: 0)
        submit(Operation(run: { _ in nil }, finish: { _ in done.signal() }))
        done.wait()
    }

    /// Runs `body` inside a savepoint: its error undoes just its own writes.
    package static func inSavepoint(_ database: SQLiteDatabase, _ body: () throws -> Void) throws {
        defer { database.resetAll() }
        try database.statement("SAVEPOINT op").run()
        do {
            try body()
            database.resetAll()
            try database.statement("RELEASE op").run()
        } catch {
            database.resetAll()
            try? database.statement("ROLLBACK TO op").run()
            try? database.statement("RELEASE op").run()
            throw error
        }
    }

    private func loop() {
        let database = self.database.value
        // From here on WALSync makes each commit durable before it is acknowledged, so the commit itself need not
        // wait for the disk. Were this refused, FULL would stay in force: slower, as safe.
        try? database.execute("PRAGMA synchronous = NORMAL")
        // Checkpoints leave the commit: WALCheckpointer runs them (see there).
        database.trackWALFrames()
        while true {
            let batch = queue.take(max: Self.maxBatch)
            // A lost WAL holds acknowledged frames only in the inode this connection still has open: copy them
            // into the database file at once, with or without new work.
            let owesCopy = sync.walLost && !afterLoss.value.copied
            if batch.isEmpty && !owesWork() && !owesCopy {
                wake.wait()
                continue
            }
            commit(batch, database)
        }
    }

    private func commit(_ taken: [any StoreOperation], _ database: SQLiteDatabase) {
        var batch = taken
        // After a failed sync nothing new is vouched for (see WALSync): every write is refused.
        var failure = sync.failure
        if failure == nil {
            do throws(SQLiteDatabase.SQLiteError) { try database.statement("BEGIN IMMEDIATE").run() } catch { failure = error }
        }
        if failure == nil { failure = afterBegin(database) }
        let begun = MonotonicClock.now()
        var next = 0
        while failure == nil {
            if next == batch.count {
                // Whatever queued meanwhile joins this transaction, within the top-up time.
                guard batch.count < Self.maxBatch, MonotonicClock.now() - begun < topUpSeconds else { break }
                let more = queue.takeMore(max: Self.maxBatch - batch.count)
                if more.isEmpty { break }
                batch.append(contentsOf: more)
            }
            // Reports that wait one after another are inserted several to a statement (see ReportWrite).
            var reports: [ReportWrite] = []
            while next < batch.count, let report = batch[next] as? ReportWrite {
                reports.append(report)
                next += 1
            }
            if !reports.isEmpty {
                failure = ReportWrite.run(reports, in: database)
            } else {
                failure = batch[next].run(database)
                next += 1
            }
        }
        if failure == nil {
            failure = beforeCommit(database)
        }
        if failure == nil {
            // No statement may be left open at COMMIT: the connection would keep a read transaction past it,
            // and SQLite's automatic checkpoint after the commit would be skipped (SQLITE_LOCKED) every time,
            // so the WAL would grow without end and the database file would never be written.
            database.resetAll()
            do throws(SQLiteDatabase.SQLiteError) { try database.statement("COMMIT").run() } catch { failure = error }
        }
        database.resetAll()
        if let failure {
            try? database.statement("ROLLBACK").run()
            database.resetAll()
            onRollback()
            onDurable(failure)
            for operation in batch { operation.finish(failure) }
            return
        }
        if sync.walLost {
            // Each transaction goes into the database file (and is synced there) before it is acknowledged.
            failure = copyIntoDatabaseFile(database)
            onDurable(failure)
            for operation in batch { operation.finish(failure) }
            return
        }
        let onDurable = onDurable, operations = batch
        sync.submit { error in
            onDurable(error)
            for operation in operations { operation.finish(error) }
        }
        checkpointer.afterCommit(database)
    }
}

extension StoreWriter {
    /// After the WAL was lost: a checkpoint of everything into the database file, which SQLite syncs. Nil once it
    /// holds every committed frame; an error (and nothing acknowledged) when readers kept it from finishing.
    fileprivate func copyIntoDatabaseFile(_ database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError? {
        if !afterLoss.value.logged {
            afterLoss.value.logged = true
            logger?.error("\(database.path)-wal was deleted or replaced while the daemon ran: each transaction is now copied into \(database.path) before it is acknowledged (slower); restart the daemon to go back to the WAL")
        }
        do throws(SQLiteDatabase.SQLiteError) {
            guard let (log, done) = try database.checkpoint(everything: true), done >= log else {
                return SQLiteDatabase.SQLiteError(code: SQLITE_BUSY, message: "readers kept the store from copying the WAL into \(database.path); not acknowledged", path: database.path)
            }
            afterLoss.value.copied = true
            return nil
        } catch {
            return error
        }
    }
}

/// One unit of the writer's work: `run` inside the transaction (nil, or the storage failure that dooms the whole
/// transaction), then `finish` with how the transaction ended (nil: committed and synced). An operation the
/// transaction never reached gets only `finish`, with the failure. A class, so that queueing one copies a
/// reference and an operation keeps what it needs in one object.
package protocol StoreOperation: AnyObject, Sendable {
    func run(_ database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
    func finish(_ error: Error?)
}

/// State that only one thread touches (the writer's connection and intake tally, the checkpointer's
/// connection): it needs no lock.
package final class ThreadConfined<Value>: @unchecked Sendable {
    package var value: Value
    package init(_ value: Value) { self.value = value }
}

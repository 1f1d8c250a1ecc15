import Dispatch
import Protocol
import Synchronization

/// The store's one writer: a thread that owns the writing connection and commits whatever is queued, from
/// every worker, in one transaction (group commit). Each operation runs inside its own savepoint, so one that
/// fails (a duplicate name) is undone alone; a storage failure (disk full, I/O error) rolls back the whole
/// transaction and fails every operation in it, so nothing is acknowledged that is not on disk.
final class StoreWriter: Sendable {
    /// What an operation left after running inside the transaction.
    enum Applied {
        /// Called once the transaction's outcome is known: nil when committed, else why nothing was stored.
        case finish(@Sendable (Error?) -> Void)
        /// The disk failed under the operation; the whole transaction is rolled back.
        case storageFailed(SQLiteDatabase.SQLiteError)
    }

    /// One unit of work: `run` inside the transaction, or `skip` when the transaction failed before reaching it.
    struct Operation: Sendable {
        let run: @Sendable (SQLiteDatabase) -> Applied
        let skip: @Sendable (Error) -> Void
    }

    /// At most this many operations share one transaction, so a flood cannot make one commit huge.
    static let maxBatch = 8_192

    private let queue = Mutex<(operations: [Operation], awake: Bool)>(([], false))
    private let wake = DispatchSemaphore(value: 0)
    private let database: Confined<SQLiteDatabase>
    /// Told how each transaction ended (nil: committed), so the store can track a failure episode.
    private let onCommit: @Sendable (SQLiteDatabase.SQLiteError?) -> Void

    /// The writing connection, handed to the writer thread at start and used by no other thread after.
    private final class Confined<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    init(database: SQLiteDatabase, onCommit: @escaping @Sendable (SQLiteDatabase.SQLiteError?) -> Void) throws(OSThread.StartError) {
        self.database = Confined(database)
        self.onCommit = onCommit
        try OSThread.start(name: "store-writer") { [self] in loop() }
    }

    /// Queues an operation; it runs on the writer thread, in order with every other.
    func submit(_ operation: Operation) {
        let mustWake = queue.withLock { queue -> Bool in
            queue.operations.append(operation)
            defer { queue.awake = true }
            return !queue.awake
        }
        if mustWake { wake.signal() }
    }

    /// Blocks until everything queued so far has been committed (or has failed).
    func drain() {
        let done = DispatchSemaphore(value: 0)
        submit(Operation(run: { _ in .finish { _ in done.signal() } }, skip: { _ in done.signal() }))
        done.wait()
    }

    /// Runs `body` inside a savepoint: its error undoes just its own writes.
    static func inSavepoint(_ database: SQLiteDatabase, _ body: () throws -> Void) throws {
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
        while true {
            let batch = queue.withLock { queue -> [Operation] in
                let taken = Array(queue.operations.prefix(Self.maxBatch))
                queue.operations.removeFirst(taken.count)
                if taken.isEmpty { queue.awake = false }
                return taken
            }
            if batch.isEmpty {
                wake.wait()
                continue
            }
            commit(batch, database)
        }
    }

    private func commit(_ batch: [Operation], _ database: SQLiteDatabase) {
        var finishers: [@Sendable (Error?) -> Void] = []
        finishers.reserveCapacity(batch.count)
        var failure: SQLiteDatabase.SQLiteError?
        do throws(SQLiteDatabase.SQLiteError) {
            try database.statement("BEGIN IMMEDIATE").run()
        } catch {
            failure = error
        }
        var applied = 0
        if failure == nil {
            for operation in batch {
                switch operation.run(database) {
                case .finish(let finish): finishers.append(finish)
                case .storageFailed(let error): failure = error
                }
                applied += 1
                if failure != nil { break }
            }
        }
        if failure == nil {
            do throws(SQLiteDatabase.SQLiteError) { try database.statement("COMMIT").run() } catch { failure = error }
        }
        database.resetAll()
        if let failure {
            try? database.statement("ROLLBACK").run()
            onCommit(failure)
            finishers.forEach { $0(failure) }
            batch.dropFirst(applied).forEach { $0.skip(failure) }
            return
        }
        onCommit(nil)
        finishers.forEach { $0(nil) }
    }
}

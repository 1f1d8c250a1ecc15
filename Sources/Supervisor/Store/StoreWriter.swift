import Dispatch
import Foundation
import Protocol
import Synchronization

/// The store's one writer: a thread that owns the writing connection and commits whatever is queued, from
/// every worker, in one transaction (group commit). Each operation runs inside its own savepoint, so one that
/// fails (a duplicate name) is undone alone; a storage failure (disk full, I/O error) rolls back the whole
/// transaction and fails every operation in it, so nothing is acknowledged that is not on disk.
final class StoreWriter: Sendable {
    /// One unit of work: `run` inside the transaction (nil, or the storage failure that dooms the whole
    /// transaction), then `finish` with how the transaction ended (nil: committed). An operation the
    /// transaction never reached gets only `finish`, with the failure.
    struct Operation: Sendable {
        let run: @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
        let finish: @Sendable (Error?) -> Void
    }

    /// At most this many operations share one transaction, so a flood cannot make one commit huge.
    static let maxBatch = 8_192

    private let queue = PendingOperations()
    private let wake = DispatchSemaphore(value: 0)
    private let database: Confined<SQLiteDatabase>
    /// Runs after a transaction's operations and before its commit, for writes they share (per-connector
    /// totals); its failure fails the transaction.
    private let beforeCommit: @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError?
    /// Told how each transaction ended (nil: committed), so the store can track a failure episode.
    private let onCommit: @Sendable (SQLiteDatabase.SQLiteError?) -> Void

    /// The writing connection, handed to the writer thread at start and used by no other thread after.
    private final class Confined<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    init(database: SQLiteDatabase, beforeCommit: @escaping @Sendable (SQLiteDatabase) -> SQLiteDatabase.SQLiteError? = { _ in nil },
         onCommit: @escaping @Sendable (SQLiteDatabase.SQLiteError?) -> Void) throws(OSThread.StartError) {
        self.database = Confined(database)
        self.beforeCommit = beforeCommit
        self.onCommit = onCommit
        try OSThread.start(name: "store-writer") { [self] in loop() }
    }

    /// Queues an operation; it runs on the writer thread, in order with every other.
    func submit(_ operation: Operation) {
        if queue.append(operation) { wake.signal() }
    }

    /// Blocks until everything queued so far has been committed (or has failed).
    func drain() {
        let done = DispatchSemaphore(value: 0)
        submit(Operation(run: { _ in nil }, finish: { _ in done.signal() }))
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
            let batch = queue.take(max: Self.maxBatch)
            if batch.isEmpty {
                wake.wait()
                continue
            }
            commit(batch, database)
        }
    }

    private func commit(_ batch: [Operation], _ database: SQLiteDatabase) {
        var failure: SQLiteDatabase.SQLiteError?
        do throws(SQLiteDatabase.SQLiteError) {
            try database.statement("BEGIN IMMEDIATE").run()
        } catch {
            failure = error
        }
        if failure == nil {
            for operation in batch {
                failure = operation.run(database)
                if failure != nil { break }
            }
        }
        if failure == nil {
            failure = beforeCommit(database)
        }
        if failure == nil {
            do throws(SQLiteDatabase.SQLiteError) { try database.statement("COMMIT").run() } catch { failure = error }
        }
        database.resetAll()
        if failure != nil {
            try? database.statement("ROLLBACK").run()
            database.resetAll()
        }
        onCommit(failure)
        for operation in batch { operation.finish(failure) }
    }
}

/// The writer's queue. A class with a plain lock: the same queue as a `Mutex`-held tuple leaked every
/// operation in optimized builds on this toolchain (found with a probe that measured resident memory).
private final class PendingOperations: @unchecked Sendable {
    private var operations: [StoreWriter.Operation] = []
    private var awake = false
    private let lock = NSLock()

    /// Queues one; true when the writer sleeps and must be woken.
    func append(_ operation: StoreWriter.Operation) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        operations.append(operation)
        defer { awake = true }
        return !awake
    }

    /// Takes up to `max` in order; an empty answer means the writer goes to sleep.
    func take(max: Int) -> [StoreWriter.Operation] {
        lock.lock()
        defer { lock.unlock() }
        if operations.isEmpty {
            awake = false
            return []
        }
        guard operations.count > max else {
            defer { operations = [] }
            return operations
        }
        let taken = Array(operations[..<max])
        operations = Array(operations[max...])
        return taken
    }
}

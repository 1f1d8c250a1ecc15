import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing
@testable import Store
@testable import Supervisor

/// The writer commits without waiting for the disk and ``WALSync`` syncs the WAL before anything committed is
/// acknowledged: an acknowledgement never precedes its sync, one sync covers the transactions committed while
/// the last one ran, and a failed sync fails its acknowledgements and every write after it.
@Suite("Store sync before acknowledgement", .timeLimit(.minutes(1)))
struct WALSyncTests {
    /// A `fdatasync` stand-in that counts its calls and holds each one until the test lets it go (or fails it).
    final class Gate: Sendable {
        let calls = Mutex(0)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let fail = Mutex(false)

        var sync: @Sendable (Int32) -> Int32 {
            { [self] fd in
                calls.withLock { $0 += 1 }
                entered.signal()
                release.wait()
                // The real call still runs, on the real file, so a passing sync is a real one.
                return fail.withLock { $0 } ? -1 : fdatasync(fd)
            }
        }
    }

    /// A value shared with escaping closures (a `Mutex` itself cannot be captured by them).
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
    }

    /// A writer on a fresh WAL database with one table; its reads use a second connection, as the store's do.
    /// `commits` counts the transactions that reached their commit; `topUpSeconds` as the writer's.
    static func writer(_ gate: Gate, failures: Shared<[String]>, commits: Shared<Int> = Shared(0),
                       topUpSeconds: Double = 0) throws -> (StoreWriter, SQLiteDatabase, TemporaryDirectory) {
        let folder = try TemporaryDirectory(prefix: "idw")
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let database = try SQLiteDatabase(path: directory + "/store.sqlite", readOnly: false)
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (v INTEGER)")
        let writer = try StoreWriter(database: database, beforeCommit: { _ in
            commits.withLock { $0 += 1 }
            return nil
        }, onDurable: { error in
            if let error { failures.withLock { $0.append(error.message) } }
        }, syncFile: gate.sync, topUpSeconds: topUpSeconds)
        return (writer, try SQLiteDatabase(path: directory + "/store.sqlite", readOnly: true), folder)
    }

    static func insert(_ value: Int, finished: @escaping @Sendable (Error?) -> Void) -> StoreWriter.Operation {
        StoreWriter.Operation(run: { database in
            do throws(SQLiteDatabase.SQLiteError) { try database.statement("INSERT INTO t (v) VALUES (?)").bind(.int(value)).run() } catch { return error }
            return nil
        }, finish: finished)
    }

    static func count(_ reader: SQLiteDatabase) throws -> Int {
        let statement = try reader.statement("SELECT COUNT(*) FROM t")
        defer { reader.resetAll() }
        return try statement.step() ? statement.int(0) : -1
    }

    @Test("an acknowledgement waits for a sync that began after its commit; one sync covers what committed meanwhile")
    func acknowledgedAfterSync() throws {
        let gate = Gate(), failures = Shared<[String]>([])
        let (writer, reader, folder) = try Self.writer(gate, failures: failures)
        defer { withExtendedLifetime(folder) {} }
        let finished = Shared<[Int]>([])
        func insert(_ value: Int) -> StoreWriter.Operation {
            Self.insert(value) { error in if error == nil { finished.withLock { $0.append(value) } } }
        }
        writer.submit(insert(1))
        #expect(gate.entered.wait(timeout: .now() + 10) == .success, "the first commit was never synced")
        // Committed (another connection sees it), yet not acknowledged: its sync has not returned.
        #expect(try Self.count(reader) == 1)
        #expect(finished.withLock { $0 }.isEmpty)
        // While that sync hangs the writer goes on: a transaction held open until 2 and 3 queue behind it, then
        // one with both.
        let hold = DispatchSemaphore(value: 0), holding = DispatchSemaphore(value: 0)
        writer.submit(StoreWriter.Operation(run: { _ in holding.signal(); hold.wait(); return nil }, finish: { _ in }))
        #expect(holding.wait(timeout: .now() + 10) == .success)
        writer.submit(insert(2))
        writer.submit(insert(3))
        hold.signal()
        eventually(timeout: 10, interval: 0.001) { writer.waitingForSync >= 2 }
        #expect(writer.waitingForSync == 2, "two more transactions committed while the first sync hung")
        #expect(try Self.count(reader) == 3)
        #expect(finished.withLock { $0 }.isEmpty, "acknowledged before any sync finished")
        gate.release.signal()
        // The second sync covers both later transactions; until it returns, only 1 is acknowledged.
        #expect(gate.entered.wait(timeout: .now() + 10) == .success)
        #expect(finished.withLock { $0 } == [1])
        gate.release.signal()
        let until = Date().addingTimeInterval(10)
        while finished.withLock({ $0.count }) < 3 && Date() < until { usleep(1_000) }
        #expect(finished.withLock { $0 } == [1, 2, 3])
        #expect(gate.calls.withLock { $0 } == 2, "two syncs for three transactions")
        #expect(failures.withLock { $0 }.isEmpty)
    }

    @Test("what queues behind a running transaction joins it, a sync running or not; with no top-up time it waits for the next")
    func queuedWhileRunningJoins() throws {
        for (topUp, syncRunning, expected) in [(60.0, true, 2), (0, true, 3), (60, false, 2)] {
            let label: Comment = "top-up \(topUp) s, sync running: \(syncRunning)"
            let gate = Gate(), failures = Shared<[String]>([]), commits = Shared(0)
            let (writer, reader, folder) = try Self.writer(gate, failures: failures, commits: commits, topUpSeconds: topUp)
            defer { withExtendedLifetime(folder) {} }
            let finished = Shared<[Int]>([])
            func insert(_ value: Int) -> StoreWriter.Operation {
                Self.insert(value) { error in if error == nil { finished.withLock { $0.append(value) } } }
            }
            func waitFinished(_ count: Int) {
                let until = Date().addingTimeInterval(10)
                while finished.withLock({ $0.count }) < count && Date() < until { usleep(1_000) }
            }
            // 0's sync either hangs (held by the gate) or is over before 1 begins.
            writer.submit(insert(0))
            #expect(gate.entered.wait(timeout: .now() + 10) == .success, label)
            if !syncRunning {
                gate.release.signal()
                waitFinished(1)
                #expect(finished.withLock { $0 } == [0], label)
            }
            // 2 and 3 are queued while the writer runs 1 (held until they are).
            let hold = DispatchSemaphore(value: 0), holding = DispatchSemaphore(value: 0)
            writer.submit(StoreWriter.Operation(run: { database in
                holding.signal()
                hold.wait()
                do throws(SQLiteDatabase.SQLiteError) { try database.statement("INSERT INTO t (v) VALUES (1)").run() } catch { return error }
                return nil
            }, finish: { error in if error == nil { finished.withLock { $0.append(1) } } }))
            #expect(holding.wait(timeout: .now() + 10) == .success, label)
            writer.submit(insert(2))
            writer.submit(insert(3))
            hold.signal()
            // Every later sync passes (one for each commit there could be).
            for _ in 0..<3 { gate.release.signal() }
            waitFinished(4)
            #expect(finished.withLock { $0 } == [0, 1, 2, 3], label)
            #expect(try Self.count(reader) == 4, label)
            #expect(commits.withLock { $0 } == expected, "top-up \(topUp) s, sync running: \(syncRunning): \(commits.withLock { $0 }) commits")
            #expect(failures.withLock { $0 }.isEmpty, label)
        }
    }

    @Test("a failed sync fails its acknowledgements and refuses every later write, naming the file")
    func failedSyncStopsWrites() throws {
        let gate = Gate(), failures = Shared<[String]>([])
        let (writer, reader, folder) = try Self.writer(gate, failures: failures)
        defer { withExtendedLifetime(folder) {} }
        gate.fail.withLock { $0 = true }
        let first = Shared<Error?>(nil), done = DispatchSemaphore(value: 0)
        writer.submit(Self.insert(1) { error in first.withLock { $0 = error }; done.signal() })
        #expect(gate.entered.wait(timeout: .now() + 10) == .success)
        gate.release.signal()
        #expect(done.wait(timeout: .now() + 10) == .success)
        let error = try #require(first.withLock { $0 } as? SQLiteDatabase.SQLiteError)
        #expect(error.isStorageFailure)
        #expect(error.message.contains("store.sqlite-wal") && error.message.contains("until the daemon restarts"), "\(error.message)")
        // Later writes never run: nothing committed after a failed sync could be vouched for.
        let ran = Shared(false), later = Shared<Error?>(nil)
        writer.submit(StoreWriter.Operation(run: { _ in ran.withLock { $0 = true }; return nil },
                                            finish: { error in later.withLock { $0 = error }; done.signal() }))
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(!ran.withLock { $0 })
        #expect((later.withLock { $0 } as? SQLiteDatabase.SQLiteError)?.message == error.message)
        #expect(gate.calls.withLock { $0 } == 1)
        #expect(failures.withLock { $0 }.count == 2)
        #expect(try Self.count(reader) == 1, "the first insert committed; it was refused to its sender all the same")
    }

    @Test("with no checkpoint thread the writer checkpoints alone: the WAL reaches the database file and starts over")
    func writerCheckpointsAlone() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let path = directory + "/store.sqlite"
        let database = try SQLiteDatabase(path: path, readOnly: false)
        try database.execute("PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 67108864; CREATE TABLE t (v BLOB)")
        let writer = try StoreWriter(database: database, onDurable: { _ in }, checkpointThread: false)
        // A page a row: 26,000 rows take the WAL past the 12,288 frames at which the writer checkpoints twice, so
        // a checkpoint runs in the WAL that started over after the first.
        for _ in 0..<410 {
            let group = DispatchGroup()
            for _ in 0..<64 {
                group.enter()
                writer.submit(StoreWriter.Operation(run: { database in
                    do throws(SQLiteDatabase.SQLiteError) { try database.statement("INSERT INTO t (v) VALUES (randomblob(4000))").run() } catch {
                        return error
                    }
                    return nil
                }, finish: { _ in group.leave() }))
            }
            #expect(group.wait(timeout: .now() + 30) == .success)
        }
        let pass = try #require(writer.lastCheckpoint, "the writer never checkpointed")
        #expect(pass.generation >= 1, "the WAL never started over: \(pass)")
        #expect(fileSize(path) > 32 << 20, "database file \(fileSize(path)) bytes: the WAL was not copied into it")
        #expect(fileSize(path + "-wal") <= 64 << 20, "WAL \(fileSize(path + "-wal")) bytes")
    }
}

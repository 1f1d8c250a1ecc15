import Foundation
import Glibc
import Protocol
import Synchronization

/// The embedded metadata access server and the forwarding spool: elements and integration reports in a SQLite
/// database under the data directory (`store/store.sqlite`, WAL mode).
///
/// Writes go through one writer thread that commits everything waiting in one transaction; a write is
/// acknowledged (its completion called) only once its transaction is durable. Reads use a second connection
/// and see committed data. Nothing of the history is held in memory: memory stays flat however many reports
/// are stored, and start-up reads only per-connector backlog figures.
package final class EmbeddedStore: Sendable {
    package let path: String
    package let keeping: ReportKeeping
    /// Accepted reports not yet forwarded may take this many bytes (spooling only).
    package var spoolLimitBytes: Int? { keeping.limitBytes }
    package var forwarding: Bool { keeping.spools }
    package let retention: RetentionSettings
    package let writer: StoreWriter?
    package let reader: ReadConnection
    package let logger: Logger?
    /// Per connector, the reports waiting for the forwarder: kept in memory (one entry per connector) so the
    /// forwarder and status never count rows.
    package let spool = Mutex(Spool())
    /// Called (on the writer thread) after a report is accepted, so a forwarder can wake.
    package let onAccepted = Mutex<Callback?>(nil)
    /// Set while writes fail (disk full, I/O error): one episode, logged once at each end.
    package let episode: WriteEpisode
    /// The reports accepted in the open transaction, totalled per connector at its commit (writer thread only).
    package let intakeTally = ThreadConfined(ReportTally())

    package typealias WriteFailure = WriteEpisode.Failure

    /// Reports waiting to be forwarded, per connector.
    package struct Spool: Sendable {
        package var pending: [String: (count: Int, bytes: Int)] = [:]
        /// The last report offered was refused for lack of room (cleared by the next one accepted).
        package var full = false
        package var bytes: Int { pending.values.reduce(0) { $0 + $1.bytes } }
    }

    /// A closure in a box: a bare closure in a `Mutex` is re-abstracted on every access through the `inout`.
    package final class Callback: Sendable {
        package let run: @Sendable () -> Void
        package init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// A store that cannot be opened, naming the file and what to do.
    package struct LoadError: Error, CustomStringConvertible {
        package let description: String
    }

    /// Opens (creating, unless `readOnly`) the store in `directory`; at the first start, imports a
    /// `journal.jsonl` left by an earlier version and renames it. `topUpSeconds` is the writer's (tests set 0 to
    /// know which operations share a transaction).
    package init(directory: String, readOnly: Bool = false, keeping: ReportKeeping = .delivered,
         settings: StoreSettings = StoreSettings(), logger: Logger? = nil,
         topUpSeconds: Double = StoreWriter.defaultTopUpSeconds) throws {
        path = directory + "/" + StoreSchema.fileName
        self.keeping = keeping
        self.retention = settings.retention
        self.logger = logger
        episode = WriteEpisode(logger: logger, path: path)
        let cacheKiB = settings.cacheMegabytes * 1024
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else {
                if FileManager.default.fileExists(atPath: directory + "/" + JournalImport.journalName) {
                    throw LoadError(description: "no store at \(path) yet: \(directory)/\(JournalImport.journalName), written by an earlier version, is imported when the daemon next starts")
                }
                throw LoadError(description: "no store at \(path) (has the daemon run with this dataDirectory?)")
            }
            let database = try Self.open(path, readOnly: true)
            try Self.checked(path) { try database.execute(StoreSchema.readerPragmas(cacheKiB: cacheKiB)) }
            try Self.checkVersion(database)
            reader = ReadConnection(database)
            writer = nil
            return
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        if let problem = DataDirectoryCheck.problem(directory, field: "the store folder", mayBeLink: false) { throw LoadError(description: problem) }
        let existed = FileManager.default.fileExists(atPath: path)
        try Self.makePrivate(path)
        let database = try Self.open(path, readOnly: false, bufferWAL: true)
        try Self.checked(path) {
            try database.execute(StoreSchema.writerPragmas(cacheKiB: cacheKiB))
            try database.execute(StoreSchema.tables)
        }
        if existed { try Self.checkVersion(database) }
        try Self.checked(path) { try database.execute("PRAGMA user_version = \(StoreSchema.version)") }
        try JournalImport.importIfPresent(directory: directory, into: database, keeping: keeping, logger: logger)
        let readerDatabase = try Self.open(path, readOnly: true)
        try Self.checked(path) { try readerDatabase.execute(StoreSchema.readerPragmas(cacheKiB: cacheKiB)) }
        reader = ReadConnection(readerDatabase)
        let pending = try Self.checked(path) { try Self.loadSpool(readerDatabase) }
        spool.withLock { $0.pending = pending }
        let tally = intakeTally, maxKept = retention.maxReportsPerConnector
        writer = try StoreWriter(database: database, afterBegin: { database in
            do throws(SQLiteDatabase.SQLiteError) {
                try tally.value.prune(in: database)
                return nil
            } catch { return error }
        }, owesWork: { !tally.value.owed.isEmpty }, beforeCommit: { database in
            do throws(SQLiteDatabase.SQLiteError) {
                try tally.value.flush(into: database, maxKept: maxKept)
                return nil
            } catch { return error }
        }, onRollback: { tally.value.rollBack() }, onDurable: { [episode] error in episode.note(error) }, logger: logger,
           topUpSeconds: topUpSeconds)
    }

    /// The store's files are the owner's alone, like the control socket. SQLite creates the database 0644 (less
    /// the umask) and gives its `-wal` and `-shm` the database's mode, so the database is created 0600 first, and
    /// files an earlier version left wider are narrowed.
    private static func makePrivate(_ path: String) throws {
        let created = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if created >= 0 {
            Glibc.close(created)
        } else if errno != EEXIST {
            throw LoadError(description: "\(path): cannot be created (\(String(cString: strerror(errno))))")
        }
        for file in [path, path + "-wal", path + "-shm"] {
            let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { continue }
            defer { Glibc.close(fd) }
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & 0o077 != 0, fchmod(fd, info.st_mode & 0o700) != 0 {
                throw LoadError(description: "\(file): is readable by others and cannot be made private (\(String(cString: strerror(errno))))")
            }
        }
    }

    private static func open(_ path: String, readOnly: Bool, bufferWAL: Bool = false) throws -> SQLiteDatabase {
        try checked(path) { try SQLiteDatabase(path: path, readOnly: readOnly, bufferWAL: bufferWAL) }
    }

    /// Runs `body`, turning a damaged or foreign file into an error that says what to do.
    private static func checked<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as SQLiteDatabase.SQLiteError where error.isCorruption {
            throw LoadError(description: """
                \(path) is not a readable SQLite database (\(error.message)). Nothing was changed. Move it aside \
                (and its -wal and -shm files) and restore a backup, or start with an empty store by moving it away.
                """)
        }
    }

    private static func checkVersion(_ database: SQLiteDatabase) throws {
        let version = try checked(database.path) { () throws -> Int in
            let statement = try database.statement("PRAGMA user_version")
            return try statement.step() ? statement.int(0) : 0
        }
        guard version <= StoreSchema.version else {
            throw LoadError(description: "\(database.path) was written by a newer integration-daemon (store version \(version), this one reads up to \(StoreSchema.version)); nothing was changed")
        }
    }

    private static func loadSpool(_ database: SQLiteDatabase) throws -> [String: (count: Int, bytes: Int)] {
        let statement = try database.statement("SELECT connector, COUNT(*), SUM(bytes) FROM reports WHERE state = 0 GROUP BY connector")
        var pending: [String: (count: Int, bytes: Int)] = [:]
        while try statement.step() { pending[statement.text(0)] = (statement.int(1), statement.int(2)) }
        return pending
    }

    // MARK: - Writing

    /// Queues `body` for the writer thread, inside its own savepoint unless `savepoint` is false (a body that
    /// checks before it writes, and whose writes can fail only with the whole transaction); `completion` gets
    /// its value once the transaction is durable, or the error that kept it from being stored.
    package func write<T: Sendable>(savepoint: Bool = true, _ body: @escaping @Sendable (SQLiteDatabase) throws -> T,
                            completion: @escaping @Sendable (Result<T, Error>) -> Void) {
        guard let writer else { return completion(.failure(LoadError(description: "the store is open read-only"))) }
        if let refusal = episode.refusal() { return completion(.failure(refusal)) }
        writer.submit(StoreWrite(savepoint: savepoint, body: body, completion: completion))
    }

    /// Runs a read on the reading connection; a failure is logged and gives `fallback`.
    /// As ``read(_:_:)``, with the failure the caller's to answer: a find cut short must not pass for a whole one
    /// (a connector would delete what it did not see).
    package func tryRead<T>(_ body: (SQLiteDatabase) throws -> T) -> Result<T, any Error> {
        reader.use { database in
            defer { database.resetAll() }
            do { return .success(try body(database)) } catch {
                logger?.error("store read failed: \(error)")
                return .failure(error)
            }
        }
    }

    package func read<T>(_ fallback: T, _ body: (SQLiteDatabase) throws -> T) -> T {
        reader.use { database in
            defer { database.resetAll() }
            do { return try body(database) } catch {
                logger?.error("store read failed: \(error)")
                return fallback
            }
        }
    }

    /// Blocks until every acknowledged-or-pending write is durable.
    package func flush() { writer?.drain() }

    /// At a clean stop: everything queued is committed, then the WAL is copied into the database file and emptied,
    /// so `store.sqlite` alone holds the data and a copy of it taken after the stop is whole. The store must take
    /// no more writes after this.
    package func close() {
        guard writer != nil else { return }
        flush()
        guard writeProblem == nil else {
            logger?.warning("\(path): not checkpointed at stop, the store has a write failure; its -wal file holds the latest reports, keep it beside the database")
            return
        }
        do throws(SQLiteDatabase.SQLiteError) {
            // A connection of its own: the writer's belongs to its thread, which is idle now.
            let database = try SQLiteDatabase(path: path, readOnly: false)
            // A connection learns the database is in WAL mode when it first reads it; until then a checkpoint
            // does nothing.
            try database.execute("SELECT count(*) FROM sqlite_master")
            guard let (log, done) = try database.checkpoint(everything: true), log >= 0, done >= log else {
                logger?.warning("\(path): a reader kept the WAL from being copied into the database at stop; keep \(path)-wal beside it")
                return
            }
        } catch {
            logger?.warning("\(path): the WAL could not be copied into the database at stop (\(error)); keep \(path)-wal beside it")
        }
    }

    /// The current write failure, if the store cannot be written.
    package var writeProblem: WriteFailure? { episode.current }

    /// The database and its WAL on disk, in bytes.
    package var sizeBytes: Int {
        [path, path + "-wal"].reduce(0) { total, file in
            var info = stat()
            return total + (stat(file, &info) == 0 ? Int(info.st_size) : 0)
        }
    }
}

/// The daemon's reading connection, one reader at a time: SQLite connections are not to be shared between
/// threads unlocked, and a read is short (an indexed lookup or one page of a query).
package final class ReadConnection: @unchecked Sendable {
    private let database: SQLiteDatabase
    private let lock = NSLock()

    package init(_ database: SQLiteDatabase) { self.database = database }

    package func use<T>(_ body: (SQLiteDatabase) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(database)
    }
}

/// `store` settings from the config: retention and the page cache.
package struct StoreSettings: Sendable, Equatable {
    package init(retention: RetentionSettings = RetentionSettings(), cacheMegabytes: Int = 8) {
        self.retention = retention
        self.cacheMegabytes = cacheMegabytes
    }

    package var retention = RetentionSettings()
    /// SQLite's page cache per connection (the daemon has two); the store's memory does not grow past it.
    package var cacheMegabytes = 8
}

/// `store.retention`: how many reports are kept, per connector and by age (reports not yet forwarded are kept
/// regardless), and how many OpenLineage events, by the same age counted from when each was stored.
package struct RetentionSettings: Sendable, Equatable {
    package init(maxReportsPerConnector: Int = 10_000, maxAgeDays: Double = 90.0, maxLineageEvents: Int = 1_000_000) {
        self.maxReportsPerConnector = maxReportsPerConnector
        self.maxAgeDays = maxAgeDays
        self.maxLineageEvents = maxLineageEvents
    }

    package var maxReportsPerConnector = 10_000
    package var maxAgeDays = 90.0
    package var maxLineageEvents = 1_000_000
}

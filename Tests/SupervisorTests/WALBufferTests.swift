import Foundation
import Testing
@testable import Store
@testable import Supervisor

/// The store writer's WAL-buffering VFS (Sources/CWALBuffer): what a commit wrote is in the WAL file when the
/// commit returns, whatever its size, for other connections and for recovery from the files alone.
@Suite("WAL write buffer")
struct WALBufferTests {
    @Test("commits of 1 to 80 pages each: another connection reads every one at once, and the files alone recover them all")
    func everyCommitSize() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let path = directory + "/store.sqlite"
        let writer = try SQLiteDatabase(path: path, readOnly: false, bufferWAL: true)
        try writer.execute("""
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;
            CREATE TABLE pages (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, body BLOB NOT NULL);
            """)
        let reader = try SQLiteDatabase(path: path, readOnly: true)
        func count(_ database: SQLiteDatabase) throws -> Int {
            defer { database.resetAll() }
            let rows = try database.statement("SELECT count(*) FROM pages")
            return try rows.step() ? rows.int(0) : -1
        }
        // A page-sized row per page: the commits' WAL writes cross 64 KiB, 128 KiB and 256 KiB (the default
        // VFS writes at most 128 KiB - 1 bytes a call; a remainder of exactly 128 KiB once wrote nothing).
        var expected = 0
        for size in 1...80 {
            try writer.execute("BEGIN")
            for _ in 0..<size { try writer.statement("INSERT INTO pages (size, body) VALUES (?, randomblob(4000))").bind(.int(size)).run() }
            try writer.execute("COMMIT")
            writer.resetAll()
            expected += size
            #expect(try count(reader) == expected, "after the commit of \(size) page(s)")
        }
        // The database file and its WAL, copied with no wal-index and no checkpoint: SQLite rebuilds the index
        // from the WAL's frames, so each commit's frames, checksums and commit marker are in the file.
        let copy = directory + "/copy"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + "/store.sqlite" + suffix) }
        let recovered = try SQLiteDatabase(path: copy + "/store.sqlite", readOnly: false)
        #expect(try count(recovered) == expected)
        let check = try recovered.statement("PRAGMA integrity_check")
        #expect(try check.step() && check.text(0) == "ok")
    }
}

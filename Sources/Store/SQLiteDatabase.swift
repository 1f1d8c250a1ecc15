import CSQLite
import CWALBuffer
import Foundation

/// One connection to the system's SQLite: statements prepared once and reused, errors that name the file.
///
/// Not thread-safe by itself (opened with `SQLITE_OPEN_NOMUTEX`): each connection belongs to one thread, or
/// sits behind a lock. The store uses one for its writer thread and one, locked, for reads.
package final class SQLiteDatabase {
    package let path: String
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    /// Statements handed out since the last ``resetAll()``: a stepped statement left unreset would keep its
    /// read snapshot open, pinning the WAL and hiding later commits from this connection.
    private var handedOut: [Statement] = []

    /// A failed SQLite call: its result code, SQLite's message and the database file.
    package struct SQLiteError: Error, CustomStringConvertible {
        package let code: Int32
        package let message: String
        package let path: String
        package var description: String { "\(path): \(message) (SQLite code \(code))" }

        /// The disk is full or failing: nothing in the transaction was stored, and it may work again later.
        package var isStorageFailure: Bool {
            let primary = code & 0xFF
            return primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY
        }

        /// The file is not a database, or is damaged.
        package var isCorruption: Bool {
            let primary = code & 0xFF
            return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT
        }
    }

    /// Runs once, before the first connection opens (see `csqlite_disable_memory_statistics`).
    private static let configured: Void = { _ = csqlite_disable_memory_statistics() }()

    /// Registers the WAL-buffering VFS (see wal_buffer.c) once; false if SQLite refused it.
    private static let walBufferRegistered: Bool = wal_buffer_register() == SQLITE_OK

    /// Whether SQLite counts its allocations (under its one global mutex); false once ``configured`` ran first.
    package static var countsAllocations: Bool { sqlite3_memory_highwater(0) > 0 }

    /// `bufferWAL` opens the connection on the WAL-buffering VFS (the store's writer only): a commit's frames
    /// reach the WAL file in a few writes instead of two per frame, and are all there when the commit returns.
    package init(path: String, readOnly: Bool, bufferWAL: Bool = false) throws(SQLiteError) {
        Self.configured
        self.path = path
        var opened: OpaquePointer?
        // NOFOLLOW: a planted store.sqlite link must not turn another file into a database.
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
            | SQLITE_OPEN_NOFOLLOW
        let code = sqlite3_open_v2(path, &opened, flags, bufferWAL && Self.walBufferRegistered ? WAL_BUFFER_VFS_NAME : nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw SQLiteError(code: code, message: message, path: path)
        }
        handle = opened
        // A busy reader or writer elsewhere (the CLI, a checkpoint) is waited for, not an error.
        sqlite3_busy_timeout(handle, 5_000)
    }

    deinit {
        statements.values.forEach { sqlite3_finalize($0.handle) }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that returns no rows (pragmas, DDL, BEGIN/COMMIT), possibly several statements.
    package func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, path: path)
        }
    }

    /// The statement for `sql`, prepared on first use and reset for this one.
    package func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            handedOut.append(cached)
            return cached
        }
        var prepared: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil) == SQLITE_OK, let prepared else {
            throw error()
        }
        let statement = Statement(handle: prepared, database: self)
        statements[sql] = statement
        handedOut.append(statement)
        return statement
    }

    /// Resets every statement handed out since the last call, ending their reads.
    package func resetAll() {
        handedOut.forEach { $0.reset() }
        handedOut.removeAll(keepingCapacity: true)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last row an INSERT on this connection stored (rows an `OR IGNORE` skipped do not count).
    package var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }

    /// The WAL's length in frames after this connection's last commit, once ``trackWALFrames()`` has run.
    private(set) var walFrames = 0

    /// Takes over SQLite's automatic checkpoint (a WAL hook replaces it): after each commit ``walFrames`` holds
    /// the WAL's length, and checkpoints are the caller's to run.
    package func trackWALFrames() {
        sqlite3_wal_hook(handle, { context, _, _, frames in
            if let context { Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue().walFrames = Int(frames) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// A checkpoint; the WAL's length and how much of it is now in the database file, in frames, or nil when
    /// another checkpoint (or, for `everything`, a reader) kept it from running.
    ///
    /// By default passive: copies the frames no reader still needs, waiting for no reader or writer, and syncs
    /// the WAL before and the file after. `everything` waits (up to the busy timeout) for readers and writers,
    /// copies every frame, syncs the file and starts the WAL over: the database file alone then holds every commit.
    package func checkpoint(everything: Bool = false) throws(SQLiteError) -> (log: Int, done: Int)? {
        var log: Int32 = 0, done: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(handle, nil, everything ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log, &done)
        if code == SQLITE_BUSY { return nil }
        guard code == SQLITE_OK else { throw error() }
        return (Int(log), Int(done))
    }

    package func error() -> SQLiteError {
        let code = sqlite3_extended_errcode(handle)
        var message = String(cString: sqlite3_errmsg(handle))
        // SQLite's own text for a failed system call is generic ("disk I/O error"): the system's says which.
        let system = sqlite3_system_errno(handle)
        if system != 0, [SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY].contains(code & 0xFF) {
            message += " (\(String(cString: strerror(system))))"
        }
        return SQLiteError(code: code, message: message, path: path)
    }

    /// A prepared statement: bind by 1-based index, step through rows, read columns by 0-based index.
    package final class Statement {
        fileprivate let handle: OpaquePointer
        private unowned let database: SQLiteDatabase

        fileprivate init(handle: OpaquePointer, database: SQLiteDatabase) {
            self.handle = handle
            self.database = database
        }

        package func reset() {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }

        @discardableResult
        package func bind(_ values: StoreValue...) throws(SQLiteError) -> Statement {
            try bind(values)
        }

        /// Binds `values` from the first parameter on (for statements whose parameters are assembled at run time).
        @discardableResult
        package func bind(_ values: [StoreValue]) throws(SQLiteError) -> Statement {
            for (offset, value) in values.enumerated() { try bind(at: Int32(offset + 1), value) }
            return self
        }

        /// Binds one value at a 1-based index (for statements whose parameters are assembled at run time).
        package func bind(at index: Int32, _ value: StoreValue) throws(SQLiteError) {
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .int(let number): code = sqlite3_bind_int64(handle, index, Int64(number))
            case .text(let text):
                var text = text
                code = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { bindText($0, at: index) }
                }
            case .bytes(let bytes):
                code = bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { bindText($0, at: index) }
                }
            }
            guard code == SQLITE_OK else { throw database.error() }
        }

        /// Binds UTF-8 bytes as TEXT (copied by SQLite); an empty buffer may have no address, so it binds "".
        private func bindText(_ bytes: UnsafeBufferPointer<CChar>, at index: Int32) -> Int32 {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return csqlite_bind_text(handle, index, "", 0) }
            return csqlite_bind_text(handle, index, base, Int32(clamping: bytes.count))
        }

        /// Advances to the next row; false when there are no more (or the statement changed data).
        package func step() throws(SQLiteError) -> Bool {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw database.error()
            }
        }

        /// Runs a statement that returns no rows.
        package func run() throws(SQLiteError) {
            _ = try step()
        }

        package func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

        package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

        package func text(_ column: Int32) -> String {
            guard let bytes = sqlite3_column_text(handle, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
        }

        package func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

        /// The column's bytes, lent to `body` without a copy (valid until the next step).
        package func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> T) -> T {
            guard let bytes = sqlite3_column_blob(handle, column) else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return body(UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))))
        }

        /// The column's bytes, for JSON that is parsed straight from them.
        package func data(_ column: Int32) -> Data {
            guard let bytes = sqlite3_column_blob(handle, column) else { return Data() }
            return Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, column)))
        }
    }
}

/// A value bound to a statement parameter.
package enum StoreValue {
    case null
    case int(Int)
    case text(String)
    /// UTF-8 text already encoded (JSON written by the store), bound without another copy into a String.
    case bytes([UInt8])

    package static func optional(_ text: String?) -> StoreValue { text.map(StoreValue.text) ?? .null }
}

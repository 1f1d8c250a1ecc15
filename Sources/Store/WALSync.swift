import CSQLite
import Dispatch
import Glibc
import Protocol
import Synchronization

/// Makes committed transactions durable before anyone hears of them. The writer commits with
/// `synchronous = NORMAL`, so SQLite syncs the WAL only at checkpoints, and hands each transaction's
/// acknowledgements here. This thread syncs the WAL file once for everything handed over since its last
/// sync, then acknowledges it all. Meanwhile the writer runs the next transaction, so the disk's sync latency
/// no longer stalls intake, and one sync covers every transaction committed while the last one ran.
///
/// A failed `fdatasync` fails its acknowledgements and every write after it, until the daemon restarts: after a
/// failed sync the kernel may have dropped the pages it could not write, so no later sync can vouch for them.
/// A file that cannot be found or opened fails only that round; the next sync covers what it held.
///
/// SQLite keeps its WAL file for as long as the daemon holds the store open. A WAL that goes missing or is
/// replaced while it runs (someone deleted `store.sqlite-wal`) holds committed frames only in the inode the
/// writer still has open: syncing the path would vouch for nothing. Then ``walLost`` is set, that round fails
/// (its reports stay with their workers), and the writer copies each transaction into the database file
/// before it is acknowledged (see ``StoreWriter``).
package final class WALSync: Sendable {
    package typealias Acknowledge = @Sendable (SQLiteDatabase.SQLiteError?) -> Void

    private let walPath: String
    private let databasePath: String
    private let queue = PendingQueue<Acknowledge>()
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Mutex<SQLiteDatabase.SQLiteError?>(nil)
    private let lost = Atomic<Bool>(false)
    /// `fdatasync`, or a stand-in that fails or blocks, for tests.
    private let syncFile: @Sendable (Int32) -> Int32

    package init(databasePath: String, syncFile: @escaping @Sendable (Int32) -> Int32 = { fdatasync($0) }) throws(OSThread.StartError) {
        self.databasePath = databasePath
        self.walPath = databasePath + "-wal"
        self.syncFile = syncFile
        try OSThread.start(name: "store-sync") { [self] in loop() }
    }

    /// The failed sync that stopped durable writes, if one did.
    package var failure: SQLiteDatabase.SQLiteError? { stopped.withLock { $0 } }

    /// Whether the WAL went missing or was replaced while the store was open: from then on syncing it vouches for
    /// nothing, until the daemon restarts.
    package var walLost: Bool { lost.load(ordering: .acquiring) }

    /// Transactions committed and waiting for the next sync to begin.
    package var waiting: Int { queue.count }

    /// Calls `acknowledge` once a sync that began after this call has finished (or failed).
    package func submit(_ acknowledge: @escaping Acknowledge) {
        if queue.append(acknowledge) { wake.signal() }
    }

    private func loop() {
        var held: HeldFile?
        while true {
            let waiting = queue.take(max: .max)
            if waiting.isEmpty {
                wake.wait()
                continue
            }
            let error = failure ?? sync(&held)
            for acknowledge in waiting { acknowledge(error) }
        }
    }

    /// The file whose data is synced, kept open; reopened when its path names another file.
    private struct HeldFile {
        let fd: Int32
        let device: UInt64
        let inode: UInt64
        let isWAL: Bool
    }

    private func sync(_ held: inout HeldFile?) -> SQLiteDatabase.SQLiteError? {
        // The WAL, normally. SQLite removes it only when it has checkpointed everything into the database file
        // (and synced that), so without one the database file is what must be on disk.
        if walLost { return lostError() }
        for path in [walPath, databasePath] {
            let isWAL = path == walPath
            var info = stat()
            guard stat(path, &info) == 0 else {
                if errno == ENOENT {
                    // Gone while the store is open: it was deleted, not checkpointed away.
                    if isWAL, held?.isWAL == true { return loseWAL() }
                    continue
                }
                return failed(path, "cannot find it")
            }
            if let current = held, current.device != UInt64(info.st_dev) || current.inode != UInt64(info.st_ino) {
                // Another file at the WAL's path: SQLite never replaces its WAL while the store is open.
                if isWAL && current.isWAL { return loseWAL() }
                close(current.fd)
                held = nil
            }
            if held == nil {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return failed(path, "cannot open it") }
                held = HeldFile(fd: fd, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), isWAL: isWAL)
            }
            guard let file = held else { continue }
            if syncFile(file.fd) != 0 {
                let error = failed(path, "cannot sync it to disk; writes are refused until the daemon restarts")
                stopped.withLock { $0 = $0 ?? error }
                return error
            }
            return nil
        }
        return failed(databasePath, "neither the database file nor its WAL exists")
    }

    private func loseWAL() -> SQLiteDatabase.SQLiteError {
        lost.store(true, ordering: .releasing)
        return lostError()
    }

    private func lostError() -> SQLiteDatabase.SQLiteError {
        SQLiteDatabase.SQLiteError(code: Int32(CSQLITE_IOERR_FSYNC), message: "\(walPath) was deleted or replaced while the store was open; this transaction is not vouched for", path: walPath)
    }

    private func failed(_ path: String, _ what: String) -> SQLiteDatabase.SQLiteError {
        let reason = String(cString: strerror(errno))
        return SQLiteDatabase.SQLiteError(code: Int32(CSQLITE_IOERR_FSYNC), message: "\(path): \(what) (\(reason))", path: path)
    }
}

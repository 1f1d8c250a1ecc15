import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization

/// An append-only file of JSON lines with group commit: appends queue up while one `fdatasync` runs, then
/// the next write and sync cover all of them. A completion runs only once its line is on disk.
final class Journal: Sendable {
    let path: String
    private let fd: Int32
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let drained = DispatchSemaphore(value: 0)
    /// Called on the commit thread after a failed write was cut off the file, before the failed completions
    /// run; returns what it took out of the queue (see ``discardPending()``), to be failed too.
    private let recovery = Mutex<RecoveryBox?>(nil)

    /// A closure in a box, for the same reason as EmbeddedStore's callback.
    private final class RecoveryBox: Sendable {
        let run: @Sendable () -> [@Sendable (Error?) -> Void]
        init(_ run: @escaping @Sendable () -> [@Sendable (Error?) -> Void]) { self.run = run }
    }

    private struct State {
        var pending = Data()
        var completions: [@Sendable (Error?) -> Void] = []
        var committing = false
        var drainWaiters = 0
        /// The commit thread is awake; appends need not wake it.
        var awake = false
    }

    /// A failed read, write or sync of the journal file.
    struct JournalError: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens (creating) the journal for appending, after cutting off a torn last line from a crash mid-write.
    /// A torn line was never acknowledged: its completion runs only after a full line is synced.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        try Self.cutTornTail(fd: fd, path: path)
        do { try OSThread.start(name: "journal-commit") { [self] in commitLoop() } } catch {
            close(fd)
            throw JournalError(description: "\(error)")
        }
    }

    /// Queues one line (with its newline); `completion` runs on the commit thread once it is durable.
    func append(_ line: Data, completion: @escaping @Sendable (Error?) -> Void) {
        let mustWake = state.withLock { state -> Bool in
            state.pending.append(line)
            state.completions.append(completion)
            defer { state.awake = true }
            return !state.awake
        }
        if mustWake { wake.signal() }
    }

    /// Sets what runs after a failed write (the store rebuilds its index from the file, as cut).
    func onFailedWrite(_ recover: @escaping @Sendable () -> [@Sendable (Error?) -> Void]) {
        recovery.withLock { $0 = RecoveryBox(recover) }
    }

    /// Takes every queued line out without writing it and returns their completions (for a caller that holds
    /// the lock its appends are made under, so none can slip in).
    func discardPending() -> [@Sendable (Error?) -> Void] {
        state.withLock { state in
            defer { state.pending = Data(); state.completions = [] }
            return state.completions
        }
    }

    /// Blocks until everything appended so far is durable.
    func drain() {
        let mustWait = state.withLock { state -> Bool in
            guard !state.pending.isEmpty || state.committing else { return false }
            state.drainWaiters += 1
            return true
        }
        if mustWait { drained.wait() }
    }

    private func commitLoop() {
        wake.wait()
        while true {
            let (batch, completions) = state.withLock { state -> (Data, [@Sendable (Error?) -> Void]) in
                let taken = (state.pending, state.completions)
                state.pending = Data()
                state.completions = []
                state.committing = !taken.0.isEmpty || !taken.1.isEmpty
                if !state.committing { state.awake = false }
                return taken
            }
            guard !batch.isEmpty || !completions.isEmpty else {
                wake.wait()
                continue
            }
            var failure: Error?
            var failed = completions
            // An empty append is a barrier: everything before it was synced by an earlier round.
            if !batch.isEmpty {
                let start = lseek(fd, 0, SEEK_END)
                do {
                    try LineWriter.writeAll(fd: fd, batch)
                    if fdatasync(fd) != 0 { failure = JournalError(description: "fdatasync \(path): \(String(cString: strerror(errno)))") }
                } catch {
                    failure = JournalError(description: "write \(path): \(error)")
                }
                if failure != nil {
                    // ENOSPC and friends tear a batch anywhere: cut it all, so the file ends on a whole line
                    // and later appends never follow a torn one. None of it was acknowledged.
                    if start >= 0 { _ = ftruncate(fd, start) }
                    failed += recovery.withLock { $0 }?.run() ?? []
                }
            }
            failed.forEach { $0(failure) }
            let waiters = state.withLock { state -> Int in
                state.committing = false
                guard state.pending.isEmpty else { return 0 }
                defer { state.drainWaiters = 0 }
                return state.drainWaiters
            }
            for _ in 0..<waiters { drained.signal() }
        }
    }

    private static func cutTornTail(fd: Int32, path: String) throws {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, size - 1) == 1 else { throw JournalError(description: "cannot read \(path)") }
        guard last != 0x0A else { return }
        // Scan back for the last complete line.
        var end = size - 1
        var byte: UInt8 = 0
        while end > 0 {
            guard pread(fd, &byte, 1, end - 1) == 1 else { throw JournalError(description: "cannot read \(path)") }
            if byte == 0x0A { break }
            end -= 1
        }
        guard ftruncate(fd, end) == 0, fdatasync(fd) == 0 else {
            throw JournalError(description: "cannot cut the torn last line of \(path): \(String(cString: strerror(errno)))")
        }
    }
}

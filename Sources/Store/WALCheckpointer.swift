import Dispatch
import Protocol
import Synchronization

/// Copies the WAL into the database file on its own thread and connection, so the writer does not.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the writer copied 32 MiB and
/// waited for the database file's sync while intake stopped (with eight workers, 8 % of the writer's CPU and all
/// of its waits on the disk). Here passive checkpoints (which wait for no reader or writer) do that work beside
/// the writer.
///
/// Only the writer can start the WAL over, and only when a transaction begins with every frame already in the
/// database file, which a checkpoint running beside a busy writer never quite reaches. So once a pass left at
/// most ``tailFrames`` behind, the writer stops asking for passes and copies that tail itself, a few
/// milliseconds, and its next transaction starts the WAL over. Should this thread fall behind (or fail to
/// start), the writer checkpoints everything itself at ``limitFrames``, as SQLite did, so the WAL stays bounded.
package final class WALCheckpointer: Sendable {
    /// A WAL this long (16 MiB) asks for a pass.
    package static let startFrames = 4_096
    /// What the writer copies itself (4 MiB at most) to let the WAL start over.
    package static let tailFrames = 1_024
    /// A WAL this long (48 MiB) is checkpointed by the writer whatever this thread is doing.
    ///
    /// Passes from 8 MiB kept the WAL near 16 MB but cost one worker a tenth of its intake: each pass syncs the
    /// WAL and the database file, and the store-sync thread's syncs, which every acknowledgement waits for,
    /// queued behind them. From 16 MiB one worker measured as with SQLite's own checkpoints.
    package static let limitFrames = 12_288

    /// How far a pass got: `done` of the WAL's `log` frames, in the WAL `generation` it ran in.
    package struct Pass: Sendable, Equatable {
        package let generation: Int
        package let log: Int
        package let done: Int
    }

    /// What only the writer thread keeps between its commits.
    private struct WriterView {
        var generation = 0
        var lastFrames = 0
        /// The WAL's length when the writer last checkpointed itself, so a tail that will not go (a reader holds
        /// it) is retried only as the WAL grows, not at every commit.
        var lastOwnPass = 0
    }

    /// Whether passes run on this thread; if not, the writer checkpoints alone.
    private let running = Atomic<Bool>(false)
    private let requested = Mutex<Int?>(nil)
    private let last = Mutex<Pass?>(nil)
    private let wake = DispatchSemaphore(value: 0)
    private let view = ThreadConfined(WriterView())
    private let logger: Logger?
    private let failures = Mutex(0)

    /// Opens a connection of its own on `path` and starts the thread; without either (or with `thread` false, for
    /// tests) the writer checkpoints alone.
    package init(path: String, logger: Logger?, thread: Bool = true) {
        self.logger = logger
        guard thread else { return }
        var opened: SQLiteDatabase?
        do {
            let database = try SQLiteDatabase(path: path, readOnly: false)
            // NORMAL syncs the WAL before a checkpoint and the database file after it.
            try database.execute("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1024; PRAGMA mmap_size = 0;")
            opened = database
        } catch {
            logger?.warning("store checkpoints stay on the writer thread: cannot open a connection for them (\(error))")
        }
        guard let opened else { return }
        let confined = ThreadConfined(opened)
        do {
            try OSThread.start(name: "store-checkpoint") { [self] in loop(confined.value) }
            running.store(true, ordering: .releasing)
        } catch {
            logger?.warning("store checkpoints stay on the writer thread: cannot start their thread (\(error))")
        }
    }

    /// The last pass that finished, by either thread.
    package var lastPass: Pass? { last.withLock { $0 } }

    /// Called by the writer after each commit, with its connection: asks for a pass, or checkpoints itself.
    package func afterCommit(_ writer: SQLiteDatabase) {
        var state = view.value
        defer { view.value = state }
        let frames = writer.walFrames
        if frames < state.lastFrames {
            // The WAL started over: passes counted in the old one say nothing about this one.
            state.generation += 1
            state.lastOwnPass = 0
        }
        state.lastFrames = frames
        guard frames >= Self.startFrames else { return }
        let pass = lastPass
        let caughtUp = pass.map { $0.generation == state.generation && frames - $0.done <= Self.tailFrames } ?? false
        if caughtUp || frames >= Self.limitFrames {
            // No more passes are asked for, so a running one ends and leaves the lock to the writer, which
            // tries again at its next commit if it found the lock taken.
            if frames - state.lastOwnPass >= Self.tailFrames, run(on: writer, generation: state.generation) {
                state.lastOwnPass = frames
            }
        } else if running.load(ordering: .acquiring) {
            request(generation: state.generation)
        }
    }

    private func request(generation: Int) {
        let idle = requested.withLock { requested -> Bool in
            defer { requested = generation }
            return requested == nil
        }
        if idle { wake.signal() }
    }

    private func loop(_ database: SQLiteDatabase) {
        while true {
            wake.wait()
            guard let generation = requested.withLock({ requested -> Int? in
                defer { requested = nil }
                return requested
            }) else { continue }
            run(on: database, generation: generation)
        }
    }

    /// One passive checkpoint on `database`; false when another was running.
    @discardableResult
    private func run(on database: SQLiteDatabase, generation: Int) -> Bool {
        do {
            guard let (log, done) = try database.checkpoint() else { return false }
            last.withLock { $0 = Pass(generation: generation, log: log, done: done) }
            failures.withLock { $0 = 0 }
        } catch {
            // The commit stands (its frames are in the synced WAL); the WAL only grows until a checkpoint works.
            let count = failures.withLock { count -> Int in
                count += 1
                return count
            }
            if count == 1 { logger?.warning("store checkpoint failed, the WAL grows until one succeeds: \(error)") }
        }
        return true
    }
}

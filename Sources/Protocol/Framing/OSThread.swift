import Glibc

/// Starts detached POSIX threads, so Protocol and Worker need no Foundation `Thread`.
///
/// Blocking work (pipe reads, fsync, a connector's refresh) belongs on such a thread, never on the
/// cooperative pool, which has only as many threads as cores.
public enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread; `name` says what it is for in crash reports.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed for \(name): \(rc)")
        pthread_detach(thread)
    }
}

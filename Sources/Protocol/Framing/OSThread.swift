import Glibc
import SystemShims

/// Starts detached POSIX threads, so Protocol and Worker need no Foundation `Thread`.
///
/// Blocking work (pipe reads, fsync, a connector's refresh) belongs on such a thread, never on the
/// cooperative pool, which has only as many threads as cores.
public enum OSThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// A thread that could not be created (EAGAIN under a `pids` cgroup limit or RLIMIT_NPROC, ENOMEM).
    /// Callers decide what that costs: a refused connection, a restarted worker, never a trap.
    public struct StartError: Error, CustomStringConvertible {
        public let name: String
        public let errno: Int32
        public var description: String { "cannot start thread \(name): \(String(cString: strerror(errno)))" }
    }

    /// Runs `body` on a new detached thread; `name` says what it is for in errors and names the thread (the kernel
    /// keeps 15 bytes) in `top -H`, `ps -L` and profiles.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(StartError) {
        let box = Unmanaged.passRetained(Box {
            _ = shim_set_thread_name(name)
            body()
        })
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw StartError(name: name, errno: rc)
        }
        pthread_detach(thread)
    }
}

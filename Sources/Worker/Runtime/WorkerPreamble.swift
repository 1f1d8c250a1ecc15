import Glibc
import SystemShims

/// What a worker must do before anything else, because of what it may inherit from whoever spawned it.
///
/// - Important: a process spawned from a non-main thread inherits a signal mask with SIGTERM blocked, and any
///   `SIG_IGN`; an inherited fd held by a grandchild delays the supervisor's exit detection (SWIFT-LINUX.md §5–6).
enum WorkerPreamble {
    static func run() {
        for sig in 1..<32 where sig != SIGKILL && sig != SIGSTOP {
            signal(Int32(sig), SIG_DFL)
        }
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        for fd in Int32(3)..<1024 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
        // Exiting on stdin EOF covers a killed supervisor, except when this worker's I/O loop is the thing that
        // hung; the parent-death signal covers that case too.
        dieWithParent()
    }

    private static func dieWithParent() {
        let originalParent = getppid()
        _ = shim_set_parent_death_signal(SIGKILL)
        // The parent may have died before the signal was armed. A parent of pid 1 is no sign of that: in a
        // container the daemon is pid 1. Had it died before `originalParent` was read, stdin's EOF ends this worker.
        if getppid() != originalParent { exit(0) }
    }
}

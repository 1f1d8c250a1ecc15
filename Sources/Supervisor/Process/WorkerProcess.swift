import Foundation
import Glibc
import Protocol
import SystemShims

/// A spawned worker: its pid (which is also its process group id) and the parent's ends of its three pipes.
///
/// Spawned with our own `posix_spawn` rather than Foundation's `Process`: the child gets a clean signal mask
/// and default dispositions whatever thread spawns it, leads its own process group, inherits no fd but 0–2,
/// and its exit is seen by a `waitpid` thread within a millisecond (SWIFT-LINUX.md §6–7).
final class WorkerProcess: Sendable {
    let pid: Int32
    let stdinFD: Int32
    let stdoutFD: Int32
    let stderrFD: Int32

    private init(pid: Int32, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
    }

    /// A spawn that failed, with the errno's text.
    struct SpawnError: Error, CustomStringConvertible {
        let executable: String
        /// The errno (or posix_spawn's result).
        let code: Int32
        var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// Spawns `argv` (argv[0] an absolute path).
    ///
    /// - Important: call from one long-lived thread. The worker's parent-death signal fires when the *thread*
    ///   that spawned it exits, not the process.
    static func spawn(argv: [String], environment: [String]? = nil) throws(SpawnError) -> WorkerProcess {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0 else { throw SpawnError(executable: argv[0], code: errno) }
        guard pipe(&stdoutPipe) == 0 else {
            let code = errno
            closeAll(stdinPipe)
            throw SpawnError(executable: argv[0], code: code)
        }
        guard pipe(&stderrPipe) == 0 else {
            let code = errno
            closeAll(stdinPipe + stdoutPipe)
            throw SpawnError(executable: argv[0], code: code)
        }
        let all = stdinPipe + stdoutPipe + stderrPipe
        // Every end is close-on-exec; dup2 onto 0/1/2 in the child clears it there. Spawns happen on one
        // thread only, so no other spawn can inherit these in the window before this line.
        for fd in all { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        closeFrom(3, &actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all_signals = sigset_t()
        sigfillset(&all_signals)
        posix_spawnattr_setsigdefault(&attributes, &all_signals)
        var no_signals = sigset_t()
        sigemptyset(&no_signals)
        posix_spawnattr_setsigmask(&attributes, &no_signals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            cArgs.forEach { free($0) }
            cEnvironment?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = cEnvironment.map { posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, $0) }
            ?? posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard rc == 0 else {
            closeAll([stdinPipe[1], stdoutPipe[0], stderrPipe[0]])
            throw SpawnError(executable: argv[0], code: rc)
        }
        return WorkerProcess(pid: pid, stdinFD: stdinPipe[1], stdoutFD: stdoutPipe[0], stderrFD: stderrPipe[0])
    }

    /// Waits for the exit on a dedicated thread and reports it once. The only `waitpid` for this pid.
    func watchExit(_ onExit: @escaping @Sendable (TerminationStatus) -> Void) throws(OSThread.StartError) {
        let pid = self.pid
        try OSThread.start(name: "reaper-\(pid)") { onExit(Self.wait(pid)) }
    }

    /// Kills the whole group and reaps the worker on this thread, for a spawn whose threads could not all start
    /// (nothing else will ever wait for it). SIGKILL makes the wait short.
    func abandon() {
        signalGroup(SIGKILL)
        _ = Self.wait(pid)
    }

    private static func wait(_ pid: Int32) -> TerminationStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// Signals the worker's whole process group, so helpers it started go too.
    func signalGroup(_ signal: Int32) {
        if kill(-pid, signal) != 0 && errno == ESRCH {
            // The group is gone but the leader may be a zombie not yet reaped; nothing left to signal.
            _ = kill(pid, signal)
        }
    }

    private static func closeFrom(_ lowest: Int32, _ actions: inout posix_spawn_file_actions_t) {
        // Everything we open is CLOEXEC anyway; this also covers fds a library opened without it.
        _ = shim_spawn_addclosefrom(&actions, lowest)
    }

    private static func closeAll(_ fds: [Int32]) { fds.forEach { close($0) } }
}

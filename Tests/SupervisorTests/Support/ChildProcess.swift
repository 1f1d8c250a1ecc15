import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization
@testable import Supervisor

/// A real process under test: spawned in its own process group with posix_spawn (clean signal state, whatever
/// thread the test runs on), its stdout and stderr drained into line lists, its exit awaited with a deadline.
final class ChildProcess: Sendable {
    let process: WorkerProcess
    private let state = Mutex(State())
    private let changed = DispatchSemaphore(value: 0)

    private struct State {
        var stdout: [String] = []
        var stderr: [String] = []
        var exit: TerminationStatus?
        /// stdout and stderr readers that reached EOF (2 when all output is in).
        var streamsEnded = 0
    }

    init(_ argv: [String], environment: [String: String]? = nil) throws {
        // A write to a child that already exited must fail with EPIPE, not kill the test runner.
        Glibc.signal(SIGPIPE, SIG_IGN)
        let merged = environment.map { extra in
            ProcessInfo.processInfo.environment.merging(extra) { _, new in new }.map { "\($0)=\($1)" }
        }
        process = try WorkerProcess.spawn(argv: argv, environment: merged)
        let stdoutFD = process.stdoutFD, stderrFD = process.stderrFD
        try FramedInput.start(fd: stdoutFD, name: "test-stdout", maxLineLength: 64 << 20, onEvent: { [self] event in
            if case .line(let line) = event { state.withLock { $0.stdout.append(String(decoding: line, as: UTF8.self)) } }
            changed.signal()
        }, onEnd: { [self] in
            close(stdoutFD)
            streamEnded()
        })
        try FramedInput.start(fd: stderrFD, name: "test-stderr", maxLineLength: 1 << 20, onEvent: { [self] event in
            if case .line(let line) = event { state.withLock { $0.stderr.append(String(decoding: line, as: UTF8.self)) } }
            changed.signal()
        }, onEnd: { [self] in
            close(stderrFD)
            streamEnded()
        })
        try process.watchExit { [self] status in
            state.withLock { $0.exit = status }
            changed.signal()
        }
    }

    private func streamEnded() {
        state.withLock { $0.streamsEnded += 1 }
        changed.signal()
    }

    /// Waits until both output streams reached EOF (all output read), for at most `timeout` seconds.
    @discardableResult
    func waitForOutputEnd(timeout: Double) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while state.withLock({ $0.streamsEnded }) < 2 {
            if changed.wait(timeout: deadline) == .timedOut { return state.withLock { $0.streamsEnded } == 2 }
        }
        return true
    }

    var pid: Int32 { process.pid }
    var stdoutLines: [String] { state.withLock { $0.stdout } }
    var stderrLines: [String] { state.withLock { $0.stderr } }
    var exitStatus: TerminationStatus? { state.withLock { $0.exit } }

    /// Writes raw bytes to the child's stdin.
    func write(_ text: String) throws {
        try LineWriter.writeAll(fd: process.stdinFD, Data(text.utf8))
    }

    func write(bytes: [UInt8]) throws {
        try LineWriter.writeAll(fd: process.stdinFD, Data(bytes))
    }

    func closeStdin() { close(process.stdinFD) }

    func signal(_ sig: Int32) { kill(process.pid, sig) }

    /// Waits until `condition` holds over the child's output and exit, re-checking on every new line or exit,
    /// for at most `timeout` seconds. Returns whether it held.
    @discardableResult
    func waitFor(timeout: Double, _ condition: (_ stdout: [String], _ stderr: [String], _ exit: TerminationStatus?) -> Bool) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while true {
            let (out, err, exit) = state.withLock { ($0.stdout, $0.stderr, $0.exit) }
            if condition(out, err, exit) { return true }
            if changed.wait(timeout: deadline) == .timedOut {
                let (out, err, exit) = state.withLock { ($0.stdout, $0.stderr, $0.exit) }
                return condition(out, err, exit)
            }
        }
    }

    /// Waits for the exit; nil if still running after `timeout`.
    func waitForExit(timeout: Double) -> TerminationStatus? {
        waitFor(timeout: timeout) { _, _, exit in exit != nil }
        return exitStatus
    }

    /// Kills the whole process group if anything is left, so no test leaves processes behind.
    func killGroup() {
        if exitStatus == nil { kill(-process.pid, SIGKILL); kill(process.pid, SIGKILL) }
        _ = waitForExit(timeout: 5)
    }
}

/// Facts about other processes, read from /proc.
enum ProcessTable {
    /// Whether `pid` is a live (non-zombie) process.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.first != "Z" && fields.first != "X"
    }

    /// Waits until none of `pids` is alive, checking every 10 ms for at most `timeout` seconds.
    static func waitUntilGone(_ pids: [Int32], timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !pids.contains(where: isAlive) { return true }
            usleep(10_000)
        }
        return !pids.contains(where: isAlive)
    }
}

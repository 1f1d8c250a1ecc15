/// Erlang/OTP's restart types: whether a worker that exited is started again.
enum RestartPolicy: String, CaseIterable, Sendable {
    /// Always restarted (the default).
    case permanent
    /// Restarted only after an abnormal end: a non-zero exit, a signal, or a hang.
    case transient
    /// Never restarted.
    case temporary

    func shouldRestart(abnormal: Bool) -> Bool {
        switch self {
        case .permanent: true
        case .transient: abnormal
        case .temporary: false
        }
    }
}

/// How a worker process ended, as the kernel reported it.
enum TerminationStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    var isSuccess: Bool { self == .exited(0) }

    var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "killed by signal \(signal) (\(SignalName.of(signal)))"
        }
    }
}

/// Names of the signals an operator sees in status and logs.
enum SignalName {
    static func of(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
                                      7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
                                      13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP"]
        return names[signal] ?? "SIG\(signal)"
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

/// The CLI's side of the control socket against a daemon that takes the connection and never answers.
@Suite("Control client", .timeLimit(.minutes(1)))
struct ControlClientTests {
    @Test("a daemon that accepts and never answers (stopped, hung) is given up on at the read deadline, and the error says so")
    func silentDaemon() throws {
        let folder = try TemporaryDirectory()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/daemon.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = try UnixAddress(path: path)
        try #require(address.withSockaddr { bind(listener, $0, $1) } == 0)
        // The kernel completes the connection from the backlog; nothing ever reads or answers it.
        try #require(listen(listener, 4) == 0)
        let began = MonotonicClock.now()
        #expect {
            _ = try ControlClient.send(StatusCommand(), socketPath: path, waitSeconds: 0, answerMarginSeconds: 1)
        } throws: { error in
            guard let error = error as? ControlClient.ClientError, case .unreachable(let reason) = error else { return false }
            return error.exitCode == 69 && reason.contains("did not answer within 1 s")
        }
        // The read once never ended (EAGAIN from the deadline was taken for "try again"); the suite's time limit
        // fails such a hang, and this says it ended near its deadline.
        #expect(MonotonicClock.now() - began < 30)
    }
}

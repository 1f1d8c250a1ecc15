import Foundation
import Glibc
import Protocol

/// Sends one command to a running daemon's control socket and decodes its typed answer, once.
enum ControlClient {
    /// Why the daemon could not be asked (exit 69), or what it answered instead of a result (exit 1).
    enum ClientError: Error, CustomStringConvertible {
        case unreachable(String)
        case refused(String)

        var description: String {
            switch self {
            case .unreachable(let reason), .refused(let reason): reason
            }
        }

        var exitCode: Int32 {
            switch self {
            case .unreachable: 69
            case .refused: 1
            }
        }
    }

    /// The read timeout is the command's own bound plus a margin, so the daemon's answer for a late refresh
    /// arrives before this side gives up, and a stopped or hung daemon does not hold the caller forever.
    static func send<Command: DaemonCommand>(_ command: Command, socketPath: String, waitSeconds: Double = 60,
                                             answerMarginSeconds: Int = 10) throws(ClientError) -> Command.Answer {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(waitSeconds) + answerMarginSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address: UnixAddress
        do { address = try UnixAddress(path: socketPath) } catch { throw .unreachable("\(error)") }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            throw .unreachable("no daemon is running at \(socketPath) (\(String(cString: strerror(errno)))); start it with `integration-daemon run`")
        }
        var sendError: (any Error)?
        do {
            var line = try JSONEncoder.daemon.encode(ControlRequest(arguments: command))
            line.append(0x0A)
            try LineWriter.writeAll(fd: fd, line)
        } catch {
            // A daemon at its connection cap answers with a refusal and closes before reading: the write fails
            // (EPIPE, with SIGPIPE ignored) but the refusal is still there to read, and says why.
            sendError = error
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer: Data?
        let end = FramedInput.readLoop(fd: fd, maxLineLength: 64 << 20) { event in
            if answer == nil, case .line(let line) = event { answer = line }
        }
        guard let answer else {
            if let sendError { throw .unreachable("cannot send to \(socketPath): \(sendError)") }
            if end == .timedOut {
                throw .unreachable("the daemon at \(socketPath) did not answer within \(timeout.tv_sec) s; it may be stopped or hung")
            }
            throw .unreachable("the daemon closed the connection without answering")
        }
        let decoded: ControlAnswer<Command.Answer>
        do { decoded = try JSONDecoder.daemon.decode(ControlAnswer<Command.Answer>.self, from: answer) } catch {
            throw .unreachable("unreadable answer from the daemon: \(error)")
        }
        if let result = decoded.result { return result }
        throw .refused(decoded.error ?? "the daemon answered neither a result nor an error")
    }
}

import Foundation
import Glibc
import Protocol

/// Sends one command to a running daemon's control socket and returns its answer.
enum ControlClient {
    /// Why the daemon could not be asked.
    struct ClientError: Error, CustomStringConvertible {
        let description: String
    }

    static func send(_ request: ControlRequest, socketPath: String, timeoutSeconds: Int = 35) throws(ClientError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address: UnixAddress
        do { address = try UnixAddress(path: socketPath) } catch { throw ClientError(description: "\(error)") }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            throw ClientError(description: "no daemon is running at \(socketPath) (\(String(cString: strerror(errno)))); start it with `integration-daemon run`")
        }
        do {
            var line = try JSONEncoder.daemon.encode(request)
            line.append(0x0A)
            try LineWriter.writeAll(fd: fd, line)
        } catch {
            throw ClientError(description: "cannot send to \(socketPath): \(error)")
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer: Data?
        FramedInput.readLoop(fd: fd, maxLineLength: 64 << 20) { event in
            if answer == nil, case .line(let line) = event { answer = line }
        }
        guard let answer else { throw ClientError(description: "the daemon closed the connection without answering") }
        do { return try JSONDecoder.daemon.decode(ControlResponse.self, from: answer) } catch {
            throw ClientError(description: "unreadable answer from the daemon: \(error)")
        }
    }
}

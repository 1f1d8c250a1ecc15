import Foundation
import Glibc
@testable import HTTPWire
@testable import Supervisor

/// A plain-TCP HTTP client for tests that need exact bytes on the wire: split, pipelined, oversized, slow.
final class RawHTTP {
    let fd: Int32
    private var parser = HTTPMessageParser(kind: .response, limits: .init(maxHeaderBytes: 1 << 20, maxBodyBytes: 64 << 20))

    init(port: UInt16, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// The next response, nil when the server closed (or the read timed out) first.
    func response() -> HTTPMessageParser.Message? {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let message = try? parser.next() { return message }
            let n = readAgainOnSignal(&buffer)
            if n <= 0 { return try? parser.finish() }
            parser.feed(buffer[0..<n])
        }
    }

    /// True when the server has closed the connection (EOF within the read timeout).
    func closedByServer() -> Bool {
        var byte: [UInt8] = [0]
        return readAgainOnSignal(&byte) == 0
    }

    /// A read that a signal does not end: with SO_RCVTIMEO set, the kernel never restarts a socket read after a
    /// signal handler ran (signal(7)), and this process gets SIGCHLD from every child it spawns.
    private func readAgainOnSignal(_ buffer: inout [UInt8]) -> Int {
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    static func get(_ path: String, token: String? = nil, extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\(extra)\r\n"
    }

    static func post(_ path: String, body: String, token: String? = nil) -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
}

import Foundation
import Glibc
import Protocol

/// Serves live commands on a Unix socket (owner-only) in the data directory: one JSON request line in, one
/// JSON answer line out, on a ``PollServer`` thread.
///
/// At most ``maxConnections`` are open at once; at the cap the client silent longest is closed to make room, and
/// past that, or when the daemon is out of fds (EMFILE), a client gets a one-line refusal. Every connection has a
/// deadline.
final class ControlServer: Sendable {
    let path: String
    private let server: PollServer<ControlDoor>

    static let maxConnections = 128
    /// Connections accepted past the cap only to be refused with a line and closed.
    static let refusalSlots = 16
    static let maxRequestBytes = 64 * 1024
    /// A client must send its request line, and read its answer, within this.
    static let ioTimeoutSeconds = 5.0

    typealias Counters = PollServer<ControlDoor>.Counters

    /// A socket that could not be set up, with the reason.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String, logger: Logger) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = try UnixAddress(path: path)
        let previous = umask(0o177)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        umask(previous)
        guard bound == 0 else {
            close(fd)
            throw SetupError(description: "cannot bind control socket \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o600)
        guard listen(fd, 256) == 0 else {
            close(fd)
            throw SetupError(description: "listen \(path): \(String(cString: strerror(errno)))")
        }
        do { server = try PollServer(listenFD: fd, maxConnections: Self.maxConnections, refusalSlots: Self.refusalSlots, logger: logger) } catch {
            close(fd)
            throw SetupError(description: "control socket: \(error)")
        }
    }

    var figures: Counters { server.figures }

    /// Serves until the process exits; each decoded command goes to `handle`, whose reply may come from any
    /// thread (late or repeated replies are ignored).
    func start(handle: @escaping @Sendable (CommandCall) -> Void) throws(OSThread.StartError) {
        try server.start(ControlDoor(server: server, handle: handle), threadName: "control-io")
    }

    func remove() { unlink(path) }
}

/// Answer lines of the control socket.
enum ControlLine {
    static func encode<Answer>(_ answer: ControlAnswer<Answer>) -> Data {
        var line = (try? JSONEncoder.daemon.encode(answer)) ?? Data("{\"error\":\"the answer could not be encoded\"}".utf8)
        line.append(0x0A)
        return line
    }

    static func failure(_ message: String) -> Data { encode(ControlAnswer<String>(error: message)) }
}

/// A `sockaddr_un` for a filesystem path.
struct UnixAddress {
    private var storage = sockaddr_un()

    init(path: String) throws {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw ControlServer.SetupError(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

import Foundation
import Glibc
import Protocol
import Synchronization
import SystemShims

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

/// The control socket's protocol: read one request line, hand the decoded command to the loop, write the answer
/// line, close.
struct ControlDoor: PollDoor {
    let server: PollServer<ControlDoor>
    let handle: @Sendable (CommandCall) -> Void

    struct Connection {
        let fd: Int32
        var phase: Phase
        var deadline: Double
        var input = Data()
        var output = Data()
        var timeoutAnswer = Data()
    }

    enum Phase { case reading, waiting, writing }

    var name: String { "control socket" }
    var openConnectionsKey: String { "openControlConnections" }

    func opened(fd: Int32, id: Int, now: Double) -> Connection? {
        Connection(fd: fd, phase: .reading, deadline: now + ControlServer.ioTimeoutSeconds)
    }

    func events(of connection: Connection) -> Int16 {
        switch connection.phase { case .reading: Int16(POLLIN); case .waiting: 0; case .writing: Int16(POLLOUT) }
    }

    func deadline(of connection: Connection) -> Double { connection.deadline }

    /// A client that has sent nothing yet; the one accepted first goes first.
    func idleRank(of connection: Connection) -> Double? {
        connection.phase == .reading && connection.input.isEmpty ? 0 : nil
    }

    func ready(_ connection: inout Connection, id: Int, revents: Int16) -> PollStep {
        switch connection.phase {
        case .reading:
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(connection.fd, &buffer, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return .keep }
            guard n > 0 else { return .close }
            connection.input.append(contentsOf: buffer[0..<n])
            if let newline = connection.input.firstIndex(of: 0x0A) {
                let line = connection.input[connection.input.startIndex..<newline]
                connection.input = Data()
                connection.phase = .waiting
                return dispatch(&connection, id: id, line: Data(line))
            } else if connection.input.count > ControlServer.maxRequestBytes {
                return answer(&connection, ControlLine.failure("request line over \(ControlServer.maxRequestBytes) bytes"))
            }
            return .keep
        case .writing:
            return flush(&connection)
        case .waiting:
            // Only a hang-up is reported while the answer is pending; the answer is dropped when it comes.
            return revents & Int16(POLLHUP | POLLERR) != 0 ? .close : .keep
        }
    }

    func deliver(_ reply: Data, to connection: inout Connection, id: Int) -> PollStep {
        answer(&connection, reply)
    }

    func expired(_ connection: inout Connection, id: Int, now: Double) -> PollStep {
        switch connection.phase {
        case .reading, .writing: return .close
        case .waiting: return answer(&connection, connection.timeoutAnswer)
        }
    }

    func evicted(_ connection: Connection) {
        let line = ControlLine.failure("closed: the control socket is at its cap of \(ControlServer.maxConnections) connections and this one sent nothing")
        _ = line.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func refuse(fd: Int32, _ refusal: PollRefusal) {
        let message = switch refusal {
        case .atCap(let cap): "too many control connections (\(cap) open); try again"
        case .outOfDescriptors: "the daemon is out of file descriptors; try again"
        }
        let line = ControlLine.failure(message)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func closing(_ connection: Connection, graceful: Bool) {}

    private func dispatch(_ connection: inout Connection, id: Int, line: Data) -> PollStep {
        let call: CommandCall
        do { call = try CommandCall.decode(line, answer: ControlSink(server: server, id: id)) } catch {
            return answer(&connection, ControlLine.failure(error.message))
        }
        // The command's own bound (a refresh's is long), after which this door answers for the loop.
        connection.deadline = MonotonicClock.now() + call.waitSeconds
        connection.timeoutAnswer = ControlLine.failure(call.timeoutMessage)
        handle(call)
        return .keep
    }

    private func answer(_ connection: inout Connection, _ line: Data) -> PollStep {
        guard connection.phase != .writing else { return .keep }
        connection.phase = .writing
        connection.output = line
        connection.deadline = MonotonicClock.now() + ControlServer.ioTimeoutSeconds
        return flush(&connection)
    }

    private func flush(_ connection: inout Connection) -> PollStep {
        while !connection.output.isEmpty {
            let n = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                connection.output.removeFirst(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                return .keep
            } else {
                return .close
            }
        }
        return .close
    }
}

/// The control socket's answer for one client: encodes whatever answer type its command has.
private struct ControlSink: AnswerSink {
    let server: PollServer<ControlDoor>
    let id: Int

    func take<Answer: Codable & Sendable>(_ result: Result<Answer, OperatorError>) {
        switch result {
        case .success(let answer): server.deliver(ControlLine.encode(ControlAnswer(result: answer)), to: id)
        case .failure(let error): server.deliver(ControlLine.failure(error.message), to: id)
        }
    }
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

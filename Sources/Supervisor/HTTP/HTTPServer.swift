import Foundation
import Glibc
import Protocol
import Synchronization
import SystemShims

/// An HTTP/1.1 server (plain or TLS) for the platform door: keep-alive, pipelining, size limits, slow-client
/// timeouts and a connection cap, on one ``PollServer`` thread.
///
/// A connection costs an fd and a parser, never a thread, so a thousand idle keep-alive clients or a slow-loris
/// cannot starve the daemon. The handler runs on the I/O thread and must not block: it hands the request on
/// (to the supervision loop) and answers through its reply closure from any thread, within the ``Wait`` it
/// returns, after which the server answers the fallback itself.
final class HTTPServer: Sendable {
    /// Connections accepted past the cap only to be answered 503 and closed.
    static let refusalSlots = 64

    /// Limits and timeouts; the defaults are documented in docs/egeria.md.
    struct Settings: Sendable {
        var maxConnections = 1024
        /// A kept-alive connection with no request in progress is closed after this.
        var idleTimeoutSeconds = 60.0
        /// A request (or TLS handshake) must arrive whole, and a response be taken, within this once begun.
        var requestTimeoutSeconds = 10.0
        var limits = HTTPMessageParser.Limits(maxHeaderBytes: 16 * 1024, maxBodyBytes: 1 << 20)
    }

    /// One request as the handler sees it.
    struct Request: Sendable {
        var method: String
        /// The path, percent-decoded per segment by ``pathSegments``.
        var path: String
        var query: [String: String]
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.name.caseInsensitiveEquals(name) }?.value }

        /// The path's segments, percent-decoded; nil when a segment does not decode.
        var pathSegments: [String]? {
            var segments: [String] = []
            for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
                guard let decoded = String(raw).removingPercentEncoding else { return nil }
                segments.append(decoded)
            }
            return segments
        }
    }

    /// One response; `Content-Length` and `Connection` are added by the server.
    struct Response: Sendable {
        var status: Int
        var contentType = "application/json"
        var body: [UInt8]
        var headers: [(String, String)] = []
    }

    /// How long the handler may take to answer, and what the server answers if it does not.
    struct Wait: Sendable {
        var seconds: Double
        var fallback: Response
    }

    typealias Handler = @Sendable (Request, @escaping @Sendable (Response) -> Void) -> Wait

    /// A socket that could not be set up, with the reason.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// Figures for status and metrics.
    struct Counters: Sendable {
        var open = 0
        var refused = 0
        var requests = 0
    }

    let settings: Settings
    let tls: TLSServerContext?
    /// The port actually bound (the configured one, or the kernel's choice for port 0).
    let port: UInt16
    private let server: PollServer<HTTPDoor>
    private let requests = HTTPDoor.RequestCount()

    init(host: String, port: UInt16, tls: TLSServerContext?, settings: Settings, logger: Logger) throws(SetupError) {
        self.settings = settings
        self.tls = tls
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var info: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &info)
        guard resolved == 0, let address = info else {
            throw SetupError(description: "platform.address: cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "platform door: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0, listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SetupError(description: "platform door: cannot listen on \(host):\(port): \(reason)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = withUnsafePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        do { server = try PollServer(listenFD: fd, maxConnections: settings.maxConnections, refusalSlots: Self.refusalSlots, logger: logger) } catch {
            close(fd)
            throw SetupError(description: "platform door: \(error)")
        }
    }

    var figures: Counters {
        let poll = server.figures
        return Counters(open: poll.open, refused: poll.refused, requests: requests.value.load(ordering: .relaxed))
    }

    /// The reason phrase for the statuses this server sends.
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    func start(handler: @escaping Handler) throws(OSThread.StartError) {
        try server.start(HTTPDoor(server: server, settings: settings, tls: tls, handler: handler, requests: requests), threadName: "platform-io")
    }
}

/// The REST door's protocol: TLS when configured, HTTP/1.1 requests parsed by ``HTTPMessageParser`` (keep-alive and
/// pipelining), each handed to the handler and answered, or answered with the handler's fallback at its deadline.
struct HTTPDoor: PollDoor {
    let server: PollServer<HTTPDoor>
    let settings: HTTPServer.Settings
    let tls: TLSServerContext?
    let handler: HTTPServer.Handler
    let requests: RequestCount
    let scratch = ReadBuffer(bytes: 64 * 1024)

    /// Requests served, for status and metrics.
    final class RequestCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The one buffer reads land in: touched only on the door's I/O thread, so never shared at once.
    final class ReadBuffer: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
        init(bytes count: Int) { bytes = .allocate(byteCount: count, alignment: 1) }
        deinit { bytes.deallocate() }
    }

    struct Connection {
        let fd: Int32
        let tls: TLSSession?
        var phase: Phase
        var parser: HTTPMessageParser
        var deadline: Double
        /// While a request is partly read: when it must be whole.
        var requestDeadline: Double?
        var output: [UInt8] = []
        var written = 0
        var closeAfterWrite = false
        /// What TLS needs before the current step can go on.
        var tlsWants: Int16 = Int16(POLLIN)
        var fallback: HTTPServer.Response?
    }

    enum Phase { case handshake, reading, waiting, writing }

    var name: String { "platform door" }
    var openConnectionsKey: String { "openConnections" }

    func opened(fd: Int32, id: Int, now: Double) -> Connection? {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let parser = HTTPMessageParser(kind: .request, limits: settings.limits)
        guard let tls else {
            return Connection(fd: fd, tls: nil, phase: .reading, parser: parser, deadline: now + settings.idleTimeoutSeconds)
        }
        guard let session = tls.session(fd: fd) else { return nil }
        return Connection(fd: fd, tls: session, phase: .handshake, parser: parser, deadline: now + settings.requestTimeoutSeconds)
    }

    func events(of connection: Connection) -> Int16 {
        switch connection.phase {
        case .waiting: 0
        case .handshake: connection.tlsWants
        case .reading: connection.tls == nil ? Int16(POLLIN) : connection.tlsWants
        case .writing: connection.tls == nil ? Int16(POLLOUT) : connection.tlsWants
        }
    }

    func deadline(of connection: Connection) -> Double { connection.deadline }

    /// A kept-alive connection with no request in progress; the one whose idle deadline comes first was idle longest.
    func idleRank(of connection: Connection) -> Double? {
        connection.phase == .reading && connection.parser.isIdle && connection.requestDeadline == nil ? connection.deadline : nil
    }

    func ready(_ connection: inout Connection, id: Int, revents: Int16) -> PollStep {
        switch connection.phase {
        case .handshake: return handshake(&connection, id: id)
        case .reading: return readAvailable(&connection, id: id)
        case .writing: return flush(&connection, id: id)
        case .waiting:
            // Only a hang-up or error is reported while the answer is pending, and poll reports it at once every
            // time: left open, a reset client would spin this thread until the answer came. Its answer is dropped.
            return revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 ? .close : .keep
        }
    }

    func deliver(_ reply: HTTPServer.Response, to connection: inout Connection, id: Int) -> PollStep {
        respond(&connection, id: id, reply)
    }

    func expired(_ connection: inout Connection, id: Int, now: Double) -> PollStep {
        switch connection.phase {
        case .handshake, .writing: return .close
        case .reading:
            guard !connection.parser.isIdle else { return .close }
            connection.closeAfterWrite = true
            return respond(&connection, id: id, PlatformErrorPage.response(408, "the request did not arrive within \(Int(settings.requestTimeoutSeconds)) s"), force: true)
        case .waiting:
            return respond(&connection, id: id, connection.fallback ?? PlatformErrorPage.response(503, "no answer in time"))
        }
    }

    func evicted(_ connection: Connection) {}

    func refuse(fd: Int32, _ refusal: PollRefusal) {
        // Plain HTTP at the cap gets a 503 it can read; a TLS client, or any out of fds, just sees the close.
        guard case .atCap(let cap) = refusal, tls == nil else { return }
        let text = Self.serialize(PlatformErrorPage.response(503, "too many connections (\(cap) open)"), keepAlive: false)
        _ = text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func closing(_ connection: Connection, graceful: Bool) {
        if graceful { connection.tls?.shutdown() }
    }

    // MARK: - Serving

    private func handshake(_ connection: inout Connection, id: Int) -> PollStep {
        guard let tls = connection.tls else { return .close }
        switch tls.handshake() {
        case .done:
            connection.phase = .reading
            connection.tlsWants = Int16(POLLIN)
            connection.deadline = MonotonicClock.now() + settings.idleTimeoutSeconds
            return readAvailable(&connection, id: id)
        case .wantRead: connection.tlsWants = Int16(POLLIN); return .keep
        case .wantWrite: connection.tlsWants = Int16(POLLOUT); return .keep
        case .closed, .failed: return .close
        }
    }

    /// Reads everything the socket (and TLS) has, then parses what it can.
    private func readAvailable(_ connection: inout Connection, id: Int) -> PollStep {
        let scratch = scratch.bytes
        var peerClosed = false
        readLoop: while true {
            let count: Int
            if let tls = connection.tls {
                switch tls.read(into: scratch) {
                case .done(let n): count = n
                case .wantRead: connection.tlsWants = Int16(POLLIN); break readLoop
                case .wantWrite: connection.tlsWants = Int16(POLLOUT); break readLoop
                case .closed: peerClosed = true; break readLoop
                case .failed: return .close
                }
            } else {
                let n = read(connection.fd, scratch.baseAddress, scratch.count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { break }
                if n <= 0 { peerClosed = true; break }
                count = n
            }
            if connection.parser.isIdle && connection.requestDeadline == nil {
                connection.requestDeadline = MonotonicClock.now() + settings.requestTimeoutSeconds
            }
            connection.parser.feed(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            if connection.parser.bufferedCount > settings.limits.maxHeaderBytes + settings.limits.maxBodyBytes + 65_536 { break }
        }
        return nextRequest(&connection, id: id, peerClosed: peerClosed)
    }

    /// Takes the next whole request from the parser, if there is one, and hands it to the handler.
    private func nextRequest(_ connection: inout Connection, id: Int, peerClosed: Bool = false) -> PollStep {
        guard connection.phase == .reading else { return .keep }
        let message: HTTPMessageParser.Message?
        do { message = try connection.parser.next() } catch {
            connection.closeAfterWrite = true
            return respond(&connection, id: id, PlatformErrorPage.response(error.status, error.description), force: true)
        }
        guard let message else {
            if peerClosed { return .close }
            if let requestDeadline = connection.requestDeadline, !connection.parser.isIdle {
                connection.deadline = requestDeadline
            } else {
                connection.requestDeadline = nil
                connection.deadline = MonotonicClock.now() + settings.idleTimeoutSeconds
            }
            return .keep
        }
        connection.requestDeadline = connection.parser.isIdle ? nil : MonotonicClock.now() + settings.requestTimeoutSeconds
        connection.closeAfterWrite = !message.head.keepAlive || peerClosed
        connection.phase = .waiting
        let (path, query) = Self.split(message.head.target)
        let request = HTTPServer.Request(method: message.head.method, path: path, query: query, headers: message.head.headers, body: message.body)
        let server = self.server
        requests.value.add(1, ordering: .relaxed)
        // An answer given at once goes through the inbox too, delivered before this pass ends.
        let wait = handler(request) { server.deliver($0, to: id) }
        connection.deadline = MonotonicClock.now() + max(0, wait.seconds)
        connection.fallback = wait.fallback
        return .keep
    }

    /// Queues `response` on a connection waiting for one (a late answer, or one for a closed connection, is dropped).
    private func respond(_ connection: inout Connection, id: Int, _ response: HTTPServer.Response, force: Bool = false) -> PollStep {
        guard connection.phase == .waiting || force else { return .keep }
        connection.phase = .writing
        connection.fallback = nil
        connection.output = Self.serialize(response, keepAlive: !connection.closeAfterWrite)
        connection.written = 0
        connection.tlsWants = Int16(POLLOUT)
        connection.deadline = MonotonicClock.now() + settings.requestTimeoutSeconds
        return flush(&connection, id: id)
    }

    private func flush(_ connection: inout Connection, id: Int) -> PollStep {
        while connection.written < connection.output.count {
            let progress: Int
            let remaining = connection.output.count - connection.written
            if let tls = connection.tls {
                let written = connection.written
                let result = connection.output.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[written...])) }
                switch result {
                case .done(let n): progress = n
                case .wantRead: connection.tlsWants = Int16(POLLIN); return .keep
                case .wantWrite: connection.tlsWants = Int16(POLLOUT); return .keep
                case .closed, .failed: return .close
                }
            } else {
                let fd = connection.fd, written = connection.written
                let n = connection.output.withUnsafeBytes { send(fd, $0.baseAddress! + written, remaining, Int32(MSG_NOSIGNAL)) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { return .keep }
                guard n > 0 else { return .close }
                progress = n
            }
            connection.written += progress
        }
        if connection.closeAfterWrite { return .closeGracefully }
        connection.output = []
        connection.written = 0
        connection.phase = .reading
        connection.tlsWants = Int16(POLLIN)
        // A pipelined request may already be in the parser.
        return nextRequest(&connection, id: id)
    }

    // MARK: - Bytes

    static func serialize(_ response: HTTPServer.Response, keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(HTTPServer.reason(response.status))\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    static func split(_ target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
            query[name] = value
        }
        return (String(target[..<mark]), query)
    }
}

/// The plain error body for answers below Egeria's envelopes (framing errors, limits, auth): what Spring
/// Boot's default error attributes carry.
enum PlatformErrorPage {
    static func response(_ status: Int, _ message: String) -> HTTPServer.Response {
        var writer = JSONWriter()
        writer.value(.object(["status": .int(status), "error": .string(HTTPServer.reason(status)), "message": .string(message)]))
        return HTTPServer.Response(status: status, body: writer.bytes)
    }
}

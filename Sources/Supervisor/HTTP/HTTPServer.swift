import Foundation
import Glibc
import Protocol
import Synchronization
import SystemShims

/// An HTTP/1.1 server (plain or TLS) for the platform door: keep-alive, pipelining, size limits, slow-client
/// timeouts and a connection cap, all on one `poll` thread.
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
    private let listenFD: Int32
    private let logger: Logger
    private let wake: IOCancellation
    private let inbox = Mutex<[(id: Int, response: Response)]>([])
    private let counters = Mutex(Counters())

    init(host: String, port: UInt16, tls: TLSServerContext?, settings: Settings, logger: Logger) throws(SetupError) {
        self.settings = settings
        self.tls = tls
        self.logger = logger
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
        do { wake = try IOCancellation() } catch {
            close(fd)
            throw SetupError(description: "platform door: \(error)")
        }
        listenFD = fd
    }

    var figures: Counters { counters.withLock { $0 } }

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
        try OSThread.start(name: "platform-io") { [self] in
            var io = HTTPIO(server: self, handler: handler)
            io.run()
        }
    }

    /// Hands a response to the I/O thread (any thread may call it).
    fileprivate func deliver(_ id: Int, _ response: Response) {
        inbox.withLock { $0.append((id, response)) }
        wake.cancel()
    }

    fileprivate var listeningFD: Int32 { listenFD }
    fileprivate var wakeFD: Int32 { wake.fd }
    fileprivate var log: Logger { logger }
    fileprivate func takeInbox() -> [(id: Int, response: Response)] {
        var drained: UInt64 = 0
        _ = read(wake.fd, &drained, MemoryLayout<UInt64>.size)
        return inbox.withLock { inbox in defer { inbox.removeAll() }; return inbox }
    }
    fileprivate func count(open: Int, refused: Int = 0, requests: Int = 0) {
        counters.withLock {
            $0.open = open
            $0.refused += refused
            $0.requests += requests
        }
    }
}

/// The door's I/O thread: every connection and where it is in its exchange.
private struct HTTPIO {
    let server: HTTPServer
    let handler: HTTPServer.Handler
    var connections: [Int: Connection] = [:]
    var nextID = 1
    /// An fd kept in reserve: closed to accept-and-close when the daemon is out of fds, then reopened.
    var reserveFD: Int32 = open("/dev/null", O_RDONLY | O_CLOEXEC)
    var outOfFDs = false
    var episodeLogged = false
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)

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

    init(server: HTTPServer, handler: @escaping HTTPServer.Handler) {
        self.server = server
        self.handler = handler
    }

    mutating func run() {
        while true {
            var fds = [pollfd(fd: server.wakeFD, events: Int16(POLLIN), revents: 0)]
            let accepting = connections.count < server.settings.maxConnections + HTTPServer.refusalSlots
            if accepting { fds.append(pollfd(fd: server.listeningFD, events: Int16(POLLIN), revents: 0)) }
            let ids = Array(connections.keys)
            for id in ids {
                let connection = connections[id]!
                let events: Int16 = switch connection.phase {
                case .waiting: 0
                case .handshake: connection.tlsWants
                case .reading: connection.tls == nil ? Int16(POLLIN) : connection.tlsWants
                case .writing: connection.tls == nil ? Int16(POLLOUT) : connection.tlsWants
                }
                fds.append(pollfd(fd: connection.fd, events: events, revents: 0))
            }
            let now = MonotonicClock.now()
            let nearest = connections.values.map(\.deadline).min()
            let timeout = outOfFDs ? 100 : nearest.map { Int32(max(0, min(60_000, ($0 - now) * 1000 + 1))) } ?? -1
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { usleep(10_000) }
            for (id, response) in server.takeInbox() { respond(id, response) }
            // Open connections' bytes first: at the cap, whether one is idle (and may make room) is decided on
            // what it has sent.
            let offset = accepting ? 2 : 1
            for (index, id) in ids.enumerated() where fds[offset + index].revents != 0 { service(id, revents: fds[offset + index].revents) }
            if accepting, fds[1].revents != 0 || outOfFDs { acceptAll() }
            expire(now: MonotonicClock.now())
            server.count(open: connections.count)
        }
    }

    // MARK: - Accepting

    private mutating func acceptAll() {
        while true {
            let fd = shim_accept_cloexec_nonblock(server.listeningFD)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE:
                    outOfFDs = true
                    if !episodeLogged {
                        episodeLogged = true
                        server.log.error("platform door: cannot accept connections: \(String(cString: strerror(errno))); closing new ones until fds are free",
                                         ["openConnections": .int(connections.count)])
                    }
                    // Take one waiting client off the backlog with the reserve fd, so the backlog does not stall.
                    if reserveFD >= 0 { close(reserveFD) }
                    let spare = shim_accept_cloexec_nonblock(server.listeningFD)
                    if spare >= 0 { close(spare); server.count(open: connections.count, refused: 1) }
                    reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
                    return
                default: return
                }
            }
            if outOfFDs && episodeLogged { server.log.notice("platform door: accepting connections again") }
            outOfFDs = false
            episodeLogged = false
            if connections.count >= server.settings.maxConnections && !evictIdlest() {
                // Plain HTTP gets a 503 it can read; a TLS client just sees the close.
                if server.tls == nil {
                    let text = Self.serialize(PlatformErrorPage.response(503, "too many connections (\(server.settings.maxConnections) open)"), keepAlive: false)
                    _ = text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(fd)
                server.count(open: connections.count, refused: 1)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let now = MonotonicClock.now()
            let parser = HTTPMessageParser(kind: .request, limits: server.settings.limits)
            if let tls = server.tls {
                guard let session = tls.session(fd: fd) else { close(fd); continue }
                connections[nextID] = Connection(fd: fd, tls: session, phase: .handshake, parser: parser,
                                                 deadline: now + server.settings.requestTimeoutSeconds)
            } else {
                connections[nextID] = Connection(fd: fd, tls: nil, phase: .reading, parser: parser, deadline: now + server.settings.idleTimeoutSeconds)
                // What it sent before it was accepted is read now: at the cap, a client that has sent something
                // is not idle, even one accepted in the same pass as the next.
                readAvailable(nextID)
            }
            nextID += 1
        }
    }

    /// At the cap, the kept-alive connection idle longest (no request in progress) makes room for a new one, so
    /// idle clients cannot keep an operator out until their idle deadlines pass. False when none is idle.
    private mutating func evictIdlest() -> Bool {
        let idle = connections.filter { $0.value.phase == .reading && $0.value.parser.isIdle && $0.value.requestDeadline == nil }
        // Ids grow with each accept; among idle ones the earliest idle deadline was idle longest.
        guard let id = idle.min(by: { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) })?.key else { return false }
        drop(id)
        server.count(open: connections.count, refused: 1)
        return true
    }

    // MARK: - Serving

    private mutating func service(_ id: Int, revents: Int16) {
        guard let connection = connections[id] else { return }
        switch connection.phase {
        case .handshake: handshake(id)
        case .reading: readAvailable(id)
        case .writing: flush(id)
        case .waiting:
            // Only a hang-up or error is reported while the answer is pending, and poll reports it at once every
            // time: left open, a reset client would spin this thread until the answer came. Its answer is dropped.
            if revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { drop(id) }
        }
    }

    private mutating func handshake(_ id: Int) {
        guard var connection = connections[id], let tls = connection.tls else { return }
        switch tls.handshake() {
        case .done:
            connection.phase = .reading
            connection.tlsWants = Int16(POLLIN)
            connection.deadline = MonotonicClock.now() + server.settings.idleTimeoutSeconds
            connections[id] = connection
            readAvailable(id)
        case .wantRead: connections[id]?.tlsWants = Int16(POLLIN)
        case .wantWrite: connections[id]?.tlsWants = Int16(POLLOUT)
        case .closed, .failed: drop(id)
        }
    }

    /// Reads everything the socket (and TLS) has, then parses what it can.
    private mutating func readAvailable(_ id: Int) {
        guard var connection = connections[id] else { return }
        var peerClosed = false
        readLoop: while true {
            let count: Int
            if let tls = connection.tls {
                switch tls.read(into: scratch) {
                case .done(let n): count = n
                case .wantRead: connection.tlsWants = Int16(POLLIN); break readLoop
                case .wantWrite: connection.tlsWants = Int16(POLLOUT); break readLoop
                case .closed: peerClosed = true; break readLoop
                case .failed: return drop(id)
                }
            } else {
                let n = read(connection.fd, scratch.baseAddress, scratch.count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { break }
                if n <= 0 { peerClosed = true; break }
                count = n
            }
            if connection.parser.isIdle && connection.requestDeadline == nil {
                connection.requestDeadline = MonotonicClock.now() + server.settings.requestTimeoutSeconds
            }
            connection.parser.feed(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            if connection.parser.bufferedCount > server.settings.limits.maxHeaderBytes + server.settings.limits.maxBodyBytes + 65_536 { break }
        }
        connections[id] = connection
        nextRequest(id, peerClosed: peerClosed)
    }

    /// Takes the next whole request from the parser, if there is one, and hands it to the handler.
    private mutating func nextRequest(_ id: Int, peerClosed: Bool = false) {
        guard var connection = connections[id], connection.phase == .reading else { return }
        let message: HTTPMessageParser.Message?
        do { message = try connection.parser.next() } catch {
            connection.closeAfterWrite = true
            connections[id] = connection
            return respond(id, PlatformErrorPage.response(error.status, error.description), force: true)
        }
        guard let message else {
            if peerClosed { return drop(id) }
            if let requestDeadline = connection.requestDeadline, !connection.parser.isIdle {
                connection.deadline = requestDeadline
            } else {
                connection.requestDeadline = nil
                connection.deadline = MonotonicClock.now() + server.settings.idleTimeoutSeconds
            }
            connections[id] = connection
            return
        }
        connection.requestDeadline = connection.parser.isIdle ? nil : MonotonicClock.now() + server.settings.requestTimeoutSeconds
        connection.closeAfterWrite = !message.head.keepAlive || peerClosed
        connection.phase = .waiting
        let (path, query) = Self.split(message.head.target)
        let request = HTTPServer.Request(method: message.head.method, path: path, query: query, headers: message.head.headers, body: message.body)
        let server = self.server
        let wait = handler(request) { server.deliver(id, $0) }
        connection.deadline = MonotonicClock.now() + max(0, wait.seconds)
        connection.fallback = wait.fallback
        connections[id] = connection
        server.count(open: connections.count, requests: 1)
    }

    /// Queues `response` on a connection waiting for one (late answers for closed connections are dropped).
    private mutating func respond(_ id: Int, _ response: HTTPServer.Response, force: Bool = false) {
        guard var connection = connections[id], connection.phase == .waiting || force else { return }
        connection.phase = .writing
        connection.fallback = nil
        connection.output = Self.serialize(response, keepAlive: !connection.closeAfterWrite)
        connection.written = 0
        connection.tlsWants = Int16(POLLOUT)
        connection.deadline = MonotonicClock.now() + server.settings.requestTimeoutSeconds
        connections[id] = connection
        flush(id)
    }

    private mutating func flush(_ id: Int) {
        guard var connection = connections[id] else { return }
        while connection.written < connection.output.count {
            let progress: Int
            let remaining = connection.output.count - connection.written
            if let tls = connection.tls {
                let result = connection.output.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[connection.written...])) }
                switch result {
                case .done(let n): progress = n
                case .wantRead: connection.tlsWants = Int16(POLLIN); connections[id] = connection; return
                case .wantWrite: connection.tlsWants = Int16(POLLOUT); connections[id] = connection; return
                case .closed, .failed: return drop(id)
                }
            } else {
                let n = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress! + connection.written, remaining, Int32(MSG_NOSIGNAL)) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { connections[id] = connection; return }
                guard n > 0 else { return drop(id) }
                progress = n
            }
            connection.written += progress
        }
        if connection.closeAfterWrite { return drop(id, graceful: true) }
        connection.output = []
        connection.written = 0
        connection.phase = .reading
        connection.tlsWants = Int16(POLLIN)
        connections[id] = connection
        // A pipelined request may already be in the parser.
        nextRequest(id)
    }

    private mutating func expire(now: Double) {
        // Answers given while this pass served requests (synchronous ones included) go before any fallback.
        for (id, response) in server.takeInbox() { respond(id, response) }
        for (id, connection) in connections where connection.deadline <= now {
            switch connection.phase {
            case .handshake, .writing: drop(id)
            case .reading:
                if connection.parser.isIdle {
                    drop(id)
                } else {
                    connections[id]?.closeAfterWrite = true
                    respond(id, PlatformErrorPage.response(408, "the request did not arrive within \(Int(server.settings.requestTimeoutSeconds)) s"), force: true)
                }
            case .waiting:
                respond(id, connection.fallback ?? PlatformErrorPage.response(503, "no answer in time"))
            }
        }
    }

    private mutating func drop(_ id: Int, graceful: Bool = false) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if graceful { connection.tls?.shutdown() }
        close(connection.fd)
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

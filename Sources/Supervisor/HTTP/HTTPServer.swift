import Foundation
import Glibc
import HTTPWire
import Protocol
import Synchronization

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

/// The plain error body for answers below Egeria's envelopes (framing errors, limits, auth): what Spring
/// Boot's default error attributes carry.
enum PlatformErrorPage {
    static func response(_ status: Int, _ message: String) -> HTTPServer.Response {
        var writer = JSONWriter()
        writer.value(.object(["status": .int(status), "error": .string(HTTPServer.reason(status)), "message": .string(message)]))
        return HTTPServer.Response(status: status, body: writer.bytes)
    }
}

import Foundation
import Glibc
import HTTPWire
import Protocol
import Synchronization

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
        /// Which request on this connection is being answered: an answer for another (one that came after its
        /// fallback went out) is dropped, never sent as the answer to a later request.
        var request = 0
    }

    /// An answer, and the request on its connection it answers.
    struct Answer: Sendable {
        let request: Int
        let response: HTTPServer.Response
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

    func deliver(_ reply: Answer, to connection: inout Connection, id: Int) -> PollStep {
        guard reply.request == connection.request else { return .keep }
        return respond(&connection, id: id, reply.response)
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
        connection.request += 1
        let number = connection.request
        let (path, query) = Self.split(message.head.target)
        let request = HTTPServer.Request(method: message.head.method, path: path, query: query, headers: message.head.headers, body: message.body)
        let server = self.server
        requests.value.add(1, ordering: .relaxed)
        // An answer given at once goes through the inbox too, delivered before this pass ends.
        let wait = handler(request) { server.deliver(Answer(request: number, response: $0), to: id) }
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

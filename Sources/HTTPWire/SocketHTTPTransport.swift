import Dispatch
import Glibc
import Protocol
import Synchronization

/// A lean HTTP/1.1 client for the access server: a fixed set of keep-alive connections (TLS for `https://`,
/// through OpenSSL), each driven by its own thread with blocking I/O, requests queued to whichever is free.
///
/// URLSession on Linux spends several Dispatch hops and wake-ups per request; at thousands of reports a second
/// that, not the work, is the daemon's CPU. It also cannot trust a private CA, which OpenSSL can.
public final class SocketHTTPTransport: Sendable {
    /// One finished exchange: the status and body, or the transport error.
    public typealias Completion = @Sendable (Result<(status: Int, body: Data), TransportError>) -> Void

    /// A failure below HTTP: cannot connect, timeout, connection dropped, unreadable response.
    public struct TransportError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    private struct Job {
        /// `POST` or `GET` (a GET sends no body).
        var method = "POST"
        let path: String
        let body: Data
        let headers: [(String, String)]
        let completion: Completion
    }

    private let host: String
    private let port: UInt16
    private let tls: OpenSSL?
    private let timeoutSeconds: Double
    private let connections: Int
    /// The largest response body taken; a larger one fails its request.
    private let maxResponseBytes: Int
    /// The fixed part of every request's head after the path.
    private let hostHeader: [UInt8]
    private let jobs = Mutex<(queue: [Job], closed: Bool)>(([], false))
    private let available = DispatchSemaphore(value: 0)

    /// nil for a URL that is not http(s); throws when TLS cannot be set up (no libssl, unreadable CA file).
    /// `maxResponseBytes`: an access server's page of search results can be large, but not unbounded; a client
    /// that reads only a status and a short reason takes far less.
    public init?(root: URL, connections: Int, timeoutSeconds: Double, caFile: String?, maxResponseBytes: Int = 64 << 20) throws {
        guard let scheme = root.scheme, scheme == "http" || scheme == "https", let host = root.host,
              let port = UInt16(exactly: root.port ?? (scheme == "https" ? 443 : 80)) else { return nil }
        self.host = host
        self.port = port
        self.tls = scheme == "https" ? try OpenSSL(caFile: caFile) : nil
        self.timeoutSeconds = timeoutSeconds
        self.maxResponseBytes = maxResponseBytes
        self.hostHeader = Array(" HTTP/1.1\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\nContent-Type: application/json\r\nAccept: application/json\r\n".utf8)
        self.connections = max(1, connections)
        for index in 0..<self.connections {
            try OSThread.start(name: "http-\(index)") { [self] in connectionLoop() }
        }
    }

    /// Queues `POST path` with a JSON body; `completion` runs on a connection thread.
    public func post(path: String, body: Data, headers: [(String, String)], completion: @escaping Completion) {
        enqueue(Job(path: path, body: body, headers: headers, completion: completion))
    }

    /// Queues `GET path`; `completion` runs on a connection thread.
    public func get(path: String, headers: [(String, String)], completion: @escaping Completion) {
        enqueue(Job(method: "GET", path: path, body: Data(), headers: headers, completion: completion))
    }

    private func enqueue(_ job: Job) {
        let completion = job.completion
        let open = jobs.withLock { jobs in
            if !jobs.closed { jobs.queue.append(job) }
            return !jobs.closed
        }
        guard open else { return completion(.failure(TransportError(description: "the client is closed"))) }
        available.signal()
    }

    /// `POST path`, waiting for the answer on the caller's thread. Each exchange is bounded by the socket
    /// timeouts; the wait is bounded too, in case a name lookup hangs.
    public func post(path: String, body: Data, headers: [(String, String)]) -> Result<(status: Int, body: Data), TransportError> {
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<(status: Int, body: Data), TransportError>?>(nil)
        post(path: path, body: body, headers: headers) { result in
            answer.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + 4 * timeoutSeconds + 5) == .success, let result = answer.withLock({ $0 }) else {
            return .failure(TransportError(description: "no answer within \(Int(4 * timeoutSeconds + 5)) s"))
        }
        return result
    }

    /// Ends the connection threads once the requests queued now are done; a later `post` fails at once.
    public func shutDown() {
        let threads = jobs.withLock { jobs in
            defer { jobs.closed = true }
            return jobs.closed ? 0 : connections
        }
        for _ in 0..<threads { available.signal() }
    }

    /// One open connection: the socket, and its TLS session for `https://`.
    private final class Channel {
        let fd: Int32
        let tls: OpenSSL.Connection?
        /// Reused for every read on this connection: a response is read once per forwarded report.
        private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)

        init(fd: Int32, tls: OpenSSL.Connection?) {
            self.fd = fd
            self.tls = tls
        }

        var scratchBuffer: UnsafeMutableRawBufferPointer { scratch }

        func send(_ data: Data) -> Bool {
            if let tls { return tls.write(data) }
            do { try LineWriter.writeAll(fd: fd, data); return true } catch { return false }
        }

        func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            if let tls { return tls.read(into: buffer) }
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }

        deinit {
            scratch.deallocate()
            close(fd)
        }
    }

    private func connectionLoop() {
        var channel: Channel?
        var parser = responseParser()
        while true {
            available.wait()
            let (next, closed) = jobs.withLock { jobs in (jobs.queue.isEmpty ? nil : jobs.queue.removeFirst(), jobs.closed) }
            guard let job = next else {
                if closed { return }
                continue
            }
            // A kept-alive connection the server has closed fails on first use: retry once on a fresh one.
            var result = exchange(job, channel: &channel, parser: &parser)
            if case .failure(let error) = result, error.description.hasPrefix("stale") {
                result = exchange(job, channel: &channel, parser: &parser)
            }
            var mustClose = false
            if case .success(let response) = result { mustClose = response.close } else { mustClose = true }
            if mustClose {
                channel = nil
                parser = responseParser()
            }
            job.completion(result.map { (status: $0.status, body: $0.body) })
        }
    }

    private func responseParser() -> HTTPMessageParser {
        HTTPMessageParser(kind: .response, limits: .init(maxHeaderBytes: 64 * 1024, maxBodyBytes: maxResponseBytes))
    }

    private func exchange(_ job: Job, channel: inout Channel?, parser: inout HTTPMessageParser) -> Result<(status: Int, body: Data, close: Bool), TransportError> {
        let reused = channel != nil
        if channel == nil {
            switch connect() {
            case .success(let fd):
                do { channel = Channel(fd: fd, tls: try tls?.connect(fd: fd, host: host)) } catch {
                    close(fd)
                    return .failure(TransportError(description: error.description))
                }
            case .failure(let error): return .failure(error)
            }
        }
        guard let open = channel else { return .failure(TransportError(description: "no connection")) }
        // One buffer, one write: the head is bytes appended in place, not an interpolated String.
        var bytes = Data(capacity: 160 + job.path.utf8.count + job.body.count + job.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        bytes.append(contentsOf: job.method.utf8)
        bytes.append(0x20)
        bytes.append(contentsOf: job.path.utf8)
        bytes.append(contentsOf: hostHeader)
        for (name, value) in job.headers {
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            bytes.append(contentsOf: value.utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        if job.method == "GET" {
            bytes.append(contentsOf: "\r\n".utf8)
        } else {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            bytes.append(contentsOf: String(job.body.count).utf8)
            bytes.append(contentsOf: "\r\n\r\n".utf8)
        }
        bytes.append(job.body)
        guard open.send(bytes) else {
            channel = nil
            return .failure(TransportError(description: reused ? "stale connection" : "write failed"))
        }
        return readResponse(open, parser: &parser, reused: reused)
    }

    /// Tries every address the name resolves to, IPv6 and IPv4, in the resolver's order.
    private func connect() -> Result<Int32, TransportError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &info)
        guard resolved == 0, info != nil else {
            return .failure(TransportError(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))"))
        }
        defer { freeaddrinfo(info) }
        var failures: [String] = []
        var next = info
        while let address = next {
            next = address.pointee.ai_next
            switch connect(address.pointee) {
            case .success(let fd): return .success(fd)
            case .failure(let error): failures.append(error.description)
            }
        }
        return .failure(TransportError(description: failures.joined(separator: "; ")))
    }

    private func connect(_ address: addrinfo) -> Result<Int32, TransportError> {
        let fd = socket(address.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(TransportError(description: "socket: \(String(cString: strerror(errno)))")) }
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(TransportError(description: "cannot connect to \(Self.describe(address)):\(port): \(reason)"))
        }
        return .success(fd)
    }

    /// The numeric address, for messages that say which of several addresses failed.
    private static func describe(_ address: addrinfo) -> String {
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address.ai_addr, address.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { return "?" }
        let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return address.ai_family == AF_INET6 ? "[\(name)]" : name
    }

    /// Reads one response through the shared ``HTTPMessageParser``: Content-Length, chunked, or to the close.
    private func readResponse(_ channel: Channel, parser: inout HTTPMessageParser, reused: Bool) -> Result<(status: Int, body: Data, close: Bool), TransportError> {
        var sawBytes = false
        while true {
            do {
                if let message = try parser.next() {
                    return .success((message.head.status, Data(message.body), !message.head.keepAlive))
                }
            } catch {
                return .failure(TransportError(description: "unreadable response: \(error)"))
            }
            let n = channel.receive(into: channel.scratchBuffer)
            if n > 0 {
                sawBytes = true
                parser.feed(UnsafeRawBufferPointer(rebasing: channel.scratchBuffer[..<n]))
                continue
            }
            if n == 0, let message = try? parser.finish() {
                return .success((message.head.status, Data(message.body), true))
            }
            return .failure(TransportError(description: reused && !sawBytes ? "stale connection" : "connection closed or timed out before the response"))
        }
    }
}

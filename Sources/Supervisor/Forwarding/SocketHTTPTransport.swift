import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization

/// A lean HTTP/1.1 client for the access server: a fixed set of keep-alive connections (TLS for `https://`,
/// through OpenSSL), each driven by its own thread with blocking I/O, requests queued to whichever is free.
///
/// URLSession on Linux spends several Dispatch hops and wake-ups per request; at thousands of reports a second
/// that, not the work, is the daemon's CPU. It also cannot trust a private CA, which OpenSSL can.
final class SocketHTTPTransport: Sendable {
    /// One finished exchange: the status and body, or the transport error.
    typealias Completion = @Sendable (Result<(status: Int, body: Data), TransportError>) -> Void

    /// A failure below HTTP: cannot connect, timeout, connection dropped, unreadable response.
    struct TransportError: Error, CustomStringConvertible {
        let description: String
    }

    private struct Job {
        let path: String
        let body: Data
        let headers: [(String, String)]
        let completion: Completion
    }

    private let host: String
    private let port: UInt16
    private let tls: OpenSSL?
    private let timeoutSeconds: Double
    private let jobs = Mutex<[Job]>([])
    private let available = DispatchSemaphore(value: 0)

    /// nil for a URL that is not http(s); throws when TLS cannot be set up (no libssl, unreadable CA file).
    init?(root: URL, connections: Int, timeoutSeconds: Double, caFile: String?) throws {
        guard let scheme = root.scheme, scheme == "http" || scheme == "https", let host = root.host,
              let port = UInt16(exactly: root.port ?? (scheme == "https" ? 443 : 80)) else { return nil }
        self.host = host
        self.port = port
        self.tls = scheme == "https" ? try OpenSSL(caFile: caFile) : nil
        self.timeoutSeconds = timeoutSeconds
        for index in 0..<max(1, connections) {
            try OSThread.start(name: "http-\(index)") { [self] in connectionLoop() }
        }
    }

    /// Queues `POST path` with a JSON body; `completion` runs on a connection thread.
    func post(path: String, body: Data, headers: [(String, String)], completion: @escaping Completion) {
        jobs.withLock { $0.append(Job(path: path, body: body, headers: headers, completion: completion)) }
        available.signal()
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

        /// Reads what is available onto `buffer`; false at EOF, error or timeout.
        func receive(appendingTo buffer: inout Data) -> Bool {
            let n = receive(into: scratch)
            guard n > 0 else { return false }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<n]))
            return true
        }

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
        var buffer = Data()
        while true {
            available.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            // A kept-alive connection the server has closed fails on first use: retry once on a fresh one.
            var result = exchange(job, channel: &channel, buffer: &buffer)
            if case .failure(let error) = result, error.description.hasPrefix("stale") {
                result = exchange(job, channel: &channel, buffer: &buffer)
            }
            var mustClose = false
            if case .success(let response) = result { mustClose = response.close } else { mustClose = true }
            if mustClose {
                channel = nil
                buffer.removeAll()
            }
            job.completion(result.map { (status: $0.status, body: $0.body) })
        }
    }

    private func exchange(_ job: Job, channel: inout Channel?, buffer: inout Data) -> Result<(status: Int, body: Data, close: Bool), TransportError> {
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
        var request = "POST \(job.path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
        for (name, value) in job.headers { request += "\(name): \(value)\r\n" }
        request += "Content-Length: \(job.body.count)\r\n\r\n"
        var bytes = Data(request.utf8)
        bytes.append(job.body)
        guard open.send(bytes) else {
            channel = nil
            return .failure(TransportError(description: reused ? "stale connection" : "write failed"))
        }
        return readResponse(open, buffer: &buffer, reused: reused)
    }

    private func connect() -> Result<Int32, TransportError> {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
            return .failure(TransportError(description: "cannot resolve \(host)"))
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(TransportError(description: "socket: \(String(cString: strerror(errno)))")) }
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(TransportError(description: "cannot connect to \(host):\(port): \(reason)"))
        }
        return .success(fd)
    }

    /// Reads one response: status line, headers, then a Content-Length or chunked body.
    private func readResponse(_ channel: Channel, buffer: inout Data, reused: Bool) -> Result<(status: Int, body: Data, close: Bool), TransportError> {
        let separator = Data("\r\n\r\n".utf8)
        while buffer.range(of: separator) == nil {
            guard fill(channel, buffer: &buffer) else {
                return .failure(TransportError(description: reused && buffer.isEmpty ? "stale connection" : "connection closed or timed out before the response"))
            }
        }
        let end = buffer.range(of: separator)!
        let head = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
        buffer = Data(buffer[end.upperBound...])
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            return .failure(TransportError(description: "unreadable status line: \(lines.first ?? "")"))
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data()
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                while buffer.range(of: Data("\r\n".utf8)) == nil {
                    guard fill(channel, buffer: &buffer) else { return .failure(TransportError(description: "chunked body cut short")) }
                }
                let lineEnd = buffer.range(of: Data("\r\n".utf8))!
                let sizeText = String(decoding: buffer[buffer.startIndex..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    return .failure(TransportError(description: "bad chunk size"))
                }
                buffer = Data(buffer[lineEnd.upperBound...])
                while buffer.count < size + 2 {
                    guard fill(channel, buffer: &buffer) else { return .failure(TransportError(description: "chunked body cut short")) }
                }
                body.append(buffer.prefix(size))
                buffer = Data(buffer.dropFirst(size + 2))
                if size == 0 { break }
            }
        } else {
            let length = headers["content-length"].flatMap(Int.init) ?? 0
            while buffer.count < length {
                guard fill(channel, buffer: &buffer) else { return .failure(TransportError(description: "body cut short")) }
            }
            body = Data(buffer.prefix(length))
            buffer = Data(buffer.dropFirst(length))
        }
        return .success((status, body, headers["connection"]?.lowercased() == "close"))
    }

    private func fill(_ channel: Channel, buffer: inout Data) -> Bool {
        channel.receive(appendingTo: &buffer)
    }
}

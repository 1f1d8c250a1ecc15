import Foundation
import Glibc
import Synchronization

/// A minimal HTTP/1.1 server that answers every POST at once, keeping connections alive: a stand-in fast enough
/// that the daemon, not the server, is what the forwarding benchmark measures. It answers Egeria 5's report path
/// with `VoidResponse`, and Egeria 6's token API (a token), search (nothing found) and element creation (a
/// `GUIDResponse`); it counts integration reports and `ConnectorActivityReport` creations.
final class FastStandIn: Sendable {
    let port: Int
    private let listener: Int32
    private let received = Atomic<Int>(0)

    init(port: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 128) == 0 else { throw DaemonUnderTest.BenchError(description: "stand-in cannot listen: \(errno)") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                var one: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                Thread.detachNewThread { [self] in serve(client) }
            }
        }
    }

    var count: Int { received.load(ordering: .relaxed) }

    func close() { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        func answer(_ body: String, type: String = "application/json") -> Data {
            Data("HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        }
        let void = answer("{\"class\":\"VoidResponse\",\"relatedHTTPCode\":200}")
        let token = answer("bench-token", type: "text/plain")
        let nothingFound = answer("{\"class\":\"OpenMetadataElementsResponse\",\"relatedHTTPCode\":200}")
        let activityMarker = Data("\"typeName\":\"ConnectorActivityReport\"".utf8)
        var created = 0
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // One request: headers up to the blank line, then Content-Length bytes of body.
            while buffer.range(of: Data("\r\n\r\n".utf8)) == nil {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))!
            let headers = String(decoding: buffer[buffer.startIndex..<headerEnd.lowerBound], as: UTF8.self).lowercased()
            let length = headers.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count - (headerEnd.upperBound - buffer.startIndex) < length {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let body = buffer[headerEnd.upperBound..<(headerEnd.upperBound + length)]
            let requestLine = headers.prefix { $0 != "\r" }
            var response = void
            if requestLine.contains("/api/token") {
                response = token
            } else if requestLine.contains("by-search-conditions") {
                response = nothingFound
            } else if requestLine.contains("/metadata-elements ") {
                created += 1
                response = answer("{\"class\":\"GUIDResponse\",\"relatedHTTPCode\":200,\"guid\":\"bench-\(client)-\(created)\"}")
                if body.range(of: activityMarker) != nil { received.add(1, ordering: .relaxed) }
            } else if requestLine.contains("integration-reports") {
                received.add(1, ordering: .relaxed)
            }
            buffer = Data(buffer[(headerEnd.upperBound + length)...])
            let sent = response.withUnsafeBytes { write(client, $0.baseAddress, response.count) }
            if sent != response.count { return }
        }
    }
}

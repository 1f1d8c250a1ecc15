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
        (listener, self.port) = try LoopbackListener.open(port: port)
        LoopbackListener.acceptForever(listener) { [self] client in serve(client) }
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

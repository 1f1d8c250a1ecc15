import Foundation
import Glibc

/// A minimal metadata access server for the groups benchmark: answers Egeria 6's token API, an integration group
/// by name, one page of `connectors` registrations per group, one page of `targets` catalog targets per connector,
/// and each target's connection, at once and keeping connections alive, so the daemon is what is measured.
final class GroupStandIn: Sendable {
    let port: Int
    private let listener: Int32
    private let connectors: Int
    private let targets: Int

    init(connectors: Int, targets: Int) throws {
        self.connectors = connectors
        self.targets = targets
        (listener, port) = try LoopbackListener.open(backlog: 512)
        LoopbackListener.acceptForever(listener) { [self] client in serve(client) }
    }

    func close() { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    private static func answer(_ body: String, type: String = "application/json") -> Data {
        Data("HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    /// The answer to one request line and body.
    private func respond(_ line: String, body: Data) -> Data {
        if line.contains("/api/token") { return Self.answer("bench-token", type: "text/plain") }
        if let range = line.range(of: "/integration-groups/by-name/") {
            let name = line[range.upperBound...].prefix { $0 != " " }
            return Self.answer(#"{"class":"IntegrationGroupElementResponse","relatedHTTPCode":200,"element":{"elementHeader":{"guid":"group-\#(name)"}}}"#)
        }
        if let range = line.range(of: "/integration-groups/group-") {
            let group = line[range.upperBound...].prefix { $0 != "/" }
            guard line.contains("startingFrom=0&") else { return Self.answer(#"{"class":"RegisteredIntegrationConnectorsResponse","relatedHTTPCode":200}"#) }
            let elements = (0..<connectors).map { c in
                #"{"elementHeader":{"guid":"connector-\#(group)-\#(c)"},"connectorId":"registration-\#(group)-\#(c)","properties":{"connection":{"connectorType":{"connectorProviderClassName":"chaos"},"configurationProperties":{"failure":"none"}}},"registrationProperties":{"connectorName":"c-\#(group)-\#(c)","refreshTimeInterval":0,"generateConnectorActivityReports":false}}"#
            }
            return Self.answer(#"{"class":"RegisteredIntegrationConnectorsResponse","relatedHTTPCode":200,"elements":[\#(elements.joined(separator: ","))]}"#)
        }
        if let range = line.range(of: "/related-elements/") {
            let connector = line[range.upperBound...].prefix { $0 != "/" }
            guard body.range(of: Data(#""startFrom":0,"#.utf8)) != nil else { return Self.answer(#"{"class":"RelatedMetadataElementListResponse","relatedHTTPCode":200}"#) }
            let elements = (0..<targets).map { t in
                #"{"relationshipGUID":"target-\#(connector)-\#(t)","relationshipProperties":{"propertyValueMap":{"catalogTargetName":{"class":"PrimitiveTypePropertyValue","primitiveValue":"t\#(t)"},"metadataSourceQualifiedName":{"class":"PrimitiveTypePropertyValue","primitiveValue":"\#(connector)-\#(t)"}}},"element":{"elementGUID":"asset-\#(connector)-\#(t)"}}"#
            }
            return Self.answer(#"{"class":"RelatedMetadataElementListResponse","relatedHTTPCode":200,"relatedElementList":{"elementList":[\#(elements.joined(separator: ","))]}}"#)
        }
        if line.contains("/connection ") {
            return Self.answer(#"{"class":"ConnectionResponse","relatedHTTPCode":200,"connection":{"endpoint":{"networkAddress":"/nonexistent"}}}"#)
        }
        return Self.answer(#"{"class":"VoidResponse","relatedHTTPCode":200}"#)
    }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        let blank = Data("\r\n\r\n".utf8)
        while true {
            while buffer.range(of: blank) == nil {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let headerEnd = buffer.range(of: blank)!
            let headers = String(decoding: buffer[buffer.startIndex..<headerEnd.lowerBound], as: UTF8.self)
            let length = headers.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count - (headerEnd.upperBound - buffer.startIndex) < length {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let body = Data(buffer[headerEnd.upperBound..<(headerEnd.upperBound + length)])
            let response = respond(String(headers.prefix { $0 != "\r" }), body: body)
            buffer = Data(buffer[(headerEnd.upperBound + length)...])
            let sent = response.withUnsafeBytes { write(client, $0.baseAddress, response.count) }
            if sent != response.count { return }
        }
    }
}

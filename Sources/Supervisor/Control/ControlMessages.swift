import Foundation
import Protocol

/// A live command sent to the running daemon over its control socket (one JSON line each way).
struct ControlRequest: Codable, Sendable {
    var command: String
    var connectorName: String?
    var service: String?
    /// `configure`: the properties to set, and whether they replace all others (Egeria's mergeUpdate = false).
    var properties: [String: JSONValue]?
    var replace: Bool?

    init(command: String, connectorName: String? = nil, service: String? = nil, properties: [String: JSONValue]? = nil, replace: Bool? = nil) {
        self.command = command
        self.connectorName = connectorName
        self.service = service
        self.properties = properties
        self.replace = replace
    }

    static let status = "status"
    static let metrics = "metrics"
    static let refresh = "refresh"
    static let restart = "restart"
    static let configure = "configure"
    static let reload = "reload"
    static let all = [status, metrics, refresh, restart, configure, reload]
}

/// The daemon's answer: a result, or an error message for the operator.
struct ControlResponse: Codable, Sendable {
    var result: JSONValue?
    var error: String?

    static func success<T: Encodable>(_ value: T) -> ControlResponse {
        do {
            let data = try JSONEncoder.daemon.encode(value)
            return ControlResponse(result: try JSONDecoder.daemon.decode(JSONValue.self, from: data))
        } catch {
            return ControlResponse(error: "cannot encode the answer: \(error)")
        }
    }

    static func failure(_ message: String) -> ControlResponse { ControlResponse(error: message) }
}

extension JSONEncoder {
    /// Sorted keys, dates as epoch milliseconds (Egeria's Jackson default).
    static var daemon: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = MessageEncoder.dateStrategy
        return encoder
    }
}

extension JSONDecoder {
    static var daemon: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = EpochMillis.decodingStrategy
        return decoder
    }
}

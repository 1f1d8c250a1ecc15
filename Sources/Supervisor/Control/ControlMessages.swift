import Foundation
import Protocol

/// A live command sent to the running daemon over its control socket (one JSON line each way).
struct ControlRequest: Codable, Sendable {
    var command: String
    init(command: String) { self.command = command }

    static let status = "status"
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
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}

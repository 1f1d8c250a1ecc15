/// A JSON-RPC error object; the standard codes are static members so no number is written twice.
public struct RPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603
    /// Server-defined: the call is valid but cannot be served now (e.g. the store is unavailable); retry later.
    public static let unavailableCode = -32001
    /// Server-defined: the handshake's protocol versions do not match.
    public static let protocolVersionMismatchCode = -32002
    /// Server-defined: the named connector or element does not exist.
    public static let notFoundCode = -32003

    public static func parseError(_ detail: String) -> RPCError { RPCError(code: parseErrorCode, message: "Parse error: \(detail)") }
    public static func invalidRequest(_ detail: String) -> RPCError { RPCError(code: invalidRequestCode, message: "Invalid request: \(detail)") }
    public static func methodNotFound(_ method: String) -> RPCError { RPCError(code: methodNotFoundCode, message: "Method not found: \(method)") }
    public static func invalidParams(_ method: String, _ detail: String) -> RPCError {
        RPCError(code: invalidParamsCode, message: "Invalid params for \(method): \(detail)")
    }
    public static func internalError(_ detail: String) -> RPCError { RPCError(code: internalErrorCode, message: "Internal error: \(detail)") }
    public static func unavailable(_ detail: String) -> RPCError { RPCError(code: unavailableCode, message: detail) }
    public static func notFound(_ detail: String) -> RPCError { RPCError(code: notFoundCode, message: detail) }

    public var description: String { "JSON-RPC error \(code): \(message)" }
}

extension RPCError {
    /// Server-defined: the call reaches outside the worker's own integration service (another service's
    /// connector or element). Not retryable.
    public static let outsideServiceCode = -32004

    public static func outsideService(_ detail: String) -> RPCError { RPCError(code: outsideServiceCode, message: "Refused: \(detail)") }
}

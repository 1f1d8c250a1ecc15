/// Encodes requests, notifications and responses as single JSON lines (newline included).
public struct MessageEncoder: Sendable {
    private let encoder: JSONEncoder

    public init() {
        let encoder = JSONEncoder()
        // Sorted keys cost nothing measurable and make lines comparable in logs and tests.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = Self.dateStrategy
        self.encoder = encoder
    }

    /// Dates as whole epoch milliseconds, as Egeria's Jackson writes them (clamped: never a trap).
    public static let dateStrategy = EpochMillis.encodingStrategy

    public func request<M: RPCMethod>(_ method: M.Type, id: RequestID, params: M.Params) throws -> Data {
        try line(RequestFrame(id: id, method: M.name, params: params))
    }

    public func notification<N: RPCNotification>(_ method: N.Type, params: N.Params) throws -> Data {
        try line(NotificationFrame(method: N.name, params: params))
    }

    public func response<R: Encodable>(id: RequestID, result: R) throws -> Data {
        try line(ResultFrame(id: id, result: result))
    }

    /// An error response; `id` is nil when the request's id could not be read (parse error).
    public func errorResponse(id: RequestID?, error: RPCError) -> Data {
        // Encoding an RPCError cannot fail: it holds only strings, numbers and JSON values.
        (try? line(ErrorFrame(id: id, error: error))) ?? Data("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"encoding failed\"}}\n".utf8)
    }

    /// Any encodable value as one line, for payloads that are not JSON-RPC frames (control socket, journal).
    public func line<T: Encodable>(_ value: T) throws -> Data {
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }
}

private struct RequestFrame<P: Encodable>: Encodable {
    let jsonrpc = "2.0"
    let id: RequestID
    let method: String
    let params: P
}

private struct NotificationFrame<P: Encodable>: Encodable {
    let jsonrpc = "2.0"
    let method: String
    let params: P
}

private struct ResultFrame<R: Encodable>: Encodable {
    let jsonrpc = "2.0"
    let id: RequestID
    let result: R
}

private struct ErrorFrame: Encodable {
    let jsonrpc = "2.0"
    let id: RequestID?
    let error: RPCError

    enum CodingKeys: String, CodingKey { case jsonrpc, id, error }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        // JSON-RPC requires "id": null when the id is unknown, so it is never omitted.
        if let id { try container.encode(id, forKey: .id) } else { try container.encodeNil(forKey: .id) }
        try container.encode(error, forKey: .error)
    }
}

/// One received line, decoded once and classified; typed params or results are decoded on demand by method.
public enum IncomingMessage: Sendable {
    case request(id: RequestID, method: String, line: Data)
    case notification(method: String, line: Data)
    case response(id: RequestID, outcome: Outcome)

    /// A response's outcome; the result stays as raw line bytes until the caller knows its type.
    public enum Outcome: Sendable {
        case result(line: Data)
        case error(RPCError)
    }

    /// Why a line could not be accepted, with the id to answer when one could be read.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        public let id: RequestID?
        public let error: RPCError
        /// false when the bad line was itself a response: answering it could start an endless error ping-pong.
        public let answerable: Bool

        public init(id: RequestID?, error: RPCError, answerable: Bool = true) {
            self.id = id
            self.error = error
            self.answerable = answerable
        }

        public var description: String { error.message }
    }

    /// Decodes and checks one line (without its newline) against JSON-RPC 2.0.
    public static func decode(_ line: Data) -> Result<IncomingMessage, Violation> {
        func invalid(_ detail: String, id: RequestID? = nil, answerable: Bool = true) -> Result<IncomingMessage, Violation> {
            .failure(Violation(id: id, error: .invalidRequest(detail), answerable: answerable))
        }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            return .failure(Violation(id: nil, error: .parseError("empty line")))
        }
        let header: Header
        do {
            header = try Self.jsonDecoder.decode(Header.self, from: line)
        } catch {
            // Only on the error path: look again to say exactly what is wrong.
            if String(data: line, encoding: .utf8) == nil {
                return .failure(Violation(id: nil, error: .parseError("line is not valid UTF-8")))
            }
            let value: JSONValue
            do { value = try Self.jsonDecoder.decode(JSONValue.self, from: line) } catch {
                return .failure(Violation(id: nil, error: .parseError("not valid JSON (\(Self.summary(of: error)))")))
            }
            if case .array = value { return invalid("batches are not supported; send one message per line") }
            return invalid("expected a JSON object, got \(value.typeName)")
        }
        // The id is read first so that later errors can still be answered to the right request.
        var id: RequestID?
        var idIsNull = false
        switch header.id {
        case nil: break
        case .null?: idIsNull = true
        case .int(let n)?: id = .number(n)
        case .string(let s)?: id = .string(s)
        case let other?: return invalid("\"id\" must be a string or an integer, got \(other.typeName)")
        }
        guard let version = header.jsonrpc else { return invalid("missing \"jsonrpc\": \"2.0\"", id: id) }
        guard version == .string("2.0") else { return invalid("\"jsonrpc\" must be \"2.0\", got \(version.compactDescription)", id: id) }
        if let methodValue = header.method {
            guard case .string(let method) = methodValue else {
                return invalid("\"method\" must be a string, got \(methodValue.typeName)", id: id)
            }
            guard !method.isEmpty else { return invalid("\"method\" is empty", id: id) }
            if header.hasResult || header.error != nil {
                return invalid("a message cannot have both \"method\" and \"result\"/\"error\"", id: id)
            }
            if let params = header.params {
                switch params {
                case .object, .array: break
                default: return invalid("\"params\" must be an object or an array, got \(params.typeName)", id: id)
                }
            }
            if idIsNull { return invalid("a request's \"id\" must not be null", id: nil) }
            if let id { return .success(.request(id: id, method: method, line: line)) }
            return .success(.notification(method: method, line: line))
        }

        switch (header.hasResult, header.error) {
        case (false, nil):
            return invalid("a message needs \"method\" (request) or \"result\"/\"error\" (response)", id: id)
        case (true, .some):
            return invalid("a response cannot have both \"result\" and \"error\"", id: id, answerable: false)
        case (true, nil):
            guard let id else { return invalid("a result response needs an \"id\"", answerable: false) }
            return .success(.response(id: id, outcome: .result(line: line)))
        case (false, .some(let errorValue)):
            guard let error = Self.rpcError(from: errorValue) else {
                return invalid("\"error\" must be an object with an integer \"code\" and a string \"message\"", id: id, answerable: false)
            }
            // An error answered to an unreadable request has a null id; it matches no pending call.
            guard let id else {
                return .failure(Violation(id: nil, error: RPCError(code: error.code, message: "peer reported: \(error.message)"), answerable: false))
            }
            return .success(.response(id: id, outcome: .error(error)))
        }
    }

    private static let jsonDecoder = JSONDecoder()

    /// The envelope fields of a message, read without decoding params or result (the bulk of a line).
    private struct Header: Decodable {
        var jsonrpc: JSONValue?
        var id: JSONValue?
        var method: JSONValue?
        /// `.object([:])` / `.array([])` stand for "an object" / "an array"; other kinds are kept as decoded.
        var params: JSONValue?
        var hasResult: Bool
        var error: JSONValue?

        private enum Key: String, CodingKey { case jsonrpc, id, method, params, result, error }
        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            jsonrpc = try Self.value(c, .jsonrpc)
            id = try Self.value(c, .id)
            method = try Self.value(c, .method)
            hasResult = c.contains(.result)
            error = try Self.value(c, .error)
            if c.contains(.params) {
                if (try? c.nestedContainer(keyedBy: AnyKey.self, forKey: .params)) != nil { params = .object([:]) }
                else if (try? c.nestedUnkeyedContainer(forKey: .params)) != nil { params = .array([]) }
                else { params = try Self.value(c, .params) }
            }
        }

        /// The value at `key`, `.null` for an explicit null, nil when absent.
        private static func value(_ c: KeyedDecodingContainer<Key>, _ key: Key) throws -> JSONValue? {
            guard c.contains(key) else { return nil }
            if try c.decodeNil(forKey: key) { return .null }
            return try c.decode(JSONValue.self, forKey: key)
        }
    }

    private static func rpcError(from value: JSONValue) -> RPCError? {
        guard case .object(let object) = value, let code = object["code"]?.intValue,
              let message = object["message"]?.stringValue else { return nil }
        return RPCError(code: code, message: message, data: object["data"])
    }

    static func summary(of error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                let underlying = (context.underlyingError).map { " \($0)" } ?? ""
                return (path.isEmpty ? "" : "at \(path): ") + context.debugDescription + underlying
            case .keyNotFound(let key, let context):
                let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
                return "missing field \(path)"
            @unknown default:
                return "\(decoding)"
            }
        }
        return "\(error)"
    }
}

/// Decodes the typed `params` or `result` of a line already classified by ``IncomingMessage``.
public struct PayloadDecoder: Sendable {
    private let decoder: JSONDecoder

    public init() {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = EpochMillis.decodingStrategy
        self.decoder = decoder
    }

    /// The params of a request or notification for method `M`, or an invalid-params error naming the field.
    public func params<M: RPCMethod>(_ method: M.Type, from line: Data) -> Result<M.Params, RPCError> {
        decodeParams(M.Params.self, name: M.name, from: line)
    }

    public func params<N: RPCNotification>(_ method: N.Type, from line: Data) -> Result<N.Params, RPCError> {
        decodeParams(N.Params.self, name: N.name, from: line)
    }

    public func result<M: RPCMethod>(_ method: M.Type, from line: Data) -> Result<M.Result, RPCError> {
        do {
            let result = try decoder.decode(ResultEnvelope<M.Result>.self, from: line).result
            if let problem = (result as? any RangeChecked)?.outOfRange {
                return .failure(.internalError("result of \(M.name) is out of range: \(problem)"))
            }
            return .success(result)
        } catch {
            return .failure(.internalError("result of \(M.name) is malformed: \(IncomingMessage.summary(of: error))"))
        }
    }

    /// Any value from a line, for non-RPC payloads (control socket, journal); range-checked like params.
    public func value<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let value = try decoder.decode(type, from: data)
        if let problem = (value as? any RangeChecked)?.outOfRange { throw OutOfRange(description: problem) }
        return value
    }

    /// A decoded value with a number outside its sane range, naming the field.
    public struct OutOfRange: Error, CustomStringConvertible {
        public let description: String
    }

    private func decodeParams<P: Decodable>(_ type: P.Type, name: String, from line: Data) -> Result<P, RPCError> {
        do {
            // Absent params are accepted when the method's params have no required field.
            let params = try decoder.decode(ParamsEnvelope<P>.self, from: line).params ?? decoder.decode(P.self, from: Data("{}".utf8))
            if let problem = (params as? any RangeChecked)?.outOfRange { return .failure(.invalidParams(name, problem)) }
            return .success(params)
        } catch {
            return .failure(.invalidParams(name, IncomingMessage.summary(of: error)))
        }
    }
}

private struct ParamsEnvelope<P: Decodable>: Decodable { let params: P? }
private struct ResultEnvelope<R: Decodable>: Decodable { let result: R }

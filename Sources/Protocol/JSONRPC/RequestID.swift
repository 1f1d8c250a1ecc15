/// A JSON-RPC request id: a number or a string, matched verbatim between a request and its response.
public enum RequestID: Codable, Sendable, Hashable, CustomStringConvertible {
    case number(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) { self = .number(number) }
        else { self = .string(try container.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        }
    }

    public var description: String {
        switch self {
        case .number(let n): String(n)
        case .string(let s): "\"\(s)\""
        }
    }
}

extension RequestID {
    /// The `"id"` of a line that is too long to decode, read off its first bytes, so the sender's call gets
    /// an error instead of waiting out its timeout. A best effort: the first `"id":` key followed by an
    /// integer or a plain string (senders put the envelope first; ours sorts keys, so `id` precedes
    /// `params`). nil when none is there.
    public static func peek(in prefix: Data) -> RequestID? {
        let bytes = [UInt8](prefix)
        let key = Array("\"id\"".utf8)
        guard bytes.count > key.count else { return nil }
        for start in 0...(bytes.count - key.count) where Array(bytes[start..<start + key.count]) == key {
            var i = start + key.count
            func skipSpace() { while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 } }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { continue }
            i += 1
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "\"") {
                guard let end = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "\"")),
                      !bytes[(i + 1)..<end].contains(UInt8(ascii: "\\")) else { return nil }
                return .string(String(decoding: bytes[(i + 1)..<end], as: UTF8.self))
            }
            let digits = bytes[i...].prefix { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
            guard let end = digits.indices.last.map({ $0 + 1 }), end < bytes.count,
                  [UInt8(ascii: ","), UInt8(ascii: "}"), 0x20].contains(bytes[end]) else { return nil }
            return Int(String(decoding: digits, as: UTF8.self)).map(RequestID.number)
        }
        return nil
    }
}

extension RequestID {
    /// The id of a parsed message (see ``JSONParser``): a whole number or a string; nil for anything else.
    public init?(json: JSONValue?) {
        switch json {
        case .int(let n)?: self = .number(n)
        case .string(let s)?: self = .string(s)
        default: return nil
        }
    }
}

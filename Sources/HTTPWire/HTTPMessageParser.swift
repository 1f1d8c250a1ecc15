/// An HTTP/1.1 message parser that is fed bytes as they arrive and hands back whole messages: requests for the
/// platform door, responses for the access-server client.
///
/// It holds no socket and does no I/O, so split reads, pipelined requests and hostile input are tested on the
/// value alone. Limits are checked before bytes are kept: a header block over ``Limits/maxHeaderBytes`` fails
/// with ``ParseError/headerTooLarge`` (431) and a body over ``Limits/maxBodyBytes`` with
/// ``ParseError/bodyTooLarge`` (413), however the bytes are split. A request with both `Content-Length` and
/// `Transfer-Encoding`, or two different lengths, is refused: that ambiguity is how requests are smuggled.
public struct HTTPMessageParser: Sendable {
    /// Whether the bytes are requests (a server) or responses (a client).
    public enum Kind: Sendable { case request, response }

    /// Size limits for one message.
    public struct Limits: Sendable {
        public var maxHeaderBytes = 16 * 1024
        public var maxBodyBytes = 4 << 20
        public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 4 << 20) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// Why the bytes are not an acceptable HTTP message; ``status`` is the answer a server gives.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case headerTooLarge(limit: Int)
        case bodyTooLarge(limit: Int)
        case malformed(String)
        case unsupported(String)

        public var status: Int {
            switch self {
            case .headerTooLarge: 431
            case .bodyTooLarge: 413
            case .malformed: 400
            case .unsupported: 501
            }
        }

        public var description: String {
            switch self {
            case .headerTooLarge(let limit): "header block over \(limit) bytes"
            case .bodyTooLarge(let limit): "body over \(limit) bytes"
            case .malformed(let reason): reason
            case .unsupported(let reason): reason
            }
        }
    }

    /// A request line or status line and the header fields, in order.
    public struct Head: Sendable {
        public var method = ""
        public var target = ""
        public var status = 0
        public var reason = ""
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        public var minorVersion = 1
        public var headers: [(name: String, value: String)] = []

        /// The first field named `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveEquals(name) }?.value
        }

        /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 closes unless told `keep-alive`.
        public var keepAlive: Bool {
            let tokens = (header("connection") ?? "").lowercased().split(separator: ",").map { $0.trimmed }
            return minorVersion >= 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
        }
    }

    /// One whole message.
    public struct Message: Sendable {
        public var head: Head
        public var body: [UInt8]
    }

    let kind: Kind
    let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.head
    private var head = Head()
    private var body: [UInt8] = []
    private var headScanned = 0
    /// Set by a client before each response to a HEAD request, whose response has no body.
    public var expectsBodylessResponse = false

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    public init(kind: Kind, limits: Limits = Limits()) {
        self.kind = kind
        self.limits = limits
    }

    /// Bytes held that are not yet part of a returned message.
    public var bufferedCount: Int { buffer.count - start }

    /// True between messages with nothing buffered: a connection closed now lost nothing.
    public var isIdle: Bool {
        if case .head = state { return bufferedCount == 0 }
        return false
    }

    /// The bytes just read; the concrete overload the doors and clients call, so no generic code crosses modules.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// The next whole message, nil when more bytes are needed. After an error the parser is unusable: the
    /// connection must be closed, since where the next message starts is unknown.
    public mutating func next() throws(ParseError) -> Message? {
        while true {
            switch state {
            case .head:
                guard try parseHead() else { return nil }
            case .fixed(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    state = .fixed(remaining: left)
                    return nil
                }
                return complete()
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, what: "chunk size line") else { return nil }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.trimmedBytes
                guard let size = Self.chunkSize(digits) else {
                    throw .malformed("bad chunk size \"\(String(decoding: line.prefix(40), as: UTF8.self))\"")
                }
                guard body.count + size <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    state = .chunkData(remaining: left)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard bufferedCount >= 2 else { return nil }
                guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else { throw .malformed("chunk not followed by CRLF") }
                start += 2
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped; an empty line ends the message.
                guard let line = try takeLine(limit: limits.maxHeaderBytes, what: "trailer") else { return nil }
                if line.isEmpty { return complete() }
            case .untilClose:
                body.append(contentsOf: buffer[start...])
                start = buffer.count
                guard body.count <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
                return nil
            }
        }
    }

    /// The peer closed: a response delimited by the close is complete; anything else half-read is cut short.
    public mutating func finish() throws(ParseError) -> Message? {
        switch state {
        case .untilClose: return complete()
        case .head where bufferedCount == 0: return nil
        default: throw .malformed("connection closed in the middle of a message")
        }
    }

    // MARK: - Head

    private mutating func parseHead() throws(ParseError) -> Bool {
        if kind == .request {
            // RFC 9112 §2.2: ignore empty lines before a request line.
            while bufferedCount >= 2 && buffer[start] == 0x0D && buffer[start + 1] == 0x0A { start += 2 }
        }
        guard let end = headEnd() else {
            if bufferedCount > limits.maxHeaderBytes { throw .headerTooLarge(limit: limits.maxHeaderBytes) }
            return false
        }
        guard end - start <= limits.maxHeaderBytes else { throw .headerTooLarge(limit: limits.maxHeaderBytes) }
        let headStart = start
        start = end + 4
        head = Head()
        body = []
        // Lines end in LF (CR dropped), walked in place: a response is parsed for every forwarded report.
        var lineStart = headStart
        var first = true
        while lineStart <= end {
            var lineEnd = lineStart
            while lineEnd < end && buffer[lineEnd] != 0x0A { lineEnd += 1 }
            var line = buffer[lineStart..<lineEnd]
            if line.last == 0x0D { line = line.dropLast() }
            lineStart = lineEnd + 1
            if first {
                first = false
                try parseStartLine(line)
                continue
            }
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw .malformed("header line without a name: \"\(String(decoding: line.prefix(60), as: UTF8.self))\"")
            }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(Self.isTokenByte) else { throw .malformed("bad header name \"\(String(decoding: name.prefix(60), as: UTF8.self))\"") }
            let value = line[line.index(after: colon)...].trimmedBytes
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw .malformed("control character in header \(String(decoding: name, as: UTF8.self))")
            }
            head.headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        if first { throw .malformed("empty head") }
        try chooseBody()
        return true
    }

    private mutating func parseStartLine(_ line: ArraySlice<UInt8>) throws(ParseError) {
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        var text: String { String(decoding: line.prefix(80), as: UTF8.self) }
        switch kind {
        case .request:
            guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(Self.isTokenByte), !parts[1].isEmpty,
                  parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .malformed("bad request line \"\(text)\"")
            }
            head.method = String(decoding: parts[0], as: UTF8.self)
            head.target = String(decoding: parts[1], as: UTF8.self)
            head.minorVersion = try Self.version(parts[2], line: text)
        case .response:
            guard parts.count >= 2, parts[1].count == 3, parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let status = Int(String(decoding: parts[1], as: UTF8.self)),
                  (100...599).contains(status) else {
                throw .malformed("bad status line \"\(text)\"")
            }
            head.minorVersion = try Self.version(parts[0], line: text)
            head.status = status
            head.reason = parts.count == 3 ? String(decoding: parts[2], as: UTF8.self) : ""
        }
    }

    private static let http11 = Array("HTTP/1.1".utf8)
    private static let http10 = Array("HTTP/1.0".utf8)

    private static func version(_ bytes: ArraySlice<UInt8>, line: @autoclosure () -> String) throws(ParseError) -> Int {
        if bytes.elementsEqual(http11) { return 1 }
        if bytes.elementsEqual(http10) { return 0 }
        throw .unsupported("unsupported HTTP version in \"\(line())\"")
    }

    private mutating func chooseBody() throws(ParseError) {
        let lengths = head.headers.filter { $0.name.caseInsensitiveEquals("content-length") }.map(\.value)
        let encodings = head.headers.filter { $0.name.caseInsensitiveEquals("transfer-encoding") }.map(\.value)
        if kind == .response && (expectsBodylessResponse || head.status < 200 || head.status == 204 || head.status == 304) {
            state = .fixed(remaining: 0)
            return
        }
        if !encodings.isEmpty {
            guard lengths.isEmpty else { throw .malformed("both Content-Length and Transfer-Encoding") }
            let codings = encodings.joined(separator: ",").lowercased().split(separator: ",").map { $0.trimmed }
            guard codings.last == "chunked", codings.count == 1 else {
                throw .unsupported("transfer coding \"\(encodings.joined(separator: ", "))\"; only chunked is accepted")
            }
            state = .chunkSize
            return
        }
        guard let first = lengths.first else {
            state = kind == .request ? .fixed(remaining: 0) : .untilClose
            return
        }
        guard lengths.allSatisfy({ $0 == first }), first.utf8.count <= 18, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(first) else {
            throw .malformed("bad Content-Length \"\(lengths.joined(separator: ", ").prefix(40))\"")
        }
        guard length <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        state = .fixed(remaining: length)
    }

    // MARK: - Bytes

    /// Moves up to `remaining` buffered bytes into the body; what is still to come.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let take = min(remaining, bufferedCount)
        body.append(contentsOf: buffer[start..<start + take])
        start += take
        return remaining - take
    }

    private mutating func complete() -> Message {
        let message = Message(head: head, body: body)
        head = Head()
        body = []
        state = .head
        return message
    }

    /// The offset of the CRLFCRLF that ends the head, if it has arrived.
    /// Bytes already searched are not searched again, so a head sent a byte at a time costs linear time.
    private mutating func headEnd() -> Int? {
        var index = start + headScanned
        while index + 3 < buffer.count {
            if buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D && buffer[index + 3] == 0x0A {
                headScanned = 0
                return index
            }
            index += 1
        }
        headScanned = index - start
        return nil
    }

    /// One CRLF-terminated line without its CRLF, nil until it has arrived.
    private mutating func takeLine(limit: Int, what: String) throws(ParseError) -> ArraySlice<UInt8>? {
        var index = start
        while index + 1 < buffer.count {
            if buffer[index] == 0x0D && buffer[index + 1] == 0x0A {
                let line = buffer[start..<index]
                start = index + 2
                return line
            }
            index += 1
        }
        if bufferedCount > limit { throw .malformed("\(what) over \(limit) bytes") }
        return nil
    }

    /// A chunk size: 1 to 15 hex digits and nothing else (RFC 9112 §7.1). `Int(_:radix:)` is not used because it
    /// takes a sign, and a negative size would pass every limit and reverse the body's range.
    static func chunkSize(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        var size = 0
        for byte in digits {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            size = size << 4 | digit
        }
        return size
    }

    /// RFC 9110 token characters, for methods and field names.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension ArraySlice<UInt8> {
    /// Without leading and trailing spaces and tabs.
    var trimmedBytes: ArraySlice<UInt8> {
        var slice = self
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmed: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    /// ASCII case-insensitive equality, as header names compare.
    public func caseInsensitiveEquals(_ other: String) -> Bool {
        func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
        return utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { lower($0) == lower($1) }
    }
}

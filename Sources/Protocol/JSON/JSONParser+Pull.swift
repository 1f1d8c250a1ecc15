/// Pull-style reading, for the hottest request (`reports/submit`): members and values are read in place, with no
/// ``JSONValue`` tree and no dictionaries in between. Every step is as strict as ``JSONParser/parse(_:)``; a
/// caller that meets anything it does not expect throws, and falls back to the full parse, whose errors name
/// the field.
extension JSONParser {
    /// Consumes `byte`, after any whitespace.
    mutating func expect(_ byte: UInt8) throws(ParseError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    /// Opens an object; false when it is empty (and already closed).
    mutating func openObject() throws(ParseError) -> Bool {
        try open(UInt8(ascii: "{"), UInt8(ascii: "}"))
    }

    /// Opens an array; false when it is empty (and already closed).
    mutating func openArray() throws(ParseError) -> Bool {
        try open(UInt8(ascii: "["), UInt8(ascii: "]"))
    }

    private mutating func open(_ opening: UInt8, _ closing: UInt8) throws(ParseError) -> Bool {
        try expect(opening)
        skipWhitespace()
        guard position < bytes.count, bytes[position] == closing else { return true }
        position += 1
        return false
    }

    /// A member's name as its raw bytes (one with an escape is refused: no name we look for has one), and the
    /// ':' after it.
    mutating func memberName() throws(ParseError) -> UnsafeRawBufferPointer {
        try expect(UInt8(ascii: "\""))
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
            guard bytes[position] != UInt8(ascii: "\\"), bytes[position] >= 0x20 else { throw error("escape or control character in a member name") }
            position += 1
        }
        guard position < bytes.count else { throw error("unterminated string") }
        let name = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        position += 1
        try expect(UInt8(ascii: ":"))
        return name
    }

    /// After a member or an element: true at ',' (another follows), false at `closing` (consumed).
    mutating func more(closing: UInt8) throws(ParseError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: ","): position += 1; return true
        case closing: position += 1; return false
        default: throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    mutating func stringValue() throws(ParseError) -> String {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string") }
        return try string()
    }

    /// True, having consumed it, when the next value is `null`.
    mutating func null() throws(ParseError) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A number: `.int` when it is integral and fits, else `.double`.
    mutating func numberValue() throws(ParseError) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
            throw error("expected a number")
        }
        return try number()
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `name`'s.
    func equals(_ name: StaticString) -> Bool {
        guard count == name.utf8CodeUnitCount else { return false }
        for index in 0..<count where self[index] != name.utf8Start[index] { return false }
        return true
    }
}

/// Writes ``JSONValue``s and the fields of hand-built records as compact JSON, keys sorted as
/// ``MessageEncoder`` sorts them, without `JSONEncoder`'s per-value boxing: the hot paths (an element per
/// file of a 100,000-file refresh) spend most of their time encoding otherwise.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Writes onto the end of `buffer` itself, with no buffer of its own to allocate and copy out of.
    public static func append(to buffer: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &buffer)
        body(&writer)
        swap(&writer.bytes, &buffer)
    }

    /// Bytes that are JSON already (a whole line, to queue).
    public mutating func raw(_ data: Data) { bytes.append(contentsOf: data) }

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// JSON text that is already written (a stored element's properties, written by this type): copied as is.
    public mutating func verbatim(_ json: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: json)
    }

    public mutating func verbatim(_ json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    /// Digits written in place: making a `String` first was a tenth of a reading thread's profile (a report's dates).
    public mutating func int(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: digits[start...])
        }
    }

    /// A finite double as Swift prints it (shortest round-trip form, valid JSON); a non-finite one as null,
    /// which JSON cannot hold otherwise.
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        bytes.append(contentsOf: value.description.utf8)
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let number): int(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members): object(members)
        }
    }

    public mutating func object(_ members: [String: JSONValue]) {
        sortedMembers(members) { writer, value in writer.value(value) }
    }

    /// A string-valued object, keys sorted as ``object(_:)`` sorts them, without building `JSONValue`s.
    public mutating func stringObject(_ members: [String: String]) {
        sortedMembers(members) { writer, value in writer.string(value) }
    }

    /// An array of strings.
    public mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object with its keys in sorted order, as `JSONEncoder`'s `.sortedKeys` writes them. One member (a
    /// report's usual `outcome`) needs no sort, which would allocate an array for every report stored.
    private mutating func sortedMembers<Value>(_ members: [String: Value], _ write: (inout JSONWriter, Value) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        func member(_ key: String, _ value: Value) {
            string(key)
            bytes.append(UInt8(ascii: ":"))
            write(&self, value)
        }
        if members.count == 1, let (key, value) = members.first {
            member(key, value)
        } else {
            for (index, entry) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                member(entry.key, entry.value)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// `"key":` with a leading comma unless `first`; for records whose fields are written in a fixed order.
    public mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }
}

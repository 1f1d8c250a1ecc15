/// Dates on the wire: whole milliseconds since 1970, as Egeria's Jackson writes them, range-checked both ways.
///
/// A peer's number is untrusted: `1e300` decodes as a `Double` but no `Int64` holds it, and converting it
/// traps. Decoding refuses anything outside ``range`` with an error that names the field; encoding clamps,
/// so a date that slipped in by another route can never trap the encoder either.
public enum EpochMillis {
    /// 0001-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z, the dates ISO 8601 and Java's Instant print.
    public static let range: ClosedRange<Double> = -62_135_596_800_000 ... 253_402_300_799_999

    public static let decodingStrategy = JSONDecoder.DateDecodingStrategy.custom { decoder in
        let container = try decoder.singleValueContainer()
        let millis = try container.decode(Double.self)
        guard range.contains(millis) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "date \(millis) ms since 1970 is out of range (year 1 to 9999)")
        }
        return Date(timeIntervalSince1970: millis / 1000)
    }

    public static let encodingStrategy = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(int64(date))
    }

    /// The date as whole milliseconds, clamped into ``range`` (and 0 for a NaN date).
    public static func int64(_ date: Date) -> Int64 {
        let millis = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard !millis.isNaN else { return 0 }
        return Int64(min(max(millis, range.lowerBound), range.upperBound))
    }
}

/// Decoded values whose numbers need more than their type to be sane (a count that must not be negative, a
/// duration that must be finite). ``PayloadDecoder`` checks them after decoding and answers -32602 naming
/// the field, so nothing downstream ever sees or converts an absurd number.
public protocol RangeChecked {
    /// The first out-of-range field as `path: what is wrong`, or nil when every number is sane.
    var outOfRange: String? { get }
}

extension RangeChecked {
    /// `"name: value must be in lo…hi"` when `value` is outside `range`.
    public static func check<T: Comparable>(_ name: String, _ value: T, _ range: ClosedRange<T>) -> String? {
        range.contains(value) ? nil : "\(name): \(value) is out of range (\(range.lowerBound)…\(range.upperBound))"
    }

    /// As ``check(_:_:_:)`` for a Double that must also be finite.
    public static func check(_ name: String, _ value: Double, _ range: ClosedRange<Double>) -> String? {
        value.isFinite && range.contains(value) ? nil : "\(name): \(value) is out of range (\(range.lowerBound)…\(range.upperBound))"
    }
}

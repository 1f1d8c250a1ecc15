/// The daemon's JSON for status, answers and Egeria bodies: the CLI, the doors and the forwarder write alike.
extension JSONEncoder {
    /// Sorted keys, dates as epoch milliseconds (Egeria's Jackson default).
    public static var daemon: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = MessageEncoder.dateStrategy
        return encoder
    }
}

extension JSONDecoder {
    /// Dates as epoch milliseconds, as ``JSONEncoder/daemon`` writes them.
    public static var daemon: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = EpochMillis.decodingStrategy
        return decoder
    }
}

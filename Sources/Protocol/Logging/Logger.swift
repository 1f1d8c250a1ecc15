import Glibc
import Synchronization

/// A small structured logger: a label, a level and metadata, written as one line per event to stderr.
///
/// The format is part of the worker → supervisor contract: the supervisor re-logs each worker stderr line with
/// `service=` added, keeping the worker's level when the line starts with one.
public struct Logger: Sendable {
    /// Severity, lowest first.
    public enum Level: String, Codable, Sendable, CaseIterable, Comparable {
        case trace, debug, info, notice, warning, error, critical

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public typealias Metadata = [String: LogValue]

    /// How lines are written: `text` for people, `json` (one object per line) for log pipelines.
    public enum Format: String, CaseIterable, Sendable { case text, json }

    private static let formatSetting = Mutex(Format.text)

    /// The process-wide output format; set once at start.
    public static var outputFormat: Format {
        get { formatSetting.withLock { $0 } }
        set { formatSetting.withLock { $0 = newValue } }
    }

    public var label: String
    public var level: Level
    public var metadata: Metadata

    public init(label: String, level: Level = .info, metadata: Metadata = [:]) {
        self.label = label
        self.level = level
        self.metadata = metadata
    }

    /// A copy with more metadata.
    public func with(_ extra: Metadata) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String, _ extra: Metadata = [:]) {
        guard level >= self.level else { return }
        var fields = metadata
        fields.merge(extra) { _, new in new }
        let line = Self.outputFormat == .json
            ? Self.jsonLine(level: level, label: label, message: message(), metadata: fields)
            : Self.format(level: level, label: label, message: message(), metadata: fields)
        LogSink.emit(line)
    }

    public func debug(_ message: @autoclosure () -> String, _ extra: Metadata = [:]) { log(.debug, message(), extra) }
    public func info(_ message: @autoclosure () -> String, _ extra: Metadata = [:]) { log(.info, message(), extra) }
    public func notice(_ message: @autoclosure () -> String, _ extra: Metadata = [:]) { log(.notice, message(), extra) }
    public func warning(_ message: @autoclosure () -> String, _ extra: Metadata = [:]) { log(.warning, message(), extra) }
    public func error(_ message: @autoclosure () -> String, _ extra: Metadata = [:]) { log(.error, message(), extra) }

    /// `2026-11-29T08:42:06.123Z info  label: message key=value ...` with a trailing newline.
    public static func format(level: Level, label: String, message: String, metadata: Metadata) -> String {
        var line = "\(timestamp()) \(level.rawValue + String(repeating: " ", count: max(0, 7 - level.rawValue.count))) \(label): \(message)"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quoted(metadata[key]!.description))"
        }
        return line + "\n"
    }

    /// `{"time":…,"level":…,"label":…,"message":…,<metadata>}` with a trailing newline.
    public static func jsonLine(level: Level, label: String, message: String, metadata: Metadata) -> String {
        var object = metadata
        object["time"] = .text(timestamp())
        object["level"] = .text(level.rawValue)
        object["label"] = .text(label)
        object["message"] = .text(message)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return "{\"message\":\"unencodable log line\"}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Splits a line in this format back into level and the rest, so a relay can keep the worker's level.
    public static func parseLevel(_ line: String) -> (Level, String)? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count == 3, let level = Level(rawValue: String(parts[1])) else { return nil }
        return (level, String(parts[2]))
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            ? "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\\\"") + "\"" : value
    }

    private static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(ts.tv_nsec) / 1_000_000
        func pad(_ n: Int32, _ width: Int = 2) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(millis), 3))Z"
    }
}

/// A log field's value: text, or a number, which a JSON log line writes as a JSON number so that pipelines can
/// compare and sum it (`"pid":4242`, not `"pid":"4242"`). A string literal or interpolation is text.
public enum LogValue: Sendable, Equatable, Encodable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation,
                      CustomStringConvertible {
    case text(String)
    case int(Int)
    case double(Double)

    public init(stringLiteral value: String) { self = .text(value) }

    public var description: String {
        switch self {
        case .text(let text): text
        case .int(let number): String(number)
        case .double(let number): String(number)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .int(let number): try container.encode(number)
        // JSON has no NaN or infinity: those are written as text.
        case .double(let number): if number.isFinite { try container.encode(number) } else { try container.encode(String(number)) }
        }
    }
}

import Foundation
import Protocol

/// The commands `integration-daemon` runs, and the options each takes: the one list that parsing, dispatch and
/// help are written from, so a new command is a compile error until each of them handles it.
enum Subcommand: String, CaseIterable, Sendable {
    case run, validate, status, refresh, restart, configure, reload, metrics, reports, elements, lineage, help
    case refreshConfig = "refresh-config"

    /// Commands that ask the running daemon over its control socket.
    var isLive: Bool {
        switch self {
        case .status, .refresh, .restart, .configure, .reload, .refreshConfig, .metrics: true
        case .run, .validate, .reports, .elements, .lineage, .help: false
        }
    }

    /// Options beyond `--config` and `--help`, which every command takes.
    var options: Set<String> {
        switch self {
        case .run: ["--log-format", "--log-level"]
        case .validate, .status, .metrics, .reload, .refreshConfig: ["--json"]
        case .refresh: ["--json", "--wait"]
        case .restart: ["--json", "--service"]
        case .configure: ["--json", "--set", "--replace"]
        case .reports: ["--json", "--connector", "--limit", "--offset", "--since", "--until"]
        case .elements: ["--json", "--type", "--qualified-name-prefix", "--limit"]
        case .lineage: ["--json", "--limit", "--offset"]
        case .help: []
        }
    }

    /// Whether the command takes a name as its argument: a connector's (a group's for refresh-config).
    var takesConnector: Bool { self == .refresh || self == .restart || self == .configure || self == .refreshConfig }
}

/// The parsed command line: a subcommand, its options and flags; unknown options are usage errors.
struct CommandLineArguments {
    var subcommand: Subcommand
    var config = "config/daemon.json"
    var json = false
    var help = false
    var version = false
    var connector: String?
    var limit: Int?
    /// `reports`: the page and time window.
    var offset = 0
    var since: Date?
    var until: Date?
    /// `elements`: filters.
    var typeName: String?
    var qualifiedNamePrefix: String?
    var service: String?
    /// `configure --set KEY=VALUE`, in order.
    var settings: [(String, String)] = []
    var replace = false
    /// `refresh --wait SECONDS`: the bound on waiting for the refresh.
    var waitSeconds: Double?
    var logFormat: String?
    var logLevel: String?
    /// `--placeholder NAME=VALUE`: fills Egeria's `~{NAME}~` in the configuration document.
    var placeholders: [String: String] = [:]

    /// A command line that cannot be understood; exits 64 with the message and a pointer to --help.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
        /// Print the overview after the message: nothing said which command was meant.
        var showsOverview = false
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> CommandLineArguments {
        var rest = arguments[...]
        guard let first = rest.first else { return CommandLineArguments(subcommand: .help) }
        if first == "--help" || first == "-h" { return CommandLineArguments(subcommand: .help) }
        if first == "--version" {
            guard rest.count == 1 else { throw UsageError(description: "--version takes nothing else") }
            var parsed = CommandLineArguments(subcommand: .help)
            parsed.version = true
            return parsed
        }
        // Options alone must not start a daemon: `integration-daemon --json` meant something else.
        if first.hasPrefix("-") {
            throw UsageError(description: "no command given before \(first); to start the daemon, say `integration-daemon run`", showsOverview: true)
        }
        guard let subcommand = Subcommand(rawValue: first) else {
            throw UsageError(description: "unknown command \"\(first)\"; commands: \(Subcommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var parsed = CommandLineArguments(subcommand: subcommand)
        rest = rest.dropFirst()
        while let option = rest.popFirst() {
            func value() throws(UsageError) -> String {
                guard let value = rest.popFirst(), !value.hasPrefix("--") else {
                    throw UsageError(description: "\(option) needs a value")
                }
                return value
            }
            let name = option.hasPrefix("--config=") ? "--config" : option
            if name.hasPrefix("-"), !["--config", "-c", "--help", "-h", "--placeholder"].contains(name), !subcommand.options.contains(name) {
                let known = Set(Subcommand.allCases.flatMap(\.options)).contains(name)
                let takers = Subcommand.allCases.filter { $0.options.contains(name) }.map(\.rawValue).joined(separator: ", ")
                throw UsageError(description: known ? "\(name) is not an option of \(subcommand.rawValue) (it is for: \(takers))"
                                                    : "unknown option \"\(option)\" for \(subcommand.rawValue)")
            }
            switch name {
            case "--config", "-c": parsed.config = option.hasPrefix("--config=") ? String(option.dropFirst("--config=".count)) : try value()
            case "--json": parsed.json = true
            case "--placeholder":
                let assignment = try value()
                guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                    throw UsageError(description: "--placeholder needs NAME=VALUE, got \"\(assignment)\"")
                }
                parsed.placeholders[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            case "--help", "-h": parsed.help = true
            case "--connector": parsed.connector = try value()
            case "--service": parsed.service = try value()
            case "--replace": parsed.replace = true
            case "--set":
                let assignment = try value()
                guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                    throw UsageError(description: "--set needs KEY=VALUE, got \"\(assignment)\"")
                }
                parsed.settings.append((String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...])))
            case "--log-format":
                let format = try value()
                guard Logger.Format(rawValue: format) != nil else { throw UsageError(description: "--log-format is text or json, got \"\(format)\"") }
                parsed.logFormat = format
            case "--log-level":
                let level = try value()
                guard Logger.Level(rawValue: level) != nil else {
                    throw UsageError(description: "--log-level is one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(level)\"")
                }
                parsed.logLevel = level
            case "--limit":
                let text = try value()
                guard let limit = Int(text), limit > 0 else { throw UsageError(description: "--limit needs a positive whole number, got \"\(text)\"") }
                parsed.limit = limit
            case "--wait":
                let text = try value()
                guard let seconds = Double(text), seconds >= 0, seconds <= RefreshCommand.maxWaitSeconds else {
                    throw UsageError(description: "--wait needs seconds from 0 to \(Int(RefreshCommand.maxWaitSeconds)), got \"\(text)\"")
                }
                parsed.waitSeconds = seconds
            case "--offset":
                let text = try value()
                guard let offset = Int(text), offset >= 0 else { throw UsageError(description: "--offset needs a whole number ≥ 0, got \"\(text)\"") }
                parsed.offset = offset
            case "--since": parsed.since = try Self.date(try value(), option: option)
            case "--until": parsed.until = try Self.date(try value(), option: option)
            case "--type": parsed.typeName = try value()
            case "--qualified-name-prefix": parsed.qualifiedNamePrefix = try value()
            default:
                if !option.hasPrefix("-") && subcommand.takesConnector && parsed.connector == nil {
                    parsed.connector = option
                    continue
                }
                throw UsageError(description: "unknown \(option.hasPrefix("-") ? "option" : "argument") \"\(option)\" for \(subcommand.rawValue)")
            }
        }
        if subcommand == .configure && !parsed.help && (parsed.connector == nil || parsed.settings.isEmpty) {
            throw UsageError(description: "configure needs a connector name and at least one --set KEY=VALUE")
        }
        if subcommand == .restart && !parsed.help && (parsed.connector == nil) == (parsed.service == nil) {
            throw UsageError(description: "restart needs either a connector name or --service NAME")
        }
        if let since = parsed.since, let until = parsed.until, until < since {
            throw UsageError(description: "--until (\(until)) is before --since (\(since))")
        }
        return parsed
    }

    /// A time for --since/--until: ISO 8601 (`2026-11-30T08:00:00Z`, with fractional seconds or an offset),
    /// a day (`2026-11-30`, midnight UTC), or an age back from now (`90s`, `15m`, `2h`, `7d`).
    static func date(_ text: String, option: String, now: Date = Date()) throws(UsageError) -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last, let seconds = units[unit], let amount = Double(text.dropLast()), amount >= 0, amount < 1e7 {
            return now.addingTimeInterval(-amount * seconds)
        }
        let formats: [ISO8601DateFormatter.Options] = [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]]
        for options in formats {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        throw UsageError(description: "\(option) needs a time like 2026-11-30T08:00:00Z, 2026-11-30 or 2h (ago), got \"\(text)\"")
    }
}

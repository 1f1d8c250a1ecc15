/// The parsed command line: a subcommand, its options and flags; unknown options are usage errors.
struct CommandLineArguments {
    var subcommand: String
    var config = "config/daemon.json"
    var json = false
    var help = false
    var connector: String?
    var limit: Int?

    /// A command line that cannot be understood; exits 64 with the message and a pointer to --help.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static let subcommands = ["run", "validate", "status", "reports", "elements", "help"]

    static func parse(_ arguments: [String]) throws(UsageError) -> CommandLineArguments {
        var rest = arguments[...]
        guard let first = rest.first else { return CommandLineArguments(subcommand: "help") }
        var parsed: CommandLineArguments
        if first == "--help" || first == "-h" { return CommandLineArguments(subcommand: "help") }
        if first.hasPrefix("-") {
            parsed = CommandLineArguments(subcommand: "run")
        } else {
            guard subcommands.contains(first) else {
                throw UsageError(description: "unknown command \"\(first)\"; commands: \(subcommands.joined(separator: ", "))")
            }
            parsed = CommandLineArguments(subcommand: first)
            rest = rest.dropFirst()
        }
        while let option = rest.popFirst() {
            func value() throws(UsageError) -> String {
                guard let value = rest.popFirst(), !value.hasPrefix("--") else {
                    throw UsageError(description: "\(option) needs a value")
                }
                return value
            }
            switch option {
            case "--config", "-c": parsed.config = try value()
            case "--json": parsed.json = true
            case "--help", "-h": parsed.help = true
            case "--connector" where ["reports"].contains(parsed.subcommand): parsed.connector = try value()
            case "--limit" where ["reports", "elements"].contains(parsed.subcommand):
                let text = try value()
                guard let limit = Int(text), limit > 0 else { throw UsageError(description: "--limit needs a positive whole number, got \"\(text)\"") }
                parsed.limit = limit
            default:
                if option.hasPrefix("--config=") { parsed.config = String(option.dropFirst("--config=".count)); continue }
                throw UsageError(description: "unknown option \"\(option)\" for \(parsed.subcommand)")
            }
        }
        return parsed
    }
}

import Foundation
import Protocol
import Store

/// `integration-daemon`: parses the command line, loads the configuration and runs one subcommand.
/// Exit codes: 0 success, 1 failure, 64 bad command line or configuration, 69 daemon not running.
@main
struct SupervisorCommand {
    static let version = "0.1.0"

    static func main() {
        exit(execute(Array(CommandLine.arguments.dropFirst())))
    }

    static func execute(_ arguments: [String]) -> Int32 {
        // A write to a daemon that closed (a refused control connection) must fail with EPIPE and be reported,
        // not kill the CLI silently.
        signal(SIGPIPE, SIG_IGN)
        let parsed: CommandLineArguments
        do { parsed = try CommandLineArguments.parse(arguments) } catch {
            Output.error("integration-daemon: \(error)\n" + (error.showsOverview ? "\n" + Usage.overview : "run `integration-daemon --help` for usage"))
            return 64
        }
        if parsed.version {
            Output.text("integration-daemon \(version)\n")
            return 0
        }
        if parsed.subcommand == .help || parsed.help {
            Output.text(Usage.text(for: parsed.subcommand))
            return 0
        }
        if let format = parsed.logFormat.flatMap(Logger.Format.init(rawValue:)) { Logger.outputFormat = format }
        let logger = Logger(label: "integration-daemon", level: parsed.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info)
        if parsed.subcommand.isLive {
            // Only the socket is needed: a config file broken since the daemon started must not stop an
            // operator from asking it, or from reloading to see the errors. A file that is not there at all is
            // another matter: the socket path would be made up, and "not running" would mislead a probe.
            let socketPath: String
            do { socketPath = try ConfigLoader.controlSocketPath(forConfig: parsed.config, placeholders: parsed.placeholders) } catch {
                Output.error("integration-daemon \(parsed.subcommand.rawValue): \(error)")
                return 64
            }
            return LiveCommands.run(parsed, socketPath: socketPath)
        }
        let config: DaemonConfig
        let warnings: [ConfigError.Issue]
        let readOnly = parsed.subcommand == .reports || parsed.subcommand == .elements
        do { (config, warnings) = try ConfigLoader.load(path: parsed.config, workerDirectory: executableDirectory(), checkProviders: !readOnly, placeholders: parsed.placeholders) } catch {
            if parsed.subcommand == .validate {
                return InspectCommands.invalid(error, json: parsed.json)
            }
            Output.error("\(error)")
            Output.error("\(error.issues.count) configuration error(s); nothing was started")
            return 64
        }
        if parsed.subcommand != .validate {
            for warning in warnings { logger.warning("\(config.file): \(warning)") }
        }
        switch parsed.subcommand {
        case .run: return RunCommand.run(config: config, logger: logger)
        case .validate: return InspectCommands.validate(config: config, warnings: warnings, json: parsed.json)
        case .reports:
            let query = EmbeddedStore.ReportQuery(connectorName: parsed.connector, since: parsed.since, until: parsed.until,
                                                  limit: parsed.limit, offset: parsed.offset)
            return InspectCommands.reports(config: config, query: query, json: parsed.json)
        case .elements:
            let query = EmbeddedStore.ElementQuery(typeName: parsed.typeName, qualifiedNamePrefix: parsed.qualifiedNamePrefix, limit: parsed.limit)
            return InspectCommands.elements(config: config, query: query, json: parsed.json)
        case .lineage: return InspectCommands.lineage(config: config, limit: parsed.limit, offset: parsed.offset, json: parsed.json)
        case .help, .status, .refresh, .restart, .configure, .reload, .refreshConfig, .metrics: return 64
        }
    }

    /// The folder holding this executable, where `integration-worker` is looked for first.
    static func executableDirectory() -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }
}

import Foundation
import Protocol

/// The commands that talk to a running daemon through its control socket: status, refresh, restart,
/// configure, reload, metrics.
enum LiveCommands {
    static let names: Set<String> = Set(ControlRequest.all)

    static func run(_ arguments: CommandLineArguments, socketPath: String) -> Int32 {
        if arguments.subcommand == ControlRequest.status { return InspectCommands.status(socketPath: socketPath, json: arguments.json) }
        var request = ControlRequest(command: arguments.subcommand, connectorName: arguments.connector, service: arguments.service)
        if arguments.subcommand == ControlRequest.configure {
            request.properties = Dictionary(arguments.settings.map { ($0.0, Self.value(of: $0.1)) }) { _, last in last }
            request.replace = arguments.replace
        }
        let response: ControlResponse
        do {
            // A refresh answers when the refresh has run, which can take as long as the connector needs.
            let timeout = arguments.subcommand == ControlRequest.refresh ? 3600 : 60
            response = try ControlClient.send(request, socketPath: socketPath, timeoutSeconds: timeout)
        } catch {
            Output.error("integration-daemon \(arguments.subcommand): \(error)")
            return 69
        }
        guard let result = response.result else {
            Output.error("integration-daemon \(arguments.subcommand): \(response.error ?? "no answer")")
            return 1
        }
        if arguments.subcommand == ControlRequest.metrics {
            if arguments.json { Output.json(["metrics": result]) } else { Output.text(result.stringValue ?? "") }
            return 0
        }
        if arguments.json {
            Output.json(result)
        } else {
            Output.text(render(arguments, result))
        }
        if arguments.subcommand == ControlRequest.refresh, let errors = result["errors"]?.arrayValue, !errors.isEmpty { return 1 }
        return 0
    }

    /// A `--set` value: JSON when it parses as JSON (numbers, true, {"a":1}, "quoted"), the text itself otherwise.
    static func value(of text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    private static func render(_ arguments: CommandLineArguments, _ result: JSONValue) -> String {
        switch arguments.subcommand {
        case ControlRequest.refresh:
            var table = TextTable("CONNECTOR", "STATUS", "CREATED", "UPDATED", "DELETED", "REPORT ID", "FAILURE")
            for refresh in result["refreshes"]?.arrayValue ?? [] {
                table.add(refresh["connectorName"]?.stringValue ?? "", refresh["connectorStatus"]?.stringValue ?? "",
                          "\(refresh["createdCount"]?.intValue ?? 0)", "\(refresh["updatedCount"]?.intValue ?? 0)",
                          "\(refresh["deletedCount"]?.intValue ?? 0)", refresh["reportId"]?.stringValue ?? "-",
                          refresh["failingExceptionMessage"]?.stringValue ?? "")
            }
            let errors = (result["errors"]?.arrayValue ?? []).compactMap(\.stringValue).map { "error: \($0)\n" }.joined()
            return table.render() + errors
        case ControlRequest.restart where arguments.service != nil:
            let previous = result["previousPid"]?.intValue.map { " (was pid \($0))" } ?? ""
            return "worker of \(arguments.service!) is being replaced\(previous); state: \(result["state"]?.stringValue ?? "?")\n"
        case ControlRequest.restart, ControlRequest.configure:
            let verb = arguments.subcommand == ControlRequest.restart ? "re-created" : "reconfigured and re-created"
            var text = "connector \(result["connectorName"]?.stringValue ?? "") \(verb): \(result["connectorStatus"]?.stringValue ?? "?")\n"
            if result["previousInstanceStopped"] == .bool(false) {
                text += "warning: the previous instance was stuck in a refresh and was abandoned; restart --service to clear it\n"
            }
            return text
        case ControlRequest.reload:
            let fields = ["added", "removed", "restarted", "reconfiguredConnectors", "addedConnectors", "removedConnectors", "unchanged"]
            return "configuration reloaded\n" + fields.map { field in
                let names = (result[field]?.arrayValue ?? []).compactMap(\.stringValue)
                return "  \(field): \(names.isEmpty ? "-" : names.joined(separator: ", "))\n"
            }.joined()
        default:
            return result.compactDescription + "\n"
        }
    }
}

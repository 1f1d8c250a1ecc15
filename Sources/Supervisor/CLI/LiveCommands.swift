import Foundation
import Protocol

/// The commands that talk to a running daemon through its control socket: status, refresh, restart,
/// configure, reload, metrics. Each sends one typed command and renders its typed answer.
enum LiveCommands {
    static func run(_ arguments: CommandLineArguments, socketPath: String) -> Int32 {
        switch arguments.subcommand {
        case .status:
            return send(StatusCommand(), arguments, socketPath) { InspectCommands.render($0) }
        case .metrics:
            return send(MetricsCommand(), arguments, socketPath) { $0.text }
        case .refresh:
            let command = RefreshCommand(connectorName: arguments.connector, waitSeconds: arguments.waitSeconds)
            return send(command, arguments, socketPath, waitSeconds: arguments.waitSeconds ?? RefreshCommand.defaultWaitSeconds, failed: { answer in
                // A connector that ended failed is a failed refresh, as a monitoring script must see.
                !answer.errors.isEmpty || answer.refreshes.contains { $0.connectorStatus.isFailure }
            }) { answer in
                var table = TextTable("CONNECTOR", "STATUS", "CREATED", "UPDATED", "DELETED", "REPORT ID", "FAILURE")
                for refresh in answer.refreshes {
                    table.add(refresh.connectorName, refresh.connectorStatus.rawValue, "\(refresh.createdCount)", "\(refresh.updatedCount)",
                              "\(refresh.deletedCount)", refresh.reportId ?? "-", refresh.failingExceptionMessage ?? "")
                }
                return table.render() + answer.errors.map { "error: \($0)\n" }.joined()
            }
        case .restart:
            if let service = arguments.service {
                return send(RestartServiceCommand(service: service), arguments, socketPath) { answer in
                    let previous = answer.previousPid.map { " (was pid \($0))" } ?? ""
                    return "worker of \(answer.integrationServiceURLMarker) is being replaced\(previous); state: \(answer.state)\n"
                }
            }
            return send(RestartCommand(connectorName: arguments.connector), arguments, socketPath, failed: { !$0.errors.isEmpty }) { answer in
                answer.connectors.map { render($0, verb: "re-created") }.joined() + answer.errors.map { "error: \($0)\n" }.joined()
            }
        case .configure:
            let properties = Dictionary(arguments.settings.map { ($0.0, Self.value(of: $0.1)) }) { _, last in last }
            let command = ConfigureCommand(connectorName: arguments.connector ?? "", properties: properties, replace: arguments.replace)
            return send(command, arguments, socketPath) { render($0, verb: "reconfigured and re-created") }
        case .reload:
            // Refused only for what the file says (invalid, a secret unreadable, a change needing a restart).
            return send(ReloadCommand(), arguments, socketPath, refusedExit: 64) { answer in
                let fields = [("added", answer.added), ("removed", answer.removed), ("restarted", answer.restarted),
                              ("reconfiguredConnectors", answer.reconfiguredConnectors), ("addedConnectors", answer.addedConnectors),
                              ("removedConnectors", answer.removedConnectors), ("unchanged", answer.unchanged)]
                return "configuration reloaded\n" + fields.map { "  \($0.0): \($0.1.isEmpty ? "-" : $0.1.joined(separator: ", "))\n" }.joined()
            }
        case .refreshConfig:
            // A group that could not be read is a failure a script must see; what runs stays as it was.
            return send(RefreshConfigCommand(groupName: arguments.connector), arguments, socketPath, failed: { answer in
                answer.groups.contains { $0.error != nil }
            }) { answer in
                answer.groups.map { group in
                    if let error = group.error { return "\(group.integrationGroupName): not read: \(error)\n" }
                    let fields = [("added", group.addedConnectors), ("changed", group.changedConnectors), ("removed", group.removedConnectors),
                                  ("unchanged", group.unchangedConnectors)]
                    return "\(group.integrationGroupName) (\(group.integrationGroupGUID ?? "-")) read\n"
                        + fields.map { "  \($0.0): \($0.1.isEmpty ? "-" : $0.1.joined(separator: ", "))\n" }.joined()
                        + group.skipped.map { "  not run: \($0)\n" }.joined()
                }.joined()
            }
        case .run, .validate, .reports, .elements, .lineage, .help:
            return 64
        }
    }

    /// Sends `command`, prints its answer (as JSON with --json, else rendered) and returns the exit code:
    /// 69 when the daemon cannot be reached, `refusedExit` when it refused, 1 when `failed` says the answer is a failure.
    private static func send<Command: DaemonCommand>(_ command: Command, _ arguments: CommandLineArguments, _ socketPath: String,
                                                     waitSeconds: Double = 60, refusedExit: Int32 = 1, failed: (Command.Answer) -> Bool = { _ in false },
                                                     render: (Command.Answer) -> String) -> Int32 {
        let answer: Command.Answer
        do { answer = try ControlClient.send(command, socketPath: socketPath, waitSeconds: waitSeconds) } catch {
            Output.error("integration-daemon \(arguments.subcommand.rawValue): \(error)")
            if case .refused = error { return refusedExit }
            return error.exitCode
        }
        if arguments.json { Output.json(answer) } else { Output.text(render(answer)) }
        return failed(answer) ? 1 : 0
    }

    private static func render(_ change: ConnectorChangeResult, verb: String) -> String {
        var text = "connector \(change.connectorName) \(verb): \(change.connectorStatus.rawValue)\n"
        if !change.previousInstanceStopped {
            text += "warning: the previous instance was stuck in a refresh and was abandoned; restart --service to clear it\n"
        }
        return text
    }

    /// A `--set` value: JSON when it parses as JSON (numbers, true, {"a":1}, "quoted"), the text itself otherwise.
    static func value(of text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }
}

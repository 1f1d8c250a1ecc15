import Foundation
import Protocol

/// A live command: one type per command, carrying the type of its answer, so that each door (the CLI's Unix
/// control socket, the Egeria REST platform door) encodes exactly one answer shape and the CLI decodes it once.
protocol DaemonCommand: Codable, Sendable {
    associatedtype Answer: Codable & Sendable
    static var name: CommandName { get }
}

/// The command names on the control socket's wire.
enum CommandName: String, Codable, CaseIterable, Sendable {
    case status, metrics, refresh, restart
    case restartService = "restart-service"
    case configure
    case setEndpoint = "set-endpoint"
    case setConnection = "set-connection"
    case reload
    case refreshConfig = "refresh-config"
}

/// How a command's answer is handed back; called exactly once, on any thread.
typealias Reply<Answer> = @Sendable (Result<Answer, OperatorError>) -> Void

/// A live command that cannot be carried out, with what the operator should know. `kind` lets the REST door
/// answer as Egeria would (400 for a bad name or argument, 500 for a daemon-side failure).
struct OperatorError: Error, Sendable {
    enum Kind: Sendable {
        /// The connector name is not one the daemon runs (Egeria's INTEGRATION-DAEMON-SERVICES-400-031).
        case unknownConnector(String)
        /// An argument is missing or wrong; names the parameter.
        case badArgument(parameter: String)
        /// The daemon or a worker could not do it now.
        case unavailable
    }

    var kind: Kind
    var message: String

    init(_ kind: Kind = .unavailable, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// The control socket's request line: `{"command": NAME, "arguments": {...}}`.
struct ControlRequest<Command: DaemonCommand>: Encodable {
    var command = Command.name
    var arguments: Command
}

/// The control socket's answer line: the command's answer, or an error message for the operator.
struct ControlAnswer<Answer: Codable & Sendable>: Codable, Sendable {
    var result: Answer?
    var error: String?
}

import Foundation
import Protocol

/// A command on its way to the supervision loop, bundled with the typed reply that takes its answer. The loop
/// switches over it exhaustively: a new command does not compile until the loop handles it.
enum CommandCall: Sendable {
    case status(StatusCommand, Reply<StatusCommand.Answer>)
    case metrics(MetricsCommand, Reply<MetricsCommand.Answer>)
    case refresh(RefreshCommand, Reply<RefreshCommand.Answer>)
    case restart(RestartCommand, Reply<RestartCommand.Answer>)
    case restartService(RestartServiceCommand, Reply<RestartServiceCommand.Answer>)
    case configure(ConfigureCommand, Reply<ConfigureCommand.Answer>)
    case setEndpoint(SetEndpointCommand, Reply<SetEndpointCommand.Answer>)
    case setConnection(SetConnectionCommand, Reply<SetConnectionCommand.Answer>)
    case reload(ReloadCommand, Reply<ReloadCommand.Answer>)
    case refreshConfig(RefreshConfigCommand, Reply<RefreshConfigCommand.Answer>)
}

/// The first look at a request line: which command it is.
private struct RequestHead: Decodable { var command: String }

/// The second look: that command's arguments (absent arguments decode as an empty object).
private struct RequestArguments<Command: DaemonCommand>: Decodable {
    var arguments: Command

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        arguments = try container.decodeIfPresent(Command.self, forKey: .arguments) ?? JSONDecoder.daemon.decode(Command.self, from: Data("{}".utf8))
    }

    private enum CodingKeys: String, CodingKey { case arguments }
}

/// Where a door sends any command's answer: the control socket encodes each answer type the same way.
protocol AnswerSink: Sendable {
    func take<Answer: Codable & Sendable>(_ result: Result<Answer, OperatorError>)
}

extension CommandCall {
    /// A control-socket request line decoded into its command: the name first, then that command's arguments.
    static func decode(_ line: Data, answer sink: some AnswerSink) throws(OperatorError) -> CommandCall {
        let head: RequestHead
        do { head = try JSONDecoder.daemon.decode(RequestHead.self, from: line) } catch {
            throw OperatorError(.badArgument(parameter: "command"), message: "expected one JSON line like {\"command\":\"status\",\"arguments\":{}}")
        }
        guard let name = CommandName(rawValue: head.command) else {
            throw OperatorError(.badArgument(parameter: "command"), message:
                "unknown command \"\(head.command)\"; this daemon answers: \(CommandName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func arguments<Command: DaemonCommand>(_ type: Command.Type) throws(OperatorError) -> Command {
            do { return try JSONDecoder.daemon.decode(RequestArguments<Command>.self, from: line).arguments } catch {
                throw OperatorError(.badArgument(parameter: "arguments"), message: "bad arguments for \(name.rawValue): \(error)")
            }
        }
        switch name {
        case .status: return .status(try arguments(StatusCommand.self)) { sink.take($0) }
        case .metrics: return .metrics(try arguments(MetricsCommand.self)) { sink.take($0) }
        case .refresh: return .refresh(try arguments(RefreshCommand.self)) { sink.take($0) }
        case .restart: return .restart(try arguments(RestartCommand.self)) { sink.take($0) }
        case .restartService: return .restartService(try arguments(RestartServiceCommand.self)) { sink.take($0) }
        case .configure: return .configure(try arguments(ConfigureCommand.self)) { sink.take($0) }
        case .setEndpoint: return .setEndpoint(try arguments(SetEndpointCommand.self)) { sink.take($0) }
        case .setConnection: return .setConnection(try arguments(SetConnectionCommand.self)) { sink.take($0) }
        case .reload: return .reload(try arguments(ReloadCommand.self)) { sink.take($0) }
        case .refreshConfig: return .refreshConfig(try arguments(RefreshConfigCommand.self)) { sink.take($0) }
        }
    }

    /// What a door answers when the wait runs out.
    var timeoutMessage: String {
        switch self {
        case .refresh:
            "the refresh is still running after \(Int(waitSeconds)) s; it goes on in its worker (see status), and a refresh past its refreshTimeoutSeconds replaces the worker"
        case .status, .metrics, .restart, .restartService, .configure, .setEndpoint, .setConnection, .reload, .refreshConfig:
            "the daemon did not answer within \(Int(waitSeconds)) s"
        }
    }

    /// How long a door waits for the loop's answer before answering for it.
    var waitSeconds: Double {
        switch self {
        case .refresh(let command, _): min(max(command.waitSeconds ?? RefreshCommand.defaultWaitSeconds, 0), RefreshCommand.maxWaitSeconds)
        case .status, .metrics, .restart, .restartService, .configure, .setEndpoint, .setConnection, .reload, .refreshConfig: 60
        }
    }
}

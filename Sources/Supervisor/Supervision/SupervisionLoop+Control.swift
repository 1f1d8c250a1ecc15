import Foundation
import Protocol

/// Live commands from the control socket. None blocks the loop: those that need a worker send it a request
/// and answer when its response (or its exit) arrives.
extension SupervisionLoop {
    func answer(_ request: ControlRequest, reply: @escaping @Sendable (ControlResponse) -> Void) {
        switch request.command {
        case ControlRequest.status: reply(.success(status()))
        case ControlRequest.metrics: reply(.success(JSONValue.string(metricsText())))
        case ControlRequest.refresh: refresh(connector: request.connectorName, reply: reply)
        case ControlRequest.restart: restart(request, reply: reply)
        case ControlRequest.configure: configure(request, reply: reply)
        case ControlRequest.reload: reload(reply: reply)
        default: reply(.failure("unknown command \"\(request.command)\"; this daemon answers: \(ControlRequest.all.joined(separator: ", "))"))
        }
    }

    /// The service hosting `connectorName`, or a message for the operator.
    func owner(of connectorName: String) -> Result<ServiceRuntime, OperatorError> {
        guard let service = services.first(where: { $0.config.connectors.contains { $0.connectorName == connectorName } }) else {
            let known = services.flatMap { $0.config.connectors.map(\.connectorName) }.sorted().joined(separator: ", ")
            return .failure(OperatorError(message: "no connector named \"\(connectorName)\"; connectors: \(known)"))
        }
        return .success(service)
    }

    private func refresh(connector: String?, reply: @escaping @Sendable (ControlResponse) -> Void) {
        var targets = services
        if let connector {
            switch owner(of: connector) {
            case .success(let service): targets = [service]
            case .failure(let error): return reply(.failure(error.message))
            }
        }
        let ready = targets.filter { $0.lifecycle.isReady }
        let collector = RefreshCollector(expected: targets.count, reply: reply)
        for service in targets where !service.lifecycle.isReady {
            collector.fail(service: service.config.urlMarker, "worker is \(service.stateName), not running")
        }
        for service in ready {
            send(RefreshConnectors.self, .init(connectorName: connector), call: .refresh(collector), to: service)
        }
    }

    private func restart(_ request: ControlRequest, reply: @escaping @Sendable (ControlResponse) -> Void) {
        if let marker = request.service {
            guard let service = services.first(where: { $0.config.urlMarker == marker }) else {
                return reply(.failure("no integration service \"\(marker)\"; services: \(services.map(\.config.urlMarker).joined(separator: ", "))"))
            }
            let previous = service.process?.pid
            service.logger.notice("restart of the worker requested by an operator")
            perform(service.lifecycle.restartRequested(now: MonotonicClock.now()), on: service)
            return reply(.success(JSONValue.object([
                "integrationServiceURLMarker": .string(marker), "previousPid": previous.map { .int(Int($0)) } ?? .null,
                "state": .string(service.stateName),
            ])))
        }
        guard let name = request.connectorName else { return reply(.failure("restart needs a connector name or --service NAME")) }
        changeConnector(name, reply: reply) { service in
            send(RestartConnector.self, .init(connectorName: name), call: .connectorChange(Self.relay(reply)), to: service)
        }
    }

    private func configure(_ request: ControlRequest, reply: @escaping @Sendable (ControlResponse) -> Void) {
        guard let name = request.connectorName, let properties = request.properties else {
            return reply(.failure("configure needs a connector name and at least one --set KEY=VALUE"))
        }
        changeConnector(name, reply: reply) { service in
            guard let index = service.config.connectors.firstIndex(where: { $0.connectorName == name }) else { return }
            var connector = service.config.connectors[index]
            var merged = request.replace == true ? [:] : (connector.connection.configurationProperties ?? [:])
            merged.merge(properties) { _, new in new }
            connector.connection.configurationProperties = merged
            // Kept in the service's config, so a later worker restart uses the new properties too.
            service.config.connectors[index] = connector
            service.logger.notice("configuration properties of \(name) \(request.replace == true ? "replaced" : "updated") by an operator",
                                  ["connector": name])
            send(ConfigureConnector.self, .init(connector: connector), call: .connectorChange(Self.relay(reply)), to: service)
        }
    }

    /// Runs `body` with the service hosting `name` when its worker can take the request.
    private func changeConnector(_ name: String, reply: @escaping @Sendable (ControlResponse) -> Void, _ body: (ServiceRuntime) -> Void) {
        switch owner(of: name) {
        case .failure(let error): reply(.failure(error.message))
        case .success(let service) where !service.lifecycle.isReady:
            reply(.failure("the \(service.config.urlMarker) worker is \(service.stateName), not running; try again, or restart --service \(service.config.urlMarker)"))
        case .success(let service): body(service)
        }
    }

    static func relay(_ reply: @escaping @Sendable (ControlResponse) -> Void) -> @Sendable (Result<ConnectorChangeResult, RPCError>) -> Void {
        { result in
            switch result {
            case .success(let change): reply(.success(change))
            case .failure(let error): reply(.failure(error.message))
            }
        }
    }
}

/// A live command that cannot be carried out, with what the operator should know.
struct OperatorError: Error {
    let message: String
}

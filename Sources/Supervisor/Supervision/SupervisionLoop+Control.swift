import Foundation
import Forwarding
import Protocol

/// Live commands from either door. None blocks the loop: those that need a worker send it a request and
/// answer when its response (or its exit) arrives.
extension SupervisionLoop {
    func run(_ call: CommandCall) {
        switch call {
        case .status(_, let reply): reply(.success(status()))
        case .metrics(_, let reply): reply(.success(.init(text: metricsText())))
        case .refresh(let command, let reply): refresh(connector: command.connectorName, reply: reply)
        case .restart(let command, let reply): restart(connector: command.connectorName, reply: reply)
        case .restartService(let command, let reply): restartService(command.service, reply: reply)
        case .configure(let command, let reply):
            if let field = ConnectorSecret.locationField(in: command.properties) { return reply(.failure(Self.secretRefusal(field))) }
            change(command.connectorName, verb: command.replace ? "properties replaced" : "properties updated", reply: reply) { connector in
                let current = connector.connection.configurationProperties
                var merged = command.replace ? [:] : (current ?? [:])
                merged.merge(command.properties) { _, new in new }
                connector.connection.configurationProperties = ConnectorSecret.keepingLocation(of: current, in: merged)
            }
        case .setEndpoint(let command, let reply):
            if Redaction.holdsCredential(address: command.address) {
                return reply(.failure(OperatorError(.badArgument(parameter: "address"), message: "address \(Redaction.credentialInAddress)")))
            }
            change(command.connectorName, verb: "endpoint set to \(command.address)", reply: reply) { connector in
                connector.connection.endpoint = Endpoint(address: command.address)
            }
        case .setConnection(let command, let reply):
            if let field = ConnectorSecret.locationField(in: command.connection.configurationProperties) {
                return reply(.failure(Self.secretRefusal("connection.configurationProperties.\(field)")))
            }
            if let address = command.connection.endpoint?.address, Redaction.holdsCredential(address: address) {
                return reply(.failure(OperatorError(.badArgument(parameter: "connection.endpoint.address"),
                                                    message: "connection.endpoint.address \(Redaction.credentialInAddress)")))
            }
            change(command.connectorName, verb: "connection replaced", reply: reply) { connector in
                var connection = command.connection
                connection.configurationProperties = ConnectorSecret.keepingLocation(of: connector.connection.configurationProperties,
                                                                                     in: connection.configurationProperties)
                connector.connection = connection
            }
        case .reload(_, let reply): reload(reply: reply)
        case .refreshConfig(let command, let reply): refreshConfig(command, reply: reply)
        }
    }

    /// Where a secret is read is the configuration file's to say: a door could otherwise have the daemon read any
    /// file it can, or another user's variable, and send it to a server of the caller's choosing.
    static func secretRefusal(_ field: String) -> OperatorError {
        OperatorError(.badArgument(parameter: field), message:
            "\(field) cannot be set through the door or the CLI: only the configuration file names where a connector's secret is read (edit it, then reload)")
    }

    /// The service hosting `connectorName`, or Egeria's unknown-connector error.
    func owner(of connectorName: String) -> Result<ServiceRuntime, OperatorError> {
        guard let service = services.first(where: { $0.config.connectors.contains { $0.connectorName == connectorName } }) else {
            let known = services.flatMap { $0.config.connectors.map(\.connectorName) }.sorted().joined(separator: ", ")
            return .failure(OperatorError(.unknownConnector(connectorName), message: "no connector named \"\(connectorName)\"; connectors: \(known)"))
        }
        return .success(service)
    }

    private func refresh(connector: String?, reply: @escaping Reply<RefreshCommand.Answer>) {
        var targets = services
        if let connector {
            switch owner(of: connector) {
            case .success(let service): targets = [service]
            case .failure(let error): return reply(.failure(error))
            }
        }
        let ready = targets.filter { $0.lifecycle.isReady }
        let collector = RefreshCollector(expected: targets.count) { outcomes, errors in
            if outcomes.isEmpty && !errors.isEmpty { return reply(.failure(OperatorError(message: errors.joined(separator: "; ")))) }
            reply(.success(.init(refreshes: outcomes.sorted { $0.connectorName < $1.connectorName }, errors: errors)))
        }
        for service in targets where !service.lifecycle.isReady {
            collector.fail(service: service.config.urlMarker, "worker is \(service.state.rawValue), not running")
        }
        for service in ready {
            send(RefreshConnectors.self, .init(connectorName: connector), call: .refresh(collector), to: service)
        }
    }

    /// One connector, or (nil) every connector of every service, as Egeria's restartConnectors.
    private func restart(connector name: String?, reply: @escaping Reply<RestartCommand.Answer>) {
        var targets: [(ServiceRuntime, [String])]
        if let name {
            switch owner(of: name) {
            case .success(let service): targets = [(service, [name])]
            case .failure(let error): return reply(.failure(error))
            }
        } else {
            targets = services.map { ($0, $0.config.connectors.map(\.connectorName)) }
        }
        let expected = targets.reduce(0) { $0 + $1.1.count }
        let collector = AnswerCollector<ConnectorChangeResult>(expected: expected) { changes, errors in
            if changes.isEmpty && !errors.isEmpty { return reply(.failure(OperatorError(message: errors.joined(separator: "; ")))) }
            reply(.success(.init(connectors: changes.sorted { $0.connectorName < $1.connectorName }, errors: errors)))
        }
        for (service, names) in targets {
            for connector in names {
                guard service.lifecycle.isReady else {
                    collector.fail(service: service.config.urlMarker, "worker is \(service.state.rawValue), not running; \(connector) was not restarted")
                    continue
                }
                service.logger.notice("restart of connector \(connector) requested by an operator", ["connector": .text(connector)])
                let marker = service.config.urlMarker
                send(RestartConnector.self, .init(connectorName: connector), call: .connectorChange({ result in
                    switch result {
                    case .success(let change): collector.succeed([change])
                    case .failure(let error): collector.fail(service: marker, "\(connector): \(error.message)")
                    }
                }), to: service)
            }
        }
    }

    private func restartService(_ marker: String, reply: @escaping Reply<RestartServiceCommand.Answer>) {
        guard let service = services.first(where: { $0.config.urlMarker == marker }) else {
            return reply(.failure(OperatorError(.badArgument(parameter: "service"), message:
                "no integration service \"\(marker)\"; services: \(services.map(\.config.urlMarker).joined(separator: ", "))")))
        }
        let previous = service.process?.pid
        service.logger.notice("restart of the worker requested by an operator")
        perform(service.lifecycle.restartRequested(now: MonotonicClock.now()), on: service)
        reply(.success(.init(integrationServiceURLMarker: marker, previousPid: previous, state: service.state.rawValue)))
    }

    /// Changes a connector's configuration, keeps it for later incarnations of the worker, and re-creates the
    /// connector in its live worker with it.
    private func change(_ name: String, verb: String, reply: @escaping Reply<ConnectorChangeResult>,
                        _ edit: (inout IntegrationConnectorConfig) -> Void) {
        let service: ServiceRuntime
        switch owner(of: name) {
        case .failure(let error): return reply(.failure(error))
        case .success(let owner): service = owner
        }
        guard service.lifecycle.isReady else {
            return reply(.failure(OperatorError(message:
                "the \(service.config.urlMarker) worker is \(service.state.rawValue), not running; try again, or restart --service \(service.config.urlMarker)")))
        }
        guard let index = service.config.connectors.firstIndex(where: { $0.connectorName == name }) else { return }
        var connector = service.config.connectors[index]
        edit(&connector)
        // A change the worker could not read, now or at its next start, would be kept and the service never start
        // again: refuse it before anything changes.
        let configure = ConfigureConnector.Params(connector: connector, secret: secret(of: connector, in: service))
        var changed = service.config
        changed.connectors[index] = connector
        let initialize = InitializeMessage.params(changed, daemon: config, logLevel: logger.level.rawValue, hostName: Self.hostName,
                                                  secrets: connectorSecrets(of: service))
        let sizes = [((try? encoder.request(ConfigureConnector.self, id: .number(Int.max), params: configure).count) ?? Int.max, "connectors/configure"),
                     (InitializeMessage.byteCount(initialize), "initialize")]
        if let (size, message) = sizes.first(where: { $0.0 > InitializeMessage.lineLimit }) {
            return reply(.failure(OperatorError(.badArgument(parameter: "connection"), message:
                "refused, nothing changed: connector \(name) would need a \(message) message of \(size) bytes, and its worker reads at most \(InitializeMessage.lineLimit)")))
        }
        service.config = changed
        service.logger.notice("connector \(name): \(verb) by an operator", ["connector": .text(name)])
        send(ConfigureConnector.self, configure, call: .connectorChange({ result in
            reply(result.mapError { OperatorError(message: $0.message) })
        }), to: service)
    }
}

import Protocol

/// Creates connectors from their config by provider name. Egeria's Java provider class names for the
/// connectors we implement map onto ours, so Egeria configs keep working.
struct ConnectorRegistry: Sendable {
    typealias Factory = @Sendable (IntegrationConnectorConfig, WorkerServices) throws -> any IntegrationConnector

    private var factories: [String: Factory] = [:]

    static let standard: ConnectorRegistry = {
        var registry = ConnectorRegistry()
        registry.register(["data-files-monitor",
                           "org.odpi.openmetadata.adapters.connectors.integration.basicfiles.DataFilesMonitorIntegrationProvider"]) { config, services in
            try DataFilesMonitor(config: config, hostQualifier: services.hostQualifier)
        }
        registry.register(PostgresMonitor.providerNames) { config, _ in try PostgresMonitor(config: config, server: false) }
        registry.register(PostgresMonitor.serverProviderNames) { config, _ in try PostgresMonitor(config: config, server: true) }
        registry.register(OpenLineageFilePublisher.providerNames) { config, _ in try OpenLineageFilePublisher(config: config) }
        registry.register(OpenLineageAPIPublisher.providerNames) { config, _ in try OpenLineageAPIPublisher(config: config) }
        registry.register(OpenLineageCataloguer.providerNames) { config, _ in OpenLineageCataloguer(config: config) }
        registry.register(["chaos"]) { config, services in
            try ChaosConnector(config: config, services: services)
        }
        return registry
    }()

    mutating func register(_ names: [String], _ factory: @escaping Factory) {
        for name in names { factories[name] = factory }
    }

    var providerNames: [String] { factories.keys.sorted() }

    /// The connector for `config`; throws a message naming the provider when it is unknown or the config is bad.
    func makeConnector(_ config: IntegrationConnectorConfig, services: WorkerServices) throws -> any IntegrationConnector {
        let provider = config.connection.connectorType.connectorProviderClassName
        guard let factory = factories[provider] else {
            throw ConnectorError("unknown connectorProviderClassName \"\(provider)\"; known: \(providerNames.joined(separator: ", "))")
        }
        return try factory(config, services)
    }
}

/// Process-level facilities some connectors need beyond their context (the chaos connector corrupts the wire).
struct WorkerServices: Sendable {
    let wire: LineWriter
    /// The worker's host name when it is not the daemon's: names of host-bound resources (files) carry it, so two
    /// hosts cataloguing the same path do not collide. nil on the daemon's own host, whose names stay plain paths.
    var hostQualifier: String?
}

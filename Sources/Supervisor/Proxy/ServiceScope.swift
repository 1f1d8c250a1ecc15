import Protocol
import Synchronization

/// What one integration service's worker may touch: reports of its own connectors, and elements of its
/// connectors' metadata sources (or, for a connector with none, elements its own service created).
///
/// Checked on the worker's reader thread for every proxied call, so a buggy connector in one service can
/// neither read, change nor delete another service's metadata, nor report in another connector's name.
/// The loop updates it whenever the service's connectors change (reload, configure).
final class ServiceScope: Sendable {
    let serviceName: String
    private let rules: Mutex<Rules>

    private struct Rules {
        /// connectorName → its metadata sources: its own metadataSourceQualifiedName (nil when it has none) and
        /// its catalog targets'.
        var sources: [String: Set<String?>] = [:]
        /// Kept beside `sources`, not derived per call: every proxied call asks, and a connector may have thousands
        /// of catalog targets.
        var namedSources: Set<String> = []
        var hasUnsourced = false
    }

    init(serviceName: String, connectors: [IntegrationConnectorConfig]) {
        self.serviceName = serviceName
        rules = Mutex(Self.rules(connectors))
    }

    func update(connectors: [IntegrationConnectorConfig]) { rules.withLock { $0 = Self.rules(connectors) } }

    /// Why `connectorName` is not this service's, or nil when it is.
    func refusal(connector connectorName: String) -> String? {
        rules.withLock { $0.sources[connectorName] == nil }
            ? "connector \"\(connectorName)\" does not belong to integration service \(serviceName)" : nil
    }

    /// Why the connector may not create an element filed under `source`, or nil when it may.
    func refusal(connector connectorName: String, creatingIn source: String?) -> String? {
        if let refused = refusal(connector: connectorName) { return refused }
        let own = rules.withLock { $0.sources[connectorName] ?? [] }
        guard own.contains(source) else {
            let allowed = own.map { $0.map { "\"\($0)\"" } ?? "unset" }.sorted().joined(separator: " or ")
            return "connector \"\(connectorName)\" may create elements only with metadataSourceQualifiedName \(allowed), not \(source.map { "\"\($0)\"" } ?? "unset")"
        }
        return nil
    }

    /// Whether the worker may see, update or delete `element`.
    func mayTouch(_ element: MetadataElement) -> Bool {
        mayTouch(source: element.metadataSourceQualifiedName, service: element.integrationService)
    }

    /// ``mayTouch(_:)`` for an element known by its metadata source and integration service.
    func mayTouch(source: String?, service: String?) -> Bool {
        rules.withLock { rules in
            if let source { return rules.namedSources.contains(source) }
            // Unsourced elements belong to the service that created them; ones written before services were
            // kept apart go to any service with an unsourced connector (and are claimed on their next update).
            return rules.hasUnsourced && (service == nil || service == serviceName)
        }
    }

    /// Why the worker may not touch `element`, naming it, or nil when it may.
    func refusal(element: MetadataElement) -> String? {
        mayTouch(element) ? nil
            : "element \(element.guid) (\(element.qualifiedName)) belongs to \(element.metadataSourceQualifiedName.map { "metadata source \"\($0)\"" } ?? "integration service \(element.integrationService ?? "unknown")"), not to integration service \(serviceName)"
    }

    private static func rules(_ connectors: [IntegrationConnectorConfig]) -> Rules {
        var rules = Rules()
        for connector in connectors { rules.sources[connector.connectorName] = Set(connector.metadataSources) }
        rules.namedSources = Set(rules.sources.values.flatMap { $0 }.compactMap { $0 })
        rules.hasUnsourced = rules.sources.values.contains { $0.contains(nil) }
        return rules
    }
}

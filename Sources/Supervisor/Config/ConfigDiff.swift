import Protocol

/// What a reload must change to go from the running configuration to a new one, service by service and
/// connector by connector, so that nothing unchanged is touched.
struct ConfigDiff: Equatable {
    /// Connector-level changes inside one live service.
    struct ConnectorChanges: Equatable {
        var service: ServiceConfig
        var added: [IntegrationConnectorConfig] = []
        var changed: [IntegrationConnectorConfig] = []
        var removed: [String] = []

        var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
    }

    var added: [ServiceConfig] = []
    var removed: [String] = []
    /// The worker command changed: the process itself must be replaced.
    var replaced: [ServiceConfig] = []
    var reconfigured: [ConnectorChanges] = []
    /// Only restart policy, memory limit or name changed: applied without touching the worker.
    var settingsChanged: [ServiceConfig] = []
    var unchanged: [String] = []
    /// Changes a reload cannot make; the whole reload is refused.
    var refusals: [String] = []

    static func between(_ old: DaemonConfig, _ new: DaemonConfig) -> ConfigDiff {
        var diff = ConfigDiff()
        if old.dataDirectory != new.dataDirectory {
            diff.refusals.append("dataDirectory changed (\(old.dataDirectory) → \(new.dataDirectory)); that needs a daemon restart")
        }
        if old.accessServer != new.accessServer {
            diff.refusals.append("accessServer changed; that needs a daemon restart (the spool and forwarder are set up at start)")
        }
        if old.integrationServices.compactMap(\.group) != new.integrationServices.compactMap(\.group) {
            diff.refusals.append("dynamicIntegrationGroupsConfig or groupRefreshSeconds changed; that needs a daemon restart (groups are followed from start)")
        }
        if old.platform != new.platform {
            diff.refusals.append("platform changed; that needs a daemon restart (the door's address, TLS and users are set up at start)")
        }
        let oldByMarker = Dictionary(uniqueKeysWithValues: old.integrationServices.map { ($0.urlMarker, $0) })
        let newMarkers = Set(new.integrationServices.map(\.urlMarker))
        diff.removed = old.integrationServices.map(\.urlMarker).filter { !newMarkers.contains($0) }
        for service in new.integrationServices {
            guard let previous = oldByMarker[service.urlMarker] else {
                diff.added.append(service)
                continue
            }
            if previous == service {
                diff.unchanged.append(service.urlMarker)
            } else if previous.command != service.command {
                diff.replaced.append(service)
            } else if previous.connectors != service.connectors {
                let changes = connectorChanges(from: previous, to: service)
                if changes.isEmpty {
                    // Same connectors in another order: nothing to do for them.
                    diff.settingsChanged.append(service)
                } else {
                    diff.reconfigured.append(changes)
                }
            } else {
                diff.settingsChanged.append(service)
            }
        }
        return diff
    }

    /// The connectors added, changed and removed between two versions of one service.
    static func connectorChanges(from previous: ServiceConfig, to service: ServiceConfig) -> ConnectorChanges {
        var changes = ConnectorChanges(service: service)
        let before = Dictionary(previous.connectors.map { ($0.connectorName, $0) }) { first, _ in first }
        let names = Set(service.connectors.map(\.connectorName))
        changes.removed = previous.connectors.map(\.connectorName).filter { !names.contains($0) }
        for connector in service.connectors {
            if let old = before[connector.connectorName] {
                if old != connector { changes.changed.append(connector) }
            } else {
                changes.added.append(connector)
            }
        }
        return changes
    }
}

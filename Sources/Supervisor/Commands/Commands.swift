import Foundation
import Protocol

/// `status`: every service's worker and every connector's Egeria status; answered from what the loop holds.
struct StatusCommand: DaemonCommand {
    typealias Answer = DaemonStatus
    static let name = CommandName.status
}

/// `metrics`: the Prometheus text exposition.
struct MetricsCommand: DaemonCommand {
    struct Answer: Codable, Sendable { var text: String }
    static let name = CommandName.metrics
}

/// `refresh [CONNECTOR]`: refreshes one connector, or every connector when nil, and answers once the refreshes
/// have run, or when `waitSeconds` runs out (the refreshes go on; status shows them).
struct RefreshCommand: DaemonCommand {
    var connectorName: String?
    /// The door's bound on the wait; nil for the daemon's default (see ``RefreshCommand/defaultWaitSeconds``).
    var waitSeconds: Double?

    /// Longer than the default refresh deadline (900 s), after which the worker is replaced and the wait ends anyway.
    static let defaultWaitSeconds = 960.0
    static let maxWaitSeconds = 86_400.0

    struct Answer: Codable, Sendable {
        var refreshes: [RefreshOutcome]
        /// One line per service that could not refresh ("files-integrator: worker is backoff, not running").
        var errors: [String]
    }

    static let name = CommandName.refresh
}

/// `restart [CONNECTOR]`: re-creates one connector inside its worker, or every connector when nil.
struct RestartCommand: DaemonCommand {
    var connectorName: String?

    struct Answer: Codable, Sendable {
        var connectors: [ConnectorChangeResult]
        var errors: [String]
    }

    static let name = CommandName.restart
}

/// `restart --service NAME`: replaces the worker process (and revives a FAILED service).
struct RestartServiceCommand: DaemonCommand {
    var service: String

    struct Answer: Codable, Sendable {
        var integrationServiceURLMarker: String
        var previousPid: Int32?
        var state: String
    }

    static let name = CommandName.restartService
}

/// `configure CONNECTOR --set K=V [--replace]`: Egeria's updateConfigurationProperties (`mergeUpdate` is
/// `!replace`); the connector is re-created with the new properties.
struct ConfigureCommand: DaemonCommand {
    typealias Answer = ConnectorChangeResult
    var connectorName: String
    var properties: [String: JSONValue]
    var replace: Bool
    static let name = CommandName.configure
}

/// Egeria's updateEndpointNetworkAddress: a new endpoint address, then the connector is re-created.
struct SetEndpointCommand: DaemonCommand {
    typealias Answer = ConnectorChangeResult
    var connectorName: String
    var address: String
    static let name = CommandName.setEndpoint
}

/// Egeria's updateConnectorConnection: the whole connection is replaced, then the connector is re-created.
struct SetConnectionCommand: DaemonCommand {
    typealias Answer = ConnectorChangeResult
    var connectorName: String
    var connection: Connection
    static let name = CommandName.setConnection
}

/// `reload`: re-reads the configuration file and applies only the difference.
struct ReloadCommand: DaemonCommand {
    struct Answer: Codable, Sendable {
        var added: [String]
        var removed: [String]
        var restarted: [String]
        var reconfiguredConnectors: [String]
        var addedConnectors: [String]
        var removedConnectors: [String]
        var unchanged: [String]
    }

    static let name = CommandName.reload
}

/// `refresh-config [GROUP]`: reads Egeria 6 integration groups from their metadata access server now (every group
/// when none is named) and applies what changed in their registrations, without Egeria's 10-minute debounce.
struct RefreshConfigCommand: DaemonCommand {
    /// The group's qualified name, or the service name it runs as.
    var groupName: String?

    struct Answer: Codable, Sendable {
        var groups: [GroupChange]
    }

    static let name = CommandName.refreshConfig
}

/// What one read of an integration group found and changed.
struct GroupChange: Codable, Sendable, Equatable {
    var integrationGroupName: String
    /// The IntegrationGroup element's GUID at the metadata access server, once read.
    var integrationGroupGUID: String?
    var addedConnectors: [String] = []
    var changedConnectors: [String] = []
    var removedConnectors: [String] = []
    var unchangedConnectors: [String] = []
    /// Registrations that cannot run, each with why.
    var skipped: [String] = []
    /// Why the group could not be read; what runs stays as it was.
    var error: String?
}

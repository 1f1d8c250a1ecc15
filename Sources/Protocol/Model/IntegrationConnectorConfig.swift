/// Egeria's `IntegrationConnectorConfig`, as the supervisor hands it to a worker (field names kept from Egeria).
public struct IntegrationConnectorConfig: Codable, Sendable, Equatable {
    public var connectorId: String
    public var connectorName: String
    public var connectorUserId: String?
    public var connection: Connection
    /// Minutes between refreshes, as in Egeria; 0 means at start and on request only.
    public var refreshTimeInterval: Double?
    /// Seconds between refreshes; takes precedence over `refreshTimeInterval` when set.
    public var refreshIntervalSeconds: Double?
    public var metadataSourceQualifiedName: String?
    public var permittedSynchronization: PermittedSynchronization?
    public var generateIntegrationReports: Bool?
    /// How long one refresh may run before the daemon replaces the worker (seconds; see ``refreshDeadlineSeconds``).
    public var refreshTimeoutSeconds: Double?
    /// The connector's `IntegrationConnector` element at the metadata access server, for one registered there in
    /// an integration group: status names it, and its reports are anchored to it.
    public var connectorGUID: String?
    /// What the connector works on, each refreshed on its own; absent or empty for a connector that works on its
    /// own endpoint.
    public var catalogTargets: [CatalogTarget]?

    /// A refresh that takes longer than this is wedged: 15 minutes unless configured.
    public static let defaultRefreshTimeoutSeconds = 900.0

    public var refreshDeadlineSeconds: Double { refreshTimeoutSeconds ?? Self.defaultRefreshTimeoutSeconds }

    public init(connectorId: String, connectorName: String, connectorUserId: String? = nil, connection: Connection,
                refreshTimeInterval: Double? = nil, refreshIntervalSeconds: Double? = nil,
                metadataSourceQualifiedName: String? = nil, permittedSynchronization: PermittedSynchronization? = nil,
                generateIntegrationReports: Bool? = nil, refreshTimeoutSeconds: Double? = nil, connectorGUID: String? = nil,
                catalogTargets: [CatalogTarget]? = nil) {
        self.connectorGUID = connectorGUID
        self.catalogTargets = catalogTargets
        self.connectorId = connectorId
        self.connectorName = connectorName
        self.connectorUserId = connectorUserId
        self.connection = connection
        self.refreshTimeInterval = refreshTimeInterval
        self.refreshIntervalSeconds = refreshIntervalSeconds
        self.metadataSourceQualifiedName = metadataSourceQualifiedName
        self.permittedSynchronization = permittedSynchronization
        self.generateIntegrationReports = generateIntegrationReports
        self.refreshTimeoutSeconds = refreshTimeoutSeconds
    }

    /// The refresh period in seconds, or nil for "at start and on request only".
    public var refreshPeriodSeconds: Double? {
        let seconds = refreshIntervalSeconds ?? (refreshTimeInterval ?? 0) * 60
        return seconds > 0 ? seconds : nil
    }

    /// Reports are on unless turned off (Egeria's static config defaults to off; a daemon that exists to keep
    /// reports is more useful with them on).
    public var reportsEnabled: Bool { generateIntegrationReports ?? true }
}

/// OCF `Connection`: which connector to create and what it connects to.
public struct Connection: Codable, Sendable, Equatable {
    public var connectorType: ConnectorType
    public var endpoint: Endpoint?
    public var configurationProperties: [String: JSONValue]?
    /// The user the connector signs in to the third party as (a database role). Its password is never here:
    /// `configurationProperties.passwordEnvironmentVariable` or `passwordFile` names where the daemon reads it.
    public var userId: String?

    public init(connectorType: ConnectorType, endpoint: Endpoint? = nil, configurationProperties: [String: JSONValue]? = nil,
                userId: String? = nil) {
        self.userId = userId
        self.connectorType = connectorType
        self.endpoint = endpoint
        self.configurationProperties = configurationProperties
    }
}

/// OCF `ConnectorType`; only the provider class name matters to us.
public struct ConnectorType: Codable, Sendable, Equatable {
    public var connectorProviderClassName: String
    public init(connectorProviderClassName: String) { self.connectorProviderClassName = connectorProviderClassName }
}

/// OCF `Endpoint`: the third party's address (a folder, a URL).
public struct Endpoint: Codable, Sendable, Equatable {
    public var address: String?
    public init(address: String?) { self.address = address }
}

/// Egeria's `PermittedSynchronization`.
public enum PermittedSynchronization: String, Codable, Sendable, CaseIterable {
    case BOTH_DIRECTIONS, TO_THIRD_PARTY, FROM_THIRD_PARTY, OTHER
}

/// One thing a connector works on (Egeria's `CatalogTarget` relationship): a folder, a database server or database,
/// with its own endpoint and settings over the connector's. A connector with targets refreshes each on its own.
public struct CatalogTarget: Codable, Sendable, Equatable {
    public var catalogTargetName: String
    /// The relationship's GUID at the metadata access server (absent for a target of the configuration file).
    public var relationshipGUID: String?
    /// The target element's GUID at the metadata access server.
    public var elementGUID: String?
    /// The target's endpoint: where the connector works for it.
    public var endpointAddress: String?
    /// Merged over the connector's own for this target only.
    public var configurationProperties: [String: JSONValue]?
    /// The target's elements are filed under this source (else the connector's).
    public var metadataSourceQualifiedName: String?
    public var permittedSynchronization: PermittedSynchronization?
    /// Egeria's `DeleteMethod` for the target's elements once it is removed.
    public var deleteMethod: String?

    public init(catalogTargetName: String, relationshipGUID: String? = nil, elementGUID: String? = nil, endpointAddress: String? = nil,
                configurationProperties: [String: JSONValue]? = nil, metadataSourceQualifiedName: String? = nil,
                permittedSynchronization: PermittedSynchronization? = nil, deleteMethod: String? = nil) {
        self.catalogTargetName = catalogTargetName
        self.relationshipGUID = relationshipGUID
        self.elementGUID = elementGUID
        self.endpointAddress = endpointAddress
        self.configurationProperties = configurationProperties
        self.metadataSourceQualifiedName = metadataSourceQualifiedName
        self.permittedSynchronization = permittedSynchronization
        self.deleteMethod = deleteMethod
    }
}

extension IntegrationConnectorConfig {
    /// The connector as it works on one target: the target's endpoint, the target's properties over a copy of the
    /// connector's (so nothing of one target reaches another; Egeria's PR 8435 fixed that leak), its source.
    public func forTarget(_ target: CatalogTarget) -> IntegrationConnectorConfig {
        var config = self
        config.catalogTargets = nil
        if let address = target.endpointAddress { config.connection.endpoint = Endpoint(address: address) }
        if let properties = target.configurationProperties {
            config.connection.configurationProperties = (connection.configurationProperties ?? [:]).merging(properties) { _, target in target }
        }
        config.metadataSourceQualifiedName = target.metadataSourceQualifiedName ?? metadataSourceQualifiedName
        config.permittedSynchronization = target.permittedSynchronization ?? permittedSynchronization
        return config
    }

    /// Every metadata source the connector files elements under: its own and its targets'.
    public var metadataSources: [String?] {
        [metadataSourceQualifiedName] + (catalogTargets ?? []).map { $0.metadataSourceQualifiedName ?? metadataSourceQualifiedName }
    }
}

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

    /// A refresh that takes longer than this is wedged: 15 minutes unless configured.
    public static let defaultRefreshTimeoutSeconds = 900.0

    public var refreshDeadlineSeconds: Double { refreshTimeoutSeconds ?? Self.defaultRefreshTimeoutSeconds }

    public init(connectorId: String, connectorName: String, connectorUserId: String? = nil, connection: Connection,
                refreshTimeInterval: Double? = nil, refreshIntervalSeconds: Double? = nil,
                metadataSourceQualifiedName: String? = nil, permittedSynchronization: PermittedSynchronization? = nil,
                generateIntegrationReports: Bool? = nil, refreshTimeoutSeconds: Double? = nil, connectorGUID: String? = nil) {
        self.connectorGUID = connectorGUID
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

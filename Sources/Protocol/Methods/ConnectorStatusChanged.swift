/// `connector/status` (worker → supervisor, notification): a connector's Egeria status changed or a refresh ended.
public enum ConnectorStatusChanged: RPCNotification {
    public static let name = "connector/status"

    /// The request parameters.
    public struct Params: Codable, Sendable, Equatable {
        public var connectorName: String
        public var connectorId: String
        public var connectorStatus: IntegrationConnectorStatus
        public var lastStatusChange: Date
        public var lastRefreshTime: Date?
        /// Set only while the status is a failure, as in Egeria.
        public var failingExceptionMessage: String?
        /// Refreshes completed by this incarnation of the connector.
        public var refreshCount: Int
        /// How long the last completed refresh took (optional; feeds the refresh-duration histogram).
        public var lastRefreshDurationSeconds: Double?
        /// For a connector with catalog targets: how each one's last refresh went.
        public var catalogTargets: [CatalogTargetStatus]?

        public init(connectorName: String, connectorId: String, connectorStatus: IntegrationConnectorStatus,
                    lastStatusChange: Date, lastRefreshTime: Date?, failingExceptionMessage: String?, refreshCount: Int,
                    lastRefreshDurationSeconds: Double? = nil, catalogTargets: [CatalogTargetStatus]? = nil) {
            self.catalogTargets = catalogTargets
            self.connectorName = connectorName
            self.connectorId = connectorId
            self.connectorStatus = connectorStatus
            self.lastStatusChange = lastStatusChange
            self.lastRefreshTime = lastRefreshTime
            self.failingExceptionMessage = failingExceptionMessage
            self.refreshCount = refreshCount
            self.lastRefreshDurationSeconds = lastRefreshDurationSeconds
        }
    }
}

extension ConnectorStatusChanged.Params: RangeChecked {
    public var outOfRange: String? {
        Self.check("refreshCount", refreshCount, 0...Int(Int32.max))
            ?? Self.check("catalogTargets (count)", catalogTargets?.count ?? 0, 0...CatalogTargetStatus.maxCount)
            ?? lastRefreshDurationSeconds.flatMap { Self.check("lastRefreshDurationSeconds", $0, 0...RefreshOutcome.maxSeconds) }
    }
}

/// One catalog target's last refresh, as its connector's worker saw it.
public struct CatalogTargetStatus: Codable, Sendable, Equatable {
    /// A worker reports at most this many targets of one connector.
    public static let maxCount = 10_000

    public var catalogTargetName: String
    public var lastRefreshTime: Date?
    /// Why its last refresh failed; nil once one succeeds.
    public var failingExceptionMessage: String?

    public init(catalogTargetName: String, lastRefreshTime: Date?, failingExceptionMessage: String?) {
        self.catalogTargetName = catalogTargetName
        self.lastRefreshTime = lastRefreshTime
        self.failingExceptionMessage = failingExceptionMessage
    }
}

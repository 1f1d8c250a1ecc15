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

        public init(connectorName: String, connectorId: String, connectorStatus: IntegrationConnectorStatus,
                    lastStatusChange: Date, lastRefreshTime: Date?, failingExceptionMessage: String?, refreshCount: Int,
                    lastRefreshDurationSeconds: Double? = nil) {
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
            ?? lastRefreshDurationSeconds.flatMap { Self.check("lastRefreshDurationSeconds", $0, 0...RefreshOutcome.maxSeconds) }
    }
}

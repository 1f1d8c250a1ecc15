/// `connectors/refresh` (supervisor → worker): refresh one connector, or all, now; answers when the refreshes ran.
public enum RefreshConnectors: RPCMethod {
    public static let name = "connectors/refresh"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        /// nil refreshes every connector of the worker.
        public var connectorName: String?
        public init(connectorName: String?) { self.connectorName = connectorName }
    }

    /// The answer.
    public struct Result: Codable, Sendable {
        public var refreshes: [RefreshOutcome]
        public init(refreshes: [RefreshOutcome]) { self.refreshes = refreshes }
    }
}

/// How one refresh ended, with the report it produced (if anything changed).
public struct RefreshOutcome: Codable, Sendable, Equatable {
    public var connectorName: String
    public var connectorStatus: IntegrationConnectorStatus
    public var reportId: String?
    public var createdCount: Int
    public var updatedCount: Int
    public var deletedCount: Int
    public var failingExceptionMessage: String?

    public init(connectorName: String, connectorStatus: IntegrationConnectorStatus, reportId: String?,
                createdCount: Int, updatedCount: Int, deletedCount: Int, failingExceptionMessage: String?) {
        self.connectorName = connectorName
        self.connectorStatus = connectorStatus
        self.reportId = reportId
        self.createdCount = createdCount
        self.updatedCount = updatedCount
        self.deletedCount = deletedCount
        self.failingExceptionMessage = failingExceptionMessage
    }
}

extension RefreshOutcome: RangeChecked {
    /// Ten years: longer than any refresh, small enough for every conversion.
    public static let maxSeconds = 315_576_000.0

    public var outOfRange: String? {
        Self.check("createdCount", createdCount, 0...Int(Int32.max)) ?? Self.check("updatedCount", updatedCount, 0...Int(Int32.max))
            ?? Self.check("deletedCount", deletedCount, 0...Int(Int32.max))
    }
}

extension RefreshConnectors.Result: RangeChecked {
    public var outOfRange: String? {
        refreshes.enumerated().lazy.compactMap { index, outcome in outcome.outOfRange.map { "refreshes[\(index)].\($0)" } }.first
    }
}

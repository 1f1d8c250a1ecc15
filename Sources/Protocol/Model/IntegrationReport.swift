/// Egeria's `IntegrationReportProperties` plus a unique `reportId`: what one refresh created, updated and deleted.
public struct IntegrationReport: Codable, Sendable, Equatable {
    /// Unique per report; the idempotency key when a report is stored or forwarded again after a crash.
    public var reportId: String
    public var serverName: String
    public var connectorId: String
    public var connectorName: String
    public var refreshStartDate: Date
    public var refreshCompletionDate: Date?
    /// GUIDs of the elements, as in Egeria.
    public var createdElements: [String]
    public var updatedElements: [String]
    public var deletedElements: [String]
    public var additionalProperties: [String: String]

    public init(reportId: String, serverName: String, connectorId: String, connectorName: String,
                refreshStartDate: Date, refreshCompletionDate: Date?, createdElements: [String],
                updatedElements: [String], deletedElements: [String], additionalProperties: [String: String]) {
        self.reportId = reportId
        self.serverName = serverName
        self.connectorId = connectorId
        self.connectorName = connectorName
        self.refreshStartDate = refreshStartDate
        self.refreshCompletionDate = refreshCompletionDate
        self.createdElements = createdElements
        self.updatedElements = updatedElements
        self.deletedElements = deletedElements
        self.additionalProperties = additionalProperties
    }
}

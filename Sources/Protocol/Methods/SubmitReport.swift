/// `reports/submit` (worker → supervisor): an integration report; answered only once it is durable.
public enum SubmitReport: RPCMethod {
    public static let name = "reports/submit"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var report: IntegrationReport
        public init(report: IntegrationReport) { self.report = report }
    }

    /// The answer.
    public struct Result: Codable, Sendable {
        public var reportId: String
        /// false when a report with this id was already stored (a replay): nothing was written twice.
        public var stored: Bool
        public init(reportId: String, stored: Bool) {
            self.reportId = reportId
            self.stored = stored
        }
    }
}

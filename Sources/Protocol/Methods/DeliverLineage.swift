/// `lineage/deliver` (supervisor → worker): OpenLineage events for one connector that takes them, in the order the
/// door stored them. The worker answers once the connector has handled every one (a file publisher: written and
/// synced); the supervisor then moves that connector's cursor past them, durably, and sends the next batch. One
/// batch per connector is in flight at a time, so a slow connector falls behind alone.
public enum DeliverLineage: RPCMethod {
    public static let name = "lineage/deliver"

    /// One stored event: its position in the store and the event as its producer sent it.
    public struct Event: Codable, Sendable {
        public var seq: Int
        public var event: JSONValue
        public init(seq: Int, event: JSONValue) {
            self.seq = seq
            self.event = event
        }
    }

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connectorName: String
        public var events: [Event]
        public init(connectorName: String, events: [Event]) {
            self.connectorName = connectorName
            self.events = events
        }
    }

    /// Every event of the batch was handled, up to and including `lastSeq`.
    public struct Result: Codable, Sendable, RangeChecked {
        public var connectorName: String
        public var lastSeq: Int
        public init(connectorName: String, lastSeq: Int) {
            self.connectorName = connectorName
            self.lastSeq = lastSeq
        }

        public var outOfRange: String? { Self.check("lastSeq", lastSeq, 0...Int(Int64.max)) }
    }
}

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

/// `lineage/progress` (worker → supervisor, notification): a connector has handled the events of its batch in
/// flight up to and including `seq`, before the whole batch is done. The supervisor moves the connector's cursor
/// there at once, so a worker stopped or killed mid-batch does not get those events again. A connector whose
/// every event reaches a third party (the API publisher: one HTTP request each) sends it after each one.
public enum LineageProgress: RPCNotification {
    public static let name = "lineage/progress"

    /// The notification parameters.
    public struct Params: Codable, Sendable, Equatable, RangeChecked {
        public var connectorName: String
        public var seq: Int
        public init(connectorName: String, seq: Int) {
            self.connectorName = connectorName
            self.seq = seq
        }

        public var outOfRange: String? { Self.check("seq", seq, 1...Int(Int64.max)) }
    }
}

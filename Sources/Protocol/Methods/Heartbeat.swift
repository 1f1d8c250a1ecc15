/// `heartbeat` (supervisor → worker): liveness. Answered by the worker's I/O loop, never by connector code.
public enum Heartbeat: RPCMethod {
    public static let name = "heartbeat"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var sequence: Int
        public init(sequence: Int) { self.sequence = sequence }
    }

    public typealias Result = Params
}

/// `heartbeat` (supervisor → worker): liveness. Answered by the worker's I/O loop, never by connector code.
public enum Heartbeat: RPCMethod {
    public static let name = "heartbeat"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var sequence: Int
        public init(sequence: Int) { self.sequence = sequence }
    }

    /// The answer: the sequence, and the worker's own facts (a remote worker's pid and memory are not what the
    /// daemon sees of its transport process). The facts are optional: an older worker sends the sequence only.
    public struct Result: Codable, Sendable {
        public var sequence: Int
        public var pid: Int32?
        public var hostName: String?
        public var residentMemoryBytes: Int?

        public init(sequence: Int, pid: Int32? = nil, hostName: String? = nil, residentMemoryBytes: Int? = nil) {
            self.sequence = sequence
            self.pid = pid
            self.hostName = hostName
            self.residentMemoryBytes = residentMemoryBytes
        }
    }
}

extension Heartbeat.Result: RangeChecked {
    public var outOfRange: String? {
        Self.check("pid", Int(pid ?? 1), 1...Int(Int32.max))
            ?? Self.check("residentMemoryBytes", residentMemoryBytes ?? 0, 0...(1 << 50))
            ?? ((hostName?.utf8.count ?? 0) > 255 ? "hostName: over 255 bytes" : nil)
    }
}

/// Exit codes a worker uses to say why it ended itself.
public enum WorkerExitCode {
    /// No heartbeat within the timeout, or stdin closed: the worker fenced itself.
    public static let fenced: Int32 = 3
    /// Over its `memoryLimitMegabytes`, measured by the worker itself.
    public static let memoryLimit: Int32 = 4
}

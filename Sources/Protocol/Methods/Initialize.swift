/// `initialize` (supervisor → worker): the handshake. The worker is ready once it has answered.
public enum Initialize: RPCMethod {
    public static let name = "initialize"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var protocolVersion: Int
        public var integrationServiceURLMarker: String
        public var serverName: String
        public var userId: String
        public var heartbeatIntervalSeconds: Double
        public var connectors: [IntegrationConnectorConfig]
        /// The daemon's log level (trace … critical), so the worker does not write lines that would be dropped.
        public var logLevel: String?
        /// A worker that gets no heartbeat for this long fences itself: it disconnects its connectors and exits,
        /// so a partitioned worker does not run on beside its replacement.
        public var heartbeatTimeoutSeconds: Double?
        /// The worker enforces this itself too (exit ``WorkerExitCode/memoryLimit``), for when the daemon cannot reach it.
        public var memoryLimitMegabytes: Int?
        /// The daemon's host name: a worker on another host qualifies the names of host-bound resources with its own.
        public var daemonHostName: String?
        /// Each connector's secret (a database password) by connector name, resolved by the daemon from the
        /// variable or file its config names: so a worker on another host gets it, and it is never in a
        /// worker's argv, environment or config text.
        public var connectorSecrets: [String: String]?
        /// For the worker of an Egeria 6 integration group: the group's qualified name, which its reports carry.
        public var integrationGroupName: String?

        public init(protocolVersion: Int, integrationServiceURLMarker: String, serverName: String, userId: String,
                    heartbeatIntervalSeconds: Double, connectors: [IntegrationConnectorConfig], logLevel: String? = nil,
                    heartbeatTimeoutSeconds: Double? = nil, memoryLimitMegabytes: Int? = nil, daemonHostName: String? = nil,
                    connectorSecrets: [String: String]? = nil, integrationGroupName: String? = nil) {
            self.connectorSecrets = connectorSecrets
            self.integrationGroupName = integrationGroupName
            self.daemonHostName = daemonHostName
            self.heartbeatTimeoutSeconds = heartbeatTimeoutSeconds
            self.memoryLimitMegabytes = memoryLimitMegabytes
            self.protocolVersion = protocolVersion
            self.integrationServiceURLMarker = integrationServiceURLMarker
            self.serverName = serverName
            self.userId = userId
            self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
            self.connectors = connectors
            self.logLevel = logLevel
        }
    }

    /// The answer.
    public struct Result: Codable, Sendable {
        public var protocolVersion: Int
        public var workerVersion: String
        public var pid: Int32
        /// The worker's own host name (a remote worker's is not the daemon's).
        public var hostName: String?
        /// The connectors that take OpenLineage events (``DeliverLineage``).
        public var lineageConnectors: [String]?
        public init(protocolVersion: Int, workerVersion: String, pid: Int32, hostName: String? = nil, lineageConnectors: [String]? = nil) {
            self.protocolVersion = protocolVersion
            self.workerVersion = workerVersion
            self.pid = pid
            self.hostName = hostName
            self.lineageConnectors = lineageConnectors
        }
    }
}

extension Initialize.Result: RangeChecked {
    public var outOfRange: String? {
        Self.check("pid", pid, 1...Int32.max) ?? Self.check("protocolVersion", protocolVersion, 0...Int(Int32.max))
            ?? ((hostName?.utf8.count ?? 0) > 255 ? "hostName: over 255 bytes" : nil)
    }
}

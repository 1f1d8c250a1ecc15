/// `connectors/restart` (supervisor → worker): disconnect one connector and create it again from its config.
public enum RestartConnector: RPCMethod {
    public static let name = "connectors/restart"
    public typealias Params = ConnectorNameParams
    public typealias Result = ConnectorChangeResult
}

/// `connectors/configure` (supervisor → worker): add a connector, or replace one's config and re-create it.
/// Other connectors are untouched.
public enum ConfigureConnector: RPCMethod {
    public static let name = "connectors/configure"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connector: IntegrationConnectorConfig
        /// The connector's secret, as in ``Initialize/Params/connectorSecrets``.
        public var secret: String?
        public init(connector: IntegrationConnectorConfig, secret: String? = nil) {
            self.connector = connector
            self.secret = secret
        }
    }

    public typealias Result = ConnectorChangeResult
}

/// `connectors/remove` (supervisor → worker): disconnect a connector and forget it.
public enum RemoveConnector: RPCMethod {
    public static let name = "connectors/remove"
    public typealias Params = ConnectorNameParams
    public typealias Result = ConnectorChangeResult
}

/// The parameters of a call about one connector, named.
public struct ConnectorNameParams: Codable, Sendable {
    public var connectorName: String
    public init(connectorName: String) { self.connectorName = connectorName }
}

/// The outcome of a restart, configure or remove of one connector.
public struct ConnectorChangeResult: Codable, Sendable, Equatable {
    public var connectorName: String
    /// The new instance's status (SHUTDOWN after a remove).
    public var connectorStatus: IntegrationConnectorStatus
    /// false when the old instance was stuck in a refresh and did not disconnect in time; it is abandoned
    /// (restart the service to get rid of it).
    public var previousInstanceStopped: Bool
    /// Whether the new instance takes OpenLineage events (`lineage/deliver`), so a connector added or changed
    /// while its worker runs gets them at once; absent is false.
    public var takesLineage: Bool?

    public init(connectorName: String, connectorStatus: IntegrationConnectorStatus, previousInstanceStopped: Bool, takesLineage: Bool? = nil) {
        self.connectorName = connectorName
        self.connectorStatus = connectorStatus
        self.previousInstanceStopped = previousInstanceStopped
        self.takesLineage = takesLineage
    }
}

import Protocol
import Synchronization

/// What a connector may use: its identity and configuration, metadata access through the supervisor, and
/// logging. Every element write made during a refresh is recorded for that refresh's integration report.
final class ConnectorContext: Sendable {
    let config: IntegrationConnectorConfig
    let userId: String
    let logger: Logger
    private let client: SupervisorClient
    private let recording = Mutex(Recording())

    /// Element GUIDs written since `startRecording`, in order, each at most once per list.
    struct Recording {
        var created: [String] = []
        var updated: [String] = []
        var deleted: [String] = []
        /// Created or updated already, so repeated updates are listed once without an O(n) search.
        var written: Set<String> = []

        var isEmpty: Bool { created.isEmpty && updated.isEmpty && deleted.isEmpty }
    }

    init(config: IntegrationConnectorConfig, userId: String, client: SupervisorClient, logger: Logger) {
        self.config = config
        self.userId = config.connectorUserId ?? userId
        self.client = client
        self.logger = logger
    }

    var connectorName: String { config.connectorName }
    var metadataSourceQualifiedName: String? { config.metadataSourceQualifiedName }
    var endpointAddress: String? { config.connection.endpoint?.address }
    var configurationProperties: [String: JSONValue] { config.connection.configurationProperties ?? [:] }

    // MARK: - Metadata access

    func createElement(typeName: String, qualifiedName: String, properties: [String: JSONValue]) throws -> MetadataElement {
        try checkWritesPermitted()
        let element = try client.call(CreateElement.self, .init(
            connectorName: connectorName, typeName: typeName, qualifiedName: qualifiedName,
            properties: properties, metadataSourceQualifiedName: metadataSourceQualifiedName)).element
        recording.withLock {
            $0.created.append(element.guid)
            $0.written.insert(element.guid)
        }
        return element
    }

    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool = false) throws -> MetadataElement {
        try checkWritesPermitted()
        let element = try client.call(UpdateElement.self, .init(
            connectorName: connectorName, guid: guid, properties: properties, replaceProperties: replace)).element
        recording.withLock { if $0.written.insert(guid).inserted { $0.updated.append(guid) } }
        return element
    }

    func deleteElement(guid: String) throws {
        try checkWritesPermitted()
        _ = try client.call(DeleteElement.self, .init(connectorName: connectorName, guid: guid))
        recording.withLock { $0.deleted.append(guid) }
    }

    /// Elements of this connector's metadata source (all elements when it has none) matching the filters.
    func findElements(typeName: String? = nil, qualifiedNamePrefix: String? = nil) throws -> [MetadataElement] {
        try client.call(FindElements.self, .init(
            typeName: typeName, metadataSourceQualifiedName: metadataSourceQualifiedName,
            qualifiedNamePrefix: qualifiedNamePrefix)).elements
    }

    private func checkWritesPermitted() throws {
        if config.permittedSynchronization == .TO_THIRD_PARTY {
            throw ConnectorError("connector \(connectorName) may not write open metadata: permittedSynchronization is TO_THIRD_PARTY")
        }
    }

    // MARK: - Report recording (used by ConnectorHost)

    func startRecording() { recording.withLock { $0 = Recording() } }

    func finishRecording() -> Recording { recording.withLock { $0 } }
}

import Protocol
import Synchronization

/// What a connector may use: its identity and configuration, metadata access through the supervisor, and
/// logging. Every element write made during a refresh is recorded for that refresh's integration report.
final class ConnectorContext: Sendable {
    let config: IntegrationConnectorConfig
    let userId: String
    let logger: Logger
    /// The secret the daemon read for this connector (its database password), if its config names one.
    let secret: String?
    private let client: SupervisorClient
    private let recording = Mutex(Recording())
    /// Set by the host: shows why the connector is waiting on a third party, beside its WAITING status.
    private let waitingHandler = Mutex<(@Sendable (String?) -> Void)?>(nil)

    /// Element GUIDs written since `startRecording`, in order, each at most once per list.
    struct Recording {
        var created: [String] = []
        var updated: [String] = []
        var deleted: [String] = []
        /// Created or updated already, so repeated updates are listed once without an O(n) search.
        var written: Set<String> = []
        /// Relationships made (including the parent link of a create) and removed; reports count them.
        var relationshipsCreated = 0
        var relationshipsDeleted = 0
        /// Classifications added, replaced or removed; each also lists its element as updated.
        var classificationsChanged = 0
        /// What the connector did besides writing elements (OpenLineage events published, forwarded,
        /// dead-lettered), by name; a report carries each count.
        var activity: [String: Int] = [:]

        var isEmpty: Bool {
            created.isEmpty && updated.isEmpty && deleted.isEmpty && relationshipsCreated == 0 && relationshipsDeleted == 0
                && activity.isEmpty
        }

        /// The counts a report carries in `additionalProperties`, beside Egeria's GUID lists.
        var structureCounts: [String: String] {
            var counts: [String: String] = [:]
            if relationshipsCreated > 0 { counts["relationshipsCreated"] = String(relationshipsCreated) }
            if relationshipsDeleted > 0 { counts["relationshipsDeleted"] = String(relationshipsDeleted) }
            if classificationsChanged > 0 { counts["classificationsChanged"] = String(classificationsChanged) }
            for (name, count) in activity { counts[name] = String(count) }
            return counts
        }
    }

    init(config: IntegrationConnectorConfig, userId: String, secret: String? = nil, client: SupervisorClient, logger: Logger) {
        self.secret = secret
        self.config = config
        self.userId = config.connectorUserId ?? userId
        self.client = client
        self.logger = logger
    }

    var connectorName: String { config.connectorName }
    var metadataSourceQualifiedName: String? { config.metadataSourceQualifiedName }
    var endpointAddress: String? { config.connection.endpoint?.address }
    var configurationProperties: [String: JSONValue] { config.connection.configurationProperties ?? [:] }

    func setWaitingHandler(_ handler: @escaping @Sendable (String?) -> Void) { waitingHandler.withLock { $0 = handler } }

    /// Says, while the connector keeps working, that it waits on a third party and why (nil: no longer):
    /// status shows it as WAITING with the reason, as for a refresh whose third party is unreachable.
    func waiting(_ reason: String?) {
        waitingHandler.withLock { $0 }?(reason)
    }

    /// Counts work that is not an element write, for the integration report of this refresh or batch.
    func count(_ activity: String, _ amount: Int = 1) {
        guard amount > 0 else { return }
        recording.withLock { $0.activity[activity, default: 0] += amount }
    }

    /// Tells the daemon that this connector handled every OpenLineage event of its batch up to `seq`, so a
    /// worker stopped or killed now does not get them again. Best effort: if it cannot be sent, stdout is gone
    /// and the whole batch comes again to the next worker.
    func lineageHandled(upTo seq: Int) {
        try? client.notify(LineageProgress.self, .init(connectorName: connectorName, seq: seq))
    }

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

    /// Applies many writes in order, in as few `metadata/writeElements` requests as fit under the line limit,
    /// and returns one outcome per write. A failed write fails alone; the refresh decides what that means.
    func write(_ writes: [ElementWrite]) throws -> [WriteOutcome] {
        try checkWritesPermitted()
        var outcomes: [WriteOutcome] = []
        outcomes.reserveCapacity(writes.count)
        var start = writes.startIndex
        while start < writes.endIndex {
            var end = start, bytes = 0
            while end < writes.endIndex && end - start < WriteElements.maxWrites
                    && (end == start || bytes + writes[end].estimatedBytes <= Self.batchTargetBytes) {
                bytes += writes[end].estimatedBytes
                end += 1
            }
            let batch = Array(writes[start..<end])
            let answer = try client.call(WriteElements.self, .init(
                connectorName: connectorName, metadataSourceQualifiedName: metadataSourceQualifiedName, writes: batch))
            guard answer.outcomes.count == batch.count else {
                throw ConnectorError("metadata/writeElements answered \(answer.outcomes.count) outcomes for \(batch.count) writes")
            }
            record(batch, answer.outcomes)
            outcomes += answer.outcomes
            start = end
        }
        return outcomes
    }

    /// As ``write(_:)``, for a refresh that needs every write to succeed. If any failed it throws after all
    /// were tried: the retryable error (-32001, the access server or store cannot take writes now) when one
    /// got it, so the refresh is retried rather than FAILED; otherwise an error counting the failures and
    /// quoting the first.
    func writeAll(_ writes: [ElementWrite]) throws {
        try Self.check(writes, try write(writes))
    }

    /// Throws as ``writeAll(_:)`` does when any of `outcomes` (of `writes`) failed.
    static func check(_ writes: [ElementWrite], _ outcomes: [WriteOutcome]) throws {
        var failures: [(ElementWrite, RPCError)] = []
        for (write, outcome) in zip(writes, outcomes) {
            if case .failed(let error) = outcome { failures.append((write, error)) }
        }
        guard let first = failures.first else { return }
        if let retryable = failures.first(where: { $0.1.code == RPCError.unavailableCode }) {
            throw RPCError.unavailable("\(failures.count) of \(writes.count) element writes not done (\(retryable.0.summary): \(retryable.1.message))")
        }
        throw ConnectorError("\(failures.count) of \(writes.count) element writes failed; the first: \(first.0.summary): \(first.1.message)")
    }

    /// Requests stay near this size, far under the 1 MiB line limit, so one line never stalls the wire long.
    static let batchTargetBytes = 256 << 10

    private func record(_ writes: [ElementWrite], _ outcomes: [WriteOutcome]) {
        recording.withLock { recording in
            for (write, outcome) in zip(writes, outcomes) {
                guard case .written(let guid) = outcome else { continue }
                switch write {
                case .create(_, _, _, let parent, let classifications):
                    recording.created.append(guid)
                    recording.written.insert(guid)
                    if parent != nil { recording.relationshipsCreated += 1 }
                    recording.classificationsChanged += classifications.count
                case .update:
                    if recording.written.insert(guid).inserted { recording.updated.append(guid) }
                case .delete:
                    recording.deleted.append(guid)
                case .relate:
                    recording.relationshipsCreated += 1
                case .unrelate:
                    recording.relationshipsDeleted += 1
                case .classify, .declassify:
                    recording.classificationsChanged += 1
                    if recording.written.insert(guid).inserted { recording.updated.append(guid) }
                }
            }
        }
    }

    /// Elements of this connector's metadata source (all elements when it has none) matching the filters.
    /// Every page of them: the daemon answers at most ``FindElements/pageTargetBytes`` at a time.
    func findElements(typeName: String? = nil, qualifiedNamePrefix: String? = nil, withRelationships: Bool = false,
                      relationshipTypeName: String? = nil) throws -> [MetadataElement] {
        var elements: [MetadataElement] = []
        var after: String?
        repeat {
            let page = try client.call(FindElements.self, .init(
                typeName: typeName, metadataSourceQualifiedName: metadataSourceQualifiedName,
                qualifiedNamePrefix: qualifiedNamePrefix, withRelationships: withRelationships ? true : nil,
                relationshipTypeName: relationshipTypeName, after: after),
                read: FindElements.Result.init(json:))
            elements += page.elements
            if let next = page.nextAfter, next == after { throw ConnectorError("metadata/findElements answered the same page twice") }
            after = page.nextAfter
        } while after != nil
        return elements
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

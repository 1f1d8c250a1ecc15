import Foundation
import Protocol
import Synchronization

/// The element writes each connector made through the proxy since its last integration report. When a worker
/// dies mid-refresh, these become an `aborted` report, so what was written before the crash is not unaccounted.
final class RefreshTracker: Sendable {
    private struct Writes {
        var since = Date()
        var created: [String] = []
        var updated: [String] = []
        var deleted: [String] = []
        /// Created or updated already: an update of either is not listed again.
        var written: Set<String> = []
        var isEmpty: Bool { created.isEmpty && updated.isEmpty && deleted.isEmpty }
    }

    private let writes = Mutex<[String: Writes]>([:])

    enum Kind { case created, updated, deleted }

    func record(_ kind: Kind, guid: String, connectorName: String) {
        // Mutated in place: copying the entry out and back would copy its arrays on every write (O(n²) per refresh).
        writes.withLock { all in
            switch kind {
            case .created:
                all[connectorName, default: Writes()].created.append(guid)
                all[connectorName, default: Writes()].written.insert(guid)
            case .updated:
                if all[connectorName, default: Writes()].written.insert(guid).inserted { all[connectorName, default: Writes()].updated.append(guid) }
            case .deleted:
                all[connectorName, default: Writes()].deleted.append(guid)
            }
        }
    }

    /// The connector's report arrived: its refresh is accounted for.
    func reported(connectorName: String) {
        // Most reports come from connectors with no writes held: no need to hash the name for those.
        writes.withLock { if !$0.isEmpty { $0[connectorName] = nil } }
    }

    /// Reports for every connector with unreported writes, marked `aborted`, and forgets them.
    func abortedReports(serverName: String, connectors: [IntegrationConnectorConfig], reason: String) -> [IntegrationReport] {
        let pending = writes.withLock { all in defer { all.removeAll() }; return all }
        return connectors.compactMap { config in
            guard config.reportsEnabled, let entry = pending[config.connectorName], !entry.isEmpty else { return nil }
            return IntegrationReport(
                reportId: GUID.random(), serverName: serverName, connectorId: config.connectorId,
                connectorName: config.connectorName, refreshStartDate: entry.since, refreshCompletionDate: Date(),
                createdElements: entry.created, updatedElements: entry.updated, deletedElements: entry.deleted,
                additionalProperties: ["outcome": "aborted", "reason": reason])
        }
    }
}

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
        var isEmpty: Bool { created.isEmpty && updated.isEmpty && deleted.isEmpty }
    }

    private let writes = Mutex<[String: Writes]>([:])

    enum Kind { case created, updated, deleted }

    func record(_ kind: Kind, guid: String, connectorName: String) {
        writes.withLock { all in
            var entry = all[connectorName] ?? Writes()
            switch kind {
            case .created: entry.created.append(guid)
            case .updated: if !entry.updated.contains(guid) && !entry.created.contains(guid) { entry.updated.append(guid) }
            case .deleted: entry.deleted.append(guid)
            }
            all[connectorName] = entry
        }
    }

    /// The connector's report arrived: its refresh is accounted for.
    func reported(connectorName: String) { writes.withLock { $0[connectorName] = nil } }

    /// Reports for every connector with unreported writes, marked `aborted`, and forgets them.
    func abortedReports(serverName: String, connectors: [IntegrationConnectorConfig], reason: String) -> [IntegrationReport] {
        let pending = writes.withLock { all in defer { all.removeAll() }; return all }
        return connectors.compactMap { config in
            guard config.reportsEnabled, let entry = pending[config.connectorName], !entry.isEmpty else { return nil }
            return IntegrationReport(
                reportId: UUID().uuidString.lowercased(), serverName: serverName, connectorId: config.connectorId,
                connectorName: config.connectorName, refreshStartDate: entry.since, refreshCompletionDate: Date(),
                createdElements: entry.created, updatedElements: entry.updated, deletedElements: entry.deleted,
                additionalProperties: ["outcome": "aborted", "reason": reason])
        }
    }
}

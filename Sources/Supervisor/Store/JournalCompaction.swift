import Foundation
import Glibc
import Protocol

/// Reclaims journal space at start: superseded element versions, deleted elements and (when forwarding to Egeria,
/// which then holds them) all but the newest forwarded reports of each connector are dropped. Pending and
/// dead-lettered reports are always kept. The new journal is written beside the old one, synced, and renamed over
/// it, so a crash at any point leaves one complete journal.
enum JournalCompaction {
    /// Compaction only pays past this size, and only when it would drop at least half of the file.
    static let minimumBytes = 8 << 20
    /// Forwarded reports kept per connector, for `integration-daemon reports`.
    static let forwardedReportsKept = 1000

    /// The store's contents that compaction reads.
    struct Snapshot {
        var elements: [MetadataElement]
        var reports: [(report: IntegrationReport, state: EmbeddedStore.ForwardState)]
        var forwarding: Bool
    }

    /// The records of the compacted journal, or nil when compaction is not worth it.
    static func plan(_ snapshot: Snapshot, journalBytes: Int, minimumBytes: Int = minimumBytes) -> [StoreRecord]? {
        guard journalBytes >= minimumBytes else { return nil }
        var records = snapshot.elements.sorted { $0.qualifiedName < $1.qualifiedName }.map(StoreRecord.element)
        var keptPerConnector: [String: Int] = [:]
        // Newest first to count what is kept per connector, then restored to acceptance order.
        var kept: [(IntegrationReport, EmbeddedStore.ForwardState)] = []
        for (report, state) in snapshot.reports.reversed() {
            if snapshot.forwarding, case .forwarded = state {
                let count = keptPerConnector[report.connectorName, default: 0]
                guard count < forwardedReportsKept else { continue }
                keptPerConnector[report.connectorName] = count + 1
            }
            kept.append((report, state))
        }
        for (report, state) in kept.reversed() {
            records.append(.report(report))
            switch state {
            case .pending: break
            case .forwarded(let time): if snapshot.forwarding { records.append(.forwarded(reportId: report.reportId, time: time)) }
            case .deadLettered(let reason): records.append(.deadLettered(reportId: report.reportId, reason: reason, time: Date()))
            }
        }
        // Estimate: a record line is ~300 bytes; compact only when at least half would go.
        return records.count * 300 * 2 <= journalBytes ? records : nil
    }

    static func rewrite(path: String, records: [StoreRecord], encoder: MessageEncoder) throws {
        let temporary = path + ".compact"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EmbeddedStore.LoadError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        do {
            var batch = Data()
            for record in records {
                batch.append(try record.line(encoder))
                if batch.count > 1 << 20 {
                    try LineWriter.writeAll(fd: fd, batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try LineWriter.writeAll(fd: fd, batch)
            guard fsync(fd) == 0 else { throw EmbeddedStore.LoadError(description: "fsync \(temporary): \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            throw EmbeddedStore.LoadError(description: "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        // The rename itself must be durable before anything is appended to the new file.
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}

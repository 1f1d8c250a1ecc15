import Foundation
import Glibc
import Protocol

/// `dead-letters.jsonl` in the data directory: reports the access server rejected, with the reason, one JSON
/// object per line, synced before the report leaves the spool, so a rejected report is never simply gone.
package final class DeadLetterFile: Sendable {
    let path: String
    private let lock = NSLock()
    private let encoder = MessageEncoder()

    /// One rejected report.
    struct Entry: Codable, Sendable {
        var reportId: String
        var connectorName: String
        var reason: String
        var time: Date
        var report: IntegrationReport
    }

    package init(path: String) { self.path = path }

    func append(_ entry: Entry) throws {
        let line = try encoder.line(entry)
        try lock.withLock {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            try LineWriter.writeAll(fd: fd, line)
            guard fdatasync(fd) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
    }
}

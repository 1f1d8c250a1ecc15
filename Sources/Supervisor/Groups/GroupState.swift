import Foundation
import Protocol

/// What the daemon knows of one integration group from its reads: what status shows, and the registrations last
/// read, against which the next read is compared (not against what runs: a connector changed live by `configure`
/// keeps that change until its registration changes).
struct GroupState: Sendable {
    var guid: String?
    var lastRead: [IntegrationConnectorConfig]?
    var lastReadTime: Date?
    var lastError: String?
    var lastErrorTime: Date?
    var skipped: [String] = []
}

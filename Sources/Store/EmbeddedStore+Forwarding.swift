import Foundation
import Protocol

extension EmbeddedStore {
    /// Where a report is on its way to the access server.
    package enum ForwardState: Sendable, Equatable {
        case pending
        case forwarded(Date)
        case deadLettered(String)

        package var name: String {
            switch self {
            case .pending: "pending"
            case .forwarded: "forwarded"
            case .deadLettered: "dead-lettered"
            }
        }
    }

    /// Per-connector forwarding figures; the backlog is read off the in-memory spool counts.
    package struct ForwardTotals: Sendable, Equatable {
        package init(backlog: Int = 0, backlogBytes: Int = 0, forwarded: Int = 0, deadLettered: Int = 0, lastForward: Date? = nil) {
            self.backlog = backlog
            self.backlogBytes = backlogBytes
            self.forwarded = forwarded
            self.deadLettered = deadLettered
            self.lastForward = lastForward
        }

        package var backlog = 0
        package var backlogBytes = 0
        package var forwarded = 0
        package var deadLettered = 0
        package var lastForward: Date?
    }

    /// Runs `callback` after each accepted report is durable (the forwarder's wake-up).
    package func setOnAccepted(_ callback: @escaping @Sendable () -> Void) { onAccepted.withLock { $0 = Callback(callback) } }

    /// The oldest unforwarded report of each connector, except those in `busy`: one indexed lookup each.
    /// A report waiting to be forwarded, with when it was stored (epoch ms).
    package struct PendingReport: Sendable {
        package var report: IntegrationReport
        package var storedMillis: Int64
        package var seq: Int64
    }

    /// Each connector's oldest pending report, skipping connectors in `busy` and, per connector, reports up to
    /// `after[connector]` (delivered, their forwarded record not yet written).
    package func pendingHeads(excluding busy: Set<String>, after: [String: Int64] = [:]) -> [PendingReport] {
        let connectors = spool.withLock { $0.pending.filter { $0.value.count > 0 && !busy.contains($0.key) }.map(\.key) }
        return read([]) { database in
            let statement = try database.statement("SELECT body, stored_ms, seq FROM reports WHERE connector = ? AND state = 0 AND seq > ? ORDER BY seq LIMIT 1")
            return try connectors.sorted().compactMap { connector in
                try statement.bind(.text(connector), .int(Int(after[connector] ?? 0)))
                defer { statement.reset() }
                guard try statement.step() else { return nil }
                let body = statement.data(0)
                guard let report = IntegrationReport.pull(body) ?? (try? IntegrationReport(json: JSONParser.parse(body), path: "report")) else {
                    return nil
                }
                return PendingReport(report: report, storedMillis: Int64(statement.int(1)), seq: Int64(statement.int(2)))
            }
        }
    }

    /// Records durably that the report reached the access server.
    package func markForwarded(_ reportId: String, completion: @escaping @Sendable (Error?) -> Void) {
        leaveSpool(reportId, state: .delivered, reason: nil, completion: completion)
    }

    /// Records durably that the report was rejected and dead-lettered.
    package func markDeadLettered(_ reportId: String, reason: String, completion: @escaping @Sendable (Error?) -> Void) {
        leaveSpool(reportId, state: .deadLettered, reason: reason, completion: completion)
    }

    private func leaveSpool(_ reportId: String, state: StoreSchema.ReportState, reason: String?,
                            completion: @escaping @Sendable (Error?) -> Void) {
        let now = Int(EpochMillis.int64(Date()))
        write({ database in try Self.leaveSpool(reportId, state: state, reason: reason, at: now, in: database) }, completion: { [self] result in
            switch result {
            case .success(let left?):
                spool.withLock { spool in
                    let current = spool.pending[left.connector] ?? (count: 0, bytes: 0)
                    spool.pending[left.connector] = current.count <= 1 ? nil : (current.count - 1, max(0, current.bytes - left.bytes))
                }
                completion(nil)
            case .success(nil): completion(nil)
            case .failure(let error): completion(error)
            }
        })
    }

    /// Marks a pending report forwarded (`reason` nil) or dead-lettered at `millis`, with its connector's totals;
    /// its connector and size, or nil when it is not pending. The journal import marks through here too.
    static func leaveSpool(_ reportId: String, state: StoreSchema.ReportState, reason: String?, at millis: Int,
                           in database: SQLiteDatabase) throws -> (connector: String, bytes: Int)? {
        let pending = try database.statement("SELECT connector, bytes FROM reports WHERE report_id = ? AND state = 0").bind(.text(reportId))
        guard try pending.step() else { return nil }
        let connector = pending.text(0), bytes = pending.int(1)
        try database.statement("UPDATE reports SET state = ?, forwarded_ms = ? WHERE report_id = ?")
            .bind(.int(state.rawValue), .int(millis), .text(reportId)).run()
        if let reason {
            try database.statement("INSERT OR REPLACE INTO dead_letters (report_id, connector, reason, time_ms) VALUES (?, ?, ?, ?)")
                .bind(.text(reportId), .text(connector), .text(reason), .int(millis)).run()
            try database.statement("""
                INSERT INTO connector_totals (connector, dead_lettered) VALUES (?, 1)
                ON CONFLICT(connector) DO UPDATE SET dead_lettered = dead_lettered + 1
                """).bind(.text(connector)).run()
        } else {
            try database.statement("""
                INSERT INTO connector_totals (connector, forwarded, last_forward_ms) VALUES (?, 1, ?)
                ON CONFLICT(connector) DO UPDATE SET forwarded = forwarded + 1, last_forward_ms = excluded.last_forward_ms
                """).bind(.text(connector), .int(millis)).run()
        }
        return (connector, bytes)
    }

    package func forwardState(of reportId: String) -> ForwardState? {
        read(nil) { database in
            let statement = try database.statement("""
                SELECT r.state, r.forwarded_ms, d.reason FROM reports r LEFT JOIN dead_letters d ON d.report_id = r.report_id
                WHERE r.report_id = ?
                """).bind(.text(reportId))
            guard try statement.step() else { return nil }
            switch StoreSchema.ReportState(rawValue: statement.int(0)) {
            case .pending?, nil: return .pending
            case .delivered?: return .forwarded(Date(timeIntervalSince1970: Double(statement.int(1)) / 1000))
            case .deadLettered?: return .deadLettered(statement.optionalText(2) ?? "")
            }
        }
    }

    /// Every connector's report and forwarding totals in one read: status asks for all of them at once, and 50
    /// connectors' worth of single-row reads cost more than the status itself.
    package func allTotals() -> [String: (reports: ConnectorTotals, forwarding: ForwardTotals)] {
        var all = read([String: (reports: ConnectorTotals, forwarding: ForwardTotals)]()) { database in
            let statement = try database.statement(
                "SELECT connector, reports, created, updated, deleted, last_report_id, forwarded, dead_lettered, last_forward_ms FROM connector_totals")
            var rows: [String: (reports: ConnectorTotals, forwarding: ForwardTotals)] = [:]
            while try statement.step() {
                let reports = ConnectorTotals(reports: statement.int(1), created: statement.int(2), updated: statement.int(3),
                                              deleted: statement.int(4), lastReportId: statement.optionalText(5))
                let forwarding = ForwardTotals(forwarded: statement.int(6), deadLettered: statement.int(7),
                                               lastForward: statement.isNull(8) ? nil : Date(timeIntervalSince1970: Double(statement.int(8)) / 1000))
                rows[statement.text(0)] = (reports, forwarding)
            }
            return rows
        }
        let waiting = spool.withLock { $0.pending }
        for (connector, backlog) in waiting {
            var entry = all[connector] ?? (ConnectorTotals(), ForwardTotals())
            entry.forwarding.backlog = backlog.count
            entry.forwarding.backlogBytes = backlog.bytes
            all[connector] = entry
        }
        return all
    }

    package func forwardTotals(connectorName: String) -> ForwardTotals {
        var totals = read(ForwardTotals()) { database in
            let statement = try database.statement("SELECT forwarded, dead_lettered, last_forward_ms FROM connector_totals WHERE connector = ?")
                .bind(.text(connectorName))
            guard try statement.step() else { return ForwardTotals() }
            return ForwardTotals(forwarded: statement.int(0), deadLettered: statement.int(1),
                                 lastForward: statement.isNull(2) ? nil : Date(timeIntervalSince1970: Double(statement.int(2)) / 1000))
        }
        let waiting = spool.withLock { $0.pending[connectorName] } ?? (count: 0, bytes: 0)
        totals.backlog = waiting.count
        totals.backlogBytes = waiting.bytes
        return totals
    }

    /// Reports dead-lettered over all connectors, configured now or not.
    package var deadLetteredTotal: Int {
        read(0) { database in
            let statement = try database.statement("SELECT COALESCE(SUM(dead_lettered), 0) FROM connector_totals")
            return try statement.step() ? statement.int(0) : 0
        }
    }

    /// How full the spool is: full means a report was just refused for lack of room.
    package var spoolState: SpoolState {
        spool.withLock { spool in
            guard let limit = spoolLimitBytes else { return .ok }
            let bytes = spool.bytes
            if spool.full && bytes > 0 { return .full }
            return bytes * 10 >= limit * 8 ? .nearLimit : .ok
        }
    }

    /// Reports and bytes waiting in the spool, over all connectors.
    package var backlog: (reports: Int, bytes: Int) {
        spool.withLock { spool in (spool.pending.values.reduce(0) { $0 + $1.count }, spool.bytes) }
    }
}

import Protocol

/// The per-connector totals of the reports inserted in one transaction, written to `connector_totals` once per
/// connector just before the commit, with the connector's retention cap applied there in one set-based delete.
///
/// Per report, the totals upsert and the cap check were three more statements than the insert itself; per
/// transaction (hundreds of reports under load) they cost next to nothing. Confined to the writer thread.
struct ReportTally {
    /// What one connector's inserted reports add.
    struct Delta {
        var reports = 0
        var created = 0
        var updated = 0
        var deleted = 0
        var lastReportId = ""
    }

    private(set) var deltas: [String: Delta] = [:]

    mutating func add(_ report: IntegrationReport) {
        deltas[report.connectorName, default: Delta()].add(report)
    }

    mutating func reset() { deltas.removeAll(keepingCapacity: true) }

    /// Adds the deltas to `connector_totals`; then, when `maxKept` is given, deletes each connector's oldest
    /// reports no longer waiting for the access server until it keeps at most `maxKept`. Empties the tally.
    mutating func flush(into database: SQLiteDatabase, maxKept: Int?) throws(SQLiteDatabase.SQLiteError) {
        defer { reset() }
        for (connector, delta) in deltas {
            try database.statement("""
                INSERT INTO connector_totals (connector, reports, kept, created, updated, deleted, last_report_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(connector) DO UPDATE SET reports = reports + excluded.reports, kept = kept + excluded.kept,
                    created = created + excluded.created, updated = updated + excluded.updated, deleted = deleted + excluded.deleted,
                    last_report_id = excluded.last_report_id
                """).bind(.text(connector), .int(delta.reports), .int(delta.reports), .int(delta.created), .int(delta.updated),
                          .int(delta.deleted), .text(delta.lastReportId)).run()
            guard let maxKept else { continue }
            let kept = try database.statement("SELECT kept FROM connector_totals WHERE connector = ?").bind(.text(connector))
            let excess = try kept.step() ? kept.int(0) - maxKept : 0
            if excess > 0 { try Self.deleteOldestDelivered(excess, connector: connector, in: database) }
        }
    }

    /// A connector's (`?1`) oldest `?2` reports no longer waiting for the access server, read from
    /// `reports_by_connector_time` in order.
    static let oldestDelivered = "SELECT seq FROM reports WHERE connector = ?1 AND state != 0 ORDER BY time_ms, seq LIMIT ?2"

    /// Deletes up to `count` of the connector's oldest reports that are no longer waiting for the access server
    /// (with their dead letters) and lowers its kept count by as many.
    static func deleteOldestDelivered(_ count: Int, connector: String, in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) {
        let oldest = oldestDelivered
        try database.statement("DELETE FROM dead_letters WHERE report_id IN (SELECT report_id FROM reports WHERE seq IN (\(oldest)))")
            .bind(.text(connector), .int(count)).run()
        try database.statement("DELETE FROM reports WHERE seq IN (\(oldest))").bind(.text(connector), .int(count)).run()
        let deleted = database.changes
        guard deleted > 0 else { return }
        try database.statement("UPDATE connector_totals SET kept = kept - ? WHERE connector = ?").bind(.int(deleted), .text(connector)).run()
    }
}

extension ReportTally.Delta {
    mutating func add(_ report: IntegrationReport) {
        reports += 1
        created += report.createdElements.count
        updated += report.updatedElements.count
        deleted += report.deletedElements.count
        lastReportId = report.reportId
    }
}

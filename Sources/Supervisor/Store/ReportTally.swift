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

    /// Adds the deltas to `connector_totals`; when `maxKept` is given, first deletes each connector's oldest
    /// reports no longer waiting for the access server until it keeps at most `maxKept`. Empties the tally.
    ///
    /// Per connector that is a read of its kept count, a delete when it is over its cap and one upsert that
    /// lowers the count by what was deleted. With 100 connectors at their cap every transaction runs this for
    /// each of them, so the dead letters' delete (only forwarding makes them) and a separate update of the count
    /// are left out.
    mutating func flush(into database: SQLiteDatabase, maxKept: Int?) throws(SQLiteDatabase.SQLiteError) {
        defer { reset() }
        // Whether any dead letter exists, asked once a transaction and only when a connector is over its cap.
        var deadLetters: Bool?
        for (connector, delta) in deltas {
            var deleted = 0
            if let maxKept {
                let kept = try database.statement("SELECT kept FROM connector_totals WHERE connector = ?").bind(.text(connector))
                let excess = (try kept.step() ? kept.int(0) : 0) + delta.reports - maxKept
                if excess > 0 {
                    let any: Bool
                    if let known = deadLetters { any = known } else { any = try Self.anyDeadLetters(in: database) }
                    deadLetters = any
                    deleted = try Self.deleteOldestDelivered(excess, connector: connector, deadLetters: any, in: database)
                }
            }
            try database.statement("""
                INSERT INTO connector_totals (connector, reports, kept, created, updated, deleted, last_report_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(connector) DO UPDATE SET reports = reports + excluded.reports, kept = kept + excluded.kept,
                    created = created + excluded.created, updated = updated + excluded.updated, deleted = deleted + excluded.deleted,
                    last_report_id = excluded.last_report_id
                """).bind(.text(connector), .int(delta.reports), .int(delta.reports - deleted), .int(delta.created), .int(delta.updated),
                          .int(delta.deleted), .text(delta.lastReportId)).run()
        }
    }

    /// A connector's (`?1`) oldest `?2` reports no longer waiting for the access server, read from
    /// `reports_by_connector_time` in order.
    static let oldestDelivered = "SELECT seq FROM reports WHERE connector = ?1 AND state != 0 ORDER BY time_ms, seq LIMIT ?2"

    private static func anyDeadLetters(in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) -> Bool {
        let any = try database.statement("SELECT EXISTS (SELECT 1 FROM dead_letters)")
        return try any.step() && any.int(0) != 0
    }

    /// Deletes up to `count` of the connector's oldest reports that are no longer waiting for the access server,
    /// with their dead letters when `deadLetters` says there may be some; returns how many reports went. The
    /// caller lowers the connector's kept count by as many.
    static func deleteOldestDelivered(_ count: Int, connector: String, deadLetters: Bool,
                                      in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) -> Int {
        let oldest = oldestDelivered
        if deadLetters {
            try database.statement("DELETE FROM dead_letters WHERE report_id IN (SELECT report_id FROM reports WHERE seq IN (\(oldest)))")
                .bind(.text(connector), .int(count)).run()
        }
        try database.statement("DELETE FROM reports WHERE seq IN (\(oldest))").bind(.text(connector), .int(count)).run()
        return database.changes
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

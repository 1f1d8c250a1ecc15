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

    /// Adds the deltas to `connector_totals`; when `maxKept` is given, then deletes the oldest reports no longer
    /// waiting for the access server of each connector that keeps more than `maxKept`, down to `maxKept`.
    /// Empties the tally.
    ///
    /// With 100 connectors at their cap every transaction runs this for each of them, so it is few statements:
    /// the upserts go several connectors to a statement, each returning the connector's new kept count, and only
    /// a connector past its cap runs a delete (and an update lowering its count by what went). Dead letters are
    /// deleted only when any exist (only forwarding makes them).
    ///
    /// Deleting further below the cap, so that a connector deletes a run of rows once every so many reports,
    /// took less CPU but made one transaction in many delete for every connector at once; one worker, whose
    /// reports wait for each commit, measured no faster, and the cap would no longer be exact.
    mutating func flush(into database: SQLiteDatabase, maxKept: Int?) throws(SQLiteDatabase.SQLiteError) {
        defer { reset() }
        var crowded: [(connector: String, kept: Int)] = []
        var rest = deltas[...]
        while !rest.isEmpty {
            let rows = MultiRowSQL.rows(for: rest.count)
            let statement = try database.statement(Self.upsert.sql(rows: rows))
            var parameter: Int32 = 0
            for (connector, delta) in rest.prefix(rows) {
                // Added to reports and, till retention deletes some, to those kept.
                try statement.bind(at: parameter + 1, .text(connector))
                try statement.bind(at: parameter + 2, .int(delta.reports))
                try statement.bind(at: parameter + 3, .int(delta.reports))
                try statement.bind(at: parameter + 4, .int(delta.created))
                try statement.bind(at: parameter + 5, .int(delta.updated))
                try statement.bind(at: parameter + 6, .int(delta.deleted))
                try statement.bind(at: parameter + 7, .text(delta.lastReportId))
                parameter += Self.upsert.columns
            }
            rest = rest.dropFirst(rows)
            while try statement.step() {
                if let maxKept, statement.int(1) > maxKept { crowded.append((statement.text(0), statement.int(1))) }
            }
        }
        guard let maxKept, !crowded.isEmpty else { return }
        let deadLetters = try Self.anyDeadLetters(in: database)
        for (connector, kept) in crowded {
            let deleted = try Self.deleteOldestDelivered(kept - maxKept, connector: connector, deadLetters: deadLetters, in: database)
            if deleted > 0 {
                try database.statement("UPDATE connector_totals SET kept = kept - ? WHERE connector = ?").bind(.int(deleted), .text(connector)).run()
            }
        }
    }

    /// Adds each row's counts to its connector's totals (`kept` by the reports added) and returns the
    /// connector and its new kept count.
    static let upsert = MultiRowSQL(
        "INSERT INTO connector_totals (connector, reports, kept, created, updated, deleted, last_report_id) VALUES ", columns: 7, tail: """
            ON CONFLICT(connector) DO UPDATE SET reports = reports + excluded.reports, kept = kept + excluded.kept,
                created = created + excluded.created, updated = updated + excluded.updated, deleted = deleted + excluded.deleted,
                last_report_id = excluded.last_report_id
            RETURNING connector, kept
            """)

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

import Protocol

/// The per-connector totals of the reports inserted in one transaction, written to `connector_totals` once per
/// connector just before the commit; and the retention cap, owed by one transaction and paid at the start of the
/// next.
///
/// Per report, the totals upsert and the cap check were three more statements than the insert itself; per
/// transaction (hundreds of reports under load) they cost next to nothing. Confined to the writer thread.
package struct ReportTally {
    /// What one connector's inserted reports add.
    package struct Delta {
        package var reports = 0
        package var created = 0
        package var updated = 0
        package var deleted = 0
        package var lastReportId = ""
        /// Reports of this connector that retention deleted in this transaction.
        package var pruned = 0
    }

    private(set) var deltas: [String: Delta] = [:]
    /// Per connector, how many reports past its cap the last committed transaction left (see ``prune(in:)``).
    private(set) var owed: [String: Int] = [:]

    /// What the open transaction has added to the connector's kept count so far, not yet in `connector_totals`.
    package func unflushedKept(of connector: String) -> Int {
        deltas[connector].map { $0.reports - $0.pruned } ?? 0
    }

    package mutating func add(_ report: IntegrationReport) {
        deltas[report.connectorName, default: Delta()].add(report)
    }

    package mutating func reset() { deltas.removeAll(keepingCapacity: true) }

    /// Forgets the transaction's deltas and what is owed: after a rollback the owed deletes are undone and their
    /// count is unknown; retention's own pass (``StoreRetention``) finds any connector left past its cap.
    package mutating func rollBack() {
        reset()
        owed.removeAll()
    }

    /// Deletes the oldest reports no longer waiting for the access server of each connector the last transaction
    /// left past its cap, down to the cap; the writer runs it first in the next transaction, which it begins at
    /// once when nothing else is queued (``StoreWriter``). What goes is lowered from the kept count by this
    /// transaction's upsert. Dead letters are deleted only when any exist (only forwarding makes them).
    ///
    /// Deleting here rather than before the commit that went past the cap takes the deletes off the path of the
    /// reports that wait for that commit: the writer mostly runs them while it would wait for the next reports.
    /// One worker rotating over 100 connectors at their cap, interleaved runs: 38,900 against 34,800 reports/s
    /// (medians of 6); eight workers at their caps: 76,800 against 62,300 (medians of 4). The price is that a
    /// connector may keep what one transaction added past its cap until the next commit, a few milliseconds.
    package mutating func prune(in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) {
        guard !owed.isEmpty else { return }
        let deadLetters = try Self.anyDeadLetters(in: database)
        for (connector, excess) in owed {
            let deleted = try Self.deleteOldestDelivered(excess, connector: connector, deadLetters: deadLetters, in: database)
            if deleted > 0 { deltas[connector, default: Delta()].pruned += deleted }
        }
        owed.removeAll(keepingCapacity: true)
    }

    /// Adds the deltas to `connector_totals`; when `maxKept` is given, records what each connector that stored
    /// reports in this transaction now keeps past `maxKept`, for ``prune(in:)``. Empties the deltas.
    ///
    /// With 100 connectors at their cap every transaction runs this for each of them, so it is few statements:
    /// the upserts go several connectors to a statement, each returning the connector's new kept count. A
    /// connector that only had reports deleted is not owed again: what it keeps past the cap waits for the
    /// access server, and retention's own pass looks at it.
    ///
    /// Deleting further below the cap, so that a connector deletes a run of rows once every so many reports,
    /// took less CPU but made one transaction in many delete for every connector at once; one worker, whose
    /// reports wait for each commit, measured no faster.
    package mutating func flush(into database: SQLiteDatabase, maxKept: Int?) throws(SQLiteDatabase.SQLiteError) {
        defer { reset() }
        var rest = deltas[...]
        while !rest.isEmpty {
            let rows = MultiRowSQL.rows(for: rest.count)
            let statement = try database.statement(Self.upsert.sql(rows: rows))
            var parameter: Int32 = 0
            for (connector, delta) in rest.prefix(rows) {
                // Added to reports; kept also loses what retention deleted. A row with nothing stored keeps the
                // connector's last report id.
                try statement.bind(at: parameter + 1, .text(connector))
                try statement.bind(at: parameter + 2, .int(delta.reports))
                try statement.bind(at: parameter + 3, .int(delta.reports - delta.pruned))
                try statement.bind(at: parameter + 4, .int(delta.created))
                try statement.bind(at: parameter + 5, .int(delta.updated))
                try statement.bind(at: parameter + 6, .int(delta.deleted))
                try statement.bind(at: parameter + 7, delta.reports > 0 ? .text(delta.lastReportId) : .null)
                parameter += Self.upsert.columns
            }
            rest = rest.dropFirst(rows)
            while try statement.step() {
                let connector = statement.text(0)
                if let maxKept, statement.int(1) > maxKept, deltas[connector]?.reports ?? 0 > 0 {
                    owed[connector] = statement.int(1) - maxKept
                }
            }
        }
    }

    /// Adds each row's counts to its connector's totals (`kept` by the reports added less those retention
    /// deleted; `last_report_id` only when the row names one) and returns the connector and its new kept count.
    package static let upsert = MultiRowSQL(
        "INSERT INTO connector_totals (connector, reports, kept, created, updated, deleted, last_report_id) VALUES ", columns: 7, tail: """
            ON CONFLICT(connector) DO UPDATE SET reports = reports + excluded.reports, kept = kept + excluded.kept,
                created = created + excluded.created, updated = updated + excluded.updated, deleted = deleted + excluded.deleted,
                last_report_id = coalesce(excluded.last_report_id, last_report_id)
            RETURNING connector, kept
            """)

    /// A connector's (`?1`) oldest `?2` reports no longer waiting for the access server, read from
    /// `reports_by_connector_time` in order.
    package static let oldestDelivered = "SELECT seq, time_ms FROM reports WHERE connector = ?1 AND state != 0 ORDER BY time_ms, seq LIMIT ?2"

    /// A connector's (`?1`) delivered reports up to and including the one completed at `?2` with seq `?3`, in
    /// `reports_by_connector_time` order: one range of that index.
    package static let deliveredThrough = "connector = ?1 AND state != 0 AND time_ms <= ?2 AND (time_ms < ?2 OR seq <= ?3)"

    private static func anyDeadLetters(in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) -> Bool {
        let any = try database.statement("SELECT EXISTS (SELECT 1 FROM dead_letters)")
        return try any.step() && any.int(0) != 0
    }

    /// Deletes up to `count` of the connector's oldest reports that are no longer waiting for the access server,
    /// with their dead letters when `deadLetters` says there may be some; returns how many reports went. The
    /// caller lowers the connector's kept count by as many.
    ///
    /// The last report to go is found first; the delete then takes every delivered report of the connector up to
    /// it in one pass over the index range. `seq IN (the oldest)` made SQLite copy the rows into a temporary
    /// B-tree first, for every connector in every transaction: eight workers at their caps measured the writer
    /// at 8.8–9.9 against 10.2–11.2 µs a report (3 of 3 interleaved pairs), one worker over 100 connectors 4 %
    /// lighter.
    package static func deleteOldestDelivered(_ count: Int, connector: String, deadLetters: Bool,
                                      in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) -> Int {
        guard count > 0 else { return 0 }
        let last = try database.statement(oldestDelivered + " OFFSET ?3").bind(.text(connector), .int(1), .int(count - 1))
        var values: [StoreValue] = [.text(connector)], range = "connector = ?1 AND state != 0"
        // Fewer than `count` delivered: all of them go.
        if try last.step() {
            values += [.int(last.int(1)), .int(last.int(0))]
            range = deliveredThrough
        }
        last.reset()
        if deadLetters {
            try database.statement("DELETE FROM dead_letters WHERE report_id IN (SELECT report_id FROM reports WHERE \(range))").bind(values).run()
        }
        try database.statement("DELETE FROM reports WHERE \(range)").bind(values).run()
        return database.changes
    }
}

extension ReportTally.Delta {
    package mutating func add(_ report: IntegrationReport) {
        reports += 1
        created += report.createdElements.count
        updated += report.updatedElements.count
        deleted += report.deletedElements.count
        lastReportId = report.reportId
    }
}

import Foundation
import Protocol

extension EmbeddedStore {
    /// Per-connector totals over every report ever stored (retention does not lower them), for status.
    package struct ConnectorTotals: Sendable, Equatable {
        package init(reports: Int = 0, created: Int = 0, updated: Int = 0, deleted: Int = 0, lastReportId: String? = nil) {
            self.reports = reports
            self.created = created
            self.updated = updated
            self.deleted = deleted
            self.lastReportId = lastReportId
        }

        package var reports = 0
        package var created = 0
        package var updated = 0
        package var deleted = 0
        package var lastReportId: String?
    }

    /// Which reports a query wants; every filter is optional. Newest `limit` after skipping `offset`, returned
    /// oldest first.
    package struct ReportQuery: Sendable {
        package init(connectorName: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int? = nil, offset: Int = 0) {
            self.connectorName = connectorName
            self.since = since
            self.until = until
            self.limit = limit
            self.offset = offset
        }

        package var connectorName: String?
        package var since: Date?
        package var until: Date?
        package var limit: Int?
        package var offset = 0

        /// The query's SQL and its values. A connector or time filter reads its index, whose entries end in
        /// `seq`, in time order, so no filter needs a sort; with no filter the newest come first by arrival.
        package var statement: (sql: String, values: [StoreValue]) {
            var conditions: [String] = [], values: [StoreValue] = []
            if let connectorName { conditions.append("connector = ?"); values.append(.text(connectorName)) }
            if let since { conditions.append("time_ms >= ?"); values.append(.int(Int(EpochMillis.int64(since)))) }
            if let until { conditions.append("time_ms <= ?"); values.append(.int(Int(EpochMillis.int64(until)))) }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let order = conditions.isEmpty ? "seq DESC" : "time_ms DESC, seq DESC"
            values.append(.int(limit ?? -1))
            values.append(.int(max(0, offset)))
            return ("SELECT body FROM reports \(filter) ORDER BY \(order) LIMIT ? OFFSET ?", values)
        }
    }

    /// Stores a report; `completion(true)` once durable, `completion(false)` for a replay of a stored id.
    /// In forwarding mode a full spool refuses it with a retryable error: the worker keeps it and retries.
    /// `body` is the report's JSON as received, when the caller has it and it reads back as `report`; without
    /// it the report is written out.
    package func submitReport(_ report: IntegrationReport, body: [UInt8]? = nil, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        guard let writer else { return completion(.failure(.unavailable("report not stored: the store is open read-only"))) }
        if let refusal = episode.refusal() { return completion(.failure(refusal)) }
        writer.submit(ReportWrite(store: self, report: report, body: body, completion: completion))
    }

    /// Inserts the report's row and adds it to `tally`, which the caller flushes into the connector's totals
    /// before its commit; false when a report with this id is stored already. The journal import stores
    /// through here too.
    package static func insert(_ report: IntegrationReport, body: [UInt8], stored: Date, state: StoreSchema.ReportState,
                       in database: SQLiteDatabase, tally: inout ReportTally) throws -> Bool {
        let statement = try database.statement(reportInsert.sql(rows: 1))
        try bindRow(report, body: body, stored: stored, state: state, at: 1, of: statement)
        try statement.run()
        guard database.changes > 0 else { return false }
        tally.add(report)
        return true
    }

    /// The report insert, several reports to a statement when several wait (see ``ReportWrite``).
    package static let reportInsert = MultiRowSQL(
        "INSERT OR IGNORE INTO reports (report_id, connector, time_ms, stored_ms, state, forwarded_ms, bytes, body) VALUES ", columns: 8)

    /// Binds one report's ``reportInsert`` values (its `columns`) from parameter `first` on.
    package static func bindRow(_ report: IntegrationReport, body: [UInt8], stored: Date, state: StoreSchema.ReportState,
                        at first: Int32, of statement: SQLiteDatabase.Statement) throws(SQLiteDatabase.SQLiteError) {
        let time = Int(EpochMillis.int64(report.refreshCompletionDate ?? report.refreshStartDate))
        let storedMillis = Int(EpochMillis.int64(stored))
        try statement.bind(at: first, .text(report.reportId))
        try statement.bind(at: first + 1, .text(report.connectorName))
        try statement.bind(at: first + 2, .int(time))
        try statement.bind(at: first + 3, .int(storedMillis))
        try statement.bind(at: first + 4, .int(state.rawValue))
        try statement.bind(at: first + 5, state == .pending ? .null : .int(storedMillis))
        try statement.bind(at: first + 6, .int(body.count))
        try statement.bind(at: first + 7, .bytes(body))
    }

    package func reports(_ query: ReportQuery = ReportQuery()) -> [IntegrationReport] {
        let (sql, values) = query.statement
        return read([]) { database in
            let statement = try database.statement(sql).bind(values)
            var found: [IntegrationReport] = []
            while try statement.step() {
                if let report = try? IntegrationReport(json: JSONParser.parse(statement.data(0)), path: "report") { found.append(report) }
            }
            return found.reversed()
        }
    }

    package func totals(connectorName: String) -> ConnectorTotals {
        read(ConnectorTotals()) { database in
            let statement = try database.statement("SELECT reports, created, updated, deleted, last_report_id FROM connector_totals WHERE connector = ?")
                .bind(.text(connectorName))
            guard try statement.step() else { return ConnectorTotals() }
            return ConnectorTotals(reports: statement.int(0), created: statement.int(1), updated: statement.int(2),
                                   deleted: statement.int(3), lastReportId: statement.optionalText(4))
        }
    }

    /// How many reports are kept now, and when the oldest was stored; status shows both.
    package var keptReports: (count: Int, oldest: Date?) {
        read((0, nil)) { database in
            let count = try database.statement("SELECT COALESCE(SUM(kept), 0) FROM connector_totals")
            let total = try count.step() ? count.int(0) : 0
            let oldest = try database.statement("SELECT stored_ms FROM reports ORDER BY seq LIMIT 1")
            let date = try oldest.step() ? Date(timeIntervalSince1970: Double(oldest.int(0)) / 1000) : nil
            return (total, date)
        }
    }
}

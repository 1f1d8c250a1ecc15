import Foundation
import Protocol

/// The one-time move from the JSON-lines journal (`store/journal.jsonl`, written before the store moved to
/// SQLite) into the database: every record applied in one transaction, then the file renamed to
/// `journal.jsonl.imported`, so a second start never imports it twice and nothing is lost if it stops midway.
package enum JournalImport {
    package static let journalName = "journal.jsonl"
    package static let importedSuffix = ".imported"

    package static func importIfPresent(directory: String, into database: SQLiteDatabase, keeping: ReportKeeping, logger: Logger?) throws {
        let journal = directory + "/" + journalName
        guard FileManager.default.fileExists(atPath: journal) else { return }
        // A crash after the commit but before the rename: the records are in; only the rename is left.
        if try alreadyImported(database) { return try rename(journal) }
        guard let data = FileManager.default.contents(atPath: journal) else {
            throw EmbeddedStore.LoadError(description: "cannot read \(journal) to import it")
        }
        let started = MonotonicClock.now()
        let counts = try apply(data, path: journal, to: database, keeping: keeping)
        try rename(journal)
        logger?.notice("imported \(journal) into \(database.path): \(counts.reports) report(s), \(counts.elements) element(s) in \(String(format: "%.1f", MonotonicClock.now() - started)) s; the journal is kept as \(journalName + importedSuffix)")
    }

    private static func alreadyImported(_ database: SQLiteDatabase) throws -> Bool {
        defer { database.resetAll() }
        return try database.statement("SELECT 1 FROM store_meta WHERE key = 'journalImported'").step()
    }

    private static func rename(_ journal: String) throws {
        let target = journal + importedSuffix
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.moveItem(atPath: journal, toPath: target)
    }

    /// Replays the journal as the old store loaded it: later records win, a torn last line (never
    /// acknowledged) is ignored, and a corrupt line in the middle stops the import with its number.
    private static func apply(_ data: Data, path: String, to database: SQLiteDatabase, keeping: ReportKeeping) throws -> (reports: Int, elements: Int) {
        let decoder = PayloadDecoder()
        try database.execute("BEGIN IMMEDIATE")
        var reports = 0
        var tally = ReportTally()
        do {
            var lineNumber = 0
            var start = data.startIndex
            while start < data.endIndex {
                lineNumber += 1
                guard let newline = data[start...].firstIndex(of: 0x0A) else { break }
                let line = data[start..<newline]
                start = newline + 1
                if line.isEmpty { continue }
                let record: StoreRecord
                do { record = try decoder.value(StoreRecord.self, from: Data(line)) } catch {
                    throw EmbeddedStore.LoadError(description: "\(path) line \(lineNumber) is corrupt (\(error)); nothing was imported. Fix or remove that line, then start again")
                }
                if try apply(record, to: database, keeping: keeping, tally: &tally) { reports += 1 }
                database.resetAll()
            }
            // Retention is the running daemon's: the import keeps every report it finds.
            try tally.flush(into: database, maxKept: nil)
            try database.statement("INSERT INTO store_meta (key, value) VALUES ('journalImported', ?)")
                .bind(.text(ISO8601DateFormatter().string(from: Date()))).run()
            database.resetAll()
            try database.execute("COMMIT")
        } catch {
            database.resetAll()
            try? database.execute("ROLLBACK")
            throw error
        }
        let count = try database.statement("SELECT COUNT(*) FROM elements")
        defer { database.resetAll() }
        return (reports, try count.step() ? count.int(0) : 0)
    }

    /// One record into the tables; true when it added a report.
    private static func apply(_ record: StoreRecord, to database: SQLiteDatabase, keeping: ReportKeeping, tally: inout ReportTally) throws -> Bool {
        switch record {
        case .report(let report):
            var writer = JSONWriter(capacity: report.encodedSizeEstimate)
            report.write(to: &writer)
            // The journal kept no arrival time: the refresh's completion stands in for it.
            let stored = report.refreshCompletionDate ?? report.refreshStartDate
            return try EmbeddedStore.insert(report, body: writer.bytes, stored: stored, state: keeping.spools ? .pending : .delivered, in: database, tally: &tally)
        case .element(let element):
            // A renamed element frees its old name; another element may not hold the new one.
            try database.statement("DELETE FROM elements WHERE qualified_name = ? AND guid != ?").bind(.text(element.qualifiedName), .text(element.guid)).run()
            try EmbeddedStore.save(element, in: database, insert: false)
        case .deleted(let guid, _):
            try database.statement("DELETE FROM elements WHERE guid = ?").bind(.text(guid)).run()
        case .forwarded(let reportId, let time):
            try mark(reportId, state: .delivered, time: time, reason: nil, in: database)
        case .deadLettered(let reportId, let reason, let time):
            try mark(reportId, state: .deadLettered, time: time, reason: reason, in: database)
        }
        return false
    }

    private static func mark(_ reportId: String, state: StoreSchema.ReportState, time: Date, reason: String?, in database: SQLiteDatabase) throws {
        // Upserts: the connector's row is written from the tally only at the end of the import.
        _ = try EmbeddedStore.leaveSpool(reportId, state: state, reason: reason, at: Int(EpochMillis.int64(time)), in: database)
    }
}

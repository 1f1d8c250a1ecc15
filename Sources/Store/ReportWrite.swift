import Foundation
import Protocol

/// One submitted report as the writer runs it. The hottest write there is, so it is its own concrete class:
/// through the generic ``StoreWrite`` it took two closure contexts besides, and looked up `Result<Bool, Error>`'s
/// metadata at run time on the sync thread for every report.
package final class ReportWrite: StoreOperation, @unchecked Sendable {
    private let store: EmbeddedStore
    private let report: IntegrationReport
    private let body: [UInt8]
    private let received: Date
    private let completion: @Sendable (Result<Bool, RPCError>) -> Void
    /// Set by `run` on the writer thread and read by `finish` after it (see ``StoreWrite``'s `result`).
    private var outcome: Result<Bool, RPCError>?

    package init(store: EmbeddedStore, report: IntegrationReport, body: [UInt8]? = nil,
         completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        if let body {
            self.body = body
        } else {
            var writer = JSONWriter(capacity: report.encodedSizeEstimate)
            report.write(to: &writer)
            self.body = writer.bytes
        }
        self.store = store
        self.report = report
        received = Date()
        self.completion = completion
    }

    package func run(_ database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError? {
        // Every check comes before the one write, and that write fails only with the whole transaction: no
        // savepoint needed, which is a fifth of the cost of a report.
        defer { database.resetAll() }
        do {
            outcome = .success(try insert(database))
        } catch let error as SQLiteDatabase.SQLiteError where error.isStorageFailure {
            return error
        } catch let error as RPCError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(.unavailable("report not stored: \(error)"))
        }
        return nil
    }

    /// Runs reports that wait together, in order, as `run` would run each, but several to an INSERT statement.
    /// In forwarding mode each checks the spool before it is stored, so each runs alone.
    package static func run(_ writes: [ReportWrite], in database: SQLiteDatabase) -> SQLiteDatabase.SQLiteError? {
        guard writes.count > 1, let store = writes.first?.store, !store.forwarding else {
            for write in writes { if let failure = write.run(database) { return failure } }
            return nil
        }
        var start = 0
        while start < writes.count {
            let rows = MultiRowSQL.rows(for: writes.count - start)
            let chunk = writes[start..<start + rows]
            start += rows
            do throws(SQLiteDatabase.SQLiteError) {
                try insert(chunk, store: store, in: database)
            } catch where error.isStorageFailure {
                return error
            } catch {
                // The failed statement undid itself; each report then runs alone, so that it fails alone.
                for write in chunk { if let failure = write.run(database) { return failure } }
            }
        }
        return nil
    }

    private static func insert(_ chunk: ArraySlice<ReportWrite>, store: EmbeddedStore,
                               in database: SQLiteDatabase) throws(SQLiteDatabase.SQLiteError) {
        defer { database.resetAll() }
        let insert = EmbeddedStore.reportInsert
        let statement = try database.statement(insert.sql(rows: chunk.count))
        var parameter: Int32 = 1
        for write in chunk {
            try EmbeddedStore.bindRow(write.report, body: write.body, stored: write.received, state: .delivered, at: parameter, of: statement)
            parameter += insert.columns
        }
        try statement.run()
        let inserted = database.changes
        // Some were replays of stored ids (or came twice in this chunk; the first is stored). The rows this
        // statement stored are the newest `inserted` rowids: each new row takes the next.
        var stored: Set<String>?
        if inserted > 0 && inserted < chunk.count {
            let last = database.lastInsertRowID
            let rows = try database.statement("SELECT report_id FROM reports WHERE seq > ? AND seq <= ?").bind(.int(last - inserted), .int(last))
            var ids = Set<String>()
            while try rows.step() { ids.insert(rows.text(0)) }
            stored = ids
        }
        for write in chunk {
            let isStored = inserted == chunk.count || stored?.remove(write.report.reportId) != nil
            write.outcome = .success(isStored)
            if isStored { store.intakeTally.value.add(write.report) }
        }
    }

    private func insert(_ database: SQLiteDatabase) throws -> Bool {
        let forwarding = store.forwarding
        if forwarding {
            // A replay of a stored id is answered before the spool's limit: a full spool must not refuse it.
            let existing = try database.statement("SELECT 1 FROM reports WHERE report_id = ?").bind(.text(report.reportId))
            if try existing.step() { return false }
            if let limit = store.spoolLimitBytes {
                let waiting = store.spool.withLock { $0.bytes }
                if waiting + body.count > limit {
                    store.spool.withLock { $0.full = true }
                    throw RPCError.unavailable("spool full: \(waiting) bytes of reports wait for the access server (limit \(limit)); report not accepted, retry later")
                }
            }
        }
        // The connector's totals, and the retention cap (its oldest delivered reports make room, so retention
        // keeps pace with any intake), are written once per transaction, from the tally.
        return try EmbeddedStore.insert(report, body: body, stored: received, state: forwarding ? .pending : .delivered,
                                        in: database, tally: &store.intakeTally.value)
    }

    package func finish(_ transactionError: Error?) {
        // A failed transaction stored nothing, whatever the insert itself made of it.
        let result: Result<Bool, RPCError>
        switch (transactionError, outcome) {
        case (let error as RPCError, _): result = .failure(error)
        case (let error?, _): result = .failure(.unavailable("report not stored: \(error)"))
        case (nil, let outcome?): result = outcome
        case (nil, nil): result = .failure(.unavailable("report not stored: the store's writer never ran it"))
        }
        let stored = (try? result.get()) == true
        if stored && store.forwarding {
            let connector = report.connectorName, bytes = body.count
            store.spool.withLock { spool in
                let current = spool.pending[connector] ?? (count: 0, bytes: 0)
                spool.pending[connector] = (current.count + 1, current.bytes + bytes)
                spool.full = false
            }
        }
        completion(result)
        // Read here, on the sync thread, not on each worker's reading thread, where the lock was contended.
        if stored { store.onAccepted.withLock { $0 }?.run() }
    }
}

import Dispatch
import Foundation
import Protocol
import Synchronization

/// What the store keeps of a validated OpenLineage event beside its body: the columns `lineage` lists and the
/// key that makes a client's retry the same event.
package struct LineageEventRecord: Sendable {
    package let kind: String
    package let eventType: String?
    package let eventTimeMillis: Int64
    package let runId: String?
    package let jobNamespace: String?
    package let jobName: String?
    package let key: String

    package init(kind: String, eventType: String?, eventTimeMillis: Int64, runId: String?, jobNamespace: String?, jobName: String?, key: String) {
        self.kind = kind
        self.eventType = eventType
        self.eventTimeMillis = eventTimeMillis
        self.runId = runId
        self.jobNamespace = jobNamespace
        self.jobName = jobName
        self.key = key
    }
}

extension EmbeddedStore {
    /// Stores an OpenLineage event as its client sent it; `completion(.success(true))` once durable (group-committed
    /// with reports, synced before it is told), `.success(false)` for a retry of an event stored already (same
    /// `key`), a failure when the store cannot take it now.
    package func submitLineageEvent(_ event: LineageEventRecord, body: [UInt8], completion: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        let stored = Int(EpochMillis.int64(Date()))
        write(savepoint: false, { database -> Bool in
            let insert = try database.statement("""
                INSERT OR IGNORE INTO lineage_events (event_key, kind, event_type, run_id, job_namespace, job_name, event_ms, stored_ms, bytes, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try insert.bind(.text(event.key), .text(event.kind), event.eventType.map { .text($0) } ?? .null,
                            event.runId.map { .text($0) } ?? .null, event.jobNamespace.map { .text($0) } ?? .null,
                            event.jobName.map { .text($0) } ?? .null, .int(Int(event.eventTimeMillis)), .int(stored),
                            .int(body.count), .bytes(body)).run()
            return database.changes > 0
        }, completion: completion)
    }

    /// One stored OpenLineage event, for `lineage` and the tests.
    package struct StoredLineageEvent: Sendable, Equatable {
        package let seq: Int
        package let kind: String
        package let eventType: String?
        package let runId: String?
        package let jobNamespace: String?
        package let jobName: String?
        package let eventTime: Date
        package let stored: Date
        package let body: [UInt8]
    }

    /// The newest `limit` events (all with nil) after skipping `offset`, oldest first.
    package func lineageEvents(limit: Int? = nil, offset: Int = 0) -> [StoredLineageEvent] {
        read([]) { database in
            let statement = try database.statement("""
                SELECT seq, kind, event_type, run_id, job_namespace, job_name, event_ms, stored_ms, body
                FROM lineage_events ORDER BY seq DESC LIMIT ? OFFSET ?
                """).bind(.int(limit ?? -1), .int(max(0, offset)))
            var found: [StoredLineageEvent] = []
            while try statement.step() {
                found.append(StoredLineageEvent(seq: statement.int(0), kind: statement.text(1), eventType: statement.optionalText(2),
                                                runId: statement.optionalText(3), jobNamespace: statement.optionalText(4),
                                                jobName: statement.optionalText(5),
                                                eventTime: Date(timeIntervalSince1970: Double(statement.int(6)) / 1000),
                                                stored: Date(timeIntervalSince1970: Double(statement.int(7)) / 1000),
                                                body: Array(statement.data(8))))
            }
            return found.reversed()
        }
    }

    /// How many events are kept.
    package var lineageEventCount: Int {
        read(0) { database in
            let statement = try database.statement("SELECT COUNT(*) FROM lineage_events")
            return try statement.step() ? statement.int(0) : 0
        }
    }

    /// Deletes up to one batch of events past retention (older than `maxAgeDays` since stored, or beyond
    /// `maxLineageEvents`, oldest first) and waits until that is committed; how many went.
    ///
    /// The newest event always stays: a new event takes the rowid after the largest, and an emptied table would
    /// number the next one 1 again, below every connector's cursor, so no connector would ever get it.
    package func pruneLineageBatch(now: Date = Date()) -> Int {
        let cutoff = Int(EpochMillis.int64(now.addingTimeInterval(-retention.maxAgeDays * 86_400)))
        let maxKept = retention.maxLineageEvents, limit = StoreRetention.batchSize
        // A read first, so an idle second costs no commit and no sync. Events are deleted oldest first, so the
        // rowids kept are nearly contiguous and their span bounds the count.
        let due = read(false) { database -> Bool in
            let ends = try database.statement("SELECT MIN(seq), MAX(seq), (SELECT stored_ms FROM lineage_events ORDER BY seq LIMIT 1) FROM lineage_events")
            guard try ends.step(), !ends.isNull(0), ends.int(0) < ends.int(1) else { return false }
            return ends.int(1) - ends.int(0) + 1 > maxKept || ends.int(2) < cutoff
        }
        guard due else { return 0 }
        let done = DispatchSemaphore(value: 0)
        let count = Mutex(0)
        write(savepoint: false, { database -> Int in
            // Rowids only grow, so the newest `maxKept` are those above the maxKept-th from the top.
            let keep = try database.statement("SELECT seq FROM lineage_events ORDER BY seq DESC LIMIT 1 OFFSET ?").bind(.int(maxKept - 1))
            let floor = try keep.step() ? keep.int(0) : 0
            let delete = try database.statement("""
                DELETE FROM lineage_events WHERE seq IN
                (SELECT seq FROM lineage_events WHERE (seq < ? OR stored_ms < ?) AND seq < (SELECT MAX(seq) FROM lineage_events)
                 ORDER BY seq LIMIT ?)
                """).bind(.int(floor), .int(cutoff), .int(limit))
            try delete.run()
            return database.changes
        }, completion: { result in
            count.withLock { $0 = (try? result.get()) ?? 0 }
            done.signal()
        })
        done.wait()
        return count.withLock { $0 }
    }

    // MARK: - Fan-out

    /// The last event `connector` acknowledged (0: none yet, so it gets every event kept).
    package func lineageCursor(of connector: String) -> Int {
        read(0) { database in
            let statement = try database.statement("SELECT seq FROM lineage_cursors WHERE connector = ?").bind(.text(connector))
            return try statement.step() ? statement.int(0) : 0
        }
    }

    /// The newest event's position (0 with none).
    package var lineageLastSeq: Int {
        read(0) { database in
            let statement = try database.statement("SELECT MAX(seq) FROM lineage_events")
            return try statement.step() && !statement.isNull(0) ? statement.int(0) : 0
        }
    }

    /// The events after `seq`, oldest first: at most `limit`, and no more than `maxBytes` of bodies but the first.
    package func lineageEvents(after seq: Int, limit: Int, maxBytes: Int) -> [(seq: Int, body: [UInt8])] {
        read([]) { database in
            let statement = try database.statement("SELECT seq, body FROM lineage_events WHERE seq > ? ORDER BY seq LIMIT ?").bind(.int(seq), .int(limit))
            var found: [(seq: Int, body: [UInt8])] = []
            var bytes = 0
            while try statement.step() {
                let body = Array(statement.data(1))
                if !found.isEmpty && bytes + body.count > maxBytes { break }
                bytes += body.count
                found.append((statement.int(0), body))
            }
            return found
        }
    }

    /// Moves `connector`'s cursor to `seq` (never back); `completion` once that is durable.
    package func saveLineageCursor(of connector: String, at seq: Int, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        write(savepoint: false, { database in
            try database.statement("""
                INSERT INTO lineage_cursors (connector, seq) VALUES (?, ?)
                ON CONFLICT(connector) DO UPDATE SET seq = MAX(seq, excluded.seq)
                """).bind(.text(connector), .int(seq)).run()
        }, completion: completion)
    }

    /// How many events are stored after `seq`, up to `latest`. A new event takes the next rowid and retention
    /// deletes only the oldest, so those after a cursor are one run: two ends of the primary key, not a count of
    /// rows (a connector a million events behind made status count a million).
    package func lineageBacklog(after seq: Int, upTo latest: Int) -> Int {
        guard latest > seq else { return 0 }
        return read(latest - seq) { database in
            let oldest = try database.statement("SELECT MIN(seq) FROM lineage_events")
            guard try oldest.step(), !oldest.isNull(0) else { return 0 }
            return max(0, latest - max(seq, oldest.int(0) - 1))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Store
@testable import Supervisor

extension RealProcesses {
    /// The store's file on disk: the journal of earlier versions is imported once, a damaged database stops
    /// the daemon with a clear message and is left as it was.
    @Suite("Store files", .serialized, .timeLimit(.minutes(2)))
    struct StoreFileTests {
        static let date = Date(timeIntervalSince1970: 1_795_940_000)

        static func report(_ id: String, connector: String = "files", created: [String] = ["g1"]) -> IntegrationReport {
            IntegrationReport(reportId: id, serverName: "test-daemon", connectorId: connector + "-id", connectorName: connector,
                              refreshStartDate: date, refreshCompletionDate: date.addingTimeInterval(1), createdElements: created,
                              updatedElements: [], deletedElements: [], additionalProperties: ["outcome": "completed"])
        }

        static func element(_ guid: String, _ name: String, version: Int = 1) -> MetadataElement {
            MetadataElement(guid: guid, typeName: "DataFile", qualifiedName: name, properties: ["size": .int(version)],
                            metadataSourceQualifiedName: "files", createTime: date, updateTime: date, version: version,
                            integrationService: "files-integrator")
        }

        /// A journal exactly as the JSON-lines store wrote it: its own record type and encoder, one record per
        /// line, with a torn last line from a crash mid-append.
        static func writeJournal(to path: String) throws {
            let records: [StoreRecord] = [
                .element(element("g1", "/data/a.csv")), .element(element("g2", "/data/b.csv")),
                .report(report("r1", created: ["g1", "g2"])),
                .element(element("g1", "/data/a.csv", version: 2)), .deleted(guid: "g2", time: date),
                .report(report("r2", connector: "chaos")), .forwarded(reportId: "r1", time: date),
                .report(report("r3")), .deadLettered(reportId: "r3", reason: "rejected: bad", time: date),
                .report(report("r1")),  // a replay: ignored, as the journal's loader ignored it
            ]
            let encoder = MessageEncoder()
            var data = Data()
            for record in records { data.append(try encoder.line(record)) }
            data.append(Data("{\"op\":\"report\",\"report\":{\"reportId\":\"tor".utf8))
            try data.write(to: URL(fileURLWithPath: path))
        }

        @Test("a journal written before SQLite is imported once at the first start (the daemon's), then renamed; nothing is lost")
        func journalImport() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let store = harness.directory + "/data/store"
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            try Self.writeJournal(to: store + "/journal.jsonl")
            try harness.writeConfig(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)],
                                    accessServer: DaemonHarness.embeddedAccess)
            try harness.start()
            let imported = harness.daemon!.waitFor(timeout: 10) { _, stderr, _ in stderr.contains { $0.contains("imported") } }
            #expect(imported, "the import was not logged")
            #expect(!FileManager.default.fileExists(atPath: store + "/journal.jsonl"))
            #expect(FileManager.default.fileExists(atPath: store + "/journal.jsonl.imported"))
            let reports = try harness.reports()
            #expect(Set(reports.map(\.reportId)).isSuperset(of: ["r1", "r2", "r3"]))
            #expect(reports.filter { $0.reportId == "r1" }.count == 1)
            let r1 = try #require(reports.first { $0.reportId == "r1" })
            #expect(r1.createdElements == ["g1", "g2"] && r1.refreshCompletionDate == Self.date.addingTimeInterval(1))
            let elements = try harness.elements()
            #expect(elements.first { $0.guid == "g1" }?.version == 2)
            #expect(!elements.contains { $0.guid == "g2" })
            #expect(elements.first { $0.guid == "g1" }?.integrationService == "files-integrator")
            #expect(harness.stop() == .exited(0))
            // A second start imports nothing more, and the data is still all there.
            try harness.start()
            #expect(try harness.reports().filter { ["r1", "r2", "r3"].contains($0.reportId) }.count == 3)
            #expect(!harness.daemon!.stderrLines.contains { $0.contains("imported") })
            #expect(harness.stop() == .exited(0))
        }

        @Test("after a clean stop store.sqlite alone holds every report, and the store's files are the owner's alone")
        func cleanStopLeavesTheDatabaseWhole() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let folder = harness.directory + "/data/store"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // An earlier version's file, readable by all: narrowed at start.
            #expect(FileManager.default.createFile(atPath: folder + "/store.sqlite", contents: nil, attributes: [.posixPermissions: 0o644]))
            try harness.writeConfig(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 0.05)])
            try harness.start()
            let (stored, _) = harness.waitForStatus(timeout: 10) { $0.daemon.storeReports >= 5 }
            try #require(stored)
            #expect(harness.stop() == .exited(0))
            let kept = try harness.reports().map(\.reportId)
            try #require(kept.count >= 5)

            for file in ["store.sqlite", "store.sqlite-wal", "store.sqlite-shm"] {
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + file) else { continue }
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file) is \(String(describing: attributes[.posixPermissions]))")
                if file == "store.sqlite-wal" { #expect((attributes[.size] as? Int) == 0, "the WAL still holds data after a clean stop") }
            }
            // The database file alone, copied elsewhere, has every report.
            let copy = harness.directory + "/copy"
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: folder + "/store.sqlite", toPath: copy + "/store.sqlite")
            let copied = try EmbeddedStore(directory: copy, readOnly: true).reports().map(\.reportId)
            #expect(Set(copied) == Set(kept))
        }

        @Test("in forwarding mode an imported journal keeps each report's forward state: forwarded, dead-lettered or waiting")
        func journalImportForwardStates() throws {
            let folder = try TemporaryDirectory(prefix: "idj")
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            try Self.writeJournal(to: directory + "/journal.jsonl")
            let store = try EmbeddedStore(directory: directory, keeping: .spooled(limitBytes: nil))
            #expect(store.forwardState(of: "r1") == .forwarded(Self.date))
            #expect(store.forwardState(of: "r2") == .pending)
            #expect(store.forwardState(of: "r3") == .deadLettered("rejected: bad"))
            #expect(store.backlog.reports == 1)
            #expect(store.pendingHeads(excluding: []).map(\.report.reportId) == ["r2"])
            #expect(store.totals(connectorName: "files").reports == 2)
            #expect(store.forwardTotals(connectorName: "files").deadLettered == 1)
        }

        @Test("a corrupt journal line in the middle stops the import, names the line, and changes nothing")
        func corruptJournal() throws {
            let folder = try TemporaryDirectory(prefix: "idj")
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let journal = directory + "/journal.jsonl"
            try Self.writeJournal(to: journal)
            var data = try Data(contentsOf: URL(fileURLWithPath: journal))
            data.insert(contentsOf: Data("{not json}\n".utf8), at: data.firstIndex(of: 0x0A)! + 1)
            try data.write(to: URL(fileURLWithPath: journal))
            do {
                _ = try EmbeddedStore(directory: directory)
                Issue.record("a corrupt journal was imported")
            } catch {
                #expect("\(error)".contains("line 2"), "\(error)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: journal)) == data)
            #expect(try EmbeddedStore(directory: directory, readOnly: true).reports().isEmpty)
        }

        @Test("a damaged database file: the daemon exits non-zero, names the file, says what to do, and overwrites nothing")
        func corruptDatabase() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let store = harness.directory + "/data/store"
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
            let garbage = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
            try garbage.write(to: URL(fileURLWithPath: store + "/store.sqlite"))
            try harness.writeConfig(services: [DaemonHarness.chaosService(failure: "none")])
            let daemon = try harness.start(waitForSocket: false)
            let status = daemon.waitForExit(timeout: 10)
            #expect(status != nil && status != .exited(0), "exit: \(String(describing: status))")
            let log = daemon.stderrLines.joined(separator: "\n")
            #expect(log.contains(store + "/store.sqlite") && log.contains("not a readable SQLite database"), "\(log)")
            #expect(log.contains("restore a backup"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/store.sqlite")) == garbage)
            #expect(!FileManager.default.fileExists(atPath: store + "/store.sqlite-wal"))
            let cli = try harness.cli("reports")
            #expect(cli.code != 0 && cli.stderr.contains("not a readable SQLite database"))
        }
    }
}

extension RealProcesses.StoreFileTests {
    @Test("kill -9 of the daemon 20 times during group commits: every acknowledged report is stored exactly once")
    func killDuringCommits() throws {
        let harness = try DaemonHarness(config: "{}")
        defer { harness.cleanUp() }
        let acked = harness.directory + "/acked.txt"
        let service = DaemonHarness.floodService(acked: acked)
        try harness.writeConfig(services: [service], members: ["store": .object(["retention": .object(["maxReportsPerConnector": .int(100_000_000)])])])
        func ackedCount() -> Int { (try? String(contentsOfFile: acked, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        for round in 0..<20 {
            let before = ackedCount()
            let daemon = try harness.start()
            // Kill it at a different point of the stream each round.
            let target = before + 20 + (round * 37) % 200
            #expect(RealProcesses.DaemonLimitsTests.waitUntil(timeout: 20) { ackedCount() >= target }, "round \(round): no acks")
            daemon.signal(SIGKILL)
            #expect(daemon.waitForExit(timeout: 10) != nil)
            // The flood worker goes with it (stdin EOF); wait so the next round's daemon gets the lock cleanly.
            #expect(ProcessTable.waitUntilGone(harness.workerPidsSeen, timeout: 10))
        }
        let ids = try String(contentsOfFile: acked, encoding: .utf8).split(separator: "\n").map(String.init)
        let stored = try harness.reports()
        let storedIDs = stored.map(\.reportId)
        #expect(ids.count >= 400)
        #expect(Set(ids).subtracting(storedIDs).isEmpty, "\(Set(ids).subtracting(storedIDs).count) acknowledged report(s) missing")
        #expect(storedIDs.count == Set(storedIDs).count, "a report stored twice")
    }
}

extension RealProcesses.StoreFileTests {
    @Test("the writer zeroes deleted reports only where that costs no I/O, and no SQLite allocation takes a global lock")
    func writerSettings() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let store = try EmbeddedStore(directory: directory)
        let done = DispatchSemaphore(value: 0)
        let secureDelete = WALSyncTests.Shared<Int?>(nil)
        store.write({ database in
            let pragma = try database.statement("PRAGMA secure_delete")
            return try pragma.step() ? pragma.int(0) : nil
        }, completion: { result in
            secureDelete.withLock { $0 = try? result.get() }
            done.signal()
        })
        #expect(done.wait(timeout: .now() + 30) == .success)
        // 2 is FAST; Debian's build defaults to 1 (on), which writes every freed page through the WAL.
        #expect(secureDelete.withLock { $0 } == 2)
        #expect(!SQLiteDatabase.countsAllocations)
    }
}

extension RealProcesses.StoreFileTests {
    @Test("the CLI's report queries and retention's read an index in order: none scans the reports or sorts them")
    func reportQueriesUseIndexes() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let store = try EmbeddedStore(directory: directory)
        let day = Date(timeIntervalSince1970: 1_795_940_000)
        let queries: [(String, EmbeddedStore.ReportQuery)] = [
            ("--connector", .init(connectorName: "c", limit: 5)),
            ("--connector --since --until", .init(connectorName: "c", since: day, until: day.addingTimeInterval(86_400), limit: 5, offset: 10)),
            ("--since", .init(since: day, limit: 5)),
            ("--until", .init(until: day)),
        ]
        var statements = queries.map { ($0.0, $0.1.statement.sql, $0.1.statement.values) }
        statements.append(("retention's oldest delivered", ReportTally.oldestDelivered, [.text("c"), .int(3)]))
        statements.append(("the cap's delete", "DELETE FROM reports WHERE " + ReportTally.deliveredThrough, [.text("c"), .int(5), .int(3)]))
        for (name, sql, values) in statements {
            let plan: [String] = store.read([]) { database in
                let explain = try database.statement("EXPLAIN QUERY PLAN " + sql).bind(values)
                var details: [String] = []
                while try explain.step() { details.append(explain.text(3)) }
                return details
            }
            #expect(!plan.isEmpty && plan.allSatisfy { $0.hasPrefix("SEARCH reports USING INDEX") }, "\(name): \(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(name) sorts: \(plan)")
        }
    }
}

extension RealProcesses.StoreFileTests {
    @Test("under a steady stream of reports the WAL is checkpointed into the database file and stays bounded")
    func walIsCheckpointed() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let store = try EmbeddedStore(directory: directory)
        // Waves of 50, each waited for: hundreds of transactions, well past the 4,096 frames that start a checkpoint.
        for wave in 0..<400 { Self.submitWave(prefix: "w\(wave)-", to: store) }
        let database = fileSize(store.path), wal = fileSize(store.path + "-wal")
        // A checkpoint that never runs (a statement left open at COMMIT makes SQLite skip it) leaves the database
        // file at its first page and the WAL growing with every report.
        #expect(database > 4 << 20, "database file \(database) bytes: nothing was checkpointed into it")
        #expect(wal <= 64 << 20, "WAL \(wal) bytes")
        #expect(store.keptReports.count == 20_000)
        // Checkpoints run beside the writer (WALCheckpointer), and the WAL still starts over: a pass in a later
        // generation than the first means the writer saw the WAL begin again.
        let pass = try #require(store.writer?.lastCheckpoint, "no checkpoint finished")
        #expect(pass.generation >= 1, "the WAL never started over: \(pass)")
    }
}

extension RealProcesses.StoreFileTests {
    @Test("a reader on an old snapshot holds the WAL back; once it is done the WAL is checkpointed and starts over")
    func pinnedWALRecovers() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let store = try EmbeddedStore(directory: directory)
        func walBytes() -> Int { fileSize(store.path + "-wal") }
        var waves = 0
        func wave() {
            Self.submitWave(prefix: "p\(waves)-", to: store)
            waves += 1
        }
        wave()
        // A slow CLI query: while its read lasts, no checkpoint may copy a frame past its snapshot.
        let reader = try SQLiteDatabase(path: store.path, readOnly: true)
        try reader.execute("BEGIN")
        _ = try reader.statement("SELECT COUNT(*) FROM reports").step()
        let before = store.writer?.lastCheckpoint?.generation ?? 0
        for _ in 0..<2_000 where walBytes() <= 24 << 20 { wave() }
        #expect(walBytes() > 24 << 20, "the WAL did not grow while a reader held it back")
        #expect((store.writer?.lastCheckpoint?.generation ?? 0) == before, "the WAL started over under a reader")
        reader.resetAll()
        try reader.execute("COMMIT")
        for _ in 0..<2_000 where (store.writer?.lastCheckpoint?.generation ?? 0) == before { wave() }
        #expect((store.writer?.lastCheckpoint?.generation ?? 0) > before, "the WAL never started over after the reader finished")
        wave()
        #expect(walBytes() <= 64 << 20, "WAL \(walBytes()) bytes")
        #expect(store.keptReports.count == waves * Self.waveSize)
    }

    static let waveSize = 50

    /// Fifty reports of 30 elements each over four connectors, submitted together (one or two transactions) and
    /// waited for, within a bound.
    static func submitWave(prefix: String, to store: EmbeddedStore) {
        let guids = (0..<30).map { "guid-\($0)-0123456789abcdef0123456789" }
        let group = DispatchGroup()
        for index in 0..<waveSize {
            var report = report(prefix + "\(index)", connector: "c\(index % 4)")
            report.createdElements = guids
            group.enter()
            store.submitReport(report) { _ in group.leave() }
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
    }

    @Test("a version 2 store is upgraded in place: its reports stay, the index version 3 dropped goes")
    func upgradesVersion2() throws {
        let folder = try RealProcesses.RetentionTests.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        try FileManager.default.createDirectory(atPath: directory + "/store", withIntermediateDirectories: true)
        let path = directory + "/store/" + StoreSchema.fileName
        do {
            let old = try SQLiteDatabase(path: path, readOnly: false)
            try old.execute(StoreSchema.writerPragmas(cacheKiB: 1024) + StoreSchema.tables)
            try old.execute("CREATE INDEX reports_by_connector ON reports(connector, seq); PRAGMA user_version = 2")
            var tally = ReportTally()
            try old.execute("BEGIN")
            _ = try EmbeddedStore.insert(Self.report("old-1"), body: Array(#"{"x":1}"#.utf8), stored: Self.date, state: .delivered,
                                         in: old, tally: &tally)
            try tally.flush(into: old, maxKept: nil)
            old.resetAll()
            try old.execute("COMMIT")
        }
        let store = try EmbeddedStore(directory: directory + "/store")
        let (indexes, version): ([String], Int) = store.read(([], 0)) { database in
            let list = try database.statement("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reports' ORDER BY name")
            var names: [String] = []
            while try list.step() { names.append(list.text(0)) }
            let version = try database.statement("PRAGMA user_version")
            return (names, try version.step() ? version.int(0) : -1)
        }
        #expect(version == StoreSchema.version)
        #expect(!indexes.contains("reports_by_connector") && indexes.contains("reports_by_connector_time"), "\(indexes)")
        #expect(store.totals(connectorName: "files").reports == 1)
        #expect(store.forwardState(of: "old-1") != nil)
    }
}

extension RealProcesses.StoreFileTests {
    @Test("store.sqlite-wal deleted or replaced while reports stream: said once, reports still acknowledged, and every acknowledged one survives a stop", arguments: [false, true])
    func lostWAL(replaced: Bool) throws {
        let harness = try DaemonHarness(config: "{}")
        defer { harness.cleanUp() }
        let acked = harness.directory + "/acked.txt"
        try harness.writeConfig(services: [DaemonHarness.floodService(acked: acked)],
                                members: ["store": .object(["retention": .object(["maxReportsPerConnector": .int(100_000_000)])])])
        func ackedCount() -> Int { (try? String(contentsOfFile: acked, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        try harness.start()
        #expect(RealProcesses.DaemonLimitsTests.waitUntil(timeout: 20) { ackedCount() >= 500 }, "no acks")
        let wal = harness.directory + "/data/store/store.sqlite-wal"
        #expect(unlink(wal) == 0)
        // Replaced: another file where the WAL was, as a second SQLite client opening the store then makes.
        if replaced { #expect(FileManager.default.createFile(atPath: wal, contents: Data())) }
        let before = ackedCount()
        #expect(RealProcesses.DaemonLimitsTests.waitUntil(timeout: 20) { ackedCount() >= before + 500 }, "no acks after the WAL went")
        let said = harness.daemon?.stderrLines.filter { $0.contains("store.sqlite-wal was deleted or replaced while the daemon ran") } ?? []
        #expect(said.count == 1, "said \(said.count) times")
        #expect(harness.stop() == .exited(0))
        let ids = Set(try String(contentsOfFile: acked, encoding: .utf8).split(separator: "\n").map(String.init))
        let stored = Set(try harness.reports().map(\.reportId))
        #expect(ids.subtracting(stored).isEmpty, "\(ids.subtracting(stored).count) of \(ids.count) acknowledged report(s) missing")
    }
}

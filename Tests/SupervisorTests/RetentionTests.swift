import Dispatch
import Foundation
import Glibc
import Protocol
import Synchronization
import Testing
@testable import Store
@testable import Supervisor

extension RealProcesses {
    /// `store.retention`: old and surplus reports go in small batches while the daemon runs; a report not yet
    /// forwarded never goes.
    @Suite("Store retention", .serialized, .timeLimit(.minutes(2)))
    struct RetentionTests {
        static func report(_ index: Int, connector: String = "c", completed: Date = Date()) -> IntegrationReport {
            IntegrationReport(reportId: "r\(index)", serverName: "s", connectorId: connector + "-id", connectorName: connector,
                              refreshStartDate: completed, refreshCompletionDate: completed, createdElements: ["g\(index)"],
                              updatedElements: [], deletedElements: [], additionalProperties: [:])
        }

        static func submit(_ store: EmbeddedStore, _ report: IntegrationReport) {
            let done = DispatchSemaphore(value: 0)
            store.submitReport(report) { _ in done.signal() }
            #expect(done.wait(timeout: .now() + 30) == .success, "report \(report.reportId) never answered")
        }

        static func forward(_ store: EmbeddedStore, _ id: String) {
            let done = DispatchSemaphore(value: 0)
            store.markForwarded(id) { _ in done.signal() }
            #expect(done.wait(timeout: .now() + 30) == .success, "\(id) never marked forwarded")
        }

        static func deadLetter(_ store: EmbeddedStore, _ id: String) {
            let done = DispatchSemaphore(value: 0)
            store.markDeadLettered(id, reason: "rejected") { _ in done.signal() }
            #expect(done.wait(timeout: .now() + 30) == .success, "\(id) never marked dead-lettered")
        }

        /// Holds the store's writer inside a transaction until the returned gate is signalled, so that what is
        /// submitted meanwhile queues and shares the next one.
        static func holdWriter(_ store: EmbeddedStore) -> DispatchSemaphore {
            let gate = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
            store.write({ _ in
                held.signal()
                _ = gate.wait(timeout: .now() + 30)
            }, completion: { _ in })
            #expect(held.wait(timeout: .now() + 30) == .success, "the writer never ran the holding write")
            return gate
        }

        static func temporaryDirectory() throws -> TemporaryDirectory {
            try TemporaryDirectory(prefix: "idr")
        }

        @Test("over maxReportsPerConnector, the oldest forwarded go and every unforwarded one stays")
        func perConnectorCap() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 10
            let store = try EmbeddedStore(directory: directory, keeping: .spooled(limitBytes: nil), settings: settings)
            for index in 0..<40 { Self.submit(store, Self.report(index)) }
            Self.submit(store, Self.report(100, connector: "other"))
            // The oldest 30 reach the server; the newest 10 still wait.
            for index in 0..<30 { Self.forward(store, "r\(index)") }
            var rounds = 0
            while store.pruneBatch() > 0 { rounds += 1 }
            #expect(rounds >= 1)
            let kept = Set(store.reports(.init(connectorName: "c")).map(\.reportId))
            // The newest 10 are r30…r39, all still waiting: every forwarded one is past the cap.
            #expect(kept == Set((30..<40).map { "r\($0)" }), "kept: \(kept.sorted())")
            #expect(store.forwardState(of: "r0") == nil)
            #expect(store.pendingHeads(excluding: []).map(\.report.reportId).sorted() == ["r100", "r30"])
            #expect(store.reports(.init(connectorName: "other")).count == 1)
            #expect(store.totals(connectorName: "c").reports == 40, "totals count every report ever stored")
            #expect(store.keptReports.count == 11)
            // Once those are forwarded and more arrive, the cap holds the newest 10.
            for index in 30..<40 { Self.forward(store, "r\(index)") }
            for index in 40..<45 { Self.submit(store, Self.report(index)); Self.forward(store, "r\(index)") }
            while store.pruneBatch() > 0 {}
            #expect(Set(store.reports(.init(connectorName: "c")).map(\.reportId)) == Set((35..<45).map { "r\($0)" }))
        }

        @Test("at the cap a dead-lettered report goes with its dead letter; one still kept keeps its own")
        func capTakesDeadLetters() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 3
            let store = try EmbeddedStore(directory: directory, keeping: .spooled(limitBytes: nil), settings: settings)
            for index in 0..<4 { Self.submit(store, Self.report(index)) }
            for id in ["r0", "r1", "r2"] { Self.deadLetter(store, id) }
            Self.forward(store, "r3")
            // While all four waited none could go; r4 takes the connector two past its cap: r0 and r1 go.
            Self.submit(store, Self.report(4))
            // The transaction after r4's deletes what it left past the cap.
            store.flush()
            func deadLetters() -> [String] {
                store.read([]) { database in
                    let rows = try database.statement("SELECT report_id FROM dead_letters ORDER BY report_id")
                    var ids: [String] = []
                    while try rows.step() { ids.append(rows.text(0)) }
                    return ids
                }
            }
            #expect(Set(store.reports(.init(connectorName: "c")).map(\.reportId)) == ["r2", "r3", "r4"])
            #expect(deadLetters() == ["r2"])
            #expect(store.totals(connectorName: "c").reports == 5)
            #expect(store.keptReports.count == 3)
        }

        @Test("a burst of reports shares transactions: per-connector totals count each once and the cap keeps the newest")
        func burstAtTheCap() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 7
            let store = try EmbeddedStore(directory: directory, settings: settings)
            // Queued without waiting, so the writer commits many in one transaction; r499 comes twice.
            let group = DispatchGroup()
            let outcomes = Mutex<[String: [Bool]]>([:])
            let burst = (0..<500).map { Self.report($0, connector: $0 % 2 == 0 ? "even" : "odd") } + [Self.report(499, connector: "odd")]
            for report in burst {
                group.enter()
                store.submitReport(report) { result in
                    outcomes.withLock { $0[report.reportId, default: []].append((try? result.get()) ?? false) }
                    group.leave()
                }
            }
            #expect(group.wait(timeout: .now() + 60) == .success)
            store.flush()
            #expect(outcomes.withLock { $0["r499"] }?.sorted { !$0 && $1 } == [false, true], "one copy stored, the replay answered stored: false")
            for (connector, newest) in [("even", (486..<500).filter { $0 % 2 == 0 }), ("odd", (486..<500).filter { $0 % 2 == 1 })] {
                let kept = store.reports(.init(connectorName: connector)).map(\.reportId)
                #expect(kept == newest.map { "r\($0)" }, "\(connector) keeps its newest 7 in order: \(kept)")
                let totals = store.totals(connectorName: connector)
                #expect(totals.reports == 250 && totals.created == 250, "\(connector): \(totals)")
                #expect(totals.lastReportId == "r\(newest.last!)")
            }
            #expect(store.keptReports.count == 14)
        }

        @Test("one transaction over 40 connectors: each connector's totals and cap are exact (upserts of 32 and 8 rows)")
        func manyConnectorsInOneTransaction() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 2
            let store = try EmbeddedStore(directory: directory, settings: settings)
            for connector in 0..<40 { Self.submit(store, Self.report(1_000 + connector, connector: "c\(connector)")) }
            // The writer is held while 120 reports queue, so one transaction takes them all.
            let gate = Self.holdWriter(store)
            let group = DispatchGroup()
            for index in 0..<120 {
                group.enter()
                store.submitReport(Self.report(index, connector: "c\(index % 40)")) { _ in group.leave() }
            }
            gate.signal()
            #expect(group.wait(timeout: .now() + 30) == .success)
            // The next transaction deletes for all 40 (their kept counts lowered by upserts of 32 and 8 rows).
            store.flush()
            for connector in 0..<40 {
                let kept = store.reports(.init(connectorName: "c\(connector)")).map(\.reportId)
                #expect(kept == ["r\(connector + 40)", "r\(connector + 80)"], "c\(connector) keeps its newest two: \(kept)")
                let totals = store.totals(connectorName: "c\(connector)")
                #expect(totals.reports == 4 && totals.created == 4 && totals.lastReportId == "r\(connector + 80)", "c\(connector): \(totals)")
            }
            #expect(store.keptReports.count == 80)
        }

        @Test("a transaction that leaves a connector past its cap is followed, unprompted, by one that deletes down to it")
        func capPaidWithoutMoreWork() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 3
            let store = try EmbeddedStore(directory: directory, settings: settings)
            for index in 0..<10 { Self.submit(store, Self.report(index)) }
            // Nothing more is written: the writer begins the deleting transaction by itself.
            let atCap = RealProcesses.DaemonLimitsTests.waitUntil(timeout: 20) { store.keptReports.count == 3 }
            #expect(atCap, "kept: \(store.keptReports.count)")
            #expect(store.reports(.init(connectorName: "c")).map(\.reportId) == ["r7", "r8", "r9"])
            let totals = store.totals(connectorName: "c")
            #expect(totals.reports == 10 && totals.created == 10 && totals.lastReportId == "r9", "\(totals)")
        }

        @Test("retention's own pass, run in the transaction that deletes what the last one left past a cap, deletes no more")
        func ownPassAfterOwedDeletes() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxReportsPerConnector = 2
            // No top-up: each transaction is what was queued when it began.
            let store = try EmbeddedStore(directory: directory, settings: settings, topUpSeconds: 0)
            // First transaction: held, so that the second takes five reports and a second hold together.
            let gate1 = Self.holdWriter(store)
            let group = DispatchGroup()
            for index in 0..<5 {
                group.enter()
                store.submitReport(Self.report(index)) { _ in group.leave() }
            }
            let gate2 = DispatchSemaphore(value: 0), held2 = DispatchSemaphore(value: 0)
            store.write({ _ in
                held2.signal()
                _ = gate2.wait(timeout: .now() + 30)
            }, completion: { _ in })
            gate1.signal()
            try #require(held2.wait(timeout: .now() + 30) == .success)
            // The pass queued now runs in the third transaction, after that has deleted the three the second
            // leaves past the cap.
            let pruned = Mutex<Int?>(nil), done = DispatchSemaphore(value: 0)
            store.queuePruneBatch { count in
                pruned.withLock { $0 = count }
                done.signal()
            }
            gate2.signal()
            #expect(group.wait(timeout: .now() + 30) == .success)
            #expect(done.wait(timeout: .now() + 30) == .success)
            #expect(pruned.withLock { $0 } == 0)
            store.flush()
            #expect(store.reports(.init(connectorName: "c")).map(\.reportId) == ["r3", "r4"])
            #expect(store.keptReports.count == 2)
        }

        @Test("past maxAgeDays, forwarded reports go in batches of at most 500; waiting ones stay however old")
        func byAge() throws {
            let folder = try Self.temporaryDirectory()
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            var settings = StoreSettings()
            settings.retention.maxAgeDays = 30
            let store = try EmbeddedStore(directory: directory, keeping: .spooled(limitBytes: nil), settings: settings)
            let old = Date().addingTimeInterval(-40 * 86_400)
            for index in 0..<1_200 { Self.submit(store, Self.report(index, completed: old)) }
            for index in 0..<1_100 { Self.forward(store, "r\(index)") }
            Self.submit(store, Self.report(5_000))
            Self.forward(store, "r5000")
            var batches: [Int] = []
            while true {
                let deleted = store.pruneBatch()
                if deleted == 0 { break }
                batches.append(deleted)
            }
            #expect(batches == [500, 500, 100], "\(batches)")
            let kept = store.reports().map(\.reportId)
            #expect(kept.count == 101 && kept.contains("r5000") && kept.contains("r1100") && !kept.contains("r0"))
        }

        @Test("the running daemon keeps its store within maxReportsPerConnector while reports flow, and status shows it")
        func whileRunning() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            try harness.writeConfig(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 0.02)],
                                    members: ["store": .object(["retention": .object(["maxReportsPerConnector": .int(5), "maxAgeDays": .int(30)]),
                                                                "cacheMegabytes": .int(2)])])
            try harness.start()
            let pruned = harness.waitForStatus(timeout: 30) { status in
                (harness.connector(status, "chaos")?.statistics.reportsStored ?? 0) >= 60 && status.daemon.storeReports <= 6
            }
            #expect(pruned.ok, "retention did not keep up: \(String(describing: pruned.status?.daemon))")
            #expect(pruned.status?.daemon.storeOldestReport != nil && (pruned.status?.daemon.storeSizeBytes ?? 0) > 0)
            #expect(try harness.reports().count <= 8)
            let text = try harness.cli("status").stdout
            #expect(text.contains("report(s) kept"), "\(text)")
            #expect(harness.stop() == .exited(0))
        }
    }
}

extension RealProcesses.RetentionTests {
    @Test("the cap's delete takes the oldest delivered reports by completion time, then arrival, past equal times and waiting reports")
    func capDeleteOrder() throws {
        let folder = try Self.temporaryDirectory()
        let directory = folder.path
        defer { withExtendedLifetime(folder) {} }
        let store = try EmbeddedStore(directory: directory, keeping: .spooled(limitBytes: nil))
        // Completion times (seconds) by arrival: three reports share the oldest time, with a waiting one among them.
        let seconds = [2, 1, 1, 1, 3, 2, 1]
        for (index, second) in seconds.enumerated() {
            Self.submit(store, Self.report(index, completed: Date(timeIntervalSince1970: 1_795_940_000 + Double(second))))
            if index != 2 { Self.forward(store, "r\(index)") }
        }
        func delete(_ count: Int) throws -> Int {
            try StoreStructureTests.wait { done in
                store.write({ database in
                    try ReportTally.deleteOldestDelivered(count, connector: "c", deadLetters: false, in: database)
                }, completion: done)
            }
        }
        func kept() -> [String] { store.reports(.init(connectorName: "c")).map(\.reportId) }
        // Oldest first: r1, r3, r6 (r2 waits), then r0 of the two at 2 s, which came before r5.
        #expect(try delete(4) == 4)
        #expect(kept() == ["r2", "r5", "r4"])
        // Asked for more than there are: every delivered one goes, the waiting one stays.
        #expect(try delete(10) == 2)
        #expect(kept() == ["r2"])
        #expect(try delete(1) == 0)
    }
}

extension RealProcesses.RetentionTests {
    static func lineageEvent(_ index: Int) throws -> (OpenLineageEvent, [UInt8]) {
        let body = Array("""
            {"eventType":"START","eventTime":"2026-12-07T18:05:00Z","producer":"https://p","schemaURL":"https://s",
             "run":{"runId":"0193a1c2-7d4e-7b8f-9a0b-\(String(format: "%012d", index))"},"job":{"namespace":"n","name":"j\(index)"}}
            """.utf8)
        return (try OpenLineageEvent(body: body), body)
    }

    static func submit(_ store: EmbeddedStore, lineage index: Int, expectNew: Bool = true) throws {
        let (event, body) = try lineageEvent(index)
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Bool?>(nil)
        store.submitLineageEvent(event.record, body: body) { result in
            outcome.withLock { $0 = try? result.get() }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 30) == .success, "lineage event \(index) never answered")
        #expect(outcome.withLock { $0 } == expectNew)
    }

    @Test("OpenLineage events over maxLineageEvents go oldest first; one older than maxAgeDays goes, but never the newest; a replay is not stored twice")
    func lineageRetention() throws {
        let folder = try Self.temporaryDirectory()
        defer { withExtendedLifetime(folder) {} }
        var settings = StoreSettings()
        settings.retention.maxLineageEvents = 5
        settings.retention.maxAgeDays = 1
        let store = try EmbeddedStore(directory: folder.path, settings: settings)
        for index in 0..<12 { try Self.submit(store, lineage: index) }
        try Self.submit(store, lineage: 11, expectNew: false)
        #expect(store.lineageEventCount == 12)
        while store.pruneLineageBatch() > 0 {}
        #expect(store.lineageEvents().map(\.jobName) == (7..<12).map { "j\($0)" })
        // Nothing is due: no write at all.
        #expect(store.pruneLineageBatch() == 0)
        // Two days on, every one of them is past maxAgeDays, and all but the newest go: it keeps the numbering,
        // so the next event comes after every cursor (an empty table would number it 1 again).
        while store.pruneLineageBatch(now: Date().addingTimeInterval(2 * 86_400)) > 0 {}
        #expect(store.lineageEvents().map(\.jobName) == ["j11"])
        #expect(store.pruneLineageBatch(now: Date().addingTimeInterval(2 * 86_400)) == 0, "the newest alone is never due")
        try Self.submit(store, lineage: 12)
        #expect(store.lineageEvents(after: 12, limit: 10, maxBytes: 1 << 20).map(\.seq) == [13])
    }
}

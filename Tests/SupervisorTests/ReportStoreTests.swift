import Foundation
import Glibc
import Protocol
import Synchronization
import Testing
@testable import Store
@testable import Supervisor

extension RealProcesses {
    /// The embedded access server: acknowledged means on disk, restarts keep everything, reports are exact.
    @Suite("Integration reports and the embedded store", .serialized, .timeLimit(.minutes(2)))
    struct ReportStoreTests {
        @Test("a report is in the store on disk before the worker receives its acknowledgement")
        func ackAfterDurable() throws {
            let probe = Binaries.fixtures + "/ack_probe_worker.py"
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let verdict = harness.directory + "/verdict.json"
            let database = harness.directory + "/data/store/store.sqlite"
            let service = ServiceFixture("python-integrator", connectors: [ConnectorFixture("probe", provider: "probe")],
                                         command: ["python3", probe, database, verdict])
            try DaemonHarness.config(services: [service]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start()
            eventually(timeout: 10, interval: 0.01) { FileManager.default.fileExists(atPath: verdict) }
            let data = try #require(FileManager.default.contents(atPath: verdict), "the probe never got its ack")
            let result = try JSONDecoder().decode(JSONValue.self, from: data)
            #expect(result["onDiskAtAck"] == .bool(true))
            #expect(result["ack"]?["result"]?["stored"] == .bool(true))
            #expect(result["ack"]?["result"]?["reportId"] == result["reportId"])
            #expect(harness.stop() == .exited(0))
            #expect(try harness.reports().map(\.reportId) == [result["reportId"]?.stringValue])
        }

        @Test("the files monitor reports exactly what was created, updated and deleted; a daemon restart keeps it all")
        func exactReportsAcrossRestart() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: "landing", intervalSeconds: 0.2)])
            defer { harness.cleanUp() }
            let root = try harness.makeFolder("landing")
            try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
            for name in ["a.csv", "b.json", "sub/c.txt"] { try name.place(at: root + "/" + name) }

            func waitForReports(_ count: Int) throws -> [IntegrationReport] {
                let (ok, status) = harness.waitForStatus(timeout: 10) { status in
                    (harness.connector(status, "files")?.statistics.reportsStored ?? 0) >= count
                }
                try #require(ok, "expected \(count) report(s): \(String(describing: status))")
                return try harness.reports(connector: "files")
            }
            func names(_ guids: [String], in elements: [MetadataElement]) -> Set<String> {
                Set(elements.filter { guids.contains($0.guid) }.map { $0.qualifiedName.replacingOccurrences(of: root, with: "") })
            }

            try harness.start()
            let first = try waitForReports(1)[0]
            let elements = try harness.elements()
            #expect(names(first.createdElements, in: elements) == ["/a.csv", "/b.json", "/sub", "/sub/c.txt"])
            #expect(first.updatedElements.isEmpty && first.deletedElements.isEmpty)
            #expect(first.refreshCompletionDate != nil && first.refreshCompletionDate! >= first.refreshStartDate)
            #expect(first.serverName == "test-daemon" && first.connectorName == "files")
            let typeOf = Dictionary(uniqueKeysWithValues: elements.map { ($0.qualifiedName.replacingOccurrences(of: root, with: ""), $0.typeName) })
            #expect(typeOf["/sub"] == "FileFolder" && typeOf["/a.csv"] == "DataFile")
            let csv = try #require(elements.first { $0.qualifiedName == root + "/a.csv" })
            #expect(csv.properties["fileType"] == .string("csv") && csv.properties["size"] == .int(5) && csv.properties["name"] == .string("a.csv"))

            // One change of each kind, in one refresh: modified, deleted, added.
            let deletedGuid = try #require(elements.first { $0.qualifiedName == root + "/b.json" }?.guid)
            try "a longer content".write(toFile: root + "/a.csv", atomically: false, encoding: .utf8)
            try FileManager.default.removeItem(atPath: root + "/b.json")
            try "new".place(at: root + "/sub/d.txt")
            // The three changes may straddle two refreshes: wait until open metadata matches the tree, then read every report.
            let synced = try eventually(timeout: 10) {
                let now = try harness.elements().map { $0.qualifiedName.replacingOccurrences(of: root, with: "") + ":\($0.properties["size"]?.intValue ?? -1)" }
                return Set(now) == ["/a.csv:16", "/sub:-1", "/sub/c.txt:9", "/sub/d.txt:3"]
            }
            try #require(synced, "open metadata never matched the folder tree")
            let reports = try harness.reports(connector: "files")
            let later = reports.dropFirst()
            let after = try harness.elements()
            #expect(names(later.flatMap(\.createdElements), in: after) == ["/sub/d.txt"])
            #expect(names(later.flatMap(\.updatedElements), in: after) == ["/a.csv"])
            #expect(later.flatMap(\.deletedElements) == [deletedGuid])
            #expect(after.first { $0.qualifiedName == root + "/a.csv" }?.properties["size"] == .int(16))

            // Restart: the earlier reports and elements are still there, and nothing new is reported for an unchanged tree.
            #expect(harness.stop() == .exited(0))
            let stored = try harness.reports()
            try harness.start()
            let (refreshed, _) = harness.waitForStatus(timeout: 10) { status in
                (harness.connector(status, "files")?.statistics.refreshCount ?? 0) >= 2
            }
            #expect(refreshed)
            #expect(try harness.reports().map(\.reportId) == stored.map(\.reportId))
            #expect(try harness.elements().count == after.count)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a refresh cut short by a worker crash gets an aborted report; a throwing refresh a failed one")
        func abortedAndFailedReports() throws {
            let harness = try DaemonHarness(services: [
                DaemonHarness.chaosService(failure: "exit", afterRefreshes: 2, restart: ServiceFixture.restart(policy: "temporary")),
                DaemonHarness.chaosService("thrower", connector: "thrower", failure: "throw", afterRefreshes: 1),
            ])
            defer { harness.cleanUp() }
            try harness.start()
            let (done, status) = harness.waitForStatus(timeout: 10) { status in
                harness.service(status, "chaos-integrator")?.worker.state == "stopped" && harness.connector(status, "thrower")?.connectorStatus == .FAILED
            }
            try #require(done, "\(String(describing: status))")
            let reports = try harness.reports()
            let elements = Dictionary(uniqueKeysWithValues: try harness.elements().map { ($0.guid, $0) })
            let chaos = reports.filter { $0.connectorName == "chaos" }
            #expect(chaos.map { $0.additionalProperties["outcome"] } == ["completed", "aborted"])
            let aborted = try #require(chaos.last)
            #expect(aborted.createdElements.count == 1, "the element written before the crash")
            #expect(elements[aborted.createdElements[0]]?.properties["refresh"] == .int(2))
            #expect(aborted.additionalProperties["reason"] == "worker exited with code 3")
            let failed = try #require(reports.first { $0.connectorName == "thrower" })
            #expect(failed.additionalProperties["outcome"] == "failed")
            #expect(failed.additionalProperties["failingExceptionMessage"] == "chaos: refresh 1 failed on purpose")
            #expect(failed.createdElements.count == 1)
            #expect(harness.stop() == .exited(0))
        }

        @Test("generateIntegrationReports false: elements are written, no report is stored")
        func reportsCanBeTurnedOff() throws {
            let service = DaemonHarness.filesService(folder: "quiet", reports: false)
            let harness = try DaemonHarness(services: [service])
            defer { harness.cleanUp() }
            let root = try harness.makeFolder("quiet")
            try "x".place(at: root + "/x.txt")
            try harness.start()
            let (refreshed, _) = harness.waitForStatus(timeout: 10) { ($0.integrationServiceSummaries.first?.integrationConnectorReports.first?.statistics.refreshCount ?? 0) >= 1 }
            #expect(refreshed)
            #expect(try harness.elements().map(\.qualifiedName) == [root + "/x.txt"])
            #expect(try harness.reports().isEmpty)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a replayed report id is acknowledged without a second copy, also after the store is reopened")
        func replayedReport() throws {
            let folder = try TemporaryDirectory(prefix: "idj")
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let report = IntegrationReport(reportId: "r1", serverName: "s", connectorId: "i", connectorName: "c", refreshStartDate: Date(),
                                           refreshCompletionDate: Date(), createdElements: ["g"], updatedElements: [], deletedElements: [],
                                           additionalProperties: [:])
            func submit(_ store: EmbeddedStore) -> Bool? {
                let outcome = Mutex<Bool?>(nil)
                let done = DispatchSemaphore(value: 0)
                store.submitReport(report) { result in
                    outcome.withLock { $0 = try? result.get() }
                    done.signal()
                }
                guard done.wait(timeout: .now() + 5) == .success else { return nil }
                return outcome.withLock { $0 }
            }
            do {
                let store = try EmbeddedStore(directory: directory)
                #expect(submit(store) == true)
                #expect(submit(store) == false)
            }
            let reopened = try EmbeddedStore(directory: directory)
            #expect(submit(reopened) == false)
            #expect(try EmbeddedStore(directory: directory, readOnly: true).reports().map(\.reportId) == ["r1"])
            #expect(reopened.totals(connectorName: "c").reports == 1)
        }

        @Test("reports that wait together are inserted several to a statement, and each is answered as if alone: replays and repeats are not stored twice")
        func groupedReports() throws {
            let folder = try TemporaryDirectory(prefix: "idj")
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let store = try EmbeddedStore(directory: directory)
            func report(_ id: String, _ connector: String) -> IntegrationReport {
                IntegrationReport(reportId: id, serverName: "s", connectorId: connector + "-id", connectorName: connector, refreshStartDate: Date(),
                                  refreshCompletionDate: Date(), createdElements: ["g"], updatedElements: [], deletedElements: [],
                                  additionalProperties: [:])
            }
            RealProcesses.RetentionTests.submit(store, report("old", "c0"))
            // 70 new reports, a replay of a stored one, and two repeats: one within the first statement's 32 rows,
            // one of a report the first statement stored (73 rows: statements of 32, 32, 8 and 1).
            var ids = (0..<70).map { "new-\($0)" }
            ids.insert("old", at: 10)
            ids.insert("new-20", at: 25)
            ids.insert("new-3", at: 40)
            let expected = ids.enumerated().map { index, id in id != "old" && !ids[..<index].contains(id) }
            // The writer is held inside a transaction while every report queues, so they share the next one.
            let gate = RealProcesses.RetentionTests.holdWriter(store)
            let answers = Mutex([Bool?](repeating: nil, count: ids.count))
            let group = DispatchGroup()
            for (index, id) in ids.enumerated() {
                group.enter()
                store.submitReport(report(id, "c\(index % 3)")) { result in
                    answers.withLock { $0[index] = try? result.get() }
                    group.leave()
                }
            }
            gate.signal()
            #expect(group.wait(timeout: .now() + 30) == .success)
            #expect(answers.withLock { $0 } == expected)
            let stored = try EmbeddedStore(directory: directory, readOnly: true).reports().map(\.reportId)
            #expect(stored.count == 71)
            #expect(Set(stored) == Set(["old"] + (0..<70).map { "new-\($0)" }))
            #expect((0..<3).map { store.totals(connectorName: "c\($0)").reports }.reduce(0, +) == 71)
        }
    }
}

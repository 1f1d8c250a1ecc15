import Foundation
import Glibc
import Protocol
import Testing
@testable import Store
@testable import Supervisor

extension RealProcesses {
    /// The two promises against a worker that misbehaves on purpose: absurd numbers, reports of any size,
    /// reaching into another service. The daemon and the other services must not notice.
    @Suite("Hostile workers", .serialized, .timeLimit(.minutes(3)))
    struct HostileWorkerTests {
        static func hostileService(_ mode: String, verdict: String, extra: String? = nil) -> ServiceFixture {
            ServiceFixture("hostile-integrator", connectors: [ConnectorFixture("hostile", provider: "hostile", metadataSource: "hostile")],
                           command: ["python3", Binaries.fixtures + "/hostile_worker.py", mode, verdict] + (extra.map { [$0] } ?? []))
        }

        /// Waits for the hostile worker's verdict file and returns its answers by name.
        static func verdict(_ path: String, timeout: Double = 30) throws -> [String: JSONValue] {
            eventually(timeout: timeout) { FileManager.default.fileExists(atPath: path) }
            let data = try #require(FileManager.default.contents(atPath: path), "the hostile worker wrote no verdict")
            guard case .object(let answers)? = try JSONDecoder().decode(JSONValue.self, from: data)["answers"] else {
                throw HarnessError("verdict has no answers")
            }
            return answers
        }

        /// Starts the daemon with a files service that catalogues one file; that file's element is what a
        /// hostile worker then tries to reach.
        static func filesServiceWithVictim(_ harness: DaemonHarness) throws -> (folder: String, victim: MetadataElement) {
            let folder = try harness.makeFolder("landing")
            _ = FileManager.default.createFile(atPath: folder + "/owned.csv", contents: Data("x".utf8))
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder, intervalSeconds: 3600)])
            try harness.start()
            let victim = firstValue(within: 10, interval: 0.05) { (try? harness.elements())?.first { $0.qualifiedName.hasSuffix("/owned.csv") } }
            return (folder, try #require(victim))
        }

        @Test("out-of-range numbers in every numeric field are -32602 naming the field; the daemon and the files service carry on")
        func outOfRangeNumbers() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let verdictPath = harness.directory + "/verdict.json"
            let folder = try harness.makeFolder("landing")
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder), Self.hostileService("numbers", verdict: verdictPath)])
            try harness.start()
            let answers = try Self.verdict(verdictPath)
            for (name, answer) in answers where name != "after" && name != "createElement properties=1e300" {
                #expect(answer["error"]?["code"] == .int(RPCError.invalidParamsCode), "\(name): \(answer)")
                let field = String(name.split(separator: "=")[0])
                #expect(answer["error"]?["message"]?.stringValue?.contains(field) == true, "\(name) does not name \(field): \(answer)")
            }
            #expect(answers["after"]?["result"]?["stored"] == .bool(true), "a sane report after the attack: \(String(describing: answers["after"]))")
            // Stored as the worker wrote it (Python's spacing and member order), and read back as it was sent.
            let sane = try #require(try harness.reports(connector: "hostile").first { $0.reportId == "numbers-sane" })
            #expect(sane.connectorName == "hostile" && sane.serverName == "test-daemon" && sane.connectorId == "hostile-id")
            #expect(EpochMillis.int64(sane.refreshStartDate) == 1_795_940_000_000 && sane.refreshCompletionDate.map(EpochMillis.int64) == 1_795_940_000_100)
            #expect(sane.createdElements == ["guid-1"] && sane.updatedElements.isEmpty && sane.deletedElements.isEmpty)
            #expect(sane.additionalProperties == ["outcome": "completed"])
            let body = try EmbeddedStore(directory: harness.directory + "/data/store", readOnly: true).read("") { database in
                let row = try database.statement("SELECT body FROM reports WHERE report_id = 'numbers-sane'")
                return try row.step() ? String(decoding: row.data(0), as: UTF8.self) : ""
            }
            #expect(body.hasPrefix(#"{"reportId": "numbers-sane", "serverName": "test-daemon""#), "\(body)")
            #expect(answers["createElement properties=1e300"]?["result"] != nil)
            // The daemon is alive, counted the violations, and the files service still catalogues.
            _ = FileManager.default.createFile(atPath: folder + "/after.csv", contents: Data("x".utf8))
            let settled = harness.waitForStatus(timeout: 10) { status in
                (harness.service(status, "hostile-integrator")?.worker.protocolViolations ?? 0) >= 6
                    && harness.connector(status, "hostile")?.connectorStatus == .RUNNING
            }
            #expect(settled.ok, "violations not counted or the sane status not kept: \(String(describing: settled.status))")
            #expect(harness.daemon?.exitStatus == nil)
            let found = try eventually(timeout: 10, interval: 0.05) { try harness.elements().contains { $0.qualifiedName.hasSuffix("/after.csv") } }
            #expect(found, "the files service stopped cataloguing")
            let pids = harness.workerPidsSeen
            #expect(harness.stop() == .exited(0))
            #expect(ProcessTable.waitUntilGone(pids, timeout: 5))
        }

        @Test("a 40,000-element report: one line over the limit is refused with a clear error, the same report in parts is stored whole")
        func reportInParts() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let verdictPath = harness.directory + "/verdict.json"
            try harness.writeConfig(services: [Self.hostileService("parts", verdict: verdictPath)])
            try harness.start()
            let answers = try Self.verdict(verdictPath)
            // The whole line is over 1 MiB: refused at once, to the request's id, saying what to do instead.
            #expect(answers["whole"]?["error"]?["code"] == .int(RPCError.invalidRequestCode), "\(String(describing: answers["whole"]))")
            #expect(answers["whole"]?["error"]?["message"]?.stringValue?.contains("in parts") == true)
            #expect(answers["part-0"]?["result"]?["partsReceived"] == .int(1))
            #expect(answers["part-7"]?["result"]?["stored"] == .bool(true), "\(String(describing: answers["part-7"]))")
            #expect(answers["out-of-order"]?["error"]?["message"]?.stringValue?.contains("part.index") == true)
            let stored = try harness.reports().filter { $0.reportId == "parts-report" }
            #expect(stored.count == 1)
            #expect(stored.first?.createdElements.count == 40_000)
            #expect(stored.first?.createdElements.first == "00000000-0000-4000-8000-000000000000")
            #expect(stored.first?.createdElements.last == "00039999-0000-4000-8000-000000039999")
            let logged = harness.daemon!.stderrLines.joined(separator: "\n")
            #expect(logged.contains("exceeds") || logged.contains("dropped a"), "the oversized line was not logged")
            #expect(harness.stop() == .exited(0))
        }

        @Test("the real worker stores a 28,000-file folder's first refresh as one report")
        func bigFolder() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let folder = try harness.makeFolder("big")
            for index in 0..<28_000 {
                _ = FileManager.default.createFile(atPath: folder + "/file-\(index).csv", contents: nil)
            }
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder, intervalSeconds: 3600)])
            try harness.start()
            let reports = firstValue(within: 120, interval: 0.2) { (try? harness.reports()).flatMap { $0.isEmpty ? nil : $0 } } ?? []
            #expect(reports.count == 1)
            // Its GUIDs alone (28,000 × 39 bytes) are over the 1 MiB line limit.
            #expect(reports.first?.createdElements.count == 28_000)
            #expect(harness.daemon!.stderrLines.filter { $0.contains("protocol violation") }.isEmpty)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker cannot report for, see, change, delete or create in another service's connector or metadata source")
        func serviceBoundaries() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let verdictPath = harness.directory + "/verdict.json"
            let (folder, target) = try Self.filesServiceWithVictim(harness)
            #expect(target.integrationService == "files-integrator")
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder, intervalSeconds: 3600),
                                               Self.hostileService("scope", verdict: verdictPath, extra: target.guid)])
            #expect(try harness.cli("reload").code == 0)
            let answers = try Self.verdict(verdictPath)
            for name in ["submit-other", "update", "delete", "create-as-other"] {
                #expect(answers[name]?["error"]?["code"] == .int(RPCError.outsideServiceCode), "\(name): \(String(describing: answers[name]))")
            }
            #expect(answers["submit-other"]?["error"]?["message"]?.stringValue?.contains("files") == true)
            #expect(answers["find"]?["result"]?["elements"] == .array([]), "another service's elements were visible")
            #expect(answers["own-create"]?["result"] != nil, "its own writes must still work")
            let after = try harness.elements()
            #expect(after.contains { $0.guid == target.guid && $0.version == target.version })
            #expect(try harness.reports().allSatisfy { $0.reportId != "scope-other" })
            let refused = harness.waitForStatus(timeout: 5) { (harness.service($0, "hostile-integrator")?.worker.protocolViolations ?? 0) >= 4 }
            #expect(refused.ok, "refusals not counted as violations")
            #expect(harness.daemon!.stderrLines.contains { $0.contains("refused a call outside the service") && $0.contains("hostile-integrator") })
            #expect(harness.stop() == .exited(0))
        }
        @Test("metadata/writeElements: each write has its own outcome, later writes see earlier ones, malformed batches name the field")
        func batchWrites() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let verdictPath = harness.directory + "/verdict.json"
            let (folder, target) = try Self.filesServiceWithVictim(harness)
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder, intervalSeconds: 3600),
                                               Self.hostileService("batch", verdict: verdictPath, extra: target.guid)])
            #expect(try harness.cli("reload").code == 0)
            let answers = try Self.verdict(verdictPath)
            let mixed = try #require(answers["mixed"]?["result"]?["outcomes"]?.arrayValue, "\(String(describing: answers["mixed"]))")
            #expect(mixed.count == 5)
            #expect(mixed[0]["guid"]?.stringValue != nil && mixed[1]["guid"]?.stringValue != nil)
            #expect(mixed[2]["error"]?["code"] == .int(RPCError.invalidParamsCode), "a duplicate qualifiedName: \(mixed[2])")
            #expect(mixed[2]["error"]?["message"]?.stringValue?.contains("already exists") == true)
            #expect(mixed[3]["error"]?["code"] == .int(RPCError.outsideServiceCode), "another service's element: \(mixed[3])")
            #expect(mixed[4]["error"]?["code"] == .int(RPCError.outsideServiceCode))
            let followUp = try #require(answers["follow-up"]?["result"]?["outcomes"]?.arrayValue, "\(String(describing: answers["follow-up"]))")
            #expect(followUp.allSatisfy { $0["guid"] != nil }, "delete, update and a create of the freed name: \(followUp)")
            for (name, field) in [("typeName", "params.writes[1].typeName"), ("op", "params.writes[0].op"), ("writes (count)", "writes (count)")] {
                #expect(answers[name]?["error"]?["code"] == .int(RPCError.invalidParamsCode), "\(name): \(String(describing: answers[name]))")
                #expect(answers[name]?["error"]?["message"]?.stringValue?.contains(field) == true, "\(name) does not name \(field)")
            }
            #expect(answers["writes (count) empty"]?["result"]?["outcomes"] == .array([]))
            #expect(answers["connectorName"]?["error"]?["code"] == .int(RPCError.outsideServiceCode))
            // What the batches left: /batch-a recreated, /batch-b updated with its unicode intact, the victim untouched.
            let elements = try harness.elements()
            let a = elements.filter { $0.qualifiedName == "/batch-a" }
            #expect(a.count == 1 && a.first?.properties["again"] == .bool(true) && a.first?.guid != mixed[0]["guid"]?.stringValue)
            let b = elements.first { $0.qualifiedName == "/batch-b" }
            #expect(b?.properties["size"] == .int(3) && b?.properties["name"] == .string("bé\n") && b?.version == 2)
            #expect(elements.contains { $0.guid == target.guid && $0.version == target.version })
            #expect(harness.stop() == .exited(0))
        }
    }
}

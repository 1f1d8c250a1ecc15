import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The OpenLineage API publisher: every stored event reaches another OpenLineage endpoint, a second daemon's
    /// door or a Marquez-shaped receiver, once, through receiver outages, worker restarts and kills.
    @Suite("OpenLineage API publisher", .serialized)
    struct LineageForwardTests {
        typealias Door = LineageDoorTests

        /// A service whose one connector forwards to `url` (Egeria's provider name), with the door's key as its own.
        static func apiPublisher(_ url: String, properties: [String: JSONValue] = [:]) -> ServiceFixture {
            let base: [String: JSONValue] = ["passwordEnvironmentVariable": .string("TEST_LINEAGE_KEY"), "maxBackoffSeconds": .int(2)]
            return ServiceFixture("lineage-integrator", connectors: [ConnectorFixture(
                "lineage-forward", provider: "org.odpi.openmetadata.adapters.connectors.integration.openlineage.APIBasedOpenLineageLogStoreProvider",
                address: url, properties: base.merging(properties) { _, given in given }, refreshIntervalSeconds: 3600, metadataSource: "lineage")])
        }

        /// The Marquez-shaped receiver, and the port it listens on.
        static func receiver(_ options: [String] = []) throws -> (ChildProcess, UInt16) {
            let child = try ChildProcess(["/usr/bin/env", "python3", Binaries.fixtures + "/lineage_receiver.py"] + options)
            var port: UInt16?
            _ = child.waitFor(timeout: 10) { stdout, _, _ in
                port = stdout.first.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }?["port"]?.intValue.flatMap(UInt16.init(exactly:))
                return port != nil
            }
            guard let port else {
                child.killGroup()
                throw HarnessError("the receiver did not start: \(child.stderrLines.suffix(10))")
            }
            return (child, port)
        }

        /// Every request the receiver answered, after its first line.
        static func received(_ receiver: ChildProcess) -> [JSONValue] {
            receiver.stdoutLines.dropFirst().compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        }

        static func taken(_ receiver: ChildProcess) -> [String] {
            received(receiver).filter { $0["status"] == .int(201) }.compactMap { $0["runId"]?.stringValue }
        }

        /// Posts `count` START events of `job` to the door; their run ids.
        static func post(_ port: UInt16, count: Int, job: String = "daily_orders") throws -> [String] {
            var runIds: [String] = []
            for _ in 0..<count {
                let runId = UUID().uuidString.lowercased()
                let body = Door.event(runId: runId).replacingOccurrences(of: #""name":"daily_orders""#, with: #""name":"\#(job)""#)
                let answer = try Door.post(port, "/api/v1/lineage", body)
                #expect(answer?.head.status == 200)
                runIds.append(runId)
            }
            return runIds
        }

        static func counts(_ harness: DaemonHarness, _ name: String) throws -> Int {
            try harness.reports(connector: "lineage-forward").reduce(0) { $0 + (Int($1.additionalProperties[name] ?? "") ?? 0) }
        }

        @Test("the stock client's events reach a second daemon's door with the key; that daemon down for 10 s loses nothing, and the backoff stays capped",
              .lab(.openlineage))
        func secondDaemon() throws {
            let (receiving, receivingPort) = try Door.start()
            defer { receiving.cleanUp() }
            let (sending, port) = try Door.start(services: [Self.apiPublisher("http://127.0.0.1:\(receivingPort)/api/v1/lineage")])
            defer { sending.cleanUp() }
            let outcomes = try Door.produce(port: port, mode: "flow")
            #expect(outcomes.count == 6 && outcomes.allSatisfy { $0["outcome"] == .string("ok") }, "\(outcomes)")
            #expect(eventually(timeout: 20) { ((try? Door.stored(receiving)) ?? []).count == 6 }, "the second daemon did not get all six")
            let sent = try Door.stored(sending).map { $0["run"]?["runId"] }, got = try Door.stored(receiving).map { $0["run"]?["runId"] }
            #expect(sent == got, "in store order")
            #expect(try Self.counts(sending, "openLineageEventsForwarded") == 6)

            // The receiver goes down for 10 s; twenty events arrive meanwhile and wait, retried.
            #expect(receiving.stop() == .exited(0))
            let down = Date()
            let runIds = try Self.post(port, count: 20)
            let retried = sending.daemon!.waitFor(timeout: 20) { _, stderr, _ in
                stderr.filter { $0.contains("cannot forward OpenLineage event") }.count >= 4
            }
            #expect(retried, "no retries logged")
            let why = sending.waitForStatus(timeout: 5) { status in
                sending.connector(status, "lineage-forward")?.failingExceptionMessage?.contains("cannot forward OpenLineage events to http://127.0.0.1:\(receivingPort)/api/v1/lineage") == true
            }
            #expect(why.ok, "status does not say why the publisher waits: \(String(describing: why.status.flatMap { sending.connector($0, "lineage-forward") }))")
            #expect(why.status.flatMap { sending.connector($0, "lineage-forward")?.connectorStatus } == .WAITING)
            while Date().timeIntervalSince(down) < 10 {
                let backlog = sending.waitForStatus(timeout: 1) { _ in true }.status?.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog
                #expect(backlog == 20, "nothing can be forwarded while the receiver is down")
                usleep(200_000)
            }
            // Back on the same address: everything arrives within the capped backoff, in order, none twice.
            let platform = DaemonHarness.platform(settings: DaemonHarness.lineageKeys.merging(["address": .string("127.0.0.1:\(receivingPort)")]) { _, given in given })
            try receiving.writeConfig(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)], platform: platform)
            setenv("TEST_LINEAGE_KEY", Door.key, 1)
            defer { unsetenv("TEST_LINEAGE_KEY") }
            #expect(try receiving.startWithPlatform() == receivingPort)
            #expect(eventually(timeout: 20) { ((try? Door.stored(receiving)) ?? []).count == 26 },
                    "\(((try? Door.stored(receiving)) ?? []).count) of 26 arrived")
            #expect(try Door.stored(receiving).suffix(20).map { $0["run"]?["runId"]?.stringValue ?? "-" } == runIds)
            let sendingDrained = sending.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 0 }
            #expect(sendingDrained.ok)
            #expect(try Self.counts(sending, "openLineageEventsForwarded") == 26)
            let cleared = sending.waitForStatus(timeout: 5) { sending.connector($0, "lineage-forward")?.failingExceptionMessage == nil }
            #expect(cleared.ok, "the reason stays after the receiver is back")
            let delays = sending.daemon!.stderrLines.compactMap { line -> Double? in
                guard let range = line.range(of: #"retrying in [0-9.]+ s"#, options: .regularExpression) else { return nil }
                return Double(line[range].dropFirst("retrying in ".count).dropLast(2))
            }
            #expect(delays.count >= 4 && delays.allSatisfy { $0 <= 2 }, "\(delays)")
            #expect(receiving.stop() == .exited(0))
            #expect(sending.stop() == .exited(0))
        }

        @Test("an event the receiver refuses goes to the dead letters; what it took is not sent again after a clean worker or daemon restart")
        func deadLettersAndCleanRestarts() throws {
            let (receiver, receiverPort) = try Self.receiver(["--refuse-job", "bad", "--delay-ms", "40"])
            defer { receiver.killGroup() }
            let folder = try TemporaryDirectory(prefix: "idt-forward")
            defer { withExtendedLifetime(folder) {} }
            let deadLetters = folder.path + "/dead/letters.jsonl"
            let (harness, port) = try Door.start(services: [Self.apiPublisher("http://127.0.0.1:\(receiverPort)/api/v1/lineage",
                                                                              properties: ["deadLetterFile": .string(deadLetters)])])
            defer { harness.cleanUp() }
            var runIds = try Self.post(port, count: 4)
            let refused = try Self.post(port, count: 1, job: "bad")
            runIds += try Self.post(port, count: 25)
            // A clean restart of the worker while it forwards.
            #expect(receiver.waitFor(timeout: 20) { stdout, _, _ in stdout.count > 10 })
            let restarted = try harness.cli("restart", "--service", "lineage-integrator")
            #expect(restarted.code == 0, "\(restarted.stderr)")
            #expect(eventually(timeout: 30) { Set(Self.taken(receiver)).isSuperset(of: runIds) }, "\(Set(runIds).subtracting(Self.taken(receiver)).count) never arrived")
            #expect(Self.taken(receiver).count == runIds.count, "sent again after a clean restart: \(Self.taken(receiver).count) for \(runIds.count)")
            #expect(Self.received(receiver).allSatisfy { $0["authorization"] == .string("Bearer \(Door.key)") && $0["path"] == .string("/api/v1/lineage") })
            // The refused one, once, in the dead letters with the receiver's answer.
            #expect(Self.received(receiver).filter { $0["status"] == .int(422) }.count == 1)
            let letters = try String(contentsOfFile: deadLetters, encoding: .utf8).split(separator: "\n")
            #expect(letters.count == 1)
            let letter = try JSONDecoder().decode(JSONValue.self, from: Data(letters[0].utf8))
            #expect(letter["status"] == .int(422) && letter["event"]?["run"]?["runId"]?.stringValue == refused.first, "\(letter)")
            let harnessDrained = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 0 }
            #expect(harnessDrained.ok)
            #expect(try Self.counts(harness, "openLineageEventsDeadLettered") == 1)
            #expect(try Self.counts(harness, "openLineageEventsForwarded") == runIds.count)

            // A clean stop of the whole daemon while it forwards, and a start.
            let more = try Self.post(port, count: 30)
            let before = Self.taken(receiver).count
            #expect(receiver.waitFor(timeout: 20) { _, _, _ in Self.taken(receiver).count >= before + 5 })
            #expect(harness.stop() == .exited(0))
            setenv("TEST_LINEAGE_KEY", Door.key, 1)
            defer { unsetenv("TEST_LINEAGE_KEY") }
            _ = try harness.startWithPlatform()
            #expect(eventually(timeout: 30) { Set(Self.taken(receiver)).isSuperset(of: more) }, "\(Set(more).subtracting(Self.taken(receiver)).count) never arrived")
            #expect(Self.taken(receiver).count == runIds.count + more.count, "sent again after a daemon restart")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker killed while it forwards: every event arrives, and at most the one in flight twice")
        func killedWorker() throws {
            let (receiver, receiverPort) = try Self.receiver(["--delay-ms", "30"])
            defer { receiver.killGroup() }
            let (harness, port) = try Door.start(services: [Self.apiPublisher("http://127.0.0.1:\(receiverPort)/api/v1/lineage")])
            defer { harness.cleanUp() }
            let pid = try #require(harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.pid != nil }.status?
                .integrationServiceSummaries.first?.worker.pid)
            let runIds = try Self.post(port, count: 40)
            #expect(receiver.waitFor(timeout: 20) { stdout, _, _ in stdout.count > 12 })
            kill(pid, SIGKILL)
            #expect(eventually(timeout: 30) { Set(Self.taken(receiver)).isSuperset(of: runIds) }, "\(Set(runIds).subtracting(Self.taken(receiver)).count) never arrived")
            let harnessDrained = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 0 }
            #expect(harnessDrained.ok)
            #expect(Self.taken(receiver).count <= runIds.count + 1, "\(Self.taken(receiver).count) requests for \(runIds.count) events")
            #expect(try harness.status().integrationServiceSummaries.first?.worker.restartCount == 1)
            #expect(harness.stop() == .exited(0))
        }

        @Test("over https to a door with a private CA: verified against caFile; without it the handshake is refused and retried")
        func httpsWithPrivateCA() throws {
            let folder = try TemporaryDirectory(prefix: "idt-forward-tls")
            defer { withExtendedLifetime(folder) {} }
            let pki = try PrivateCA(directory: folder.path)
            let receiving = try DaemonHarness(config: DaemonHarness.config(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)],
                                                                          platform: DaemonHarness.platform(tls: pki, settings: DaemonHarness.lineageKeys)))
            defer { receiving.cleanUp() }
            setenv("TEST_LINEAGE_KEY", Door.key, 1)
            let receivingPort = try receiving.startWithPlatform()
            unsetenv("TEST_LINEAGE_KEY")
            let url = "https://localhost:\(receivingPort)/api/v1/lineage"
            let (sending, port) = try Door.start(services: [Self.apiPublisher(url, properties: ["caFile": .string(pki.caCert)])])
            defer { sending.cleanUp() }
            let runIds = try Self.post(port, count: 3)
            #expect(eventually(timeout: 20) { ((try? Door.stored(receiving)) ?? []).count == 3 }, "\(sending.daemon!.stderrLines.suffix(5))")
            #expect(try Door.stored(receiving).map { $0["run"]?["runId"]?.stringValue ?? "-" } == runIds)
            #expect(sending.stop() == .exited(0))

            // The system's CAs do not know this one: refused, logged, retried, nothing lost or skipped.
            let (untrusting, untrustingPort) = try Door.start(services: [Self.apiPublisher(url)])
            defer { untrusting.cleanUp() }
            _ = try Self.post(untrustingPort, count: 1)
            #expect(untrusting.daemon!.waitFor(timeout: 20) { _, stderr, _ in
                stderr.contains { $0.contains("cannot forward OpenLineage event 1") && $0.contains("certificate verify failed") }
            }, "\(untrusting.daemon!.stderrLines.suffix(5))")
            let waiting = untrusting.waitForStatus(timeout: 5) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 1 }
            #expect(waiting.ok)
            #expect(try Door.stored(receiving).count == 3)
            #expect(untrusting.stop() == .exited(0))
            #expect(receiving.stop() == .exited(0))
        }

        @Test("a publisher whose address is not an HTTP URL is CONFIG_FAILED, saying which field")
        func badAddress() throws {
            let (harness, _) = try Door.start(services: [Self.apiPublisher("ftp://marquez/api/v1/lineage")])
            defer { harness.cleanUp() }
            let failed = harness.waitForStatus(timeout: 10) { status in
                harness.connector(status, "lineage-forward")?.connectorStatus == .CONFIG_FAILED
            }
            #expect(failed.ok)
            let message = failed.status.flatMap { harness.connector($0, "lineage-forward")?.failingExceptionMessage } ?? ""
            #expect(message.contains("connection.endpoint.address must be the http:// or https:// URL"), "\(message)")
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import HTTPWire
@testable import Supervisor

extension RealProcesses {
    /// OpenLineage events at the door, sent by the stock openlineage-python client and by hand: stored before
    /// they are answered, answered with the status a client reads.
    @Suite("OpenLineage door", .serialized)
    struct LineageDoorTests {
        static let key = "0123456789abcdef0123456789abcdef-test-key"
        static let egeriaPath = "/servers/test-daemon/open-metadata/integration-daemon/publish-open-lineage-event"

        static func start(services: [ServiceFixture] = [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)],
                          storeDirectory: ((DaemonHarness) throws -> Void)? = nil) throws -> (DaemonHarness, UInt16) {
            let harness = try DaemonHarness(config: DaemonHarness.config(services: services, platform: DaemonHarness.platform(settings: DaemonHarness.lineageKeys)))
            try storeDirectory?(harness)
            setenv("TEST_LINEAGE_KEY", key, 1)
            defer { unsetenv("TEST_LINEAGE_KEY") }
            return (harness, try harness.startWithPlatform())
        }

        /// Runs Fixtures/openlineage_producer.py to its end; one outcome per event.
        static func produce(port: UInt16, key: String = key, mode: String, endpoint: String? = nil) throws -> [JSONValue] {
            let script = Binaries.fixtures + "/openlineage_producer.py"
            let run = try DaemonHarness.run([try DaemonHarness.pyegeriaPython(), script, "http://127.0.0.1:\(port)/", key, mode] + (endpoint.map { [$0] } ?? []),
                                            timeout: 120)
            #expect(run.code == 0, "producer: \(run.stderr.suffix(2000))")
            return run.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        }

        static func stored(_ harness: DaemonHarness) throws -> [JSONValue] {
            let listed = try harness.cli("lineage", "--json")
            #expect(listed.code == 0, "lineage: \(listed.stderr)")
            return listed.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        }

        static func post(_ port: UInt16, _ path: String, _ body: String, authorization: String? = "Bearer \(key)") throws -> HTTPMessageParser.Message? {
            let client = try RawHTTP(port: port)
            let auth = authorization.map { "Authorization: \($0)\r\n" } ?? ""
            client.send("POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            return client.response()
        }

        static func event(runId: String = UUID().uuidString.lowercased(), eventTime: String = "2026-12-07T18:05:00.123Z",
                          producer: String = "https://example.com/producer", eventType: String = "START", runFacets: String = "{}",
                          extra: String = "") -> String {
            """
            {"eventType":"\(eventType)","eventTime":"\(eventTime)","producer":"\(producer)","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
             "run":{"runId":"\(runId)","facets":\(runFacets)},"job":{"namespace":"airflow","name":"daily_orders"}\(extra)}
            """
        }

        @Test("the stock client's START, RUNNING, COMPLETE and FAIL events, with inputs, outputs and a parent run, are stored as sent", .lab(.openlineage))
        func stockClient() throws {
            let (harness, port) = try Self.start()
            defer { harness.cleanUp() }
            let outcomes = try Self.produce(port: port, mode: "flow")
            #expect(outcomes.count == 6)
            #expect(outcomes.allSatisfy { $0["outcome"] == .string("ok") }, "\(outcomes)")
            let events = try Self.stored(harness)
            #expect(events.map { $0["eventType"]?.stringValue ?? "-" } == ["START", "START", "RUNNING", "COMPLETE", "COMPLETE", "FAIL"])
            let child = events[1]
            #expect(child["run"]?["facets"]?["parent"]?["run"]?["runId"] == outcomes[0]["runId"])
            #expect(child["inputs"]?.arrayValue?.first?["name"] == .string("sales.public.orders"))
            #expect(child["outputs"]?.arrayValue?.first?["namespace"] == .string("s3://warehouse"))
            // Egeria's path takes the same client, configured as docs/lineage.md shows, with a token as its key.
            let token = try #require(try DaemonHarness.token(port: port))
            let egeria = try Self.produce(port: port, key: token, mode: "one", endpoint: String(Self.egeriaPath.dropFirst()))
            #expect(egeria.first?["outcome"] == .string("ok"), "\(egeria)")
            #expect(try Self.stored(harness).count == 7)
            #expect(harness.stop() == .exited(0))
        }

        @Test("the same event sent twice is answered 200 both times and stored once", .lab(.openlineage))
        func sameEventTwice() throws {
            let (harness, port) = try Self.start()
            defer { harness.cleanUp() }
            let outcomes = try Self.produce(port: port, mode: "twice")
            #expect(outcomes.map { $0["outcome"] } == [.string("ok"), .string("ok")], "\(outcomes)")
            #expect(try Self.stored(harness).count == 1)
            // By hand, the second answer says it was a duplicate.
            let body = Self.event()
            let first = try Self.post(port, "/api/v1/lineage", body), second = try Self.post(port, "/api/v1/lineage", body)
            #expect(first?.head.status == 200 && second?.head.status == 200)
            #expect(PlatformDoorTests.json(second)?["duplicate"] == .bool(true))
            #expect(try Self.stored(harness).count == 2)
            // Status and metrics count what the door did.
            #expect(try harness.status().daemon.platform?.lineage == .init(stored: 2, duplicates: 2, invalid: 0, unavailable: 0))
            let metrics = try harness.cli("metrics")
            #expect(metrics.stdout.contains(#"integration_daemon_lineage_events_total{outcome="duplicate"} 2"#), "\(metrics.stdout.suffix(1500))")
            #expect(try harness.cli("status").stdout.contains("lineage events: 2 stored, 2 duplicate(s)"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("malformed events get 400 naming the field, on both paths; no key or a wrong one gets 401; nothing is stored", .lab(.openlineage))
        func refusals() throws {
            let (harness, port) = try Self.start()
            defer { harness.cleanUp() }
            let cases: [(String, String)] = [
                ("{not json", "event"),
                ("[]", "event"),
                (#"{"eventTime":"2026-12-07T18:05:00Z","producer":"https://p","schemaURL":"https://s"}"#, "event"),
                (Self.event(runId: "not-a-uuid"), "run.runId"),
                (Self.event(eventTime: "07/12/2026 18:05"), "eventTime"),
                (Self.event(eventTime: "2026-02-30T10:00:00Z"), "eventTime"),
                (Self.event(producer: "no scheme here"), "producer"),
                (Self.event(extra: #","inputs":[{"namespace":"a","name":"b"},{"namespace":"a"}]"#), "inputs[1].name"),
                (Self.event(eventType: "FINISHED"), "eventType"),
                (Self.event(runFacets: #"{"parent":{"job":{"namespace":"a","name":"b"},"run":{"runId":"x"}}}"#), "run.facets.parent.run.runId"),
                (Self.event(runFacets: #"{"nominalTime":"yesterday"}"#), "run.facets.nominalTime"),
            ]
            for (body, field) in cases {
                let answer = try Self.post(port, "/api/v1/lineage", body)
                #expect(answer?.head.status == 400, "\(field): \(String(describing: answer?.head.status))")
                #expect(PlatformDoorTests.json(answer)?["field"] == .string(field), "\(body): \(String(describing: PlatformDoorTests.json(answer)))")
            }
            let gzip = try RawHTTP(port: port)
            gzip.send("POST /api/v1/lineage HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(Self.key)\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}")
            let compressed = gzip.response()
            #expect(compressed?.head.status == 415)
            #expect(PlatformDoorTests.json(compressed)?["field"] == .string("Content-Encoding"))
            // Egeria's envelope, with its code in the HTTP status too.
            let egeria = try Self.post(port, Self.egeriaPath, Self.event(runId: "nope"))
            #expect(egeria?.head.status == 400)
            #expect(PlatformDoorTests.json(egeria)?["relatedHTTPCode"] == .int(400))
            #expect(PlatformDoorTests.json(egeria)?["class"] == .string("VoidResponse"))
            #expect(PlatformDoorTests.json(egeria)?["exceptionErrorMessageParameters"]?.arrayValue?.first == .string("run.runId"))
            // No key, a wrong key, a key for another server's path.
            #expect(try Self.post(port, "/api/v1/lineage", Self.event(), authorization: nil)?.head.status == 401)
            #expect(try Self.post(port, "/api/v1/lineage", Self.event(), authorization: "Bearer wrong-key-wrong-key-wrong-key-wrong")?.head.status == 401)
            #expect(try Self.post(port, Self.egeriaPath, Self.event(), authorization: "Bearer x")?.head.status == 401)
            let client = try Self.produce(port: port, key: "wrong-key-wrong-key-wrong-key-wrong", mode: "one")
            #expect(client.first?["status"] == .int(401), "\(client)")
            #expect(try Self.stored(harness).isEmpty)
            #expect(try harness.status().daemon.platform?.lineage?.invalid == cases.count + 2)
            // The key opens the lineage door only.
            #expect(try Self.post(port, "/servers/test-daemon/open-metadata/integration-daemon/integration-connectors/refresh", "")?.head.status == 401)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a full store answers 503 with Retry-After; the stock client's retry succeeds once space returns", .lab(.openlineage, .root))
        func fullStore() throws {
            var filler = ""
            let (harness, port) = try Self.start(storeDirectory: { harness in
                let data = harness.directory + "/data"
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                let mounted = try DaemonHarness.run(["/bin/mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", data])
                try #require(mounted.code == 0, "mount: \(mounted.stderr)")
                filler = data + "/filler"
            })
            defer { _ = try? DaemonHarness.run(["/bin/umount", "-l", harness.directory + "/data"]) }
            defer { harness.cleanUp() }
            // Fill what is left, then a little more room is never there: the next commit fails.
            let fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            try #require(fd >= 0)
            let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            close(fd)
            let body = Self.event(extra: #","inputs":[{"namespace":"pad","name":"\#(String(repeating: "x", count: 60_000))"}]"#)
            let refused = try #require(firstValue(within: 15) { () -> HTTPMessageParser.Message? in
                guard let answer = try? Self.post(port, "/api/v1/lineage", body), answer.head.status == 503 else { return nil }
                return answer
            }, "the full store never answered 503")
            #expect(refused.head.header("retry-after") == "1")
            // The stock client, retrying as it ships; space returns once it has been refused at least once.
            let producer = try ChildProcess([try DaemonHarness.pyegeriaPython(), Binaries.fixtures + "/openlineage_producer.py",
                                             "http://127.0.0.1:\(port)/", Self.key, "one"])
            defer { producer.killGroup() }
            #expect(producer.waitFor(timeout: 30) { _, stderr, _ in stderr.contains { $0.contains("Incremented Retry") } }, "the client never retried")
            try FileManager.default.removeItem(atPath: filler)
            #expect(producer.waitForExit(timeout: 60) == .exited(0))
            producer.waitForOutputEnd(timeout: 5)
            #expect(producer.stdoutLines.first?.contains(#""outcome": "ok""#) == true, "\(producer.stdoutLines) \(producer.stderrLines.suffix(5))")
            #expect(try Self.stored(harness).count == 1)
            #expect((try harness.status().daemon.platform?.lineage?.unavailable ?? 0) >= 2, "the raw 503 and the client's refused tries")
            #expect(harness.stop() == .exited(0))
        }

        /// A service whose one connector is Egeria's OpenLineage file publisher, writing under `folder`.
        static func filePublisher(_ folder: String) -> ServiceFixture {
            ServiceFixture("lineage-integrator", connectors: [ConnectorFixture(
                "lineage-files", provider: "org.odpi.openmetadata.adapters.connectors.integration.openlineage.FileBasedOpenLineageLogStoreProvider",
                address: folder, refreshIntervalSeconds: 3600, metadataSource: "lineage")])
        }

        /// Every event file under `folder`, relative to it.
        static func files(_ folder: String) -> Set<String> {
            let all = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
            return Set(all.filter { $0.hasSuffix(".openlineageevent") })
        }

        static func file(job: String, runId: String, eventTime: String = "2026-12-07T18:05:00.123Z", type: String = "START") -> String {
            "airflow/\(job)/\(runId)-\(eventTime)-\(type).openlineageevent"
        }

        @Test("the file publisher writes each stored event in Egeria's layout, a hostile job name stays inside its folder, and a worker killed mid-stream loses none",
              .lab(.openlineage))
        func filePublisher() throws {
            let folder = try TemporaryDirectory(prefix: "idt-lineage")
            defer { withExtendedLifetime(folder) {} }
            let (harness, port) = try Self.start(services: [Self.filePublisher(folder.path + "/out")])
            defer { harness.cleanUp() }
            // Events stored before the worker is ready go out once it is.
            let first = UUID().uuidString.lowercased()
            #expect(try Self.post(port, "/api/v1/lineage", Self.event(runId: first))?.head.status == 200)
            #expect(eventually(timeout: 10) { Self.files(folder.path + "/out").contains(Self.file(job: "daily_orders", runId: first)) },
                    "\(Self.files(folder.path + "/out"))")
            let written = try #require(try? Data(contentsOf: URL(fileURLWithPath: folder.path + "/out/" + Self.file(job: "daily_orders", runId: first))))
            #expect((try? JSONDecoder().decode(JSONValue.self, from: written))?["run"]?["runId"] == .string(first))
            // A job named to escape: its file stays under the folder.
            let hostile = Self.event().replacingOccurrences(of: #""name":"daily_orders""#, with: #""name":"../../../escaped""#)
            #expect(try Self.post(port, "/api/v1/lineage", hostile)?.head.status == 200)
            #expect(eventually(timeout: 10) { Self.files(folder.path + "/out").contains { $0.hasPrefix("airflow/.._.._.._escaped/") } })
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/escaped"))
            // 300 events while the worker is killed once: every one is written, each once (one file per event).
            let pid = try #require(harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.pid != nil }.status?
                .integrationServiceSummaries.first?.worker.pid)
            var runIds: [String] = []
            for index in 0..<300 {
                let runId = UUID().uuidString.lowercased()
                runIds.append(runId)
                #expect(try Self.post(port, "/api/v1/lineage", Self.event(runId: runId))?.head.status == 200)
                if index == 100 { kill(pid, SIGKILL) }
            }
            let expected = Set(runIds.map { Self.file(job: "daily_orders", runId: $0) })
            #expect(eventually(timeout: 30) { expected.isSubset(of: Self.files(folder.path + "/out")) },
                    "\(expected.subtracting(Self.files(folder.path + "/out")).count) of 300 never written")
            #expect(Self.files(folder.path + "/out").count == 302)
            let drained = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 0 }
            #expect(drained.ok, "status never showed the publisher caught up")
            #expect(try harness.status().integrationServiceSummaries.first?.worker.restartCount == 1)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a file publisher added by reload to a running worker takes events at once, without a worker restart")
        func publisherAddedByReload() throws {
            let folder = try TemporaryDirectory(prefix: "idt-lineage")
            defer { withExtendedLifetime(folder) {} }
            let chaos = ConnectorFixture("steady", provider: "chaos", properties: ["failure": .string("none")], refreshIntervalSeconds: 3600)
            let (harness, port) = try Self.start(services: [ServiceFixture("lineage-integrator", connectors: [chaos])])
            defer { harness.cleanUp() }
            let pid = try #require(harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.pid != nil }.status?
                .integrationServiceSummaries.first?.worker.pid)
            let runId = UUID().uuidString.lowercased()
            #expect(try Self.post(port, "/api/v1/lineage", Self.event(runId: runId))?.head.status == 200)
            let publisher = ConnectorFixture("lineage-files", provider: "open-lineage-file-publisher", address: folder.path + "/out", refreshIntervalSeconds: 3600)
            try harness.writeConfig(services: [ServiceFixture("lineage-integrator", connectors: [chaos, publisher])],
                                    platform: DaemonHarness.platform(settings: DaemonHarness.lineageKeys))
            let reloaded = try harness.cli("reload")
            #expect(reloaded.code == 0, "\(reloaded.stderr)")
            // The event stored before the publisher existed reaches it too: it starts from the oldest kept.
            #expect(eventually(timeout: 10) { Self.files(folder.path + "/out").contains(Self.file(job: "daily_orders", runId: runId)) },
                    "\(Self.files(folder.path + "/out"))")
            let status = try harness.status()
            #expect(status.integrationServiceSummaries.first?.worker.pid == pid && status.integrationServiceSummaries.first?.worker.restartCount == 0)
            #expect(status.integrationServiceSummaries.first?.lineageConnectors?.map(\.connectorName) == ["lineage-files"])
            #expect(harness.stop() == .exited(0))
        }

        @Test("the publisher's cursor survives a daemon restart: what it acknowledged is not sent again", .lab(.openlineage))
        func cursorSurvivesRestart() throws {
            let folder = try TemporaryDirectory(prefix: "idt-lineage")
            defer { withExtendedLifetime(folder) {} }
            let (harness, port) = try Self.start(services: [Self.filePublisher(folder.path + "/out")])
            defer { harness.cleanUp() }
            let before = UUID().uuidString.lowercased()
            #expect(try Self.post(port, "/api/v1/lineage", Self.event(runId: before))?.head.status == 200)
            let path = folder.path + "/out/" + Self.file(job: "daily_orders", runId: before)
            #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: path) })
            // Acknowledged before the stop: status says the cursor is past it.
            let caughtUp = harness.waitForStatus(timeout: 10) { status in
                status.integrationServiceSummaries.first?.lineageConnectors == [.init(connectorName: "lineage-files", acknowledgedSeq: 1, backlog: 0)]
            }
            #expect(caughtUp.ok, "\(String(describing: caughtUp.status?.integrationServiceSummaries.first?.lineageConnectors))")
            #expect(try harness.cli("status").stdout.contains("lineage-files: OpenLineage events acknowledged up to 1, 0 waiting"))
            #expect(harness.stop() == .exited(0))
            try FileManager.default.removeItem(atPath: path)
            setenv("TEST_LINEAGE_KEY", Self.key, 1)
            defer { unsetenv("TEST_LINEAGE_KEY") }
            let port2 = try harness.startWithPlatform()
            let after = UUID().uuidString.lowercased()
            #expect(try Self.post(port2, "/api/v1/lineage", Self.event(runId: after))?.head.status == 200)
            #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: folder.path + "/out/" + Self.file(job: "daily_orders", runId: after)) })
            #expect(!FileManager.default.fileExists(atPath: path), "an acknowledged event was sent again after the restart")
            #expect(harness.stop() == .exited(0))
        }

        @Test("the cataloguer makes Egeria's process, dataset and lineage elements once; a re-run job changes nothing", .lab(.openlineage))
        func cataloguer() throws {
            let service = ServiceFixture("lineage-integrator", connectors: [ConnectorFixture(
                "lineage-catalogue", provider: "org.odpi.openmetadata.adapters.connectors.integration.openlineage.OpenLineageCataloguerIntegrationProvider",
                refreshIntervalSeconds: 3600, metadataSource: "openlineage")])
            let (harness, port) = try Self.start(services: [service])
            defer { harness.cleanUp() }
            func run(_ runId: String) -> String {
                Self.event(runId: runId, runFacets: #"{"parent":{"job":{"namespace":"airflow","name":"daily"},"run":{"runId":"0193a1c2-7d4e-7b8f-9a0b-1c2d3e4f5a6b"}}}"#,
                           extra: #","inputs":[{"namespace":"postgres://db:5432","name":"sales.public.orders"}],"outputs":[{"namespace":"s3://warehouse","name":"daily/summary"}]"#)
                    .replacingOccurrences(of: #""job":{"namespace":"airflow","name":"daily_orders"}"#,
                                          with: #""job":{"namespace":"airflow","name":"daily_orders","facets":{"documentation":{"description":"Sums the day's orders"}}}"#)
            }
            #expect(try Self.post(port, "/api/v1/lineage", run(UUID().uuidString.lowercased()))?.head.status == 200)
            func caughtUp() -> Bool {
                harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.lineageConnectors?.first?.backlog == 0 }.ok
            }
            #expect(caughtUp())
            let elements = try harness.elements()
            let byName = Dictionary(elements.map { ($0.qualifiedName, $0) }) { first, _ in first }
            let process = try #require(byName["OpenLineageJob:daily_orders"], "\(byName.keys.sorted())")
            #expect(process.typeName == "DeployedSoftwareComponent")
            #expect(process.properties["description"] == .string("Sums the day's orders"))
            let parent = try #require(byName["OpenLineageJob:daily"])
            let orders = try #require(byName["OpenLineageDataSet:postgres://db:5432::sales.public.orders"])
            let summary = try #require(byName["OpenLineageDataSet:s3://warehouse::daily/summary"])
            #expect(orders.typeName == "DataSet" && summary.typeName == "DataSet")
            let relationships = Set(elements.flatMap { $0.relationships ?? [] }.map { "\($0.typeName) \($0.end1GUID) \($0.end2GUID)" })
            #expect(relationships == ["DataFlow \(orders.guid) \(process.guid)", "DataFlow \(process.guid) \(summary.guid)",
                                      "ProcessHierarchy \(parent.guid) \(process.guid)"], "\(relationships)")
            let reportsBefore = try harness.reports(connector: "lineage-catalogue")
            #expect(reportsBefore.count == 1 && reportsBefore.first?.createdElements.count == 4, "\(reportsBefore)")
            #expect(reportsBefore.first?.additionalProperties["openLineageEvents"] == "1")
            // The job runs again: a new run, the same job and datasets.
            #expect(try Self.post(port, "/api/v1/lineage", run(UUID().uuidString.lowercased()))?.head.status == 200)
            #expect(caughtUp())
            let again = try harness.elements()
            #expect(again.map { "\($0.guid) \($0.version)" }.sorted() == elements.map { "\($0.guid) \($0.version)" }.sorted())
            #expect(try harness.reports(connector: "lineage-catalogue").count == 1, "a batch that changed nothing reports nothing")
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Egeria 6 integration groups: connectors registered at a metadata access server (a stand-in serving Egeria 6's
    /// governance-configuration calls), run by the daemon in one worker per group.
    @Suite("Integration groups from the metadata access server", .serialized)
    struct IntegrationGroupTests {
        static let password = "mas-password"
        static let files = "Egeria:IntegrationGroup:Files"

        static func standIn(_ harness: DaemonHarness) throws -> EgeriaStandIn {
            try EgeriaStandIn(stateFile: harness.directory + "/standin6-state.jsonl", version: .v6(password: password, tokenSeconds: 3600))
        }

        /// A document with no integration service at all: groups at the stand-in, read with the access server's
        /// credentials.
        static func config(_ server: EgeriaStandIn, groups: [String] = [files], refreshSeconds: Double, platform: JSONValue? = nil) -> String {
            var document = DaemonHarness.document(services: [], accessServer: server.accessServer(), platform: platform)
            document["integrationServices"] = nil
            document["groupRefreshSeconds"] = .double(refreshSeconds)
            document["dynamicIntegrationGroupsConfig"] = .array(groups.map { name in
                .object(["class": .string("IntegrationGroupConfig"), "integrationGroupQualifiedName": .string(name),
                         "omagserverName": .string(server.serverName), "omagserverPlatformRootURL": .string(server.rootURL)])
            })
            return ConfigFixture.text(.object(document))
        }

        static func registration(_ name: String, provider: String, address: String? = nil, properties: [String: JSONValue]? = nil,
                                 minutes: Int = 0) -> [String: JSONValue] {
            var entry: [String: JSONValue] = ["connectorName": .string(name), "provider": .string(provider), "refreshTimeInterval": .int(minutes),
                                              "metadataCollectionQualifiedName": .string(name + "-collection")]
            if let address { entry["address"] = .string(address) }
            if let properties { entry["configurationProperties"] = .object(properties) }
            return entry
        }

        static func group(_ status: DaemonStatus) -> DaemonStatus.ServiceSummary? {
            status.integrationServiceSummaries.first { $0.integrationGroup?.integrationGroupQualifiedName == files }
        }

        @Test("a group's connectors come from the metadata access server alone; refresh-config starts, re-creates and stops them at once and says so")
        func registrationsFollowed() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            let folder = try harness.makeFolder("landing")
            try "a,b\n".write(toFile: folder + "/orders.csv", atomically: true, encoding: .utf8)
            let filesConnector = Self.registration("files", provider: "data-files-monitor", address: folder)
            try server.setGroups([Self.files: [filesConnector]])
            try Self.config(server, refreshSeconds: 3600).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])

            // Started from the store alone: the files connector catalogues the folder.
            let (started, first) = harness.waitForStatus(timeout: 15) { status in
                guard let group = Self.group(status) else { return false }
                return group.integrationGroup?.integrationGroupGUID != nil && group.integrationConnectorReports.contains { $0.connectorName == "files" && $0.lastRefreshTime != nil }
            }
            try #require(started, "\(String(describing: first))\n\(harness.daemon?.stderrLines.joined(separator: "\n") ?? "")")
            let pid = try #require(Self.group(first!)?.worker.pid)
            #expect(try harness.elements().contains { $0.qualifiedName.hasSuffix("/orders.csv") })
            let reads = try server.groupReads()

            // Added: one more registration, applied by refresh-config in the live worker.
            let chaos = Self.registration("chaos", provider: "chaos", properties: ["failure": .string("none")])
            try server.setGroups([Self.files: [filesConnector, chaos]])
            let (code, added, stderr) = try harness.cliJSON("refresh-config", Self.files)
            #expect(code == 0, "\(stderr)")
            let addedGroup = added?["groups"]?.arrayValue?.first
            #expect(addedGroup?["addedConnectors"] == .array([.string("chaos")]))
            #expect(addedGroup?["unchangedConnectors"] == .array([.string("files")]))
            #expect(try server.groupReads() > reads, "refresh-config read the group again, with no debounce")
            let (running, _) = harness.waitForStatus(timeout: 10) { status in
                Self.group(status)?.integrationConnectorReports.contains { $0.connectorName == "chaos" && $0.lastRefreshTime != nil } == true
            }
            #expect(running)

            // Changed: the chaos connector's connection changes; it is re-created, files is untouched.
            let changedChaos = Self.registration("chaos", provider: "chaos", properties: ["failure": .string("throw")])
            try server.setGroups([Self.files: [filesConnector, changedChaos]])
            let (_, changed, _) = try harness.cliJSON("refresh-config", IntegrationGroupConfig.marker(for: Self.files))
            #expect(changed?["groups"]?.arrayValue?.first?["changedConnectors"] == .array([.string("chaos")]))
            let (failed, _) = harness.waitForStatus(timeout: 10) { harness.connector($0, "chaos")?.connectorStatus == .FAILED }
            #expect(failed, "the re-created connector has the new configuration")

            // Only the refresh interval changed: the files connector keeps its instance.
            var slower = filesConnector
            slower["refreshTimeInterval"] = .int(60)
            try server.setGroups([Self.files: [slower, changedChaos]])
            let (_, interval, _) = try harness.cliJSON("refresh-config")
            #expect(interval?["groups"]?.arrayValue?.first?["changedConnectors"] == .array([.string("files")]))
            let logged = harness.daemon!.waitFor(timeout: 10) { _, stderr, _ in stderr.contains { $0.contains("connector settings changed") && $0.contains("connector=files") } }
            #expect(logged)
            #expect(!(harness.daemon?.stderrLines ?? []).contains { $0.contains("connector re-created") && $0.contains("connector=files") })

            // Removed, and an unknown provider beside it: that one connector is CONFIG_FAILED, the group runs on.
            let unknown = Self.registration("atlas", provider: "org.odpi.openmetadata.adapters.connectors.apacheatlas.integration.ApacheAtlasIntegrationProvider")
            try server.setGroups([Self.files: [slower, unknown]])
            let (_, removed, _) = try harness.cliJSON("refresh-config")
            let removedGroup = removed?["groups"]?.arrayValue?.first
            #expect(removedGroup?["removedConnectors"] == .array([.string("chaos")]))
            #expect(removedGroup?["addedConnectors"] == .array([.string("atlas")]))
            let (settled, after) = harness.waitForStatus(timeout: 10) { status in
                harness.connector(status, "chaos") == nil && harness.connector(status, "atlas")?.connectorStatus == .CONFIG_FAILED
            }
            try #require(settled, "\(String(describing: after))")
            #expect(harness.connector(after!, "atlas")?.failingExceptionMessage?.contains("unknown connectorProviderClassName") == true)
            #expect(Self.group(after!)?.worker.pid == pid, "every change was made in the group's live worker")
            #expect(harness.connector(after!, "files")?.connectorStatus == .WAITING)

            // A name that is no group is refused with the names that are.
            let wrong = try harness.cli("refresh-config", "Egeria:IntegrationGroup:Nope")
            #expect(wrong.code != 0 && wrong.stderr.contains(Self.files), "\(wrong.stderr)")
            #expect(harness.stop() == .exited(0))
            #expect(try server.received().errors.isEmpty)
        }

        @Test("the metadata access server down at start, then up: the group is read on its own, with backoff, and nothing is FAILED for good")
        func serverDownAtStart() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            try server.setGroups([Self.files: [Self.registration("chaos", provider: "chaos", properties: ["failure": .string("none")])]])
            try Self.config(server, refreshSeconds: 2).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            server.stop()
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])
            // The group's worker runs while its registrations cannot be read.
            let (unread, down) = harness.waitForStatus(timeout: 10) { Self.group($0)?.integrationGroup?.lastReadError != nil && Self.group($0)?.worker.state == "running" }
            try #require(unread, "\(String(describing: down))")
            #expect(Self.group(down!)?.integrationConnectorReports.isEmpty == true)

            try server.restart()
            try server.setGroups([Self.files: [Self.registration("chaos", provider: "chaos", properties: ["failure": .string("none")])]])
            let (read, up) = harness.waitForStatus(timeout: 15) { status in
                Self.group(status)?.integrationGroup?.lastReadError == nil && harness.connector(status, "chaos")?.lastRefreshTime != nil
            }
            #expect(read, "\(String(describing: up))")
            #expect(harness.stop() == .exited(0))
        }

        /// Egeria's configuration document for a daemon, in the shape its admin services save it, with placeholders
        /// where a deployment fills in its own values, and our own fields beside Egeria's.
        static func egeriaDocument() -> String {
            let store: [String: JSONValue] = ["secretsStoreProvider": .string("~{secretsStoreProvider}~"),
                                              "secretsStoreLocation": .string("~{egeriaServersSecretsStore}~"),
                                              "secretsStoreCollection": .string("~{egeriaServersSecretsCollection}~")]
            let group = JSONValue.object(store.merging(["class": .string("IntegrationGroupConfig"), "integrationGroupQualifiedName": .string(files),
                                                        "omagserverPlatformRootURL": .string("~{egeriaEndpoint}~"),
                                                        "omagserverName": .string("qs-metadata-store")]) { a, _ in a })
            let document: [String: JSONValue] = store.merging([
                "class": .string("OMAGServerConfig"), "versionId": .string("V6.0"), "localServerName": .string("qs-integration-daemon"),
                "localServerUserId": .string("qsdaemonnpa"), "localServerURL": .string("~{egeriaEndpoint}~"),
                "organizationName": .string("~{organizationName}~"), "maxPageSize": .int(1000),
                "localServerDescription": .string("runs integration connectors"),
                "eventBusConfig": .object(["class": .string("EventBusConfig"), "topicURLRoot": .string("egeria.omag"),
                                           "configurationProperties": .object(["producer": .object(["bootstrap.servers": .string("~{kafkaEndpoint}~")]),
                                                                               "local.server.id": .null])]),
                "repositoryServicesConfig": .object(["class": .string("RepositoryServicesConfig"), "auditLogConnections": .array([])]),
                "auditTrail": .array([.string("garygeeke updated configuration for integration groups.")]),
                "dynamicIntegrationGroupsConfig": .array([group]),
                "supervision": .object(DaemonHarness.fastSupervision),
            ]) { a, _ in a }
            return ConfigFixture.text(.object(document))
        }

        @Test("Egeria's configuration document runs as it is: placeholders from --placeholder and the environment, the password from its YAML secrets store, reports to the group's metadata access server")
        func egeriaDocumentRuns() throws {
            let harness = try DaemonHarness(config: Self.egeriaDocument())
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            try server.setGroups([Self.files: [Self.registration("chaos", provider: "chaos", properties: ["failure": .string("none")])]])
            try """
            # Egeria's YAML secrets store, as its .omsecrets files are written.
            secretsCollections:
                PostgreSQLRepository:
                     refreshTimeInterval: 10
                     secrets:
                         userId: egeria_user
                         clearPassword: other
                EgeriaServers:
                     refreshTimeInterval: 50
                     tokenAPI:
                         httpRequestType: POST
                         url: \(server.rootURL)/api/token
                         contentType: application/json
                         requestBody:
                             userId: integration-daemon-npa
                             password: "\(Self.password)"
            """.write(toFile: harness.directory + "/egeria-servers.omsecrets", atomically: true, encoding: .utf8)
            let placeholders = ["--placeholder", "egeriaEndpoint=\(server.rootURL)", "--placeholder", "secretsStoreProvider=\(SecretsStoreFile.provider)",
                                "--placeholder", "egeriaServersSecretsStore=egeria-servers.omsecrets", "--placeholder", "egeriaServersSecretsCollection=EgeriaServers",
                                "--placeholder", "organizationName=Coco Pharmaceuticals"]

            // An unfilled placeholder is an error that names it, where it is.
            let unfilled = try DaemonHarness.run([Binaries.daemon, "validate", "--config", harness.configPath] + placeholders)
            #expect(unfilled.code == 64)
            #expect(unfilled.stderr.contains("eventBusConfig.configurationProperties.producer.bootstrap.servers: placeholder ~{kafkaEndpoint}~ is not filled"), "\(unfilled.stderr)")
            // Filled from the environment too; Egeria's fields this daemon does not use are named once.
            let valid = try DaemonHarness.run(["/usr/bin/env", "kafkaEndpoint=localhost:9092", Binaries.daemon, "validate", "--config", harness.configPath] + placeholders)
            #expect(valid.code == 0, "\(valid.stderr)")
            let ignored = (valid.stdout + valid.stderr).components(separatedBy: "\n").filter { $0.contains("does not use, ignored") }
            #expect(ignored.count == 1 && ignored[0].contains("eventBusConfig") && ignored[0].contains("auditTrail"), "\(valid.stdout)\(valid.stderr)")

            try harness.start(arguments: placeholders, environment: ["kafkaEndpoint": "localhost:9092"])
            let (running, status) = harness.waitForStatus(timeout: 15) { harness.connector($0, "chaos")?.lastRefreshTime != nil }
            try #require(running, "\(String(describing: status))")
            #expect(status?.serverName == "qs-integration-daemon")
            // Reports go to the metadata access server the group is read from, as Egeria's daemon sends them.
            try eventually(timeout: 15, interval: 0.1) { try server.received().reports.contains { $0.connectorName == "chaos" } }
            // Under the IntegrationConnector element the registration names, which status shows as its connectorGUID.
            let guid = try #require(harness.connector(try harness.status(), "chaos")?.connectorGUID)
            #expect(try server.received().reports.filter { $0.connectorName == "chaos" }.allSatisfy { $0.anchorGUID == guid })
            #expect(try server.elements()[guid]?["typeName"] == .string("IntegrationConnector"))
            #expect(try !server.elements().values.contains { $0["properties"]?["qualifiedName"] == .string("qs-integration-daemon::IntegrationConnector::chaos") },
                    "no IntegrationConnector element of the daemon's own was made")
            #expect(harness.stop() == .exited(0))
            #expect(try server.received().errors.isEmpty)
        }

        @Test("two groups, two workers: one group's worker killed comes back with its connectors as last read while the other runs on; a registration appears by the periodic read alone; Egeria's refresh-config on the REST door reads at once")
        func groupsAreIsolated() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            let lineage = "Egeria:IntegrationGroup:OpenLineage"
            let chaos: (String) -> [String: JSONValue] = { Self.registration($0, provider: "chaos", properties: ["failure": .string("none")], minutes: 0) }
            try server.setGroups([Self.files: [chaos("files-a"), chaos("files-b")], lineage: [chaos("lineage-a")]])
            try Self.config(server, groups: [Self.files, lineage], refreshSeconds: 1, platform: DaemonHarness.platform())
                .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            setenv("STANDIN_PASSWORD", Self.password, 1)
            defer { unsetenv("STANDIN_PASSWORD") }
            let port = try harness.startWithPlatform()

            func worker(_ status: DaemonStatus, _ group: String) -> DaemonStatus.WorkerSummary? {
                status.integrationServiceSummaries.first { $0.integrationGroup?.integrationGroupQualifiedName == group }?.worker
            }
            let (ready, before) = harness.waitForStatus(timeout: 15) { status in
                ["files-a", "files-b", "lineage-a"].allSatisfy { harness.connector(status, $0)?.lastRefreshTime != nil }
            }
            try #require(ready, "\(String(describing: before))")
            let filesPid = try #require(worker(before!, Self.files)?.pid), lineagePid = try #require(worker(before!, lineage)?.pid)
            #expect(filesPid != lineagePid)

            kill(filesPid, SIGKILL)
            let (back, after) = harness.waitForStatus(timeout: 15) { status in
                guard let files = worker(status, Self.files), files.pid != filesPid, files.state == "running" else { return false }
                return ["files-a", "files-b"].allSatisfy { harness.connector(status, $0)?.connectorStatus == .WAITING }
            }
            try #require(back, "\(String(describing: after))")
            #expect(worker(after!, lineage)?.pid == lineagePid, "the other group's worker is untouched")
            #expect(worker(after!, lineage)?.restartCount == 0)

            // Read every groupRefreshSeconds with nothing asked: a new registration starts on its own.
            try server.setGroups([Self.files: [chaos("files-a"), chaos("files-b")], lineage: [chaos("lineage-a"), chaos("lineage-b")]])
            let (polled, _) = harness.waitForStatus(timeout: 10) { harness.connector($0, "lineage-b")?.lastRefreshTime != nil }
            #expect(polled)

            // Egeria's refresh-config, by the group's qualified name, reads it before it answers.
            let token = try #require(try DaemonHarness.token(port: port))
            try server.setGroups([Self.files: [chaos("files-a"), chaos("files-b"), chaos("files-c")], lineage: [chaos("lineage-a"), chaos("lineage-b")]])
            let client = try RawHTTP(port: port)
            let escaped = Self.files.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? Self.files
            client.send(RawHTTP.get("/servers/test-daemon/open-metadata/integration-daemon/integration-groups/\(escaped)/refresh-config", token: token))
            let answer = try #require(client.response())
            #expect(answer.head.status == 200)
            #expect(PlatformDoorTests.json(answer)?["relatedHTTPCode"] == .int(200), "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(harness.connector(try harness.status(), "files-c") != nil, "the registration read is applied when the door answers")
            #expect(harness.stop() == .exited(0))
        }

        /// Runs the real pyegeria AutomatedCuration against the stand-in's view-server routes.
        static func curation(_ python: String, _ server: EgeriaStandIn, _ arguments: String...) throws -> JSONValue {
            let argv = [python, "\(Binaries.fixtures)/pyegeria_catalog_target.py", server.rootURL, "qs-view-server", "integration-daemon-npa", password] + arguments
            let result = try DaemonHarness.run(argv, timeout: 90)
            let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let answer = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            #expect(answer["ok"] == .bool(true), "\(answer) \(result.stderr)")
            return answer
        }

        @Test("catalog targets from the metadata access server: a folder added with pyegeria's add_catalog_target is catalogued at the next read, and one removed stops being refreshed", .lab(.pyegeria))
        func catalogTargetsFromTheStore() throws {
            let python = try DaemonHarness.pyegeriaPython()
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            let landing = try harness.makeFolder("landing"), returns = try harness.makeFolder("returns")
            try "a\n".write(toFile: landing + "/orders.csv", atomically: true, encoding: .utf8)
            try "b\n".write(toFile: returns + "/refunds.csv", atomically: true, encoding: .utf8)
            // The connector has no endpoint of its own: it works on what its targets name, as Egeria's FilesCataloguer.
            try server.setGroups([Self.files: [Self.registration("files", provider: "data-files-monitor", minutes: 0)]])
            try server.setTargets(connector: "files", [["catalogTargetName": .string("landing"), "path": .string(landing),
                                                        "metadataSourceQualifiedName": .string("landing-area")]])
            try Self.config(server, refreshSeconds: 3600).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])
            let (first, status) = harness.waitForStatus(timeout: 15) { status in
                harness.connector(status, "files")?.catalogTargets?.map(\.catalogTargetName) == ["landing"]
                    && harness.connector(status, "files")?.catalogTargets?.first?.lastRefreshTime != nil
            }
            try #require(first, "\(String(describing: status))")
            let orders = try #require(try harness.elements().first { $0.qualifiedName == landing + "/orders.csv" })
            #expect(orders.metadataSourceQualifiedName == "landing-area")
            // Its report names the group and the target it came from.
            let report = try #require(try harness.reports(connector: "files").first { $0.createdElements.contains(orders.guid) })
            #expect(report.additionalProperties["integrationGroupName"] == Self.files)
            #expect(report.additionalProperties["catalogTargetName"] == "landing")
            let connectorGUID = try #require(harness.connector(status!, "files")?.connectorGUID)

            // Added as an Egeria 6 user adds one: pyegeria, through the view server, to the metadata store.
            let folder = try server.folderAsset(returns)
            let added = try Self.curation(python, server, "add", connectorGUID, folder, "returns", "returns-area")
            let relationship = try #require(added["result"]?.stringValue)
            let (code, answer, stderr) = try harness.cliJSON("refresh-config", Self.files)
            #expect(code == 0, "\(stderr)")
            #expect(answer?["groups"]?.arrayValue?.first?["changedConnectors"] == .array([.string("files")]))
            let (both, _) = harness.waitForStatus(timeout: 15) { status in
                harness.connector(status, "files")?.catalogTargets?.count == 2
                    && harness.connector(status, "files")?.catalogTargets?.allSatisfy { $0.lastRefreshTime != nil } == true
            }
            #expect(both)
            #expect(try harness.elements().contains { $0.qualifiedName == returns + "/refunds.csv" })

            // Removed the same way: no longer refreshed, and its elements go as its deleteMethod (ARCHIVE) says; this
            // store keeps no archived state, so they are deleted. The other target's stay.
            _ = try Self.curation(python, server, "remove", relationship)
            _ = try harness.cliJSON("refresh-config")
            let (one, _) = harness.waitForStatus(timeout: 15) { harness.connector($0, "files")?.catalogTargets?.map(\.catalogTargetName) == ["landing"] }
            #expect(one)
            try eventually(timeout: 10, interval: 0.05) { try !harness.elements().contains { $0.metadataSourceQualifiedName == "returns-area" } }
            #expect(try harness.elements().contains { $0.qualifiedName == landing + "/orders.csv" })
            #expect(harness.stop() == .exited(0))
            #expect(try server.received().errors.isEmpty)
        }

        @Test("2 groups × 5 connectors × 20 catalog targets: every target folder catalogued, each connector's targets apart")
        func manyTargets() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            let groupNames = ["Egeria:IntegrationGroup:Files", "Egeria:IntegrationGroup:Landing"]
            var registrations: [String: [[String: JSONValue]]] = [:]
            for (g, group) in groupNames.enumerated() {
                registrations[group] = (0..<5).map { c in Self.registration("files-\(g)-\(c)", provider: "data-files-monitor", minutes: 0) }
            }
            try server.setGroups(registrations)
            for g in 0..<2 {
                for c in 0..<5 {
                    let targets: [[String: JSONValue]] = try (0..<20).map { t in
                        let folder = try harness.makeFolder("g\(g)/c\(c)/t\(t)")
                        try "x\n".write(toFile: folder + "/file.csv", atomically: true, encoding: .utf8)
                        return ["catalogTargetName": .string("t\(t)"), "path": .string(folder), "metadataSourceQualifiedName": .string("g\(g)-c\(c)-t\(t)")]
                    }
                    try server.setTargets(connector: "files-\(g)-\(c)", targets)
                }
            }
            try Self.config(server, groups: groupNames, refreshSeconds: 3600).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])
            let (all, status) = harness.waitForStatus(timeout: 60) { status in
                let connectors = status.integrationServiceSummaries.flatMap(\.integrationConnectorReports)
                return connectors.count == 10 && connectors.allSatisfy { ($0.catalogTargets ?? []).count == 20 && $0.catalogTargets!.allSatisfy { $0.lastRefreshTime != nil } }
            }
            try #require(all, "\(String(describing: status?.integrationServiceSummaries.map { $0.integrationConnectorReports.map { ($0.connectorName, $0.catalogTargets?.count ?? 0) } }))")
            let files = try harness.elements().filter { $0.qualifiedName.hasSuffix("/file.csv") }
            #expect(files.count == 200)
            // Each file under its own target's source: no target's settings reached another.
            #expect(files.allSatisfy { element in
                guard let source = element.metadataSourceQualifiedName else { return false }
                let parts = source.split(separator: "-")
                return element.qualifiedName.hasSuffix("/\(parts[0])/\(parts[1])/\(parts[2])/file.csv")
            })
            #expect(harness.stop() == .exited(0))
        }

        @Test("kill -9 of a group's worker during a target refresh: every element written is in a stored report (completed or aborted), and the restarted worker finishes both targets")
        func killedDuringTargetRefresh() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try Self.standIn(harness)
            defer { server.stop() }
            var targets: [[String: JSONValue]] = []
            for name in ["east", "west"] {
                let folder = try harness.makeFolder(name)
                for index in 0..<2_000 { try "x".write(toFile: "\(folder)/f\(index).csv", atomically: false, encoding: .utf8) }
                targets.append(["catalogTargetName": .string(name), "path": .string(folder), "metadataSourceQualifiedName": .string(name)])
            }
            try server.setGroups([Self.files: [Self.registration("files", provider: "data-files-monitor", minutes: 0)]])
            try server.setTargets(connector: "files", targets)
            try Self.config(server, refreshSeconds: 3600).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])
            let (refreshing, status) = harness.waitForStatus(timeout: 30) { harness.connector($0, "files")?.connectorStatus == .REFRESHING }
            try #require(refreshing, "\(String(describing: status))")
            let pid = try #require(Self.group(status!)?.worker.pid)
            kill(pid, SIGKILL)
            let (done, after) = harness.waitForStatus(timeout: 60) { status in
                Self.group(status)?.worker.pid != pid && harness.connector(status, "files")?.connectorStatus == .WAITING
                    && harness.connector(status, "files")?.catalogTargets?.allSatisfy { $0.lastRefreshTime != nil } == true
            }
            try #require(done, "\(String(describing: after))")
            let files = try harness.elements().filter { $0.typeName == "DataFile" }
            #expect(files.count == 4_000)
            let reports = try harness.reports(connector: "files")
            let reported = Set(reports.flatMap(\.createdElements))
            #expect(files.allSatisfy { reported.contains($0.guid) }, "every element written is in a stored report")
            #expect(harness.stop() == .exited(0))
        }
    }
}

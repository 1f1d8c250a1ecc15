import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Forwarding to an Egeria 6 metadata access server (a stand-in speaking the 6.x API: token, open-metadata-store
    /// paths, chunked replies, no de-duplication).
    @Suite("Forwarding to Egeria 6", .serialized)
    struct Forwarding6Tests {
        static let password = "mas-password"

        func standIn(_ harness: DaemonHarness, tokenSeconds: Double = 3600) throws -> EgeriaStandIn {
            try EgeriaStandIn(stateFile: harness.directory + "/standin6-state.jsonl", version: .v6(password: Self.password, tokenSeconds: tokenSeconds))
        }

        @discardableResult
        func start(_ harness: DaemonHarness) throws -> ChildProcess {
            try harness.start(environment: ["STANDIN_PASSWORD": Self.password])
        }

        @Test("reports become ConnectorActivityReports anchored to the connector's IntegrationConnector element; elements go through open-metadata-store")
        func bodiesAndAnchoring() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let folder = try harness.makeFolder("in")
            for name in ["a.csv", "b.csv", "c.csv"] { try "x\n".write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8) }
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: "in")], accessServer: server.accessServer(elementWrites: "egeria"))
            try start(harness)
            var received = try server.received()
            try eventually(timeout: 15, interval: 0.05) {
                received = try server.received()
                return received.reports.contains { ($0.properties?["createdElements"]?.arrayValue?.count ?? 0) >= 3 }
            }
            let first = try #require(received.reports.first { ($0.properties?["createdElements"]?.arrayValue?.count ?? 0) >= 3 })
            let elements = try server.elements()
            let connector = try #require(elements.first { $0.value["typeName"] == .string("IntegrationConnector") })
            #expect(connector.value["properties"]?["qualifiedName"] == .string("test-daemon::IntegrationConnector::files"))
            #expect(first.anchorGUID == connector.key)
            let stored = try #require(try harness.reports(connector: "files").first { $0.reportId == first.reportId })
            #expect(first.qualifiedName == "ConnectorActivityReport::\(stored.connectorId)::files::\(stored.reportId)")
            let properties = try #require(first.properties)
            #expect(properties["serverName"] == .string("test-daemon"))
            #expect(properties["connectorId"] == .string(stored.connectorId))
            #expect(properties["startTime"] == .int(Int(EpochMillis.int64(stored.refreshStartDate))))
            #expect(properties["createdElements"] == .array(stored.createdElements.map(JSONValue.string)))
            #expect(properties["additionalProperties"]?["reportId"] == .string(stored.reportId))
            // The created elements are Egeria's: their GUIDs came from the stand-in.
            let dataFiles = Set(elements.filter { $0.value["typeName"] == .string("DataFile") }.map(\.key))
            #expect(Set(stored.createdElements).isSubset(of: dataFiles))
            // A deleted file is deleted at Egeria through .../delete.
            unlink("\(folder)/b.csv")
            let gone = harness.daemon!.waitFor(timeout: 10) { _, _, _ in
                ((try? server.elements()) ?? [:]).filter { $0.value["typeName"] == .string("DataFile") }.count == 2
            }
            #expect(gone)
            received = try server.received()
            #expect(received.errors.isEmpty, "\(received.errors)")
            #expect(received.duplicates == 0)
            #expect(received.tokens == 1, "one token serves while it is valid")
            #expect(harness.stop() == .exited(0))
        }

        @Test("kill -9 of the daemon 20 times while reports stream: stock Egeria does not de-duplicate, yet each report is stored once")
        func killedRepeatedly() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let second = DaemonHarness.chaosService("second", connector: "second", failure: "none", intervalSeconds: 0.03)
            try harness.writeConfig(services: [Forwarding5Tests.chaos, second], accessServer: server.accessServer())
            for round in 0..<20 {
                let daemon = try start(harness)
                harness.waitForStatus(timeout: 5) { status in
                    status.integrationServiceSummaries.allSatisfy { ($0.integrationConnectorReports.first?.statistics.reportsStored ?? 0) > round * 3 }
                }
                usleep(UInt32.random(in: 0...150_000))
                daemon.signal(SIGKILL)
                #expect(daemon.waitForExit(timeout: 5) == .signaled(SIGKILL))
            }
            try start(harness)
            #expect(try harness.reports().count > 60)
            try Forwarding5Tests().expectAllDelivered(harness, server, timeout: 60)
            #expect(try server.received().duplicates == 0)
            #expect(harness.stop() == .exited(0))
        }

        @Test("tokens that expire every second, and a revocation, while reports flow: renewed, nothing lost, nothing twice")
        func expiringTokens() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness, tokenSeconds: 1)
            try harness.writeConfig(services: [Forwarding5Tests.chaos], accessServer: server.accessServer())
            try start(harness)
            // Reports flow across several token lifetimes.
            var received = try server.received()
            try eventually(timeout: 20, interval: 0.1) {
                received = try server.received()
                return (received.tokens ?? 0) >= 3
            }
            #expect((received.tokens ?? 0) >= 3, "the token was renewed before it expired")
            // Long-lived tokens from now on; once the daemon holds one, it is revoked behind its back:
            // a 401, a new token, and the report goes again.
            try server.setMode("token-seconds:3600")
            received = try server.received()
            let issued = received.tokens ?? 0
            try eventually(timeout: 10, interval: 0.1) {
                received = try server.received()
                return (received.tokens ?? 0) > issued
            }
            try server.setMode("revoke-tokens")
            let before = received.reports.count
            try eventually(timeout: 20, interval: 0.1) {
                received = try server.received()
                return (received.unauthorized ?? 0) > 0 && received.reports.count > before + 5
            }
            #expect((received.unauthorized ?? 0) >= 1)
            #expect(received.reports.count > before + 5, "reports flow again after the 401")
            try Forwarding5Tests().expectAllDelivered(harness, server)
            #expect(harness.stop() == .exited(0))
        }
    }
}

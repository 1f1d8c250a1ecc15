import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Egeria's own Python client, pyegeria 6.2.12, manages the daemon through its platform door, over http and https.
    @Suite("pyegeria manages the daemon", .serialized, .lab(.pyegeria))
    struct PyegeriaTests {
        /// Runs one ServerOps action through the fixture script; its one JSON line.
        static func pyegeria(_ python: String, url: String, _ action: String, _ connector: String? = nil,
                             password: String = DaemonHarness.platformPassword) throws -> JSONValue {
            let argv = [python, "\(Binaries.fixtures)/pyegeria_client.py", url, "test-daemon", "garygeeke", password, action] + (connector.map { [$0] } ?? [])
            let result = try DaemonHarness.run(argv, timeout: 90)
            #expect(result.code == 0, "pyegeria_client.py \(action) failed: \(result.stderr)")
            let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
            return try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        }

        static let services = [
            DaemonHarness.filesService(folder: "in", intervalSeconds: 3600),
            DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600),
        ]

        @Test("status, refresh, restart, config, an unknown name, a wrong password, no token, and the console scripts", arguments: [false, true])
        func serverOps(tls: Bool) throws {
            let python = try DaemonHarness.pyegeriaPython()
            let harness = try DaemonHarness(services: Self.services)
            defer { harness.cleanUp() }
            let ca = tls ? try PrivateCA(directory: harness.makeFolder("ca")) : nil
            try DaemonHarness.config(services: Self.services, platform: DaemonHarness.platform(tls: ca)).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            let folder = try harness.makeFolder("in")
            let port = try harness.startWithPlatform()
            let url = "\(tls ? "https" : "http")://localhost:\(port)"
            harness.waitForStatus(timeout: 10) { status in ["files", "chaos"].allSatisfy { harness.connector(status, $0)?.lastRefreshTime != nil } }

            // Status lists every connector with an Egeria status.
            let status = try Self.pyegeria(python, url: url, "status")
            #expect(status["ok"] == .bool(true), "\(status)")
            let reports = status["result"]?["integrationConnectorReports"]?.arrayValue ?? []
            #expect(Set(reports.compactMap { $0["connectorName"]?.stringValue }) == ["files", "chaos"])
            #expect(reports.allSatisfy { IntegrationConnectorStatus(rawValue: $0["connectorStatus"]?.stringValue ?? "") != nil })
            #expect(status["result"]?["integrationGroupSummaries"]?.arrayValue?.count == 2)

            // A refresh by name produces a new report for the file that appeared.
            let before = try harness.reports(connector: "files").count
            try "a,b\n".write(toFile: folder + "/new.csv", atomically: true, encoding: .utf8)
            let refreshed = try Self.pyegeria(python, url: url, "refresh", "files")
            #expect(refreshed["ok"] == .bool(true), "\(refreshed)")
            let after = try harness.reports(connector: "files")
            #expect(after.count == before + 1, "the refresh had run when the call returned")
            #expect(after.last?.createdElements.count == 1)

            // A restart re-creates just that connector, inside the same worker.
            let pids = try harness.status().integrationServiceSummaries.map(\.worker.pid)
            let restarted = try Self.pyegeria(python, url: url, "restart", "files")
            #expect(restarted["result"]?["relatedHTTPCode"] == .int(200), "\(restarted)")
            #expect(try harness.status().integrationServiceSummaries.map(\.worker.pid) == pids)
            #expect(harness.daemon!.waitFor(timeout: 5) { _, err, _ in err.contains { $0.contains("connector re-created") && $0.contains("connector=files") } })
            #expect(!(harness.daemon!.stderrLines.contains { $0.contains("connector re-created") && $0.contains("connector=chaos") }))

            // The connector's configuration properties.
            let config = try Self.pyegeria(python, url: url, "config", "chaos")
            #expect(config["result"]?["properties"]?["failure"] == .string("none"), "\(config)")

            // An unknown name is Egeria's 400-031, raised by pyegeria as its API exception.
            let unknown = try Self.pyegeria(python, url: url, "refresh", "no-such-connector")
            #expect(unknown["ok"] == .bool(false))
            #expect(unknown["exception"] == .string("PyegeriaAPIException"), "\(unknown)")
            #expect(unknown["relatedHTTPCode"] == .int(400))
            #expect(unknown["messageId"] == .string("INTEGRATION-DAEMON-SERVICES-400-031"))

            // A wrong password gets no token, and the password never reaches the log.
            let refused = try Self.pyegeria(python, url: url, "status", password: "wrong")
            #expect(refused["ok"] == .bool(false), "\(refused)")
            #expect(harness.daemon!.waitFor(timeout: 5) { _, err, _ in err.contains { $0.contains("token refused") } })
            #expect(!harness.daemon!.stderrLines.contains { $0.contains(DaemonHarness.platformPassword) })

            // No token: HTTP 401, not an envelope.
            let noToken = try Self.pyegeria(python, url: url, "no-token")
            #expect(noToken["result"] == .int(401), "\(noToken)")

            // The console scripts exit 0 and did what they say.
            for (script, verb) in [("refresh_integration_daemon", "refreshed"), ("restart_integration_daemon", "restarted")] {
                let bin = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent(script).path
                let run = try DaemonHarness.run([bin, "--server", "test-daemon", "--url", url, "--view_server", "test-daemon",
                                                 "--userid", "garygeeke", "--password", DaemonHarness.platformPassword, "--connector", "chaos"], timeout: 90)
                #expect(run.code == 0, "\(script): \(run.stderr)")
                #expect(run.stdout.contains("Integration Daemon 'test-daemon' \(verb)"), "\(script) printed: \(run.stdout)")
            }
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Operating a running daemon: refresh, restart, configure, status under duress, through the real CLI.
    @Suite("Live operations", .serialized)
    struct LiveOperationsTests {
        /// One worker hosting two chaos connectors, so a change to one can be seen not to touch the other.
        static let twoConnectors = ServiceFixture("chaos-integrator", connectors: ["alpha", "beta"].map {
            ConnectorFixture($0, provider: "chaos", properties: ["failure": .string("none")], refreshIntervalSeconds: 0.2)
        })

        func refreshCount(_ harness: DaemonHarness, _ status: DaemonStatus, _ name: String) -> Int {
            harness.connector(status, name)?.statistics.refreshCount ?? 0
        }

        @Test("refresh CONNECTOR answers when the refresh has run, with its outcome and report summary")
        func refreshCommand() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: "in", intervalSeconds: 3600)])
            defer { harness.cleanUp() }
            let root = try harness.makeFolder("in")
            try harness.start()
            harness.waitForStatus(timeout: 10) { harness.connector($0, "files")?.lastRefreshTime != nil }
            try "new".place(at: root + "/new.csv")
            // The schedule is hourly: only the command can catalog the new file now.
            let (code, value, stderr) = try harness.cliJSON("refresh", "files")
            #expect(code == 0, "\(stderr)")
            let refresh = try #require(value?["refreshes"]?.arrayValue?.first)
            #expect(refresh["connectorName"] == .string("files"))
            #expect(refresh["createdCount"] == .int(1))
            #expect(refresh["connectorStatus"] == .string("WAITING"))
            let reportId = try #require(refresh["reportId"]?.stringValue)
            #expect(try harness.reports().last?.reportId == reportId, "the report is stored when refresh answers")

            let text = try harness.cli("refresh")
            #expect(text.code == 0)
            #expect(text.stdout.contains("CONNECTOR") && text.stdout.contains("files"))
            let unknown = try harness.cli("refresh", "nope")
            #expect(unknown.code == 1)
            #expect(unknown.stderr.contains("no connector named \"nope\"; connectors: files"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("restart CONNECTOR re-creates it inside the same worker; the other connector is untouched")
        func restartConnector() throws {
            let harness = try DaemonHarness(services: [Self.twoConnectors])
            defer { harness.cleanUp() }
            try harness.start()
            let (_, before) = harness.waitForStatus(timeout: 10) { refreshCount(harness, $0, "alpha") >= 2 && refreshCount(harness, $0, "beta") >= 2 }
            let pid = try #require(before?.integrationServiceSummaries.first?.worker.pid)
            let (code, value, stderr) = try harness.cliJSON("restart", "alpha")
            #expect(code == 0, "\(stderr)")
            let restarted = value?["connectors"]?.arrayValue ?? []
            #expect(restarted.count == 1)
            #expect(restarted.first?["connectorName"] == .string("alpha"))
            #expect(restarted.first?["previousInstanceStopped"] == .bool(true))
            #expect(value?["errors"] == .array([]))
            let (_, after) = harness.waitForStatus(timeout: 5) { refreshCount(harness, $0, "alpha") > refreshCount(harness, before!, "alpha") }
            #expect(after?.integrationServiceSummaries.first?.worker.pid == pid, "the worker process was kept")
            #expect(after?.integrationServiceSummaries.first?.worker.restartCount == 0)
            #expect(harness.daemon!.waitFor(timeout: 5) { _, err, _ in err.contains { $0.contains("connector re-created") && $0.contains("connector=alpha") } })
            #expect(!harness.daemon!.stderrLines.contains { $0.contains("connector re-created") && $0.contains("connector=beta") })
            #expect(harness.stop() == .exited(0))
        }

        @Test("restart --service replaces the worker process at once, and revives a FAILED service")
        func restartService() throws {
            let restart = ServiceFixture.restart(maxRestarts: 1, withinSeconds: 60, initialBackoffSeconds: 0.01, maxBackoffSeconds: 0.01)
            let harness = try DaemonHarness(services: [
                DaemonHarness.chaosService(failure: "none"),
                DaemonHarness.chaosService("doomed", connector: "doomed", failure: "exit", restart: restart),
            ])
            defer { harness.cleanUp() }
            try harness.start()
            let (ready, before) = harness.waitForStatus(timeout: 10) { status in
                harness.service(status, "chaos-integrator")?.worker.state == "running" && harness.service(status, "doomed")?.worker.state == "failed"
            }
            try #require(ready)
            let oldPid = try #require(harness.service(before!, "chaos-integrator")?.worker.pid)
            let (code, value, _) = try harness.cliJSON("restart", "--service", "chaos-integrator")
            #expect(code == 0)
            #expect(value?["previousPid"] == .int(Int(oldPid)))
            let (replaced, after) = harness.waitForStatus(timeout: 10) { status in
                guard let worker = harness.service(status, "chaos-integrator")?.worker else { return false }
                return worker.state == "running" && worker.pid != oldPid
            }
            try #require(replaced)
            let worker = try #require(harness.service(after!, "chaos-integrator")?.worker)
            #expect(worker.restartCount == 1)
            #expect(worker.lastExit?.cause == "restart")
            #expect(worker.lastExit?.exitCode == 0, "asked politely, it exited 0")
            #expect(ProcessTable.waitUntilGone([oldPid], timeout: 2))

            // The FAILED service comes back on request: a new incarnation is spawned (and, by design, exits again).
            let failedRestarts = try #require(harness.service(after!, "doomed")?.worker.restartCount)
            #expect(try harness.cli("restart", "--service", "doomed").code == 0)
            let (revived, _) = harness.waitForStatus(timeout: 10) { (harness.service($0, "doomed")?.worker.restartCount ?? 0) > failedRestarts }
            #expect(revived)
            #expect(try harness.cli("restart", "--service", "ghost").stderr.contains("no integration service \"ghost\""))
            #expect(harness.stop() == .exited(0))
        }

        @Test("configure CONNECTOR --set merges properties and re-creates only that connector")
        func configureConnector() throws {
            let harness = try DaemonHarness(services: [Self.twoConnectors])
            defer { harness.cleanUp() }
            try harness.start()
            let (_, before) = harness.waitForStatus(timeout: 10) { refreshCount(harness, $0, "beta") >= 1 }
            let pid = try #require(before?.integrationServiceSummaries.first?.worker.pid)
            let (code, value, stderr) = try harness.cliJSON("configure", "alpha", "--set", "failure=throw", "--set", "afterRefreshes=2")
            #expect(code == 0, "\(stderr)")
            #expect(value?["connectorName"] == .string("alpha"))
            let (failed, after) = harness.waitForStatus(timeout: 10) { harness.connector($0, "alpha")?.connectorStatus == .FAILED }
            try #require(failed, "\(String(describing: after))")
            #expect(harness.connector(after!, "alpha")?.failingExceptionMessage == "chaos: refresh 2 failed on purpose")
            #expect(harness.connector(after!, "beta")?.connectorStatus != .FAILED)
            #expect(after?.integrationServiceSummaries.first?.worker.pid == pid)
            // A refresh that ends FAILED is a failure for a script: exit 1, with the table still printed.
            let failedRefresh = try harness.cli("refresh", "alpha")
            #expect(failedRefresh.code == 1, "\(failedRefresh)")
            #expect(failedRefresh.stdout.contains("FAILED"))
            // --replace drops the other properties: back to failure "none".
            #expect(try harness.cli("configure", "alpha", "--set", "afterRefreshes=1", "--replace").code == 0)
            let (recovered, _) = harness.waitForStatus(timeout: 10) { harness.connector($0, "alpha")?.connectorStatus == .WAITING }
            #expect(recovered)
            let bad = try harness.cli("configure", "alpha")
            #expect(bad.code == 64 && bad.stderr.contains("--set KEY=VALUE"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("status answers within 100 ms while a worker is stopped with SIGSTOP and another is mid-refresh")
        func statusNeverWaits() throws {
            // Long heartbeat timeout: the stopped worker stays stopped through the measurement.
            let supervision: [String: JSONValue] = ["heartbeatIntervalSeconds": .double(0.2), "heartbeatTimeoutSeconds": .int(30),
                                                    "shutdownGraceSeconds": .double(0.5), "killGraceSeconds": .double(0.2)]
            let harness = try DaemonHarness(services: [
                DaemonHarness.chaosService(failure: "none"),
                DaemonHarness.chaosService("stuck", connector: "stuck", failure: "hang", afterRefreshes: 1),
            ], supervision: supervision)
            defer { harness.cleanUp() }
            try harness.start()
            let (_, status) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" } }
            let pid = try #require(harness.service(status!, "chaos-integrator")?.worker.pid)
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            var slowest = 0.0
            for _ in 0..<20 {
                let start = Date()
                _ = try harness.status()
                slowest = max(slowest, Date().timeIntervalSince(start))
            }
            #expect(slowest < 0.1, "slowest status took \(slowest) s")
            let text = try harness.cli("status")
            #expect(text.code == 0)
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// `reload` and SIGHUP: only the difference is applied; an invalid file changes nothing.
    @Suite("Reload", .serialized)
    struct ReloadTests {
        static func chaos(_ marker: String, _ connector: String, failure: String = "none") -> ServiceFixture {
            DaemonHarness.chaosService(marker, connector: connector, failure: failure)
        }

        func pids(_ status: DaemonStatus) -> [String: Int32] {
            Dictionary(uniqueKeysWithValues: status.integrationServiceSummaries.compactMap { s in s.worker.pid.map { (s.integrationServiceURLMarker, $0) } })
        }

        @Test("reload adds, removes and reconfigures; nothing unchanged is restarted")
        func reloadAppliesTheDifference() throws {
            let keep = Self.chaos("keep", "keep-c"), change = Self.chaos("change", "change-c"), drop = Self.chaos("drop", "drop-c")
            let harness = try DaemonHarness(services: [keep, change, drop])
            defer { harness.cleanUp() }
            try harness.start()
            let (ready, before) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" } }
            try #require(ready)
            let oldPids = pids(before!)

            let changed = Self.chaos("change", "change-c", failure: "throw")
            try DaemonHarness.config(services: [keep, changed, Self.chaos("added", "added-c")]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            let (code, value, stderr) = try harness.cliJSON("reload")
            #expect(code == 0, "\(stderr)")
            #expect(value?["added"] == .array([.string("added")]))
            #expect(value?["removed"] == .array([.string("drop")]))
            #expect(value?["reconfiguredConnectors"] == .array([.string("change-c")]))
            #expect(value?["unchanged"] == .array([.string("keep")]))

            let (applied, after) = harness.waitForStatus(timeout: 10) { status in
                harness.service(status, "added")?.worker.state == "running" && harness.service(status, "drop") == nil
                    && harness.connector(status, "change-c")?.connectorStatus == .FAILED
            }
            try #require(applied, "\(String(describing: after))")
            let newPids = pids(after!)
            #expect(newPids["keep"] == oldPids["keep"], "an unchanged service keeps its worker")
            #expect(newPids["change"] == oldPids["change"], "a changed connector is re-created inside its live worker")
            #expect(harness.connector(after!, "change-c")?.failingExceptionMessage == "chaos: refresh 1 failed on purpose")
            #expect(ProcessTable.waitUntilGone([oldPids["drop"]!], timeout: 3), "a removed service's worker is shut down")
            #expect(harness.daemon!.stderrLines.contains { $0.contains("worker exited with code 0; stopped on request") && $0.contains("service=drop") },
                    "removed gracefully: shutdown request answered, exit 0")
            #expect(harness.stop() == .exited(0))
        }

        @Test("reload returns a connector changed by configure to what the file says, in its live worker")
        func reloadRevertsConfigure() throws {
            let harness = try DaemonHarness(services: [Self.chaos("one", "one-c")])
            defer { harness.cleanUp() }
            try harness.start()
            let (ready, before) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.state == "running" }
            try #require(ready)
            #expect(try harness.cli("configure", "one-c", "--set", "failure=throw").code == 0)
            let (failed, _) = harness.waitForStatus(timeout: 10) { harness.connector($0, "one-c")?.connectorStatus == .FAILED }
            try #require(failed)

            // The file still says failure "none": the reload re-creates the connector that way.
            let (code, value, stderr) = try harness.cliJSON("reload")
            #expect(code == 0, "\(stderr)")
            #expect(value?["reconfiguredConnectors"] == .array([.string("one-c")]))
            #expect(value?["unchanged"] == .array([]))
            let (reverted, after) = harness.waitForStatus(timeout: 10) { harness.connector($0, "one-c")?.connectorStatus == .WAITING }
            try #require(reverted, "\(String(describing: after))")
            #expect(pids(after!) == pids(before!), "re-created inside the live worker")

            // A second reload finds nothing to change.
            let (_, again, _) = try harness.cliJSON("reload")
            #expect(again?["reconfiguredConnectors"] == .array([]))
            #expect(again?["unchanged"] == .array([.string("one")]))
            #expect(harness.stop() == .exited(0))
        }

        @Test("an invalid new config is refused with its errors and the running one stays")
        func invalidReloadIsRefused() throws {
            let harness = try DaemonHarness(services: [Self.chaos("keep", "keep-c")])
            defer { harness.cleanUp() }
            try harness.start()
            let (_, before) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.state == "running" }
            try "{ \"integrationServices\": [ { \"integrationServiceURLMarker\": 7 } ] }".write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            let result = try harness.cli("reload")
            #expect(result.code == 64, "a refused reload is a configuration error")
            #expect(result.stderr.contains("reload refused; the running configuration stays"))
            #expect(result.stderr.contains("integrationServices[0].integrationServiceURLMarker: expected a string, got 7"))
            let after = try harness.status()
            #expect(pids(after) == pids(before!))
            #expect(harness.stop() == .exited(0))
        }

        @Test("SIGHUP reloads too; a changed worker command replaces that worker only")
        func sighupReloads() throws {
            let harness = try DaemonHarness(services: [Self.chaos("one", "one-c"), Self.chaos("two", "two-c")])
            defer { harness.cleanUp() }
            try harness.start()
            let (_, before) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" } }
            let oldPids = pids(before!)
            // Same worker binary, named differently: a new command, so a new process.
            let link = harness.directory + "/worker-link"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Binaries.worker)
            var two = Self.chaos("two", "two-c")
            two.command = [link]
            try DaemonHarness.config(services: [Self.chaos("one", "one-c"), two]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            harness.daemon!.signal(SIGHUP)
            let (replaced, after) = harness.waitForStatus(timeout: 10) { status in
                guard let worker = harness.service(status, "two")?.worker else { return false }
                return worker.state == "running" && worker.pid != oldPids["two"]
            }
            try #require(replaced, "\(String(describing: after))")
            #expect(pids(after!)["one"] == oldPids["one"])
            #expect(harness.service(after!, "two")?.worker.lastExit?.cause == "restart")
            #expect(harness.daemon!.stderrLines.contains { $0.contains("SIGHUP received") })
            #expect(harness.stop() == .exited(0))
        }
    }
}

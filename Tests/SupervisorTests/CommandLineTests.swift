import Foundation
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The CLI as an operator uses it against a running daemon.
    @Suite("Command line", .serialized, .timeLimit(.minutes(1)))
    struct CommandLineTests {
        @Test("status, reports and elements: tables for people, JSON for machines")
        func liveCommands() throws {
            let harness = try DaemonHarness(services: [
                DaemonHarness.filesService(folder: "landing"),
                DaemonHarness.chaosService(failure: "none", intervalSeconds: 0.2),
            ])
            defer { harness.cleanUp() }
            let root = try harness.makeFolder("landing")
            try "x".place(at: root + "/one.csv")
            try harness.start()
            harness.waitForStatus(timeout: 10) { status in
                status.integrationServiceSummaries.allSatisfy { ($0.integrationConnectorReports.first?.statistics.reportsStored ?? 0) >= 1 }
            }

            let json = try harness.cli("status", "--json")
            #expect(json.code == 0, "\(json.stderr)")
            let status = try JSONDecoder().decode(JSONValue.self, from: Data(json.stdout.utf8))
            let summaries = try #require(status["integrationServiceSummaries"]?.arrayValue)
            #expect(summaries.count == 2)
            let files = try #require(summaries.first { $0["integrationServiceURLMarker"] == .string("files-integrator") })
            #expect(files["worker"]?["state"] == .string("running"))
            #expect(files["worker"]?["restartCount"] == .int(0))
            #expect(files["worker"]?["pid"]?.intValue != nil)
            let report = try #require(files["integrationConnectorReports"]?.arrayValue?.first)
            #expect(report["connectorName"] == .string("files"))
            #expect(report["connectorStatus"] == .string("WAITING") || report["connectorStatus"] == .string("REFRESHING"))
            #expect(report["lastRefreshTime"]?.intValue != nil, "dates are epoch milliseconds")
            #expect(report["statistics"]?["reportsStored"]?.intValue ?? 0 >= 1)

            let table = try harness.cli("status")
            #expect(table.code == 0)
            #expect(table.stdout.contains("files-integrator: worker running"))
            #expect(table.stdout.contains("CONNECTOR"))
            #expect(table.stdout.contains("chaos"))

            let chaosOnly = try harness.cli("reports", "--json", "--connector", "chaos")
            let lines = chaosOnly.stdout.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                let report = try JSONDecoder.daemon.decode(IntegrationReport.self, from: Data(line.utf8))
                #expect(report.connectorName == "chaos")
                #expect(report.createdElements.count == 1)
            }
            let reportsTable = try harness.cli("reports", "--limit", "1")
            #expect(reportsTable.stdout.contains("REPORT ID"))
            #expect(reportsTable.stdout.contains("1 report(s)"))

            let elements = try harness.cli("elements")
            #expect(elements.stdout.contains("DataFile"))
            #expect(elements.stdout.contains(root + "/one.csv"))
            #expect(harness.stop() == .exited(0))

            // Without a daemon: status says so and exits 69; the store is still readable.
            let down = try harness.cli("status")
            #expect(down.code == 69)
            #expect(down.stderr.contains("no daemon is running"))
            #expect(try harness.cli("reports").code == 0)
        }

        @Test("the control socket is owner-only")
        func socketPermissions() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none")])
            defer { harness.cleanUp() }
            try harness.start()
            let attributes = try FileManager.default.attributesOfItem(atPath: harness.directory + "/data/daemon.sock")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let data = try FileManager.default.attributesOfItem(atPath: harness.directory + "/data")
            #expect((data[.posixPermissions] as? Int) == 0o700)
            #expect(harness.stop() == .exited(0))
        }
    }
}

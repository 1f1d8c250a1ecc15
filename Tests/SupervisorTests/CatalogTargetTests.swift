import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Catalog targets in the configuration file: one connector working on several folders, each refreshed on its
    /// own, with its own settings and metadata source.
    @Suite("Catalog targets", .serialized)
    struct CatalogTargetTests {
        static func target(_ name: String, folder: String, source: String? = nil, properties: [String: JSONValue]? = nil) -> JSONValue {
            var target: [String: JSONValue] = ["catalogTargetName": .string(name), "endpoint": .object(["address": .string(folder)])]
            if let source { target["metadataSourceQualifiedName"] = .string(source) }
            if let properties { target["configurationProperties"] = .object(properties) }
            return .object(target)
        }

        @Test("one files connector, two target folders: each catalogued as if configured alone under its own source, a failing target reported while the other goes on, each report naming its target")
        func filesConnectorWithTargets() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let landing = try harness.makeFolder("landing")
            try "a\n".write(toFile: landing + "/orders.csv", atomically: true, encoding: .utf8)
            let later = harness.directory + "/later"
            let connector = ConnectorFixture("files", provider: "data-files-monitor", refreshIntervalSeconds: 0.3, metadataSource: "files",
                                             catalogTargets: [Self.target("landing", folder: landing, source: "landing-area"),
                                                              Self.target("later", folder: later)])
            try harness.writeConfig(services: [ServiceFixture("files-integrator", connectors: [connector])])
            try harness.start()

            // The missing folder fails its target only: the other is catalogued, and the connector says which failed.
            let (split, status) = harness.waitForStatus(timeout: 15) { status in
                guard let targets = harness.connector(status, "files")?.catalogTargets, targets.count == 2 else { return false }
                return targets[0].lastRefreshTime != nil && targets[1].failingExceptionMessage != nil
            }
            try #require(split, "\(String(describing: status))")
            let report = try #require(harness.connector(status!, "files"))
            #expect(report.connectorStatus == .WAITING)
            #expect(report.failingExceptionMessage?.contains("later") == true, "\(report.failingExceptionMessage ?? "")")
            let orders = try #require(try harness.elements().first { $0.qualifiedName.hasSuffix("/landing/orders.csv") })
            #expect(orders.metadataSourceQualifiedName == "landing-area", "filed under its target's source")
            let reports = try harness.reports(connector: "files")
            #expect(reports.contains { $0.additionalProperties["catalogTargetName"] == "landing" && $0.createdElements.contains(orders.guid) })

            // The folder appears: its target is catalogued at the next refresh, under the connector's own source.
            try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: true)
            try "b\n".write(toFile: later + "/returns.csv", atomically: true, encoding: .utf8)
            let (both, after) = harness.waitForStatus(timeout: 15) { status in
                harness.connector(status, "files")?.catalogTargets?.allSatisfy { $0.failingExceptionMessage == nil && $0.lastRefreshTime != nil } == true
                    && harness.connector(status, "files")?.failingExceptionMessage == nil
            }
            #expect(both, "\(String(describing: after))")
            let returns = try #require(try harness.elements().first { $0.qualifiedName.hasSuffix("/later/returns.csv") })
            #expect(returns.metadataSourceQualifiedName == "files")
            #expect(harness.stop() == .exited(0))
        }
    }
}

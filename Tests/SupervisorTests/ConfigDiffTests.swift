import Protocol
import Testing
@testable import Forwarding
@testable import Supervisor

/// The reload plan as a pure value.
@Suite("Configuration diff")
struct ConfigDiffTests {
    func connector(_ name: String, _ failure: String = "none") -> IntegrationConnectorConfig {
        IntegrationConnectorConfig(connectorId: name, connectorName: name,
                                   connection: Connection(connectorType: ConnectorType(connectorProviderClassName: "chaos"),
                                                          configurationProperties: ["failure": .string(failure)]))
    }

    func service(_ marker: String, _ connectors: [IntegrationConnectorConfig], command: String = "/w") -> ServiceConfig {
        ServiceConfig(urlMarker: marker, fullName: marker, command: [command], restart: RestartSettings(), connectors: connectors)
    }

    func config(_ services: [ServiceConfig], data: String = "/d") -> DaemonConfig {
        DaemonConfig(file: "f", dataDirectory: data, integrationServices: services)
    }

    @Test func sameConfig_changesNothing() {
        let c = config([service("a", [connector("x")])])
        #expect(ConfigDiff.between(c, c) == ConfigDiff(unchanged: ["a"]))
    }

    @Test func connectorChanges_areListedOneByOne() {
        let old = config([service("a", [connector("x"), connector("y"), connector("z")])])
        let new = config([service("a", [connector("x"), connector("y", "throw"), connector("w")])])
        let diff = ConfigDiff.between(old, new)
        #expect(diff.reconfigured.count == 1)
        #expect(diff.reconfigured.first?.changed.map(\.connectorName) == ["y"])
        #expect(diff.reconfigured.first?.added.map(\.connectorName) == ["w"])
        #expect(diff.reconfigured.first?.removed == ["z"])
        #expect(diff.unchanged.isEmpty && diff.replaced.isEmpty)
    }

    @Test func commandChange_replacesTheWorker_reorderIsNotAChange() {
        let old = config([service("a", [connector("x")]), service("b", [connector("y"), connector("z")])])
        let new = config([service("a", [connector("x")], command: "/other"), service("b", [connector("z"), connector("y")])])
        let diff = ConfigDiff.between(old, new)
        #expect(diff.replaced.map(\.urlMarker) == ["a"])
        #expect(diff.settingsChanged.map(\.urlMarker) == ["b"])
        #expect(diff.reconfigured.isEmpty)
    }

    @Test func accessServerChange_isRefused() {
        var new = config([service("a", [])])
        new.accessServer = .egeria(EgeriaServerConfig(omagserverPlatformRootURL: "http://x", omagserverName: "s", userId: "u"))
        #expect(ConfigDiff.between(config([service("a", [])]), new).refusals.first?.contains("accessServer changed") == true)
    }

    @Test func servicesAddedAndRemoved_dataDirectoryRefused() {
        let diff = ConfigDiff.between(config([service("a", [])]), config([service("b", [])], data: "/elsewhere"))
        #expect(diff.added.map(\.urlMarker) == ["b"])
        #expect(diff.removed == ["a"])
        #expect(diff.refusals.first?.contains("dataDirectory changed") == true)
    }
}

import Dispatch
import Foundation
import Protocol
import Synchronization
import Testing
@testable import Worker

/// The worker's own code with no daemon and no child process: a connector host driving the files connector and
/// the chaos connector, and the refresh scheduler, against ``InProcessSupervisor``.
@Suite("Worker in process")
struct WorkerInProcessTests {
    static func config(_ name: String, provider: String, address: String? = nil, properties: [String: JSONValue]? = nil,
                       intervalSeconds: Double? = nil) -> IntegrationConnectorConfig {
        IntegrationConnectorConfig(connectorId: name + "-id", connectorName: name,
                                   connection: Connection(connectorType: ConnectorType(connectorProviderClassName: provider),
                                                          endpoint: address.map { Endpoint(address: $0) }, configurationProperties: properties),
                                   refreshIntervalSeconds: intervalSeconds, metadataSourceQualifiedName: name)
    }

    static func host(_ config: IntegrationConnectorConfig, _ supervisor: InProcessSupervisor) -> ConnectorHost {
        ConnectorHost(config: config, serverName: "in-process", userId: "tester", client: supervisor.client, services: supervisor.services,
                      registry: .standard, logger: Logger(label: "test", level: .error)) { _ in }
    }

    /// One refresh, waited for (bounded).
    static func refresh(_ host: ConnectorHost) throws -> RefreshOutcome {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<RefreshOutcome?>(nil)
        host.refresh { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        guard done.wait(timeout: .now() + 30) == .success, let outcome = result.withLock({ $0 }) else { throw HarnessError("the refresh did not end in 30 s") }
        return outcome
    }

    @Test("the files connector: the first refresh creates each file and folder, an unchanged one writes nothing, a change is one update, a removal one delete")
    func filesConnector() throws {
        let supervisor = try InProcessSupervisor()
        defer { supervisor.close() }
        let folder = try TemporaryDirectory(prefix: "idt-files")
        defer { withExtendedLifetime(folder) {} }
        try FileManager.default.createDirectory(atPath: folder.path + "/sub", withIntermediateDirectories: true)
        try "a".write(toFile: folder.path + "/a.csv", atomically: true, encoding: .utf8)
        try "bb".write(toFile: folder.path + "/sub/b.txt", atomically: true, encoding: .utf8)
        let host = Self.host(Self.config("files", provider: "data-files-monitor", address: folder.path), supervisor)

        let first = try Self.refresh(host)
        #expect(first.connectorStatus == .WAITING && (first.createdCount, first.updatedCount, first.deletedCount) == (3, 0, 0), "\(first)")
        #expect(Set(supervisor.elements.map(\.qualifiedName)) == [folder.path + "/a.csv", folder.path + "/sub", folder.path + "/sub/b.txt"])
        #expect(supervisor.elements.first { $0.qualifiedName.hasSuffix("/sub/b.txt") }?.properties["size"] == .int(2))

        let unchanged = try Self.refresh(host)
        #expect((unchanged.createdCount, unchanged.updatedCount, unchanged.deletedCount) == (0, 0, 0))

        try "changed".write(toFile: folder.path + "/a.csv", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: folder.path + "/sub/b.txt")
        let changed = try Self.refresh(host)
        #expect((changed.createdCount, changed.updatedCount, changed.deletedCount) == (0, 1, 1), "\(changed)")
        #expect(supervisor.elements.first { $0.qualifiedName.hasSuffix("/a.csv") }?.properties["size"] == .int(7))

        // A refresh that changed something has its report, with the counts the outcome gave; an unchanged one none.
        let reports = supervisor.reports
        #expect(unchanged.reportId == nil)
        #expect(reports.count == 2 && reports.allSatisfy { $0.connectorName == "files" })
        #expect(reports.map { [$0.createdElements.count, $0.updatedElements.count, $0.deletedElements.count] } == [[3, 0, 0], [0, 1, 1]])
        #expect(reports.map(\.reportId) == [first.reportId, changed.reportId].compactMap { $0 })
    }

    @Test("a missing folder: FAILED at start with the folder named, and nothing written")
    func filesConnectorMissingFolder() throws {
        let supervisor = try InProcessSupervisor()
        defer { supervisor.close() }
        let host = Self.host(Self.config("files", provider: "data-files-monitor", address: "/nonexistent/landing"), supervisor)
        let outcome = try Self.refresh(host)
        #expect(outcome.connectorStatus == .FAILED)
        #expect(outcome.failingExceptionMessage?.contains("/nonexistent/landing does not exist") == true, "\(outcome)")
        #expect(outcome.reportId == nil && supervisor.elements.isEmpty)
    }

    @Test("the scheduler refreshes each connector a period after its last refresh; a FAILED one is not scheduled again")
    func scheduler() throws {
        let supervisor = try InProcessSupervisor()
        defer { supervisor.close() }
        let healthy = Self.host(Self.config("steady", provider: "chaos", properties: ["failure": .string("none")], intervalSeconds: 0.02), supervisor)
        let failing = Self.host(Self.config("broken", provider: "chaos", properties: ["failure": .string("throw"), "afterRefreshes": .int(2)],
                                            intervalSeconds: 0.02), supervisor)
        let scheduler = RefreshScheduler()
        try scheduler.start()
        scheduler.schedule(healthy, at: .now())
        scheduler.schedule(failing, at: .now())

        func reports(_ name: String) -> Int { supervisor.reports.filter { $0.connectorName == name }.count }
        #expect(eventually(timeout: 10) { failing.status == .FAILED }, "the broken connector never failed")
        // Its two refreshes: one that worked, one that failed (reported as such). Then nothing more, while the
        // healthy one goes on: ten more of its refreshes are the clock.
        let failedReports = reports("broken")
        let steadyBefore = reports("steady")
        #expect(eventually(timeout: 10) { reports("steady") >= steadyBefore + 10 }, "the healthy connector stopped refreshing")
        #expect(failedReports == 2 && reports("broken") == failedReports, "a FAILED connector was refreshed again")
        #expect(supervisor.reports.last { $0.connectorName == "broken" }?.additionalProperties["outcome"] == "failed")
        healthy.disconnect(timeoutSeconds: 5)
    }

    /// A two-table database with a primary and a foreign key, less any column named in `dropping`.
    static func shopTree(dropping: String? = nil) throws -> CatalogueTree {
        var catalogue = PostgresCatalogue()
        catalogue.schemas = ["public"]
        catalogue.tables = [PostgresCatalogue.Table(schema: "public", name: "patients", type: "TABLE"),
                            PostgresCatalogue.Table(schema: "public", name: "visits", type: "TABLE")]
        // Positions as PostgreSQL keeps them: a dropped column leaves the others' numbers alone.
        let columns = [("patients", "id", 1), ("patients", "name", 2), ("visits", "id", 1), ("visits", "patient_id", 2)]
        catalogue.columns = columns.filter { $0.1 != dropping }.map { column in
            PostgresCatalogue.Column(schema: "public", table: column.0, name: column.1, position: column.2, dataType: "text",
                                     declaredType: "text", isNullable: true)
        }
        catalogue.primaryKeys = [PostgresCatalogue.KeyColumn(schema: "public", table: "patients", column: "id", constraint: "patients_pkey")]
        catalogue.foreignKeys = [PostgresCatalogue.ForeignKey(pkSchema: "public", pkTable: "patients", pkColumn: "id", fkSchema: "public",
                                                              fkTable: "visits", fkColumn: "patient_id", fkName: "visits_patient_fk",
                                                              pkName: "patients_pkey")]
        return CatalogueTree(server: "pg1", address: try PostgresAddress("jdbc:postgresql://localhost:5432/shop"), catalogue: catalogue,
                             filters: CatalogueFilters())
    }

    @Test("the database cataloguer: a tree is written whole with its foreign key; read back and applied again it writes nothing; a dropped column is one delete")
    func catalogueSync() throws {
        let supervisor = try InProcessSupervisor()
        defer { supervisor.close() }
        let context = ConnectorContext(config: Self.config("shopdb", provider: "postgres-monitor"), userId: "tester", client: supervisor.client,
                                       logger: Logger(label: "test", level: .error))
        let tree = try Self.shopTree()

        context.startRecording()
        var known = try CatalogueSync.apply(tree, known: try CatalogueSync.existing(under: tree.databaseQualifiedName, context: context), context: context)
        let first = context.finishRecording()
        #expect(first.created.count == tree.nodes.count && first.updated.isEmpty && first.deleted.isEmpty, "\(first)")
        #expect(Set(supervisor.elements.map(\.qualifiedName)) == Set(tree.nodes.map(\.qualifiedName)))
        let foreignKeys = supervisor.relationships.filter { $0.typeName == "ForeignKey" }
        #expect(foreignKeys.count == 1)

        // A new worker reads open metadata back: nothing differs, so nothing is written.
        context.startRecording()
        known = try CatalogueSync.apply(tree, known: try CatalogueSync.existing(under: tree.databaseQualifiedName, context: context), context: context)
        let again = context.finishRecording()
        #expect(again.isEmpty, "\(again)")

        context.startRecording()
        _ = try CatalogueSync.apply(try Self.shopTree(dropping: "name"), known: known, context: context)
        let dropped = context.finishRecording()
        #expect(dropped.created.isEmpty && dropped.updated.isEmpty && dropped.deleted.count == 1, "\(dropped)")
        #expect(!supervisor.elements.contains { $0.qualifiedName.hasSuffix("::patients::name") })
        #expect(supervisor.relationships.filter { $0.typeName == "ForeignKey" } == foreignKeys, "the foreign key was not touched")
    }
}

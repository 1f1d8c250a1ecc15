import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The postgres-monitor connector against a real PostgreSQL 15 started by the test.
    @Suite("PostgreSQL connector", .serialized, .lab(.root, .postgres))
    struct PostgresMonitorTests {
        static let password = "s3cret-Zebra-42"

        /// A server with a `cataloguer` role (password `password`) and a `shop` database.
        static func makeServer() throws -> PostgresServer {
            let server = try PostgresServer()
            try server.sql("CREATE ROLE cataloguer LOGIN PASSWORD '\(password)'")
            try server.sql("CREATE DATABASE shop OWNER cataloguer")
            return server
        }

        /// One Database Integrator with one JDBC connector (refreshed on request only); the password in a file.
        static func service(server: PostgresServer, harness: DaemonHarness, database: String = "shop", address: String? = nil,
                            properties: [String: JSONValue] = [:], passwordVariable: String? = nil,
                            password: String = password, provider: String = "org.odpi.openmetadata.adapters.connectors.integration.jdbc.JDBCIntegrationConnectorProvider",
                            interval: Double = 0) throws -> ServiceFixture {
            let file = harness.directory + "/db-password"
            try password.write(toFile: file, atomically: true, encoding: .utf8)
            var settings: [String: JSONValue] = ["serverName": .string("pg1"), "connectTimeoutSeconds": .int(2), "statementTimeoutSeconds": .int(3)]
            settings[passwordVariable == nil ? "passwordFile" : "passwordEnvironmentVariable"] = .string(passwordVariable ?? file)
            return ServiceFixture("database-integrator", connectors: [ConnectorFixture(
                "shopdb", provider: provider, address: address ?? server.jdbcURL(database), properties: settings.merging(properties) { _, given in given },
                refreshIntervalSeconds: interval, metadataSource: "shopdb", userId: "cataloguer")])
        }

        static func refresh(_ harness: DaemonHarness, _ connector: String = "shopdb") throws -> RefreshOutcome {
            let answer = try ControlClient.send(RefreshCommand(connectorName: connector, waitSeconds: 60),
                                                socketPath: harness.directory + "/data/daemon.sock", waitSeconds: 70)
            guard let outcome = answer.refreshes.first else { throw HarnessError("no refresh outcome: \(answer.errors)") }
            return outcome
        }

        /// Waits (at most `timeout` s) until the connector's refresh at start is over: completed, failed, or
        /// WAITING with a reason; answers its status line.
        @discardableResult
        static func settle(_ harness: DaemonHarness, _ connector: String = "shopdb", timeout: Double = 30) throws -> DaemonStatus.ConnectorReport {
            let (ok, status) = harness.waitForStatus(timeout: timeout) { status in
                guard let report = harness.connector(status, connector), let state = report.connectorStatus else { return false }
                return report.statistics.refreshCount >= 1 || state.isFailure || (state == .WAITING && report.failingExceptionMessage != nil)
            }
            guard ok, let status, let report = harness.connector(status, connector) else {
                throw HarnessError("connector \(connector) did not finish its first refresh within \(timeout) s")
            }
            return report
        }

        /// Starts a daemon cataloguing the shop database with the default service; its first refresh must succeed.
        static func startCataloguing(_ server: PostgresServer, _ harness: DaemonHarness) throws {
            try harness.writeConfig(services: [try service(server: server, harness: harness)])
            try harness.start()
            let first = try settle(harness)
            #expect(first.connectorStatus == .WAITING && first.failingExceptionMessage == nil, "\(first.failingExceptionMessage ?? "")")
        }

        /// Elements of the shop database by qualifiedName, with their relationships.
        static func catalogue(_ harness: DaemonHarness) throws -> [String: MetadataElement] {
            var byName: [String: MetadataElement] = [:]
            for element in try harness.elements() where element.qualifiedName.hasPrefix(db) { byName[element.qualifiedName] = element }
            return byName
        }

        static let db = "PostgreSQL Relational Database::pg1::shop"

        @Test("catalogues schemas, tables, a view, columns, primary and foreign keys as Egeria does; each DDL change is exactly one difference")
        func cataloguesAndTracksDDL() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("""
                CREATE TABLE customers (id integer PRIMARY KEY, name varchar(40) NOT NULL);
                CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer REFERENCES customers(id), total numeric(10,2));
                CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
                CREATE SCHEMA audit; CREATE TABLE audit.log (at timestamptz, entry text);
                """, database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            try Self.startCataloguing(server, harness)
            let elements = try Self.catalogue(harness)
            let expected: [String: String] = [
                Self.db: "RelationalDatabase",
                Self.db + "::public": "DeployedDatabaseSchema", Self.db + "::public_schemaType": "RelationalDBSchemaType",
                Self.db + "::audit": "DeployedDatabaseSchema", Self.db + "::audit_schemaType": "RelationalDBSchemaType",
                Self.db + "::public::customers": "RelationalTable", Self.db + "::public::orders": "RelationalTable",
                Self.db + "::public::big_orders": "RelationalTable", Self.db + "::audit::log": "RelationalTable",
                Self.db + "::public::customers::id": "RelationalColumn", Self.db + "::public::customers::name": "RelationalColumn",
                Self.db + "::public::orders::id": "RelationalColumn", Self.db + "::public::orders::customer_id": "RelationalColumn",
                Self.db + "::public::orders::total": "RelationalColumn", Self.db + "::public::big_orders::id": "RelationalColumn",
                Self.db + "::public::big_orders::total": "RelationalColumn", Self.db + "::audit::log::at": "RelationalColumn",
                Self.db + "::audit::log::entry": "RelationalColumn",
            ]
            #expect(elements.mapValues(\.typeName) == expected)
            #expect(try harness.reports(connector: "shopdb").map(\.createdElements.count) == [expected.count])

            // Structure: each element hangs from its parent by Egeria's relationship, with Egeria's ends.
            func related(_ name: String, _ type: String) -> [MetadataRelationship] {
                (elements[name]?.relationships ?? []).filter { $0.typeName == type }
            }
            let database = try #require(elements[Self.db]), schema = try #require(elements[Self.db + "::public"])
            #expect(related(Self.db + "::public", "DataSetContent").map { [$0.end1GUID, $0.end2GUID] } == [[schema.guid, database.guid]])
            let schemaType = try #require(elements[Self.db + "::public_schemaType"])
            #expect(related(Self.db + "::public", "Schema").map { [$0.end1GUID, $0.end2GUID] } == [[schema.guid, schemaType.guid]])
            let orders = try #require(elements[Self.db + "::public::orders"])
            #expect(related(Self.db + "::public::orders", "AttributeForSchema").map(\.end1GUID) == [schemaType.guid])
            let customerID = try #require(elements[Self.db + "::public::orders::customer_id"])
            #expect(related(Self.db + "::public::orders::customer_id", "NestedSchemaAttribute").map(\.end1GUID) == [orders.guid])
            #expect(customerID.properties["dataType"] == .string("INTEGER"))
            #expect(customerID.properties["position"] == .int(2))
            #expect(customerID.properties["isNullable"] == .bool(true))
            #expect(elements[Self.db + "::public::customers::name"]?.properties["isNullable"] == .bool(false))
            // Keys and the view.
            #expect(elements[Self.db + "::public::customers::id"]?.classifications?["PrimaryKey"] == ["displayName": .string("customers_pkey")])
            #expect(elements[Self.db + "::public::orders::total"]?.classifications == nil)
            let customersID = try #require(elements[Self.db + "::public::customers::id"])
            let foreignKeys = related(Self.db + "::public::orders::customer_id", "ForeignKey")
            #expect(foreignKeys.map { [$0.end1GUID, $0.end2GUID] } == [[customersID.guid, customerID.guid]])
            #expect(foreignKeys.first.map { $0.properties["displayName"] } == .string("customers_pkey - orders_customer_id_fkey"))
            #expect(elements[Self.db + "::public::big_orders"]?.classifications?.keys.sorted() == ["CalculatedValue"])
            #expect(elements[Self.db + "::public::orders"]?.classifications == nil)

            // Nothing changed: nothing written, no report.
            let reportsBefore = try harness.reports(connector: "shopdb").count
            let quiet = try Self.refresh(harness)
            #expect(quiet.createdCount + quiet.updatedCount + quiet.deletedCount == 0)
            #expect(quiet.reportId == nil)
            #expect(try harness.reports(connector: "shopdb").count == reportsBefore)

            // A column added: one created element, in one report.
            try server.sql("ALTER TABLE customers ADD COLUMN email text", database: "shop")
            let added = try Self.refresh(harness)
            let addedReport = try #require(try harness.reports(connector: "shopdb").first { $0.reportId == added.reportId })
            let email = try #require(try Self.catalogue(harness)[Self.db + "::public::customers::email"])
            #expect(addedReport.createdElements == [email.guid])
            #expect(addedReport.updatedElements.isEmpty && addedReport.deletedElements.isEmpty)

            // A column's type changed: one updated element.
            try server.sql("ALTER TABLE customers ALTER COLUMN email TYPE varchar(200)", database: "shop")
            let changed = try Self.refresh(harness)
            let changedReport = try #require(try harness.reports(connector: "shopdb").first { $0.reportId == changed.reportId })
            #expect(changedReport.createdElements.isEmpty && changedReport.deletedElements.isEmpty)
            #expect(changedReport.updatedElements == [email.guid])
            #expect(try Self.catalogue(harness)[Self.db + "::public::customers::email"]?.properties["dataType"] == .string("VARCHAR"))

            // A table dropped: the table and its columns deleted, nothing else.
            let log = try #require(elements[Self.db + "::audit::log"])
            let logColumns = [Self.db + "::audit::log::at", Self.db + "::audit::log::entry"].compactMap { elements[$0]?.guid }
            try server.sql("DROP TABLE audit.log", database: "shop")
            let dropped = try Self.refresh(harness)
            let droppedReport = try #require(try harness.reports(connector: "shopdb").first { $0.reportId == dropped.reportId })
            #expect(Set(droppedReport.deletedElements) == Set(logColumns + [log.guid]))
            #expect(droppedReport.createdElements.isEmpty && droppedReport.updatedElements.isEmpty)

            // A key dropped and one added: classifications and the foreign key follow.
            try server.sql("ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey; ALTER TABLE customers DROP CONSTRAINT customers_pkey;",
                           database: "shop")
            let unkeyed = try Self.refresh(harness)
            #expect(unkeyed.updatedCount == 1)
            let after = try Self.catalogue(harness)
            #expect(after[Self.db + "::public::customers::id"]?.classifications == nil)
            let remainingKeys = (after[Self.db + "::public::orders::customer_id"]?.relationships ?? []).filter { $0.typeName == "ForeignKey" }
            #expect(remainingKeys.isEmpty)
            let unkeyedReport = try #require(try harness.reports(connector: "shopdb").first { $0.reportId == unkeyed.reportId })
            #expect(unkeyedReport.additionalProperties["relationshipsDeleted"] == "1")
        }

        @Test("identifiers holding ::, \\ or a _schemaType suffix are catalogued without collisions, and the connector stays WAITING")
        func hostileIdentifiers() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql(#"""
                CREATE SCHEMA "a::b"; CREATE TABLE "a::b".c (x int);
                CREATE SCHEMA a; CREATE TABLE a."b::c" (x int);
                CREATE SCHEMA "public_schemaType"; CREATE TABLE "public_schemaType".t (x int);
                CREATE TABLE public."back\slash" ("col::umn" int, "col" int);
                """#, database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            try Self.startCataloguing(server, harness)
            let elements = try Self.catalogue(harness)
            let expected: [String: String] = [
                Self.db + #"::a\:\:b"#: "DeployedDatabaseSchema", Self.db + #"::a\:\:b::c"#: "RelationalTable",
                Self.db + "::a": "DeployedDatabaseSchema", Self.db + #"::a::b\:\:c"#: "RelationalTable",
                Self.db + #"::public\_schemaType"#: "DeployedDatabaseSchema", Self.db + "::public_schemaType": "RelationalDBSchemaType",
                Self.db + #"::public\_schemaType_schemaType"#: "RelationalDBSchemaType", Self.db + #"::public\_schemaType::t"#: "RelationalTable",
                Self.db + #"::public::back\\slash::col\:\:umn"#: "RelationalColumn", Self.db + #"::public::back\\slash::col"#: "RelationalColumn",
            ]
            for (name, type) in expected { #expect(elements[name]?.typeName == type, "\(name): \(String(describing: elements[name]?.typeName))") }
            // A second refresh finds nothing to change: no name was lost to another.
            let second = try Self.refresh(harness)
            #expect(second.connectorStatus == .WAITING && second.createdCount == 0 && second.updatedCount == 0 && second.deletedCount == 0, "\(second)")
            #expect(harness.stop() == .exited(0))
        }

        @Test("include and exclude lists: exact names, include wins, view lists apply to views; a libpq URI's ?port= is the port")
        func filters() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("""
                CREATE SCHEMA sales; CREATE SCHEMA scratch;
                CREATE TABLE sales.a (x int, secret_note text); CREATE TABLE sales.b (y int); CREATE TABLE scratch.c (z int);
                CREATE VIEW sales.v1 AS SELECT x FROM sales.a; CREATE VIEW sales.v2 AS SELECT y FROM sales.b;
                """, database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            // libpq's own URI form, its port given as a parameter: nothing listens on 5432 here.
            try harness.writeConfig(services: [try Self.service(server: server, harness: harness, address: "postgresql://127.0.0.1/shop?port=\(server.port)", properties: [
                "includeSchemaNames": .array([.string("sales")]), "excludeSchemaNames": .array([.string("sales")]), "excludeTableNames": .string("b"),
                "includeViewNames": .array([.string("v2")]), "excludeColumnNames": .array([.string("secret_note")])])])
            try harness.start()
            let outcome = try Self.settle(harness)
            #expect(outcome.connectorStatus == .WAITING && outcome.failingExceptionMessage == nil, "\(outcome.failingExceptionMessage ?? "")")
            let names = Set(try Self.catalogue(harness).keys)
            #expect(names == [Self.db, Self.db + "::sales", Self.db + "::sales_schemaType",
                              Self.db + "::sales::a", Self.db + "::sales::a::x", Self.db + "::sales::v2", Self.db + "::sales::v2::y"])
        }

        @Test("the server stopped mid-run: WAITING with libpq's reason and nothing deleted; started again: recovered. The password from an environment variable is in no worker's environment or argv")
        func serverStoppedAndRestarted() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("CREATE TABLE t1 (a int PRIMARY KEY, b text); CREATE TABLE t2 (c int REFERENCES t1(a));", database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let service = try Self.service(server: server, harness: harness, passwordVariable: "SHOP_DB_PASSWORD")
            try harness.writeConfig(services: [service])
            try harness.start(environment: ["SHOP_DB_PASSWORD": Self.password])
            let first = try Self.settle(harness)
            #expect(first.connectorStatus == .WAITING && first.failingExceptionMessage == nil, "\(first.failingExceptionMessage ?? "")")
            let before = try Self.catalogue(harness)
            #expect(before.count == 8)

            // The worker got the password over the protocol only.
            let status = try harness.status()
            let pid = try #require(harness.service(status, "database-integrator")?.worker.pid)
            for file in ["environ", "cmdline"] {
                let bytes = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/\(file)"))
                #expect(!String(decoding: bytes, as: UTF8.self).contains(Self.password), "the worker's \(file) holds the password")
                #expect(!String(decoding: bytes, as: UTF8.self).contains("SHOP_DB_PASSWORD"), "the worker's \(file) names the variable")
            }

            server.stop()
            let down = try Self.refresh(harness)
            #expect(down.connectorStatus == .WAITING)
            #expect(down.failingExceptionMessage?.contains("cannot reach database shop") == true, "\(down.failingExceptionMessage ?? "")")
            #expect(down.deletedCount == 0 && down.createdCount == 0)
            #expect(try Self.catalogue(harness).count == before.count)
            let shown = harness.connector(try harness.status(), "shopdb")
            #expect(shown?.connectorStatus == .WAITING && shown?.failingExceptionMessage?.contains("Connection refused") == true,
                    "\(shown?.failingExceptionMessage ?? "")")

            try server.start()
            let back = try Self.refresh(harness)
            #expect(back.connectorStatus == .WAITING && back.failingExceptionMessage == nil, "\(back.failingExceptionMessage ?? "")")
            #expect(back.createdCount + back.updatedCount + back.deletedCount == 0)
            #expect(Set(try Self.catalogue(harness).values.map(\.guid)) == Set(before.values.map(\.guid)))
        }

        @Test("a wrong password: CONFIG_FAILED with the server's reason, and the password is nowhere: not in status, logs, reports, elements or the config")
        func wrongPassword() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let wrong = "Wrong-Horse-Battery-77"
            try harness.writeConfig(services: [try Self.service(server: server, harness: harness, password: wrong)])
            try harness.start()
            let report = try Self.settle(harness)
            #expect(report.connectorStatus == .CONFIG_FAILED)
            #expect(report.failingExceptionMessage?.contains("password authentication failed for user \"cataloguer\"") == true,
                    "\(report.failingExceptionMessage ?? "")")
            // A CONFIG_FAILED connector stays down: a refresh does not retry it.
            #expect(try Self.refresh(harness).connectorStatus == .CONFIG_FAILED)

            let statusJSON = try harness.cli("status", "--json")
            let metrics = try harness.cli("metrics")
            _ = harness.stop()
            let texts = [statusJSON.stdout, metrics.stdout, try String(contentsOfFile: harness.configPath, encoding: .utf8),
                         (harness.daemon?.stderrLines ?? []).joined(separator: "\n"), (harness.daemon?.stdoutLines ?? []).joined(separator: "\n"),
                         try harness.cli("reports", "--json").stdout, try harness.cli("elements", "--json").stdout]
            for (index, text) in texts.enumerated() { #expect(!text.contains(wrong), "text \(index) holds the password") }
            #expect((harness.daemon?.stderrLines ?? []).contains { $0.contains("password authentication failed") })
        }

        @Test("a hung server (postmaster SIGSTOPped): the refresh ends by connect_timeout, WAITING; the files connector beside it keeps refreshing")
        func hungServer() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("CREATE TABLE t (a int)", database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let folder = try harness.makeFolder("watched")
            try harness.writeConfig(services: [try Self.service(server: server, harness: harness), DaemonHarness.filesService(folder: folder)])
            try harness.start()
            try Self.settle(harness)
            let postmaster = try #require(server.postmasterPID)
            kill(postmaster, SIGSTOP)
            defer { kill(postmaster, SIGCONT) }
            let filesBefore = harness.connector(try harness.status(), "files")?.statistics.refreshCount ?? 0
            let started = MonotonicClock.now()
            let hung = try Self.refresh(harness)
            let took = MonotonicClock.now() - started
            #expect(hung.connectorStatus == .WAITING)
            #expect(hung.failingExceptionMessage?.contains("timeout expired") == true, "\(hung.failingExceptionMessage ?? "")")
            // connectTimeoutSeconds is 2: ended by libpq's timeout, not by the daemon's refresh deadline.
            #expect(took < 30, "the refresh took \(took) s")
            let (kept, _) = harness.waitForStatus(timeout: 10) { status in
                (harness.connector(status, "files")?.statistics.refreshCount ?? 0) >= filesBefore + 3
            }
            #expect(kept, "the files connector stopped refreshing while PostgreSQL hung")
            #expect(try Self.catalogue(harness).count == 5)
            kill(postmaster, SIGCONT)
            #expect(try Self.refresh(harness).failingExceptionMessage == nil)
        }

        @Test("forwarded to Egeria 6: each element created under its parent with Egeria's relationship, classifications and foreign keys, and their removal")
        func forwardedToEgeria6() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("""
                CREATE TABLE customers (id integer PRIMARY KEY); CREATE TABLE orders (customer_id integer REFERENCES customers(id));
                CREATE VIEW v AS SELECT id FROM customers;
                """, database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let egeria = try EgeriaStandIn(stateFile: harness.directory + "/standin6.jsonl", version: .v6(password: "secret", tokenSeconds: 3600))
            defer { egeria.stop() }
            try harness.writeConfig(services: [try Self.service(server: server, harness: harness)],
                                    accessServer: egeria.accessServer(elementWrites: "egeria"))
            try harness.start(environment: ["STANDIN_PASSWORD": "secret"])
            let first = try Self.settle(harness)
            #expect(first.connectorStatus == .WAITING && first.failingExceptionMessage == nil, "\(first.failingExceptionMessage ?? "")")

            // The mirror holds Egeria's GUIDs; Egeria holds the same tree.
            let mirror = try Self.catalogue(harness)
            let elements = try egeria.elements()
            for (name, element) in mirror {
                #expect(elements[element.guid]?["properties"]?["qualifiedName"] == .string(name), "\(name) not at Egeria under its GUID")
            }
            let relationships = try egeria.relationships().values
            func count(_ type: String) -> Int { relationships.filter { $0["typeName"] == .string(type) }.count }
            #expect(count("DataSetContent") == 1 && count("Schema") == 1 && count("AttributeForSchema") == 3
                    && count("NestedSchemaAttribute") == 3 && count("ForeignKey") == 1, "\(relationships)")
            let schema = try #require(mirror[Self.db + "::public"]), database = try #require(mirror[Self.db])
            #expect(relationships.contains { $0["typeName"] == .string("DataSetContent") && $0["end1"] == .string(schema.guid)
                                             && $0["end2"] == .string(database.guid) })
            let key = try #require(mirror[Self.db + "::public::customers::id"])
            #expect(elements[key.guid]?["classifications"]?["PrimaryKey"]?["displayName"] == .string("customers_pkey"))
            let view = try #require(mirror[Self.db + "::public::v"])
            #expect(elements[view.guid]?["classifications"]?["CalculatedValue"] == .object([:]))

            // Dropping the keys declassifies the column and removes the ForeignKey, at Egeria too.
            try server.sql("ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey; ALTER TABLE customers DROP CONSTRAINT customers_pkey;",
                           database: "shop")
            let outcome = try Self.refresh(harness)
            #expect(outcome.failingExceptionMessage == nil && outcome.updatedCount == 1, "\(outcome)")
            #expect(try egeria.elements()[key.guid]?["classifications"]?["PrimaryKey"] == nil)
            #expect(try egeria.relationships().values.filter { $0["typeName"] == .string("ForeignKey") }.isEmpty)
            // A table dropped goes with its columns and their relationships.
            try server.sql("DROP TABLE orders", database: "shop")
            _ = try Self.refresh(harness)
            #expect(try egeria.relationships().values.filter { $0["typeName"] == .string("NestedSchemaAttribute") }.count == 2)
            let errors = try egeria.received().errors
            #expect(errors.isEmpty, "\(errors)")
        }

        @Test("the server provider catalogues every database but postgres and templates, honours the database lists, and removes a dropped database whole")
        func serverProvider() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("CREATE DATABASE sales OWNER cataloguer")
            try server.sql("CREATE DATABASE scratch OWNER cataloguer")
            try server.sql("CREATE TABLE t (a int)", database: "sales")
            try server.sql("CREATE TABLE u (b int)", database: "shop")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            try harness.writeConfig(services: [try Self.service(server: server, harness: harness, database: "postgres",
                properties: ["excludeDatabaseList": .string("postgres, scratch")],
                provider: "org.odpi.openmetadata.adapters.connectors.postgres.catalog.PostgresServerIntegrationProvider")])
            try harness.start()
            let first = try Self.settle(harness)
            #expect(first.connectorStatus == .WAITING && first.failingExceptionMessage == nil, "\(first.failingExceptionMessage ?? "")")
            let databases = try harness.elements().filter { $0.typeName == "RelationalDatabase" }.map(\.qualifiedName).sorted()
            #expect(databases == ["PostgreSQL Relational Database::pg1::sales", "PostgreSQL Relational Database::pg1::shop"])
            let salesTable = "PostgreSQL Relational Database::pg1::sales::public::t"
            #expect(try harness.elements().contains { $0.qualifiedName == salesTable })

            try server.sql("DROP DATABASE sales")
            let after = try Self.refresh(harness)
            #expect(after.connectorStatus == .WAITING && after.failingExceptionMessage == nil, "\(after.failingExceptionMessage ?? "")")
            // The database, its schema and schema type, the table and its column.
            #expect(after.deletedCount == 5 && after.createdCount == 0, "\(after)")
            #expect(try harness.elements().allSatisfy { !$0.qualifiedName.hasPrefix("PostgreSQL Relational Database::pg1::sales") })
        }

        @Test("catalog targets: one connector, two databases as its targets, each catalogued as if configured alone under its own source; a target that cannot connect is reported while the other is catalogued")
        func databasesAsCatalogTargets() throws {
            let server = try Self.makeServer()
            defer { server.cleanUp() }
            try server.sql("CREATE DATABASE sales OWNER cataloguer")
            try server.sql("CREATE TABLE orders (id int PRIMARY KEY)", database: "shop")
            try server.sql("CREATE TABLE leads (id int)", database: "sales")
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            var service = try Self.service(server: server, harness: harness)
            let targets: [JSONValue] = [("shop", "shop-db"), ("sales", "sales-db"), ("nowhere", "nowhere-db")].map { database, source in
                .object(["catalogTargetName": .string(database), "endpoint": .object(["address": .string(server.jdbcURL(database))]),
                         "metadataSourceQualifiedName": .string(source)])
            }
            service.connectors[0].catalogTargets = targets
            service.connectors[0].address = nil
            try harness.writeConfig(services: [service])
            try harness.start()
            let (done, status) = harness.waitForStatus(timeout: 30) { status in
                harness.connector(status, "shopdb")?.catalogTargets?.allSatisfy { $0.lastRefreshTime != nil || $0.failingExceptionMessage != nil } == true
            }
            try #require(done, "\(String(describing: status))")
            let targetStatus = try #require(harness.connector(status!, "shopdb")?.catalogTargets)
            #expect(targetStatus.map(\.catalogTargetName) == ["shop", "sales", "nowhere"])
            #expect(targetStatus[0].failingExceptionMessage == nil && targetStatus[1].failingExceptionMessage == nil)
            #expect(targetStatus[2].failingExceptionMessage?.contains("nowhere") == true, "\(targetStatus[2])")
            let elements = try harness.elements()
            let shop = try #require(elements.first { $0.qualifiedName == "PostgreSQL Relational Database::pg1::shop::public::orders" })
            let sales = try #require(elements.first { $0.qualifiedName == "PostgreSQL Relational Database::pg1::sales::public::leads" })
            #expect(shop.metadataSourceQualifiedName == "shop-db" && sales.metadataSourceQualifiedName == "sales-db")
            #expect(harness.connector(status!, "shopdb")?.connectorStatus == .WAITING)
        }
    }
}

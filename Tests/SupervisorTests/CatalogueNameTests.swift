import Testing
@testable import Worker

/// The PostgreSQL cataloguer's qualifiedNames, in process: ordinary names are Egeria's exactly, and no identifier
/// can make two elements share one.
@Suite("PostgreSQL qualifiedNames")
struct CatalogueNameTests {
    static func tree(schemas: [String], tables: [(String, String)], columns: [(String, String, String)]) throws -> CatalogueTree {
        var catalogue = PostgresCatalogue()
        catalogue.schemas = schemas
        catalogue.tables = tables.map { PostgresCatalogue.Table(schema: $0.0, name: $0.1, type: "TABLE") }
        catalogue.columns = columns.enumerated().map { index, column in
            PostgresCatalogue.Column(schema: column.0, table: column.1, name: column.2, position: index + 1, dataType: "text",
                                     declaredType: "text", isNullable: true)
        }
        return CatalogueTree(server: "LocalPostgreSQL1", address: try PostgresAddress("jdbc:postgresql://localhost:5432/clinical_trials"),
                             catalogue: catalogue, filters: CatalogueFilters())
    }

    @Test("ordinary names are Egeria's qualifiedNames, unchanged")
    func ordinary() throws {
        let tree = try Self.tree(schemas: ["public"], tables: [("public", "patients")], columns: [("public", "patients", "patient_id")])
        #expect(tree.nodes.map(\.qualifiedName) == [
            "PostgreSQL Relational Database::LocalPostgreSQL1::clinical_trials",
            "PostgreSQL Relational Database::LocalPostgreSQL1::clinical_trials::public",
            "PostgreSQL Relational Database::LocalPostgreSQL1::clinical_trials::public_schemaType",
            "PostgreSQL Relational Database::LocalPostgreSQL1::clinical_trials::public::patients",
            "PostgreSQL Relational Database::LocalPostgreSQL1::clinical_trials::public::patients::patient_id",
        ])
    }

    @Test("identifiers with ::, \\ or a _schemaType suffix never collide with another element")
    func hostileNames() throws {
        let schemas = ["a", "a::b", "a:", ":b", "public", "public_schemaType", "x\\", "x\\_schemaType", "x\\\\_schemaType"]
        var tables: [(String, String)] = []
        var columns: [(String, String, String)] = []
        for schema in schemas {
            for table in ["b", "b::c", "b:", "c", ":c"] {
                tables.append((schema, table))
                for column in ["c", "c::d", "d", ":d", "c:"] { columns.append((schema, table, column)) }
            }
        }
        let tree = try Self.tree(schemas: schemas, tables: tables, columns: columns)
        let names = tree.nodes.map(\.qualifiedName)
        #expect(names.count == 1 + 2 * schemas.count + tables.count + columns.count, "an element was dropped")
        #expect(Set(names).count == names.count, "duplicates: \(Dictionary(grouping: names) { $0 }.filter { $1.count > 1 }.keys.sorted())")
        #expect(CatalogueTree.segment("a::b") == "a\\:\\:b")
        #expect(CatalogueTree.segment("public_schemaType") == "public\\_schemaType")
        #expect(CatalogueTree.segment("x\\") == "x\\\\")
    }
}

import Protocol

/// The open metadata a database's catalogue should be, element by element, as Egeria's newest JDBC connector
/// (`RelationalDatabaseCataloguer`) shapes it: RelationalDatabase ← DataSetContent → DeployedDatabaseSchema
/// → Schema → RelationalDBSchemaType → AttributeForSchema → RelationalTable (a view with CalculatedValue)
/// → NestedSchemaAttribute → RelationalColumn (PrimaryKey classification; ForeignKey between columns).
struct CatalogueTree: Sendable {
    /// One element to be, with the relationship it hangs from.
    struct Node: Sendable {
        let qualifiedName: String
        let typeName: String
        let properties: [String: JSONValue]
        let classifications: Classifications
        /// The parent's qualifiedName, with the relationship's type, which end the parent is, and its properties.
        let parent: (qualifiedName: String, relationship: String, parentAtEnd1: Bool, properties: [String: JSONValue])?
        /// 0 database, 1 schema, 2 schema type, 3 table, 4 column: parents are written before their children.
        let level: Int
    }

    /// A ForeignKey relationship to be: end 1 the referenced (primary key) column, end 2 the referencing one.
    struct Link: Sendable, Hashable {
        let primaryKeyColumn: String
        let foreignKeyColumn: String
        let displayName: String
    }

    /// The AttributeForSchema relationship's properties, the same for every table.
    static let attributeForSchema: [String: JSONValue] = ["minCardinality": .int(1), "maxCardinality": .int(1)]

    static let levelTypes = ["RelationalDatabase", "DeployedDatabaseSchema", "RelationalDBSchemaType", "RelationalTable", "RelationalColumn"]

    let databaseQualifiedName: String
    private(set) var nodes: [Node] = []
    private(set) var links: [Link] = []

    /// `PostgreSQL Relational Database::<server>::<database>`: the qualifiedName Egeria's PostgreSQL template gives.
    static func databaseQualifiedName(server: String, database: String) -> String {
        "PostgreSQL Relational Database::\(segment(server))::\(segment(database))"
    }

    /// The suffix of a schema's type, as Egeria's cataloguer appends it.
    static let schemaTypeSuffix = "_schemaType"

    /// One name as a qualifiedName segment. Egeria joins names with `::` and appends `_schemaType` unescaped, so
    /// a name holding `::`, or a schema named like another's type, gives two elements one qualifiedName. A name
    /// is written as it is unless it holds `\` or `:`, which become `\\` and `\:`, or ends in `_schemaType`,
    /// whose `_` becomes `\_`: ordinary names match Egeria's exactly, and no two names or types share one.
    static func segment(_ name: String) -> String {
        guard name.contains(where: { $0 == "\\" || $0 == ":" }) || name.hasSuffix(schemaTypeSuffix) else { return name }
        var escaped = ""
        for character in name {
            if character == "\\" || character == ":" { escaped.append("\\") }
            escaped.append(character)
        }
        if escaped.hasSuffix(schemaTypeSuffix) { escaped.insert("\\", at: escaped.index(escaped.endIndex, offsetBy: -schemaTypeSuffix.count)) }
        return escaped
    }

    init(server: String, address: PostgresAddress, catalogue: PostgresCatalogue, filters: CatalogueFilters) {
        let database = address.database
        databaseQualifiedName = Self.databaseQualifiedName(server: server, database: database)
        nodes.append(Node(qualifiedName: databaseQualifiedName, typeName: "RelationalDatabase", properties: [
            "name": .string(database), "displayName": .string(database), "deployedImplementationType": .string("PostgreSQL"),
            "databaseInstance": .string("libpq"), "versionIdentifier": .string(catalogue.serverVersion),
            "importedFrom": .string(address.jdbcURL),
        ], classifications: [:], parent: nil, level: 0))

        var schemaTypes: [String: String] = [:]
        for schema in catalogue.schemas where filters.schemas.allows(schema) {
            let qualifiedName = databaseQualifiedName + "::" + Self.segment(schema)
            nodes.append(Node(qualifiedName: qualifiedName, typeName: "DeployedDatabaseSchema", properties: [
                "name": .string(schema), "displayName": .string(schema),
                "additionalProperties": .object(["jdbc.catalog": .string(database), "jdbc.schema": .string(schema)]),
            ], classifications: [:], parent: (databaseQualifiedName, "DataSetContent", false, [:]), level: 1))
            let typeName = qualifiedName + Self.schemaTypeSuffix
            nodes.append(Node(qualifiedName: typeName, typeName: "RelationalDBSchemaType", properties: [
                "displayName": .string("Schema Type for " + schema),
            ], classifications: [:], parent: (qualifiedName, "Schema", true, [:]), level: 2))
            schemaTypes[schema] = typeName
        }

        var tableNames: Set<String> = []
        for table in catalogue.tables where filters.allows(table) {
            guard let schemaType = schemaTypes[table.schema] else { continue }
            let qualifiedName = databaseQualifiedName + "::" + Self.segment(table.schema) + "::" + Self.segment(table.name)
            tableNames.insert(qualifiedName)
            nodes.append(Node(qualifiedName: qualifiedName, typeName: "RelationalTable", properties: [
                "name": .string(table.name), "displayName": .string(table.name),
                "additionalProperties": .object(["jdbc.catalog": .string(database), "jdbc.schema": .string(table.schema),
                                                 "jdbc.table": .string(table.name), "jdbc.tableType": .string(table.type)]),
            ], classifications: table.isView ? ["CalculatedValue": [:]] : [:],
               parent: (schemaType, "AttributeForSchema", true, Self.attributeForSchema), level: 3))
        }

        var keys: [String: String] = [:]
        for key in catalogue.primaryKeys {
            keys[[databaseQualifiedName, Self.segment(key.schema), Self.segment(key.table), Self.segment(key.column)].joined(separator: "::")] = key.constraint
        }
        var columnNames: Set<String> = []
        // One dictionary per position, shared by every column there: 20,000 columns would otherwise hold 20,000.
        var nested: [Int: [String: JSONValue]] = [:]
        for column in catalogue.columns where filters.columns.allows(column.name) {
            let table = databaseQualifiedName + "::" + Self.segment(column.schema) + "::" + Self.segment(column.table)
            guard tableNames.contains(table) else { continue }
            let qualifiedName = table + "::" + Self.segment(column.name)
            columnNames.insert(qualifiedName)
            nodes.append(Node(qualifiedName: qualifiedName, typeName: "RelationalColumn", properties: [
                "name": .string(column.name), "displayName": .string(column.name),
                // Egeria 6 records none of these three; its 5.x recorded dataType only. Users want all three.
                "dataType": .string(column.dataType), "position": .int(column.position), "isNullable": .bool(column.isNullable),
                "additionalProperties": .object(["jdbc.catalog": .string(database), "jdbc.schema": .string(column.schema),
                                                 "jdbc.table": .string(column.table), "jdbc.column": .string(column.name),
                                                 "jdbc.typeName": .string(column.declaredType)]),
            ], classifications: keys[qualifiedName].map { ["PrimaryKey": ["displayName": .string($0)]] } ?? [:],
               parent: (table, "NestedSchemaAttribute", true, nested[column.position] ?? {
                   let properties: [String: JSONValue] = ["position": .int(column.position), "minCardinality": .int(1), "maxCardinality": .int(1)]
                   nested[column.position] = properties
                   return properties
               }()), level: 4))
        }

        for key in catalogue.foreignKeys {
            let primary = [databaseQualifiedName, Self.segment(key.pkSchema), Self.segment(key.pkTable), Self.segment(key.pkColumn)].joined(separator: "::")
            let foreign = [databaseQualifiedName, Self.segment(key.fkSchema), Self.segment(key.fkTable), Self.segment(key.fkColumn)].joined(separator: "::")
            guard columnNames.contains(primary) && columnNames.contains(foreign) else { continue }
            links.append(Link(primaryKeyColumn: primary, foreignKeyColumn: foreign, displayName: key.pkName + " - " + key.fkName))
        }
    }

    /// Whether an element of this type under the database is this connector's to keep in step.
    static func isCatalogued(_ element: MetadataElement, under database: String) -> Bool {
        (element.qualifiedName == database || element.qualifiedName.hasPrefix(database + "::")) && levelTypes.contains(element.typeName)
    }
}

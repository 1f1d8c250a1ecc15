/// One database's catalogue, read with a few set-based `pg_catalog` queries in one read-only, repeatable-read
/// transaction (one snapshot, however many tables), as pgjdbc's DatabaseMetaData would answer Egeria's JDBC
/// connector. Either all of it is read or the read throws: a refresh never acts on half a catalogue.
struct PostgresCatalogue: Sendable {
    /// A table, foreign table, view or materialized view.
    struct Table: Sendable {
        let schema: String
        let name: String
        /// pgjdbc's TABLE_TYPE: `TABLE`, `FOREIGN TABLE`, `VIEW` or `MATERIALIZED VIEW`.
        let type: String
        var isView: Bool { type == "VIEW" || type == "MATERIALIZED VIEW" }
    }

    /// A column, in its table's order.
    struct Column: Sendable {
        let schema: String
        let table: String
        let name: String
        /// 1-based, without the gaps dropped columns leave (pgjdbc's ORDINAL_POSITION).
        let position: Int
        /// Egeria 5's `dataType`: the JDBC type name pgjdbc reports.
        let dataType: String
        /// The declared type as PostgreSQL prints it (`character varying(40)`, `numeric(10,2)`).
        let declaredType: String
        let isNullable: Bool
    }

    /// One column of a primary key.
    struct KeyColumn: Sendable {
        let schema: String
        let table: String
        let column: String
        let constraint: String
    }

    /// One column pair of a foreign key: `pk…` is the referenced column, `fk…` the referencing one.
    struct ForeignKey: Sendable, Hashable {
        let pkSchema: String, pkTable: String, pkColumn: String
        let fkSchema: String, fkTable: String, fkColumn: String
        let fkName: String
        let pkName: String
    }

    var serverVersion = ""
    var schemas: [String] = []
    var tables: [Table] = []
    var columns: [Column] = []
    var primaryKeys: [KeyColumn] = []
    var foreignKeys: [ForeignKey] = []

    /// System schemas are never catalogued (Egeria creates empty schema assets for them; nobody wants those).
    static func isSystemSchema(_ name: String) -> Bool {
        name == "information_schema" || name.hasPrefix("pg_")
    }

    static func read(_ connection: PostgresConnection, timeoutSeconds: Double) throws(PostgresConnection.Failure) -> PostgresCatalogue {
        var catalogue = PostgresCatalogue()
        catalogue.serverVersion = connection.serverVersion
        _ = try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", timeoutSeconds: timeoutSeconds)
        catalogue.schemas = try connection.query(Query.schemas, timeoutSeconds: timeoutSeconds).compactMap { $0[0] }
        catalogue.tables = try connection.query(Query.tables, timeoutSeconds: timeoutSeconds).compactMap { row in
            guard let schema = row[0], let name = row[1], let type = row[2] else { return nil }
            return Table(schema: schema, name: name, type: type)
        }
        catalogue.columns = try connection.query(Query.columns, timeoutSeconds: timeoutSeconds).compactMap { row in
            guard let schema = row[0], let table = row[1], let name = row[2], let position = row[3].flatMap({ Int($0) }) else { return nil }
            return Column(schema: schema, table: table, name: name, position: position,
                          dataType: jdbcTypeName(typeName: row[4] ?? "", typeType: row[5] ?? "", isArray: row[6] == "t"),
                          declaredType: row[7] ?? "", isNullable: row[8] == "t")
        }
        catalogue.primaryKeys = try connection.query(Query.primaryKeys, timeoutSeconds: timeoutSeconds).compactMap { row in
            guard let schema = row[0], let table = row[1], let column = row[2], let constraint = row[3] else { return nil }
            return KeyColumn(schema: schema, table: table, column: column, constraint: constraint)
        }
        catalogue.foreignKeys = try connection.query(Query.foreignKeys, timeoutSeconds: timeoutSeconds).compactMap { row in
            guard row.count >= 8, let pkSchema = row[0], let pkTable = row[1], let pkColumn = row[2], let fkSchema = row[3],
                  let fkTable = row[4], let fkColumn = row[5], let fkName = row[6] else { return nil }
            return ForeignKey(pkSchema: pkSchema, pkTable: pkTable, pkColumn: pkColumn, fkSchema: fkSchema, fkTable: fkTable,
                              fkColumn: fkColumn, fkName: fkName, pkName: row[7] ?? fkName)
        }
        _ = try connection.query("COMMIT", timeoutSeconds: timeoutSeconds)
        return catalogue
    }

    /// Databases on the server that may be catalogued: templates and those refusing connections are skipped, as
    /// Egeria's PostgreSQL Server connector skips them.
    static func databases(_ connection: PostgresConnection, timeoutSeconds: Double) throws(PostgresConnection.Failure) -> [String] {
        try connection.query("SELECT datname FROM pg_catalog.pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1",
                             timeoutSeconds: timeoutSeconds).compactMap { $0[0] }
    }

    /// Egeria 5's `dataType`: `JDBCType.valueOf(pgjdbc DATA_TYPE).getName()` (../shared/docs/EGERIA-JDBC.md).
    static func jdbcTypeName(typeName: String, typeType: String, isArray: Bool) -> String {
        if isArray { return "ARRAY" }
        switch typeType {
        case "c": return "STRUCT"
        case "d": return "DISTINCT"
        case "e": return "VARCHAR"
        default: break
        }
        switch typeName {
        case "int2": return "SMALLINT"
        case "int4": return "INTEGER"
        case "int8", "oid": return "BIGINT"
        case "numeric": return "NUMERIC"
        case "float4": return "REAL"
        case "float8", "money": return "DOUBLE"
        case "bpchar", "char": return "CHAR"
        case "varchar", "text", "name": return "VARCHAR"
        case "bytea": return "BINARY"
        case "bool", "bit": return "BIT"
        case "date": return "DATE"
        case "time", "timetz": return "TIME"
        case "timestamp", "timestamptz": return "TIMESTAMP"
        case "refcursor": return "REF_CURSOR"
        default: return "OTHER"
        }
    }

    /// The queries: pgjdbc 42.7's, trimmed to what is catalogued, one per kind for the whole database.
    enum Query {
        static let schemas = """
            SELECT n.nspname FROM pg_catalog.pg_namespace n
            WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' ORDER BY 1
            """
        /// Tables (`r`), foreign tables (`f`), views (`v`) and materialized views (`m`); partitioned parents (`p`)
        /// are skipped as Egeria skips them (their partitions are tables).
        static let tables = """
            SELECT n.nspname, c.relname,
                   CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'f' THEN 'FOREIGN TABLE'
                                  WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' END
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'f', 'v', 'm') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
            ORDER BY 1, 2
            """
        static let columns = """
            SELECT n.nspname, c.relname, a.attname,
                   row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                   t.typname, t.typtype, (t.typinput = 'pg_catalog.array_in'::regproc),
                   pg_catalog.format_type(a.atttypid, a.atttypmod),
                   NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull))
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE c.relkind IN ('r', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
              AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
            ORDER BY 1, 2, a.attnum
            """
        static let primaryKeys = """
            SELECT n.nspname, c.relname, a.attname, con.conname
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE con.contype = 'p' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
            ORDER BY 1, 2, k.ord
            """
        static let foreignKeys = """
            SELECT pkn.nspname, pkc.relname, pka.attname, fkn.nspname, fkc.relname, fka.attname, con.conname, pkic.relname
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class fkc ON fkc.oid = con.conrelid
            JOIN pg_catalog.pg_namespace fkn ON fkn.oid = fkc.relnamespace
            JOIN pg_catalog.pg_class pkc ON pkc.oid = con.confrelid
            JOIN pg_catalog.pg_namespace pkn ON pkn.oid = pkc.relnamespace
            LEFT JOIN pg_catalog.pg_class pkic ON pkic.oid = con.conindid
            CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(fkattnum, pkattnum, ord)
            JOIN pg_catalog.pg_attribute fka ON fka.attrelid = con.conrelid AND fka.attnum = k.fkattnum
            JOIN pg_catalog.pg_attribute pka ON pka.attrelid = con.confrelid AND pka.attnum = k.pkattnum
            WHERE con.contype = 'f'
            ORDER BY 4, 5, 7, k.ord
            """
    }
}

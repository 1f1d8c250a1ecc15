import Protocol

/// Egeria's include/exclude lists: exact, case-sensitive names; a non-empty include list wins and the exclude
/// list is then ignored. A value is one name (a string, not split on commas, as the JDBC connector reads it)
/// or a JSON list of names.
struct NameFilter: Sendable {
    var include: [String] = []
    var exclude: [String] = []

    func allows(_ name: String) -> Bool {
        if !include.isEmpty { return include.contains(name) }
        return !exclude.contains(name)
    }

    init(include: [String] = [], exclude: [String] = []) {
        self.include = include
        self.exclude = exclude
    }

    /// The `include<Kind>Names` / `exclude<Kind>Names` pair of the configuration properties.
    init(_ properties: [String: JSONValue], kind: String) throws(ConnectorError) {
        include = try Self.names(properties, "include\(kind)Names", splitCommas: false) ?? []
        exclude = try Self.names(properties, "exclude\(kind)Names", splitCommas: false) ?? []
    }

    /// A list property; with `splitCommas`, a string is split on commas (Egeria's server connector reads its
    /// database lists that way, untrimmed: we trim).
    static func names(_ properties: [String: JSONValue], _ key: String, splitCommas: Bool) throws(ConnectorError) -> [String]? {
        switch properties[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            return splitCommas ? text.split(separator: ",").map { String($0.trimmingPrefix(while: \.isWhitespace)).trimmingSpaces() } : [text]
        case .array(let values)?:
            var names: [String] = []
            for (index, value) in values.enumerated() {
                guard case .string(let name) = value else {
                    throw ConnectorError("configurationProperties.\(key)[\(index)]: expected a string, got \(value.typeName)", kind: .configFailed)
                }
                names.append(name)
            }
            return names
        case let other?:
            throw ConnectorError("configurationProperties.\(key): expected a string or a list of strings, got \(other.typeName)", kind: .configFailed)
        }
    }
}

/// Which parts of a database a postgres-monitor catalogues.
struct CatalogueFilters: Sendable {
    var schemas = NameFilter()
    var tables = NameFilter()
    var views = NameFilter()
    var columns = NameFilter()

    init() {}

    init(_ properties: [String: JSONValue]) throws(ConnectorError) {
        schemas = try NameFilter(properties, kind: "Schema")
        tables = try NameFilter(properties, kind: "Table")
        // Egeria declares the view lists but never applies them; here they filter views.
        views = try NameFilter(properties, kind: "View")
        columns = try NameFilter(properties, kind: "Column")
    }

    func allows(_ table: PostgresCatalogue.Table) -> Bool {
        schemas.allows(table.schema) && (table.isView ? views : tables).allows(table.name)
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var text = self
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}

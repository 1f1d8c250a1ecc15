import Foundation
import Protocol

extension EmbeddedStore {
    /// Which elements a query wants; every filter is optional, and all given must match.
    package struct ElementQuery: Sendable {
        package init(typeName: String? = nil, metadataSourceQualifiedName: String? = nil, qualifiedNamePrefix: String? = nil, limit: Int? = nil, withRelationships: Bool = false, after: String? = nil, relationshipTypeName: String? = nil) {
            self.typeName = typeName
            self.metadataSourceQualifiedName = metadataSourceQualifiedName
            self.qualifiedNamePrefix = qualifiedNamePrefix
            self.limit = limit
            self.withRelationships = withRelationships
            self.after = after
            self.relationshipTypeName = relationshipTypeName
        }

        package var typeName: String?
        package var metadataSourceQualifiedName: String?
        package var qualifiedNamePrefix: String?
        package var limit: Int?
        package var withRelationships = false
        /// Only qualifiedNames sorting after this one (paging).
        package var after: String?
        /// Only relationships of this type, when relationships are asked for.
        package var relationshipTypeName: String?

        /// The WHERE clause (empty when nothing filters) and its values, in order.
        package func whereClause() -> (String, [StoreValue]) {
            var conditions: [String] = [], values: [StoreValue] = []
            if let type = typeName { conditions.append("type_name = ?"); values.append(.text(type)) }
            if let source = metadataSourceQualifiedName { conditions.append("metadata_source = ?"); values.append(.text(source)) }
            if let prefix = qualifiedNamePrefix, !prefix.isEmpty {
                // A range on the unique index: [prefix, prefix with its last byte raised). UTF-8 never holds 0xFF,
                // so the raised byte is always a valid bound.
                var upper = Array(prefix.utf8)
                upper[upper.count - 1] += 1
                conditions.append("qualified_name >= ? AND qualified_name < ?")
                values.append(.text(prefix))
                values.append(.bytes(upper))
            }
            if let after { conditions.append("qualified_name > ?"); values.append(.text(after)) }
            return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), values)
        }
    }

    private static let columns = "guid, qualified_name, type_name, metadata_source, integration_service, create_ms, update_ms, version, properties"

    /// Creates an element; `guid` is the access server's when the store mirrors Egeria, otherwise a new one.
    /// The name check runs in the writer's transaction, so it sees every write queued before this one.
    package func createElement(_ params: CreateElement.Params, service: String, guid: String? = nil, parentRelationshipGUID: String? = nil,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        let now = Date()
        write({ database -> MetadataElement in
            if let existing = try Self.guid(qualifiedName: params.qualifiedName, in: database) {
                throw RPCError.invalidParams(CreateElement.name, "an element with qualifiedName \"\(params.qualifiedName)\" already exists (guid \(existing))")
            }
            var element = MetadataElement(guid: guid ?? GUID.random(), typeName: params.typeName,
                                          qualifiedName: params.qualifiedName, properties: params.properties,
                                          metadataSourceQualifiedName: params.metadataSourceQualifiedName,
                                          createTime: now, updateTime: now, version: 1, integrationService: service)
            try Self.save(element, in: database, insert: true)
            if let parent = params.parent {
                try Self.insertRelationship(MetadataRelationship(
                    guid: parentRelationshipGUID ?? GUID.random(), typeName: parent.relationshipTypeName,
                    end1GUID: parent.parentAtEnd1 ? parent.parentGUID : element.guid,
                    end2GUID: parent.parentAtEnd1 ? element.guid : parent.parentGUID, properties: parent.properties), in: database)
            }
            if let classifications = params.initialClassifications, !classifications.isEmpty {
                try Self.insertClassifications(classifications, of: element.guid, in: database)
                element.classifications = classifications
            }
            return element
        }, completion: { completion(Self.rpc($0, "element write")) })
    }

    /// Updates an element; one written before services were kept apart is claimed by `service`.
    package func updateElement(_ params: UpdateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        write({ database -> MetadataElement in
            guard var element = try Self.element(guid: params.guid, in: database) else {
                throw RPCError.notFound("no element with guid \(params.guid)")
            }
            if params.replaceProperties == true { element.properties = params.properties }
            else { element.properties.merge(params.properties) { _, new in new } }
            element.updateTime = Date()
            element.version += 1
            if element.integrationService == nil { element.integrationService = service }
            try Self.save(element, in: database, insert: false)
            return element
        }, completion: { completion(Self.rpc($0, "element write")) })
    }

    package func deleteElement(_ params: DeleteElement.Params, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        write({ database -> MetadataElement in
            guard let element = try Self.element(guid: params.guid, in: database) else {
                throw RPCError.notFound("no element with guid \(params.guid)")
            }
            try database.statement("DELETE FROM elements WHERE guid = ?").bind(.text(params.guid)).run()
            try Self.deleteLinks(of: params.guid, in: database)
            return element
        }, completion: { completion(Self.rpc($0, "element write")) })
    }

    package func findElements(_ query: ElementQuery) -> [MetadataElement] {
        var (filter, values) = query.whereClause()
        let sql = "SELECT \(Self.columns) FROM elements \(filter) ORDER BY qualified_name LIMIT ?"
        values.append(.int(query.limit ?? -1))
        return read([]) { database in
            let statement = try database.statement(sql).bind(values)
            var found: [MetadataElement] = []
            while try statement.step() { found.append(Self.element(from: statement)) }
            try Self.attachLinks(to: &found, relationships: query.withRelationships, ofType: query.relationshipTypeName, in: database)
            return found
        }
    }

    package func elements() -> [MetadataElement] { findElements(ElementQuery()) }

    package func element(guid: String) -> MetadataElement? { read(nil) { try Self.element(guid: guid, in: $0) } }

    /// The GUID of the element with this qualifiedName, if any.
    package func guid(qualifiedName: String) -> String? { read(nil) { try Self.guid(qualifiedName: qualifiedName, in: $0) } }

    // MARK: - Rows

    package static func guid(qualifiedName: String, in database: SQLiteDatabase) throws -> String? {
        let statement = try database.statement("SELECT guid FROM elements WHERE qualified_name = ?").bind(.text(qualifiedName))
        return try statement.step() ? statement.text(0) : nil
    }

    package static func element(guid: String, in database: SQLiteDatabase) throws -> MetadataElement? {
        let statement = try database.statement("SELECT \(columns) FROM elements WHERE guid = ?").bind(.text(guid))
        guard try statement.step() else { return nil }
        var element = element(from: statement)
        element.classifications = try classifications(of: guid, in: database)
        return element
    }

    /// Writes the element's row; its properties are JSON written by hand (``JSONWriter``).
    package static func save(_ element: MetadataElement, in database: SQLiteDatabase, insert: Bool) throws {
        var writer = JSONWriter(capacity: 256)
        writer.object(element.properties)
        let sql = insert
            ? "INSERT INTO elements (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            : "INSERT OR REPLACE INTO elements (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        try database.statement(sql).bind(
            .text(element.guid), .text(element.qualifiedName), .text(element.typeName), .optional(element.metadataSourceQualifiedName),
            .optional(element.integrationService), .int(Int(EpochMillis.int64(element.createTime))),
            .int(Int(EpochMillis.int64(element.updateTime))), .int(element.version), .bytes(writer.bytes)).run()
    }

    package static func element(from row: SQLiteDatabase.Statement) -> MetadataElement {
        let properties: [String: JSONValue]
        if case .object(let members)? = try? JSONParser.parse(row.data(8)) { properties = members } else { properties = [:] }
        return MetadataElement(guid: row.text(0), typeName: row.text(2), qualifiedName: row.text(1), properties: properties,
                               metadataSourceQualifiedName: row.optionalText(3),
                               createTime: Date(timeIntervalSince1970: Double(row.int(5)) / 1000),
                               updateTime: Date(timeIntervalSince1970: Double(row.int(6)) / 1000),
                               version: row.int(7), integrationService: row.optionalText(4))
    }

    /// A store outcome as the worker sees it: its own refusal as is, a storage failure as retryable.
    package static func rpc<T>(_ result: Result<T, Error>, _ what: String) -> Result<T, RPCError> {
        result.mapError { error in (error as? RPCError) ?? .unavailable("\(what) not stored: \(error)") }
    }
}

extension EmbeddedStore.ElementQuery {
    /// A worker's `metadata/findElements`, one page at most. (Here, not in the type, so the memberwise
    /// initializer stays.)
    package init(_ params: FindElements.Params) {
        self.init(typeName: params.typeName, metadataSourceQualifiedName: params.metadataSourceQualifiedName,
                  qualifiedNamePrefix: params.qualifiedNamePrefix, limit: FindElements.pageLimit,
                  withRelationships: params.withRelationships == true, after: params.after,
                  relationshipTypeName: params.relationshipTypeName)
    }
}

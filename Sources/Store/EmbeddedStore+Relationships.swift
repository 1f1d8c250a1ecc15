import Foundation
import Protocol

extension EmbeddedStore {
    /// Relates two elements; `guid` is the access server's when the store mirrors Egeria, otherwise a new one.
    package func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue], guid: String? = nil,
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        write({ database -> MetadataRelationship in
            try Self.insertRelationship(MetadataRelationship(guid: guid ?? GUID.random(), typeName: typeName, end1GUID: end1GUID,
                                                             end2GUID: end2GUID, properties: properties), in: database)
        }, completion: { completion(Self.rpc($0, "relationship write")) })
    }

    package func unrelate(relationshipGUID: String, completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        write({ database -> MetadataRelationship in
            guard let relationship = try Self.relationship(guid: relationshipGUID, in: database) else {
                throw RPCError.notFound("no relationship with guid \(relationshipGUID)")
            }
            try database.statement("DELETE FROM relationships WHERE guid = ?").bind(.text(relationshipGUID)).run()
            return relationship
        }, completion: { completion(Self.rpc($0, "relationship write")) })
    }

    /// Adds the classification or replaces its properties; the element's version and update time move on, as
    /// in Egeria, where a classification is part of the element.
    package func classify(guid: String, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        changeClassification(guid: guid, name: name, completion: completion) { database in
            var writer = JSONWriter(capacity: 64)
            writer.object(properties)
            try database.statement("INSERT OR REPLACE INTO classifications (element_guid, name, properties) VALUES (?, ?, ?)")
                .bind(.text(guid), .text(name), .bytes(writer.bytes)).run()
        }
    }

    package func declassify(guid: String, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        changeClassification(guid: guid, name: name, completion: completion) { database in
            let statement = try database.statement("DELETE FROM classifications WHERE element_guid = ? AND name = ?")
            try statement.bind(.text(guid), .text(name)).run()
            guard database.changes > 0 else {
                throw RPCError.notFound("element \(guid) has no \(name) classification")
            }
        }
    }

    /// The relationship with this GUID, if any.
    package func relationship(guid: String) -> MetadataRelationship? { read(nil) { try Self.relationship(guid: guid, in: $0) } }

    private func changeClassification(guid: String, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void,
                                      _ change: @escaping @Sendable (SQLiteDatabase) throws -> Void) {
        write({ database -> MetadataElement in
            guard var element = try Self.element(guid: guid, in: database) else {
                throw RPCError.notFound("no element with guid \(guid)")
            }
            try change(database)
            element.updateTime = Date()
            element.version += 1
            try Self.save(element, in: database, insert: false)
            element.classifications = try Self.classifications(of: guid, in: database)
            return element
        }, completion: { completion(Self.rpc($0, "classification write")) })
    }

    // MARK: - Rows

    /// Both ends must exist; a second relationship of one type between the same ends is refused, as Egeria
    /// refuses it for the types that are not multi-link.
    @discardableResult
    package static func insertRelationship(_ relationship: MetadataRelationship, in database: SQLiteDatabase) throws -> MetadataRelationship {
        for (end, guid) in [("end1GUID", relationship.end1GUID), ("end2GUID", relationship.end2GUID)] where try element(guid: guid, in: database) == nil {
            throw RPCError.notFound("\(relationship.typeName) \(end): no element with guid \(guid)")
        }
        let existing = try database.statement("SELECT guid FROM relationships WHERE end1_guid = ? AND type_name = ? AND end2_guid = ?")
            .bind(.text(relationship.end1GUID), .text(relationship.typeName), .text(relationship.end2GUID))
        if try existing.step() {
            throw RPCError.invalidParams(WriteElements.name, "\(relationship.end1GUID) and \(relationship.end2GUID) are already related by \(relationship.typeName) (guid \(existing.text(0)))")
        }
        var writer = JSONWriter(capacity: 64)
        writer.object(relationship.properties)
        try database.statement("INSERT INTO relationships (guid, type_name, end1_guid, end2_guid, create_ms, properties) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(.text(relationship.guid), .text(relationship.typeName), .text(relationship.end1GUID), .text(relationship.end2GUID),
                  .int(Int(EpochMillis.int64(Date()))), .bytes(writer.bytes)).run()
        return relationship
    }

    package static func insertClassifications(_ classifications: Classifications, of guid: String, in database: SQLiteDatabase) throws {
        for (name, properties) in classifications {
            var writer = JSONWriter(capacity: 64)
            writer.object(properties)
            try database.statement("INSERT OR REPLACE INTO classifications (element_guid, name, properties) VALUES (?, ?, ?)")
                .bind(.text(guid), .text(name), .bytes(writer.bytes)).run()
        }
    }

    /// An element's relationships and classifications go with it, as they do in Egeria.
    package static func deleteLinks(of guid: String, in database: SQLiteDatabase) throws {
        try database.statement("DELETE FROM relationships WHERE end1_guid = ?").bind(.text(guid)).run()
        try database.statement("DELETE FROM relationships WHERE end2_guid = ?").bind(.text(guid)).run()
        try database.statement("DELETE FROM classifications WHERE element_guid = ?").bind(.text(guid)).run()
    }

    package static func relationship(guid: String, in database: SQLiteDatabase) throws -> MetadataRelationship? {
        let statement = try database.statement("SELECT guid, type_name, end1_guid, end2_guid, properties FROM relationships WHERE guid = ?")
            .bind(.text(guid))
        return try statement.step() ? relationship(from: statement) : nil
    }

    package static func classifications(of guid: String, in database: SQLiteDatabase) throws -> Classifications? {
        let statement = try database.statement("SELECT name, properties FROM classifications WHERE element_guid = ?").bind(.text(guid))
        var found: Classifications = [:]
        while try statement.step() { found[statement.text(0)] = object(statement.data(1)) }
        return found.isEmpty ? nil : found
    }

    /// Fills in the classifications (and, if asked, the relationships) of found elements (see ``eachLink``).
    package static func attachLinks(to elements: inout [MetadataElement], relationships: Bool, ofType type: String?,
                            in database: SQLiteDatabase) throws {
        var index: [String: Int] = [:]
        for (position, element) in elements.enumerated() { index[element.guid] = position }
        if relationships { for position in elements.indices { elements[position].relationships = [] } }
        try eachLink(of: elements.map(\.guid), relationships: relationships, ofType: type, in: database, classification: { row in
            guard let position = index[row.text(0)] else { return }
            elements[position].classifications = elements[position].classifications ?? [:]
            elements[position].classifications?[row.text(1)] = object(row.data(2))
        }, relationship: { owner, row in
            if let position = index[owner] { elements[position].relationships?.append(relationship(from: row)) }
        })
    }

    /// Reads the classifications (and, if asked, the relationships, of `type` only when one is given) of the
    /// elements with these GUIDs, in groups of at most 256 bound values: a few indexed queries per group rather
    /// than one per element. `classification` gets each row (element_guid, name, properties) in GUID and name
    /// order; `relationship` each row (guid, type_name, end1_guid, end2_guid, properties) with the GUID of the
    /// element it is listed under, a relationship to itself once.
    package static func eachLink(of guids: [String], relationships: Bool, ofType type: String?, in database: SQLiteDatabase,
                         classification: (SQLiteDatabase.Statement) -> Void,
                         relationship: (_ owner: String, SQLiteDatabase.Statement) -> Void) throws {
        var start = 0
        while start < guids.count {
            let end = min(start + 256, guids.count)
            let group = guids[start..<end].map { StoreValue.text($0) }
            let list = Array(repeating: "?", count: group.count).joined(separator: ",")
            let classified = try database.statement(
                "SELECT element_guid, name, properties FROM classifications WHERE element_guid IN (\(list)) ORDER BY element_guid, name")
            for (position, value) in group.enumerated() { try classified.bind(at: Int32(position + 1), value) }
            while try classified.step() { classification(classified) }
            if relationships {
                for column in ["end1_guid", "end2_guid"] {
                    let typed = type == nil ? "" : " AND type_name = ?"
                    let related = try database.statement(
                        "SELECT guid, type_name, end1_guid, end2_guid, properties FROM relationships WHERE \(column) IN (\(list))\(typed)")
                    for (position, value) in group.enumerated() { try related.bind(at: Int32(position + 1), value) }
                    if let type { try related.bind(at: Int32(group.count + 1), .text(type)) }
                    while try related.step() {
                        let end1 = related.text(2), end2 = related.text(3)
                        if column == "end2_guid" && end1 == end2 { continue }
                        relationship(column == "end1_guid" ? end1 : end2, related)
                    }
                }
            }
            start = end
        }
    }

    private static func relationship(from row: SQLiteDatabase.Statement) -> MetadataRelationship {
        MetadataRelationship(guid: row.text(0), typeName: row.text(1), end1GUID: row.text(2), end2GUID: row.text(3),
                             properties: object(row.data(4)))
    }

    package static func object(_ data: Data) -> [String: JSONValue] {
        if case .object(let members)? = try? JSONParser.parse(data) { return members }
        return [:]
    }
}

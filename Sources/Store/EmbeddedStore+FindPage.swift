import Foundation
import Protocol

extension EmbeddedStore {
    /// How much of a find the page took: elements looked at (the cursor moves past them) and the last one's name.
    package struct PageProgress {
        package var scanned = 0
        package var last: String?
    }

    /// Writes the elements of `query` (from `query.after` on, at most `limit`) as `metadata/findElements` answers
    /// them, straight from the rows: stored properties are JSON this store wrote, copied without a parse, which
    /// halves the cost of a page. `mayTouch` sees each element's source and service (the worker's scope).
    /// `stop` is asked before each element whether the page is full, given the elements and bytes it holds so far.
    /// A failed read is an error, never a short page.
    package func writeFindPage(_ query: ElementQuery, limit: Int, into writer: inout JSONWriter, first: inout Bool,
                       mayTouch: (_ source: String?, _ service: String?) -> Bool,
                       stop: (_ scanned: Int, _ bytes: Int) -> Bool) -> Result<PageProgress, any Error> {
        var (filter, values) = query.whereClause()
        values.append(.int(limit))
        let sql = "SELECT guid, qualified_name, type_name, metadata_source, integration_service, create_ms, update_ms, version, properties FROM elements \(filter) ORDER BY qualified_name LIMIT ?"
        var progress = PageProgress()
        let withRelationships = query.withRelationships, relationshipType = query.relationshipTypeName
        return tryRead { database in
            let rows = try database.statement(sql).bind(values)
            // Each row, with what will be needed of it once the links are read.
            var pending: [(guid: String, name: String, row: [UInt8])] = []
            var bytes = writer.bytes.count
            while try rows.step() {
                if stop(progress.scanned, bytes) { break }
                progress.scanned += 1
                let guid = rows.text(0), name = rows.text(1)
                progress.last = name
                guard mayTouch(rows.optionalText(3), rows.optionalText(4)) else { continue }
                var row = JSONWriter(capacity: 512)
                Self.writeFields(of: rows, into: &row)
                pending.append((guid, name, row.bytes))
                bytes += row.bytes.count
            }
            let links = try Self.links(of: pending.map(\.guid), relationships: withRelationships, ofType: relationshipType, in: database)
            for element in pending {
                if !first { writer.raw(",") }
                first = false
                // The fields in MessageEncoder's sorted order: classifications, createTime … qualifiedName,
                // relationships, typeName, updateTime, version. `row` holds `"createTime":…` to `"qualifiedName":…`
                // and, after a 0 byte, `"typeName":…` to the end.
                writer.raw("{")
                if let classified = links.classifications[element.guid] {
                    writer.raw("\"classifications\":{")
                    for (index, entry) in classified.enumerated() {
                        if index > 0 { writer.raw(",") }
                        writer.string(entry.name)
                        writer.raw(":")
                        entry.properties.withUnsafeBytes { writer.verbatim($0) }
                    }
                    writer.raw("},")
                }
                let split = element.row.firstIndex(of: 0) ?? element.row.endIndex
                element.row[..<split].withUnsafeBytes { writer.verbatim($0) }
                if withRelationships {
                    writer.raw(",\"relationships\":[")
                    links.relationships[element.guid]?.withUnsafeBytes { writer.verbatim($0) }
                    writer.raw("]")
                }
                if split < element.row.endIndex { element.row[(split + 1)...].withUnsafeBytes { writer.verbatim($0) } }
                writer.raw("}")
            }
            return progress
        }
    }

    /// `"createTime":…,"guid":…,…,"qualifiedName":…` then a 0 byte, then `,"typeName":…,"updateTime":…,"version":…`.
    private static func writeFields(of row: SQLiteDatabase.Statement, into w: inout JSONWriter) {
        w.key("createTime", first: true); w.int(row.int(5))
        w.key("guid"); w.string(row.text(0))
        if let service = row.optionalText(4) { w.key("integrationService"); w.string(service) }
        if let source = row.optionalText(3) { w.key("metadataSourceQualifiedName"); w.string(source) }
        w.key("properties")
        row.withBytes(8) { w.verbatim($0) }
        w.key("qualifiedName"); w.string(row.text(1))
        w.raw("\0")
        w.key("typeName"); w.string(row.text(2))
        w.key("updateTime"); w.int(row.int(6))
        w.key("version"); w.int(row.int(7))
    }

    /// Classifications (name, stored properties) and relationships (written, comma-separated) by element GUID.
    private static func links(of guids: [String], relationships: Bool, ofType type: String?, in database: SQLiteDatabase) throws
        -> (classifications: [String: [(name: String, properties: [UInt8])]], relationships: [String: [UInt8]]) {
        var classified: [String: [(name: String, properties: [UInt8])]] = [:]
        var related: [String: [UInt8]] = [:]
        try eachLink(of: guids, relationships: relationships, ofType: type, in: database, classification: { row in
            classified[row.text(0), default: []].append((row.text(1), row.withBytes(2) { Array($0) }))
        }, relationship: { owner, row in
            var w = JSONWriter(capacity: 256)
            w.key("end1GUID", first: true); w.string(row.text(2))
            w.key("end2GUID"); w.string(row.text(3))
            w.key("guid"); w.string(row.text(0))
            w.key("properties"); row.withBytes(4) { w.verbatim($0) }
            w.key("typeName"); w.string(row.text(1))
            if related[owner] != nil { related[owner]?.append(UInt8(ascii: ",")) }
            related[owner, default: []] += [UInt8(ascii: "{")] + w.bytes + [UInt8(ascii: "}")]
        })
        return (classified, related)
    }
}

import Foundation
import Glibc
import Protocol
import Synchronization
import Testing
@testable import Store
@testable import Supervisor

/// Relationships and classifications in the embedded store, and the find page written straight from its rows.
@Suite("Store structure")
struct StoreStructureTests {
    /// Runs a store call and waits (at most 10 s) for its completion.
    static func wait<T: Sendable, Failure: Error>(_ call: (@escaping @Sendable (Result<T, Failure>) -> Void) -> Void) throws -> T {
        let box = Mutex<Result<T, Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        call { result in
            box.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success, let result = box.withLock({ $0 }) else { throw HarnessError("store call timed out") }
        return try result.get()
    }

    static func makeStore() throws -> (EmbeddedStore, TemporaryDirectory) {
        let folder = try TemporaryDirectory(prefix: "idt-store")
        return (try EmbeddedStore(directory: folder.path), folder)
    }

    @Test("create under a parent with classifications, relate, classify, declassify; deleting an element takes its links; the raw page is the encoder's JSON")
    func structure() throws {
        let (store, folder) = try Self.makeStore()
        defer { withExtendedLifetime(folder) {} }
        func create(_ name: String, parent: ParentLink? = nil, classifications: Classifications? = nil) throws -> MetadataElement {
            try Self.wait { store.createElement(.init(connectorName: "c", typeName: "T", qualifiedName: name, properties: ["n": .string(name), "z": .int(1)],
                                                      metadataSourceQualifiedName: "src", parent: parent, initialClassifications: classifications),
                                                service: "s", completion: $0) }
        }
        let table = try create("db::t")
        let column = try create("db::t::c", parent: ParentLink(parentGUID: table.guid, relationshipTypeName: "NestedSchemaAttribute",
                                                                properties: ["position": .int(1)]),
                                classifications: ["PrimaryKey": ["displayName": .string("t_pkey")]])
        let other = try create("db::u::d")
        let key = try Self.wait { store.relate(typeName: "ForeignKey", end1GUID: column.guid, end2GUID: other.guid, properties: ["displayName": .string("k")], completion: $0) }
        // The same relationship twice is refused.
        #expect(throws: RPCError.self) {
            try Self.wait { store.relate(typeName: "ForeignKey", end1GUID: column.guid, end2GUID: other.guid, properties: [:], completion: $0) }
        }
        let classified = try Self.wait { store.classify(guid: other.guid, name: "CalculatedValue", properties: [:], completion: $0) }
        #expect(classified.version == 2 && classified.classifications == ["CalculatedValue": [:]])

        let found = store.findElements(.init(qualifiedNamePrefix: "db::", withRelationships: true))
        #expect(found.map(\.qualifiedName) == ["db::t", "db::t::c", "db::u::d"])
        #expect(found[1].classifications == ["PrimaryKey": ["displayName": .string("t_pkey")]])
        #expect(Set(found[1].relationships?.map(\.typeName) ?? []) == ["NestedSchemaAttribute", "ForeignKey"])
        #expect(found[0].relationships?.first?.end2GUID == column.guid)

        // The page written from the rows is byte for byte what MessageEncoder writes for the same elements.
        var writer = JSONWriter()
        var first = true
        let progress = try store.writeFindPage(.init(qualifiedNamePrefix: "db::", withRelationships: true), limit: 10, into: &writer, first: &first,
                                               mayTouch: { _, _ in true }, stop: { _, _ in false }).get()
        #expect(progress.scanned == 3)
        var encoded = try MessageEncoder().line(found)
        encoded.removeLast()
        #expect("[" + String(decoding: writer.bytes, as: UTF8.self) + "]" == String(decoding: encoded, as: UTF8.self))
        // Only one type of relationship, when asked.
        var keysQuery = EmbeddedStore.ElementQuery(qualifiedNamePrefix: "db::t::", withRelationships: true)
        keysQuery.relationshipTypeName = "ForeignKey"
        let keysOnly = store.findElements(keysQuery)
        #expect(keysOnly.count == 1)
        #expect(keysOnly.first?.relationships?.map(\.typeName) == ["ForeignKey"])

        _ = try Self.wait { store.declassify(guid: other.guid, name: "CalculatedValue", completion: $0) }
        #expect(throws: RPCError.self) { try Self.wait { store.declassify(guid: other.guid, name: "CalculatedValue", completion: $0) } }
        _ = try Self.wait { store.deleteElement(.init(connectorName: "c", guid: column.guid), completion: $0) }
        #expect(store.relationship(guid: key.guid) == nil)
        let left = store.findElements(.init(qualifiedNamePrefix: "db::", withRelationships: true))
        #expect(left.allSatisfy { ($0.relationships ?? []).isEmpty && $0.classifications == nil })
    }
}

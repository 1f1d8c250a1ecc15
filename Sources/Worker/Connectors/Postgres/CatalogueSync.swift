import Protocol

/// Makes open metadata match a ``CatalogueTree``: creates, updates and deletes exactly the difference, level by
/// level (a child is created under its parent's GUID, so a parent's batch goes first), then adds and removes
/// ForeignKey relationships. Existing elements come from one find, with their relationships.
enum CatalogueSync {
    /// What open metadata holds of the database now. Parent links are implied by the names; only foreign keys
    /// are compared as relationships, so only those are read.
    static func existing(under database: String, context: ConnectorContext) throws -> [MetadataElement] {
        try context.findElements(qualifiedNamePrefix: database, withRelationships: true, relationshipTypeName: "ForeignKey")
            .filter { CatalogueTree.isCatalogued($0, under: database) }
    }

    /// `existing` is what ``existing(under:context:)`` found for the tree's database.
    static func apply(_ tree: CatalogueTree, existing: [MetadataElement], context: ConnectorContext) throws {
        let database = tree.databaseQualifiedName
        let started = MonotonicClock.now()
        var byName: [String: MetadataElement] = [:]
        for element in existing { byName[element.qualifiedName] = element }
        var guids: [String: String] = [:]
        let wanted = Dictionary(tree.nodes.map { ($0.qualifiedName, $0.typeName) }, uniquingKeysWith: { first, _ in first })

        // Gone, or now of another type: deleted deepest first. Deleting an element removes its relationships.
        let doomed = existing.filter { wanted[$0.qualifiedName] != $0.typeName }
            .sorted { level($0.typeName) > level($1.typeName) }
        try context.writeAll(doomed.map { .delete(guid: $0.guid) })
        for element in existing where wanted[element.qualifiedName] == element.typeName { guids[element.qualifiedName] = element.guid }

        var failed: [(ElementWrite, WriteOutcome)] = []
        for level in 0..<CatalogueTree.levelTypes.count {
            var writes: [ElementWrite] = []
            var created: [Int: String] = [:]
            for node in tree.nodes where node.level == level {
                if let current = byName[node.qualifiedName], current.typeName == node.typeName {
                    writes += changes(from: current, to: node)
                    continue
                }
                var parent: ParentLink?
                if let link = node.parent {
                    // Its parent failed to be created: it is retried with its parent at the next refresh.
                    guard let parentGUID = guids[link.qualifiedName] else { continue }
                    parent = ParentLink(parentGUID: parentGUID, relationshipTypeName: link.relationship,
                                        parentAtEnd1: link.parentAtEnd1, properties: link.properties)
                }
                created[writes.count] = node.qualifiedName
                writes.append(.create(typeName: node.typeName, qualifiedName: node.qualifiedName, properties: node.properties,
                                      parent: parent, classifications: node.classifications))
            }
            let outcomes = try context.write(writes)
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .written(let guid): if let name = created[index] { guids[name] = guid }
                case .failed: failed.append((writes[index], outcome))
                }
            }
        }

        try context.writeAll(foreignKeyChanges(tree, existing: existing, guids: guids))
        context.logger.debug("catalogue synchronized", ["database": database, "elements": "\(existing.count)",
                                                        "writeSeconds": "\(MonotonicClock.now() - started)"])
        try ConnectorContext.check(failed.map(\.0), failed.map(\.1))
    }

    private static func level(_ typeName: String) -> Int { CatalogueTree.levelTypes.firstIndex(of: typeName) ?? 0 }

    /// The updates that make `current` match `node`: its properties whole, and each classification.
    private static func changes(from current: MetadataElement, to node: CatalogueTree.Node) -> [ElementWrite] {
        var writes: [ElementWrite] = []
        if current.properties != node.properties {
            writes.append(.update(guid: current.guid, properties: node.properties, replaceProperties: true))
        }
        let had = current.classifications ?? [:]
        for (name, properties) in node.classifications.sorted(by: { $0.key < $1.key }) where had[name] != properties {
            writes.append(.classify(guid: current.guid, classificationName: name, properties: properties))
        }
        for name in had.keys.sorted() where node.classifications[name] == nil {
            writes.append(.declassify(guid: current.guid, classificationName: name))
        }
        return writes
    }

    /// ForeignKey relationships to add, and those to remove (gone, or renamed: removed and added again).
    /// Egeria's newest connector only ever adds them.
    private static func foreignKeyChanges(_ tree: CatalogueTree, existing: [MetadataElement], guids: [String: String]) -> [ElementWrite] {
        var names: [String: String] = [:]
        for (name, guid) in guids { names[guid] = name }
        var current: [CatalogueTree.Link: String] = [:]
        var seen: Set<String> = []
        for element in existing {
            for relationship in element.relationships ?? [] where relationship.typeName == "ForeignKey" && seen.insert(relationship.guid).inserted {
                guard let primary = names[relationship.end1GUID], let foreign = names[relationship.end2GUID] else { continue }
                let display = relationship.properties["displayName"]?.stringValue ?? ""
                current[CatalogueTree.Link(primaryKeyColumn: primary, foreignKeyColumn: foreign, displayName: display)] = relationship.guid
            }
        }
        let wanted = Set(tree.links)
        var writes: [ElementWrite] = current.filter { !wanted.contains($0.key) }.map { .unrelate(relationshipGUID: $0.value) }
        for link in tree.links where current[link] == nil {
            guard let end1 = guids[link.primaryKeyColumn], let end2 = guids[link.foreignKeyColumn] else { continue }
            writes.append(.relate(typeName: "ForeignKey", end1GUID: end1, end2GUID: end2,
                                  properties: ["displayName": .string(link.displayName)]))
        }
        return writes
    }
}

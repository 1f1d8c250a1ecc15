import Protocol

/// What open metadata holds of one database, as compactly as the comparison needs: per qualifiedName the GUID,
/// type and digests of properties and classifications (not the values), and the ForeignKey relationships.
/// A 22,000-element database costs a few MiB, so a connector can keep it between refreshes.
struct KnownCatalogue: Sendable {
    /// One element as the comparison sees it.
    struct Element: Sendable {
        let guid: String
        let typeName: String
        let properties: Int
        let classifications: Int
        let classificationNames: [String]
    }

    /// What open metadata holds once `node` is written there under `guid`.
    static func element(_ node: CatalogueTree.Node, guid: String) -> Element {
        Element(guid: guid, typeName: node.typeName, properties: digest(node.properties),
                classifications: digest(node.classifications), classificationNames: node.classifications.keys.sorted())
    }

    var elements: [String: Element] = [:]
    /// ForeignKey relationships by their ends' names, with their GUIDs.
    var foreignKeys: [CatalogueTree.Link: String] = [:]

    /// From a find of the database's elements (with their ForeignKey relationships).
    init(_ found: [MetadataElement]) {
        var names: [String: String] = [:]
        for element in found {
            names[element.guid] = element.qualifiedName
            elements[element.qualifiedName] = Element(guid: element.guid, typeName: element.typeName,
                                                      properties: Self.digest(element.properties),
                                                      classifications: Self.digest(element.classifications ?? [:]),
                                                      classificationNames: (element.classifications ?? [:]).keys.sorted())
        }
        for element in found {
            for relationship in element.relationships ?? [] where relationship.typeName == "ForeignKey" {
                guard let primary = names[relationship.end1GUID], let foreign = names[relationship.end2GUID] else { continue }
                let display = relationship.properties["displayName"]?.stringValue ?? ""
                foreignKeys[CatalogueTree.Link(primaryKeyColumn: primary, foreignKeyColumn: foreign, displayName: display)] = relationship.guid
            }
        }
    }

    init() {}

    /// Properties or classifications as the comparison keeps them: equal values give equal digests.
    static func digest(_ value: some Hashable) -> Int {
        var hasher = Hasher()
        hasher.combine(value)
        return hasher.finalize()
    }
}

/// Makes open metadata match a ``CatalogueTree``: creates, updates and deletes exactly the difference, level by
/// level (a child is created under its parent's GUID, so a parent's batch goes first), then adds and removes
/// ForeignKey relationships.
enum CatalogueSync {
    /// What open metadata holds of the database now. Parent links are implied by the names; only foreign keys
    /// are compared as relationships, so only those are read.
    static func existing(under database: String, context: ConnectorContext) throws -> KnownCatalogue {
        KnownCatalogue(try context.findElements(qualifiedNamePrefix: database, withRelationships: true, relationshipTypeName: "ForeignKey")
            .filter { CatalogueTree.isCatalogued($0, under: database) })
    }

    /// `known` is what open metadata holds of the tree's database (read, or left by the last apply); it is
    /// turned in place into what open metadata holds once every write succeeded (exactly the tree), so the two
    /// pictures never take memory side by side.
    static func apply(_ tree: CatalogueTree, known: consuming KnownCatalogue, context: ConnectorContext) throws -> KnownCatalogue {
        let started = MonotonicClock.now()
        var result = consume known
        let before = result.elements.count
        var wanted: [String: String] = [:]
        for node in tree.nodes { wanted[node.qualifiedName] = node.typeName }

        // Gone, or now of another type: deleted deepest first. Deleting an element removes its relationships.
        let doomed = result.elements.filter { wanted[$0.key] != $0.value.typeName }
            .sorted { level($0.value.typeName) > level($1.value.typeName) }
        try context.writeAll(doomed.map { .delete(guid: $0.value.guid) })
        for (name, _) in doomed { result.elements[name] = nil }
        var guids: [String: String] = [:]
        for (name, element) in result.elements { guids[name] = element.guid }

        var failed: [(ElementWrite, WriteOutcome)] = []
        for level in 0..<CatalogueTree.levelTypes.count {
            var writes: [ElementWrite] = []
            var created: [Int: Int] = [:]
            for (position, node) in tree.nodes.enumerated() where node.level == level {
                if let current = result.elements[node.qualifiedName], current.typeName == node.typeName {
                    let wantedNow = KnownCatalogue.element(node, guid: current.guid)
                    if current.properties != wantedNow.properties {
                        writes.append(.update(guid: current.guid, properties: node.properties, replaceProperties: true))
                    }
                    if current.classifications != wantedNow.classifications {
                        for (name, values) in node.classifications.sorted(by: { $0.key < $1.key }) {
                            writes.append(.classify(guid: current.guid, classificationName: name, properties: values))
                        }
                        for name in current.classificationNames where node.classifications[name] == nil {
                            writes.append(.declassify(guid: current.guid, classificationName: name))
                        }
                    }
                    result.elements[node.qualifiedName] = wantedNow
                    continue
                }
                var parent: ParentLink?
                if let link = node.parent {
                    // Its parent failed to be created: it is retried with its parent at the next refresh.
                    guard let parentGUID = guids[link.qualifiedName] else { continue }
                    parent = ParentLink(parentGUID: parentGUID, relationshipTypeName: link.relationship,
                                        parentAtEnd1: link.parentAtEnd1, properties: link.properties)
                }
                created[writes.count] = position
                writes.append(.create(typeName: node.typeName, qualifiedName: node.qualifiedName, properties: node.properties,
                                      parent: parent, classifications: node.classifications))
            }
            let outcomes = try context.write(writes)
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .written(let guid):
                    guard let position = created[index] else { continue }
                    let node = tree.nodes[position]
                    guids[node.qualifiedName] = guid
                    result.elements[node.qualifiedName] = KnownCatalogue.element(node, guid: guid)
                case .failed: failed.append((writes[index], outcome))
                }
            }
        }

        // Foreign keys: those whose ends were deleted went with them; the rest are kept, removed (gone or renamed)
        // or added. Egeria's newest connector only ever adds them.
        let deleted = Set(doomed.map(\.key))
        let current = result.foreignKeys.filter { !deleted.contains($0.key.primaryKeyColumn) && !deleted.contains($0.key.foreignKeyColumn) }
        let links = Set(tree.links)
        var writes: [ElementWrite] = current.filter { !links.contains($0.key) }.map { .unrelate(relationshipGUID: $0.value) }
        result.foreignKeys = current.filter { links.contains($0.key) }
        var added: [Int: CatalogueTree.Link] = [:]
        for link in tree.links where current[link] == nil {
            guard let end1 = guids[link.primaryKeyColumn], let end2 = guids[link.foreignKeyColumn] else { continue }
            added[writes.count] = link
            writes.append(.relate(typeName: "ForeignKey", end1GUID: end1, end2GUID: end2, properties: ["displayName": .string(link.displayName)]))
        }
        for (index, outcome) in try context.write(writes).enumerated() {
            switch outcome {
            case .written(let guid): if let link = added[index] { result.foreignKeys[link] = guid }
            case .failed: failed.append((writes[index], outcome))
            }
        }
        context.logger.debug("catalogue synchronized", ["database": .text(tree.databaseQualifiedName), "elements": .int(before),
                                                        "writeSeconds": .double(MonotonicClock.now() - started)])
        try ConnectorContext.check(failed.map(\.0), failed.map(\.1))
        return result
    }

    private static func level(_ typeName: String) -> Int { CatalogueTree.levelTypes.firstIndex(of: typeName) ?? 0 }
}

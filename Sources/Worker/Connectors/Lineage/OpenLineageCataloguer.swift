import Protocol

/// Egeria's OpenLineage cataloguer (`OpenLineageCataloguerIntegrationProvider`): each job of a run or job event
/// becomes the process element Egeria's makes, a `DeployedSoftwareComponent` named `OpenLineageJob:<job.name>`
/// (its description from the `documentation` job facet); each input and output dataset a `DataSet` named
/// `OpenLineageDataSet:<namespace>::<name>`; inputs flow into the process and the process into its outputs
/// (`DataFlow`), and a run's parent job is the process's parent (`ProcessHierarchy`).
///
/// Every element and relationship is looked up before it is made, and a description is written only when it
/// changed, so events seen again (a re-run job, a batch sent again after a crash) change nothing.
final class OpenLineageCataloguer: LineageConsumer {
    static let providerNames = ["open-lineage-cataloguer",
                                "org.odpi.openmetadata.adapters.connectors.integration.openlineage.OpenLineageCataloguerIntegrationProvider"]
    static let processType = "DeployedSoftwareComponent"
    static let dataSetType = "DataSet"

    init(config: IntegrationConnectorConfig) {}

    /// Nothing to compare: events arrive through ``publish(_:context:)``.
    func refresh(context: ConnectorContext) throws {}

    /// What one batch asks for, by qualified name.
    private struct Wanted {
        var elements: [String: (type: String, properties: [String: JSONValue])] = [:]
        var order: [String] = []
        /// (type, end 1, end 2) by qualified name.
        var relationships: [(String, String, String)] = []

        mutating func element(_ qualifiedName: String, _ type: String, _ properties: [String: JSONValue]) {
            if elements[qualifiedName] == nil { order.append(qualifiedName) }
            // A later event's description wins, as it would in Egeria.
            var merged = elements[qualifiedName]?.properties ?? [:]
            merged.merge(properties) { _, new in new }
            elements[qualifiedName] = (type, merged)
        }
    }

    func publish(_ events: [DeliverLineage.Event], context: ConnectorContext) throws {
        var wanted = Wanted()
        for item in events {
            guard let job = item.event["job"], let jobName = job["name"]?.stringValue else { continue }
            let process = "OpenLineageJob:" + jobName
            var properties: [String: JSONValue] = ["name": .string(jobName), "displayName": .string(jobName)]
            if let text = job["facets"]?["documentation"]?["description"]?.stringValue { properties["description"] = .string(text) }
            if let namespace = job["namespace"]?.stringValue { properties["additionalProperties"] = .object(["openLineageNamespace": .string(namespace)]) }
            wanted.element(process, Self.processType, properties)
            for (side, inbound) in [("inputs", true), ("outputs", false)] {
                for dataset in item.event[side]?.arrayValue ?? [] {
                    guard let namespace = dataset["namespace"]?.stringValue, let name = dataset["name"]?.stringValue else { continue }
                    let qualifiedName = "OpenLineageDataSet:\(namespace)::\(name)"
                    wanted.element(qualifiedName, Self.dataSetType, ["name": .string(name), "displayName": .string(name),
                                                                     "additionalProperties": .object(["openLineageNamespace": .string(namespace)])])
                    wanted.relationships.append(("DataFlow", inbound ? qualifiedName : process, inbound ? process : qualifiedName))
                }
            }
            if let parent = item.event["run"]?["facets"]?["parent"]?["job"]?["name"]?.stringValue {
                let parentProcess = "OpenLineageJob:" + parent
                wanted.element(parentProcess, Self.processType, ["name": .string(parent), "displayName": .string(parent)])
                wanted.relationships.append(("ProcessHierarchy", parentProcess, process))
            }
        }
        guard !wanted.order.isEmpty else { return }
        // What exists already, with its relationships.
        var guids: [String: String] = [:]
        var existing: [String: MetadataElement] = [:]
        var related = Set<String>()
        for qualifiedName in wanted.order {
            let type = wanted.elements[qualifiedName]!.type
            guard let found = try context.findElements(typeName: type, qualifiedNamePrefix: qualifiedName, withRelationships: true)
                .first(where: { $0.qualifiedName == qualifiedName }) else { continue }
            existing[qualifiedName] = found
            guids[qualifiedName] = found.guid
            for relationship in found.relationships ?? [] {
                related.insert("\(relationship.typeName)|\(relationship.end1GUID)|\(relationship.end2GUID)")
            }
        }
        var writes: [ElementWrite] = []
        var created: [String] = []
        for qualifiedName in wanted.order {
            let (type, properties) = wanted.elements[qualifiedName]!
            if let element = existing[qualifiedName] {
                let changed = properties.filter { element.properties[$0.key] != $0.value }
                if !changed.isEmpty { writes.append(.update(guid: element.guid, properties: changed, replaceProperties: false)) }
            } else {
                writes.append(.create(typeName: type, qualifiedName: qualifiedName, properties: properties))
                created.append(qualifiedName)
            }
        }
        let outcomes = try context.write(writes)
        try ConnectorContext.check(writes, outcomes)
        var madeIndex = 0
        for (write, outcome) in zip(writes, outcomes) {
            guard case .create = write, case .written(let guid) = outcome else { continue }
            guids[created[madeIndex]] = guid
            madeIndex += 1
        }
        var relates: [ElementWrite] = []
        for (type, end1, end2) in wanted.relationships {
            guard let one = guids[end1], let two = guids[end2] else { continue }
            if related.insert("\(type)|\(one)|\(two)").inserted {
                relates.append(.relate(typeName: type, end1GUID: one, end2GUID: two, properties: [:]))
            }
        }
        if !relates.isEmpty { try context.writeAll(relates) }
    }
}

import Foundation
import Protocol

/// Egeria 6's answers about a connector's catalog targets: pages of `RelatedMetadataElementListResponse` from the
/// open-metadata-store's related-elements call (each a `CatalogTarget` relationship, its properties as Egeria's typed
/// property values, and the target element), and the target asset's `ConnectionResponse`. Every field is checked;
/// a target that cannot be read is skipped with why.
enum GroupCatalogTargets {
    /// Targets one connector may have; past this the rest are not read.
    static let maxTargets = 10_000
    static let pageSize = 100

    /// The `ResultsRequestBody` of one page.
    static func requestBody(startFrom: Int) -> Data {
        Data(#"{"class":"ResultsRequestBody","startFrom":\#(startFrom),"pageSize":\#(pageSize)}"#.utf8)
    }

    /// One page: its targets, those skipped with why, and how many related elements it held (0 ends the paging).
    static func page(_ data: Data, connector: String) -> Result<(targets: [CatalogTarget], skipped: [String], count: Int), GroupProblem> {
        guard case .object(let body)? = try? JSONParser.parse(data) else { return .failure(GroupProblem("a page of catalog targets of \(connector) is not a JSON object")) }
        guard let list = body["relatedElementList"]?["elementList"], list != .null else { return .success(([], [], 0)) }
        guard case .array(let elements) = list else { return .failure(GroupProblem("relatedElementList.elementList: expected an array")) }
        var targets: [CatalogTarget] = [], skipped: [String] = []
        for (index, related) in elements.enumerated() {
            if let target = plainTarget(related) {
                targets.append(target)
                continue
            }
            // Something is missing or of the wrong type: read it again field by field, for a message naming it.
            var reader = ConfigReader()
            let p = "\(connector): relatedElementList.elementList[\(index)]"
            let relationship = reader.string(related["relationshipGUID"], "\(p).relationshipGUID", required: true)
            let element = reader.string(related["element"]?["elementGUID"], "\(p).element.elementGUID", required: true)
            let properties = plainProperties(related["relationshipProperties"])
            let name = reader.string(properties["catalogTargetName"], "\(p).relationshipProperties.catalogTargetName", required: true)
            let configuration = reader.object(properties["configurationProperties"], "\(p).relationshipProperties.configurationProperties")
            let source = reader.string(properties["metadataSourceQualifiedName"], "\(p).relationshipProperties.metadataSourceQualifiedName")
            let sync = reader.choice(properties["permittedSynchronization"], "\(p).relationshipProperties.permittedSynchronization", PermittedSynchronization.self)
            let delete = reader.string(properties["deleteMethod"], "\(p).relationshipProperties.deleteMethod")
            guard reader.issues.isEmpty, let relationship, let element, let name else {
                skipped.append(reader.issues.map(\.description).joined(separator: "; "))
                continue
            }
            targets.append(CatalogTarget(catalogTargetName: name, relationshipGUID: relationship, elementGUID: element,
                                         configurationProperties: configuration, metadataSourceQualifiedName: source,
                                         permittedSynchronization: sync, deleteMethod: delete))
        }
        return .success((targets, skipped, elements.count))
    }

    /// A well-formed target read directly, without building a path for every field (a read of 10,000 targets does
    /// this 10,000 times); nil when anything is missing or of another type, which the reader then names.
    private static func plainTarget(_ related: JSONValue) -> CatalogTarget? {
        guard case .string(let relationship)? = related["relationshipGUID"], !relationship.isEmpty,
              case .string(let element)? = related["element"]?["elementGUID"], !element.isEmpty else { return nil }
        let properties = plainProperties(related["relationshipProperties"])
        guard case .string(let name)? = properties["catalogTargetName"], !name.isEmpty else { return nil }
        func text(_ key: String) -> String?? {
            switch properties[key] {
            case nil, .null?: .some(nil)
            case .string(let value)?: .some(value)
            default: nil
            }
        }
        guard let source = text("metadataSourceQualifiedName"), let delete = text("deleteMethod"), let sync = text("permittedSynchronization") else { return nil }
        var configuration: [String: JSONValue]?
        switch properties["configurationProperties"] {
        case nil, .null?: configuration = nil
        case .object(let members)?: configuration = members
        default: return nil
        }
        var permitted: PermittedSynchronization?
        if let sync {
            guard let known = PermittedSynchronization(rawValue: sync) else { return nil }
            permitted = known
        }
        return CatalogTarget(catalogTargetName: name, relationshipGUID: relationship, elementGUID: element, configurationProperties: configuration,
                             metadataSourceQualifiedName: source, permittedSynchronization: permitted, deleteMethod: delete)
    }

    /// The endpoint of a `ConnectionResponse`: the target asset's network address (nil when it has no connection).
    static func endpoint(_ data: Data) -> String? {
        guard case .object(let body)? = try? JSONParser.parse(data), case .object(let connection)? = body["connection"],
              case .object(let endpoint)? = connection["endpoint"] else { return nil }
        return (endpoint["networkAddress"] ?? endpoint["address"])?.stringValue
    }

    /// Egeria's `ElementProperties` as plain values: `propertyValueMap` of typed property values.
    static func plainProperties(_ value: JSONValue?) -> [String: JSONValue] {
        guard case .object(let map)? = value?["propertyValueMap"] else { return [:] }
        return map.compactMapValues(plain)
    }

    /// One typed property value (`PrimitiveTypePropertyValue`, `EnumTypePropertyValue`, `MapTypePropertyValue`,
    /// `ArrayTypePropertyValue`) as a plain value, or nil for a shape it is not.
    static func plain(_ value: JSONValue) -> JSONValue? {
        guard case .object(let typed) = value else { return nil }
        if let primitive = typed["primitiveValue"] { return primitive }
        if let symbol = typed["symbolicName"] { return symbol }
        if let map = typed["mapValues"] { return .object(plainProperties(map)) }
        if case .object(let items)? = typed["arrayValues"]?["propertyValueMap"] {
            return .array(items.keys.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.compactMap { items[$0].flatMap(plain) })
        }
        return nil
    }
}

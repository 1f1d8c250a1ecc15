/// A relationship between two open metadata elements, as Egeria's `RelatedMetadataElements` names its parts:
/// typed, with a GUID of its own, end 1 and end 2, and properties of its own.
public struct MetadataRelationship: Codable, Sendable, Equatable {
    public var guid: String
    public var typeName: String
    public var end1GUID: String
    public var end2GUID: String
    public var properties: [String: JSONValue]

    public init(guid: String, typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue] = [:]) {
        self.guid = guid
        self.typeName = typeName
        self.end1GUID = end1GUID
        self.end2GUID = end2GUID
        self.properties = properties
    }

    func write(to writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("end1GUID", first: true)
        writer.string(end1GUID)
        writer.key("end2GUID")
        writer.string(end2GUID)
        writer.key("guid")
        writer.string(guid)
        writer.key("properties")
        writer.object(properties)
        writer.key("typeName")
        writer.string(typeName)
        writer.raw("}")
    }
}

/// The relationship a new element is created under, as Egeria 6's `NewElementRequestBody` gives it
/// (`parentGUID`, `parentRelationshipTypeName`, `parentAtEnd1`, `parentRelationshipProperties`).
public struct ParentLink: Codable, Sendable, Equatable {
    public var parentGUID: String
    public var relationshipTypeName: String
    /// Whether the parent is end 1 of the relationship (Egeria's default), or end 2.
    public var parentAtEnd1: Bool
    public var properties: [String: JSONValue]

    public init(parentGUID: String, relationshipTypeName: String, parentAtEnd1: Bool = true, properties: [String: JSONValue] = [:]) {
        self.parentGUID = parentGUID
        self.relationshipTypeName = relationshipTypeName
        self.parentAtEnd1 = parentAtEnd1
        self.properties = properties
    }
}

/// Classifications of one element by name (`PrimaryKey`, `CalculatedValue`), each with its properties.
public typealias Classifications = [String: [String: JSONValue]]

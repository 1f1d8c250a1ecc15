/// An open metadata element as the access server holds it: a typed, uniquely named bag of properties.
public struct MetadataElement: Codable, Sendable, Equatable {
    public var guid: String
    public var typeName: String
    public var qualifiedName: String
    public var properties: [String: JSONValue]
    /// The `metadataSourceQualifiedName` of the connector that owns it (external provenance), if any.
    public var metadataSourceQualifiedName: String?
    public var createTime: Date
    public var updateTime: Date
    public var version: Int
    /// The integration service whose connector created it, set by the supervisor: a worker may touch only
    /// its own service's elements. nil in stores written before services were kept apart.
    public var integrationService: String?
    /// The element's classifications; nil when it has none.
    public var classifications: Classifications?
    /// The relationships the element is at either end of; only filled when a find asks for them.
    public var relationships: [MetadataRelationship]?

    public init(guid: String, typeName: String, qualifiedName: String, properties: [String: JSONValue],
                metadataSourceQualifiedName: String?, createTime: Date, updateTime: Date, version: Int,
                integrationService: String? = nil, classifications: Classifications? = nil,
                relationships: [MetadataRelationship]? = nil) {
        self.classifications = classifications
        self.relationships = relationships
        self.guid = guid
        self.typeName = typeName
        self.qualifiedName = qualifiedName
        self.properties = properties
        self.metadataSourceQualifiedName = metadataSourceQualifiedName
        self.createTime = createTime
        self.updateTime = updateTime
        self.version = version
        self.integrationService = integrationService
    }
}

extension MetadataElement {
    /// Writes the element as `JSONEncoder` with ``MessageEncoder``'s settings would (sorted keys, dates as epoch
    /// milliseconds, absent optionals left out), at a fraction of the cost: the store writes one per element.
    public func write(to writer: inout JSONWriter) {
        writer.raw("{")
        if let classifications {
            writer.key("classifications", first: true)
            writer.object(classifications.mapValues { .object($0) })
            writer.key("createTime")
        } else {
            writer.key("createTime", first: true)
        }
        writer.int(Int(EpochMillis.int64(createTime)))
        writer.key("guid")
        writer.string(guid)
        if let integrationService {
            writer.key("integrationService")
            writer.string(integrationService)
        }
        if let metadataSourceQualifiedName {
            writer.key("metadataSourceQualifiedName")
            writer.string(metadataSourceQualifiedName)
        }
        writer.key("properties")
        writer.object(properties)
        writer.key("qualifiedName")
        writer.string(qualifiedName)
        if let relationships {
            writer.key("relationships")
            writer.raw("[")
            for (index, relationship) in relationships.enumerated() {
                if index > 0 { writer.raw(",") }
                relationship.write(to: &writer)
            }
            writer.raw("]")
        }
        writer.key("typeName")
        writer.string(typeName)
        writer.key("updateTime")
        writer.int(Int(EpochMillis.int64(updateTime)))
        writer.key("version")
        writer.int(version)
        writer.raw("}")
    }
}

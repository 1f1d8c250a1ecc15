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

    public init(guid: String, typeName: String, qualifiedName: String, properties: [String: JSONValue],
                metadataSourceQualifiedName: String?, createTime: Date, updateTime: Date, version: Int) {
        self.guid = guid
        self.typeName = typeName
        self.qualifiedName = qualifiedName
        self.properties = properties
        self.metadataSourceQualifiedName = metadataSourceQualifiedName
        self.createTime = createTime
        self.updateTime = updateTime
        self.version = version
    }
}

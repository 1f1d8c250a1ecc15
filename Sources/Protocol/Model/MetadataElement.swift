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

    public init(guid: String, typeName: String, qualifiedName: String, properties: [String: JSONValue],
                metadataSourceQualifiedName: String?, createTime: Date, updateTime: Date, version: Int,
                integrationService: String? = nil) {
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

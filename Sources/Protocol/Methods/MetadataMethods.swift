/// `metadata/createElement` (worker → supervisor): create an element at the access server.
public enum CreateElement: RPCMethod {
    public static let name = "metadata/createElement"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connectorName: String
        public var typeName: String
        public var qualifiedName: String
        public var properties: [String: JSONValue]
        public var metadataSourceQualifiedName: String?
        /// The relationship to create the element under, as Egeria 6's create does.
        public var parent: ParentLink?
        public var initialClassifications: Classifications?
        public init(connectorName: String, typeName: String, qualifiedName: String, properties: [String: JSONValue],
                    metadataSourceQualifiedName: String?, parent: ParentLink? = nil, initialClassifications: Classifications? = nil) {
            self.parent = parent
            self.initialClassifications = initialClassifications
            self.connectorName = connectorName
            self.typeName = typeName
            self.qualifiedName = qualifiedName
            self.properties = properties
            self.metadataSourceQualifiedName = metadataSourceQualifiedName
        }
    }

    public typealias Result = ElementResult
}

/// `metadata/updateElement` (worker → supervisor): merge (or replace) an element's properties.
public enum UpdateElement: RPCMethod {
    public static let name = "metadata/updateElement"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connectorName: String
        public var guid: String
        public var properties: [String: JSONValue]
        public var replaceProperties: Bool?
        public init(connectorName: String, guid: String, properties: [String: JSONValue], replaceProperties: Bool? = nil) {
            self.connectorName = connectorName
            self.guid = guid
            self.properties = properties
            self.replaceProperties = replaceProperties
        }
    }

    public typealias Result = ElementResult
}

/// `metadata/deleteElement` (worker → supervisor): delete an element.
public enum DeleteElement: RPCMethod {
    public static let name = "metadata/deleteElement"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connectorName: String
        public var guid: String
        public init(connectorName: String, guid: String) {
            self.connectorName = connectorName
            self.guid = guid
        }
    }

    public typealias Result = ElementResult
}

/// `metadata/findElements` (worker → supervisor): the elements matching every given filter.
public enum FindElements: RPCMethod {
    public static let name = "metadata/findElements"

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var typeName: String?
        public var metadataSourceQualifiedName: String?
        public var qualifiedNamePrefix: String?
        /// Also answer each element's relationships (both ends); classifications always come.
        public var withRelationships: Bool?
        /// With `withRelationships`, only relationships of this type (a connector that compares its foreign keys
        /// need not read every parent link).
        public var relationshipTypeName: String?
        /// Paging: only elements whose qualifiedName sorts after this one (the previous page's `nextAfter`).
        public var after: String?
        public init(typeName: String? = nil, metadataSourceQualifiedName: String? = nil, qualifiedNamePrefix: String? = nil,
                    withRelationships: Bool? = nil, relationshipTypeName: String? = nil, after: String? = nil) {
            self.relationshipTypeName = relationshipTypeName
            self.withRelationships = withRelationships
            self.after = after
            self.typeName = typeName
            self.metadataSourceQualifiedName = metadataSourceQualifiedName
            self.qualifiedNamePrefix = qualifiedNamePrefix
        }
    }

    /// The answer: one page, in qualifiedName order. A page stays well under the line limit, so a connector
    /// with 100,000 elements reads them in pages, asking again with `after: nextAfter` until it is absent.
    public struct Result: Codable, Sendable {
        public var elements: [MetadataElement]
        /// Set when more elements may follow: the qualifiedName to continue after.
        public var nextAfter: String?
        public init(elements: [MetadataElement], nextAfter: String? = nil) {
            self.elements = elements
            self.nextAfter = nextAfter
        }
    }

    /// The most elements one page holds.
    public static let pageLimit = 5_000
    /// A page stops growing past this many bytes of elements (the line limit is 1 MiB).
    public static let pageTargetBytes = 512 << 10
}

/// The element after a create, update or delete.
public struct ElementResult: Codable, Sendable {
    public var element: MetadataElement
    public init(element: MetadataElement) { self.element = element }
}

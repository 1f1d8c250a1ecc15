/// `metadata/writeElements` (worker → supervisor): many creates, updates and deletes of one connector in one
/// request, applied in order and acknowledged together once durable.
///
/// A refresh that touches 100,000 files would otherwise pay a round trip, a decode and a sync per element;
/// here those are paid per batch. Each write has its own outcome: one that fails (a duplicate qualifiedName,
/// an element outside the service) does not stop the others.
public enum WriteElements: RPCMethod {
    public static let name = "metadata/writeElements"

    /// The most writes one request may carry; a connector with more sends several requests.
    public static let maxWrites = 1_000

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var connectorName: String
        /// Recorded on every element this request creates.
        public var metadataSourceQualifiedName: String?
        public var writes: [ElementWrite]
        public init(connectorName: String, metadataSourceQualifiedName: String?, writes: [ElementWrite]) {
            self.connectorName = connectorName
            self.metadataSourceQualifiedName = metadataSourceQualifiedName
            self.writes = writes
        }
    }

    /// The answer: one outcome per write, in the order of `writes`.
    public struct Result: Codable, Sendable {
        public var outcomes: [WriteOutcome]
        public init(outcomes: [WriteOutcome]) { self.outcomes = outcomes }
    }
}

extension WriteElements.Params: RangeChecked {
    public var outOfRange: String? {
        Self.check("writes (count)", writes.count, 0...WriteElements.maxWrites)
    }
}

/// One element write inside a `metadata/writeElements` request, tagged by `op`.
///
/// Beyond create, update and delete, the ops Egeria 6's element API has for structure: a create under a parent
/// relationship with initial classifications, relate and unrelate two elements, classify and declassify one.
/// The outcome's GUID is the element's, except for `relate`, whose outcome is the new relationship's GUID.
public enum ElementWrite: Codable, Sendable, Equatable {
    case create(typeName: String, qualifiedName: String, properties: [String: JSONValue],
                parent: ParentLink? = nil, classifications: Classifications = [:])
    case update(guid: String, properties: [String: JSONValue], replaceProperties: Bool)
    case delete(guid: String)
    case relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue])
    /// Removes the relationship with this GUID.
    case unrelate(relationshipGUID: String)
    /// Adds the classification, or replaces its properties when the element has it already.
    case classify(guid: String, classificationName: String, properties: [String: JSONValue])
    case declassify(guid: String, classificationName: String)

    private enum CodingKeys: String, CodingKey {
        case op, typeName, qualifiedName, properties, guid, replaceProperties, parent, initialClassifications
        case end1GUID, end2GUID, relationshipGUID, classificationName
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .op) {
        case "create":
            self = .create(typeName: try container.decode(String.self, forKey: .typeName),
                           qualifiedName: try container.decode(String.self, forKey: .qualifiedName),
                           properties: try container.decodeIfPresent([String: JSONValue].self, forKey: .properties) ?? [:],
                           parent: try container.decodeIfPresent(ParentLink.self, forKey: .parent),
                           classifications: try container.decodeIfPresent(Classifications.self, forKey: .initialClassifications) ?? [:])
        case "update":
            self = .update(guid: try container.decode(String.self, forKey: .guid),
                           properties: try container.decode([String: JSONValue].self, forKey: .properties),
                           replaceProperties: try container.decodeIfPresent(Bool.self, forKey: .replaceProperties) ?? false)
        case "delete":
            self = .delete(guid: try container.decode(String.self, forKey: .guid))
        case "relate":
            self = .relate(typeName: try container.decode(String.self, forKey: .typeName),
                           end1GUID: try container.decode(String.self, forKey: .end1GUID),
                           end2GUID: try container.decode(String.self, forKey: .end2GUID),
                           properties: try container.decodeIfPresent([String: JSONValue].self, forKey: .properties) ?? [:])
        case "unrelate":
            self = .unrelate(relationshipGUID: try container.decode(String.self, forKey: .relationshipGUID))
        case "classify":
            self = .classify(guid: try container.decode(String.self, forKey: .guid),
                             classificationName: try container.decode(String.self, forKey: .classificationName),
                             properties: try container.decodeIfPresent([String: JSONValue].self, forKey: .properties) ?? [:])
        case "declassify":
            self = .declassify(guid: try container.decode(String.self, forKey: .guid),
                               classificationName: try container.decode(String.self, forKey: .classificationName))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: Self.badOp(other))
        }
    }

    static func badOp(_ op: String) -> String {
        "op must be create, update, delete, relate, unrelate, classify or declassify, got \"\(op)\""
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .create(let typeName, let qualifiedName, let properties, let parent, let classifications):
            try container.encode("create", forKey: .op)
            try container.encode(typeName, forKey: .typeName)
            try container.encode(qualifiedName, forKey: .qualifiedName)
            try container.encode(properties, forKey: .properties)
            try container.encodeIfPresent(parent, forKey: .parent)
            if !classifications.isEmpty { try container.encode(classifications, forKey: .initialClassifications) }
        case .update(let guid, let properties, let replace):
            try container.encode("update", forKey: .op)
            try container.encode(guid, forKey: .guid)
            try container.encode(properties, forKey: .properties)
            if replace { try container.encode(true, forKey: .replaceProperties) }
        case .delete(let guid):
            try container.encode("delete", forKey: .op)
            try container.encode(guid, forKey: .guid)
        case .relate(let typeName, let end1, let end2, let properties):
            try container.encode("relate", forKey: .op)
            try container.encode(typeName, forKey: .typeName)
            try container.encode(end1, forKey: .end1GUID)
            try container.encode(end2, forKey: .end2GUID)
            try container.encode(properties, forKey: .properties)
        case .unrelate(let guid):
            try container.encode("unrelate", forKey: .op)
            try container.encode(guid, forKey: .relationshipGUID)
        case .classify(let guid, let name, let properties):
            try container.encode("classify", forKey: .op)
            try container.encode(guid, forKey: .guid)
            try container.encode(name, forKey: .classificationName)
            try container.encode(properties, forKey: .properties)
        case .declassify(let guid, let name):
            try container.encode("declassify", forKey: .op)
            try container.encode(guid, forKey: .guid)
            try container.encode(name, forKey: .classificationName)
        }
    }

    /// A rough size of the write on the wire, so a sender can keep requests well under the line limit.
    public var estimatedBytes: Int {
        switch self {
        case .create(let typeName, let qualifiedName, let properties, let parent, let classifications):
            60 + typeName.utf8.count + qualifiedName.utf8.count * 2 + JSONValue.object(properties).estimatedBytes
                + (parent.map { 120 + $0.relationshipTypeName.utf8.count + JSONValue.object($0.properties).estimatedBytes } ?? 0)
                + classifications.reduce(0) { $0 + 30 + $1.key.utf8.count + JSONValue.object($1.value).estimatedBytes }
        case .update(let guid, let properties, _): 60 + guid.utf8.count + JSONValue.object(properties).estimatedBytes
        case .delete(let guid): 30 + guid.utf8.count
        case .relate(let typeName, _, _, let properties): 160 + typeName.utf8.count + JSONValue.object(properties).estimatedBytes
        case .unrelate: 90
        case .classify(_, let name, let properties): 110 + name.utf8.count + JSONValue.object(properties).estimatedBytes
        case .declassify(_, let name): 100 + name.utf8.count
        }
    }
}

/// How one write of a batch ended: the element's GUID, or the error that write alone got.
public enum WriteOutcome: Codable, Sendable, Equatable {
    case written(guid: String)
    case failed(RPCError)

    private enum CodingKeys: String, CodingKey { case guid, error }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let error = try container.decodeIfPresent(RPCError.self, forKey: .error) {
            self = .failed(error)
        } else {
            self = .written(guid: try container.decode(String.self, forKey: .guid))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .written(let guid): try container.encode(guid, forKey: .guid)
        case .failed(let error): try container.encode(error, forKey: .error)
        }
    }
}

extension ElementWrite {
    /// The write in a few words, for an error message: `create DataFile /data/a.csv`, `delete <guid>`.
    public var summary: String {
        switch self {
        case .create(let typeName, let qualifiedName, _, _, _): "create \(typeName) \(qualifiedName)"
        case .update(let guid, _, _): "update \(guid)"
        case .delete(let guid): "delete \(guid)"
        case .relate(let typeName, let end1, let end2, _): "relate \(typeName) \(end1) \(end2)"
        case .unrelate(let guid): "unrelate \(guid)"
        case .classify(let guid, let name, _): "classify \(guid) \(name)"
        case .declassify(let guid, let name): "declassify \(guid) \(name)"
        }
    }
}

extension WriteElements.Params {
    /// The params read straight from a parsed value (see ``JSONParser``); the error names the field.
    public init(json: JSONValue) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: "params", problem: "expected an object, got \(json.typeName)") }
        connectorName = try FieldError.string(object, "connectorName", in: "params")
        metadataSourceQualifiedName = try FieldError.optionalString(object, "metadataSourceQualifiedName", in: "params")
        guard case .array(let list)? = object["writes"] else {
            throw FieldError(field: "params.writes", problem: "expected an array, got \(object["writes"]?.typeName ?? "nothing")")
        }
        writes = []
        writes.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            let path = "params.writes[\(index)]"
            guard case .object(let write) = item else { throw FieldError(field: path, problem: "expected an object, got \(item.typeName)") }
            switch try FieldError.string(write, "op", in: path) {
            case "create":
                writes.append(.create(typeName: try FieldError.string(write, "typeName", in: path),
                                      qualifiedName: try FieldError.string(write, "qualifiedName", in: path),
                                      properties: try FieldError.optionalObject(write, "properties", in: path) ?? [:],
                                      parent: try Self.parent(write["parent"], at: path + ".parent"),
                                      classifications: try Self.classifications(write["initialClassifications"], at: path + ".initialClassifications")))
            case "update":
                guard let properties = try FieldError.optionalObject(write, "properties", in: path) else {
                    throw FieldError(field: path + ".properties", problem: "expected an object, got nothing")
                }
                let replace: Bool
                switch write["replaceProperties"] {
                case nil, .null?: replace = false
                case .bool(let flag)?: replace = flag
                case let other?: throw FieldError(field: path + ".replaceProperties", problem: "expected a boolean, got \(other.typeName)")
                }
                writes.append(.update(guid: try FieldError.string(write, "guid", in: path), properties: properties, replaceProperties: replace))
            case "delete":
                writes.append(.delete(guid: try FieldError.string(write, "guid", in: path)))
            case "relate":
                writes.append(.relate(typeName: try FieldError.string(write, "typeName", in: path),
                                      end1GUID: try FieldError.string(write, "end1GUID", in: path),
                                      end2GUID: try FieldError.string(write, "end2GUID", in: path),
                                      properties: try FieldError.optionalObject(write, "properties", in: path) ?? [:]))
            case "unrelate":
                writes.append(.unrelate(relationshipGUID: try FieldError.string(write, "relationshipGUID", in: path)))
            case "classify":
                writes.append(.classify(guid: try FieldError.string(write, "guid", in: path),
                                        classificationName: try FieldError.string(write, "classificationName", in: path),
                                        properties: try FieldError.optionalObject(write, "properties", in: path) ?? [:]))
            case "declassify":
                writes.append(.declassify(guid: try FieldError.string(write, "guid", in: path),
                                          classificationName: try FieldError.string(write, "classificationName", in: path)))
            case let other:
                throw FieldError(field: path + ".op", problem: String(ElementWrite.badOp(other).dropFirst(3)))
            }
        }
    }

    private static func parent(_ value: JSONValue?, at path: String) throws(FieldError) -> ParentLink? {
        switch value {
        case nil, .null?: return nil
        case .object(let link)?:
            let atEnd1: Bool
            switch link["parentAtEnd1"] {
            case nil, .null?: atEnd1 = true
            case .bool(let flag)?: atEnd1 = flag
            case let other?: throw FieldError(field: path + ".parentAtEnd1", problem: "expected a boolean, got \(other.typeName)")
            }
            return ParentLink(parentGUID: try FieldError.string(link, "parentGUID", in: path),
                              relationshipTypeName: try FieldError.string(link, "relationshipTypeName", in: path),
                              parentAtEnd1: atEnd1,
                              properties: try FieldError.optionalObject(link, "properties", in: path) ?? [:])
        case let other?: throw FieldError(field: path, problem: "expected an object, got \(other.typeName)")
        }
    }

    private static func classifications(_ value: JSONValue?, at path: String) throws(FieldError) -> Classifications {
        switch value {
        case nil, .null?: return [:]
        case .object(let members)?:
            var result: Classifications = [:]
            for (name, properties) in members {
                switch properties {
                case .null: result[name] = [:]
                case .object(let values): result[name] = values
                default: throw FieldError(field: "\(path).\(name)", problem: "expected an object, got \(properties.typeName)")
                }
            }
            return result
        case let other?: throw FieldError(field: path, problem: "expected an object, got \(other.typeName)")
        }
    }
}

/// A field of a hand-read payload that is missing or of the wrong type, named by its path.
public struct FieldError: Error, CustomStringConvertible, Sendable {
    public let field: String
    public let problem: String
    public var description: String { "\(field): \(problem)" }

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    static func string(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> String {
        guard case .string(let text)? = object[key] else {
            throw FieldError(field: "\(path).\(key)", problem: "expected a string, got \(object[key]?.typeName ?? "nothing")")
        }
        return text
    }

    static func optionalString(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw FieldError(field: "\(path).\(key)", problem: "expected a string, got \(other.typeName)")
        }
    }

    static func optionalObject(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let members)?: return members
        case let other?: throw FieldError(field: "\(path).\(key)", problem: "expected an object, got \(other.typeName)")
        }
    }
}

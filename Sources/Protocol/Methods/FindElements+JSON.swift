extension FindElements.Result {
    /// The answer read straight from a parsed value (see ``JSONParser``): a page of 1,000 elements costs a
    /// `JSONDecoder` several times what the parse does, and a 22,000-element catalogue is read on every refresh.
    public init(json: JSONValue) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: "result", problem: "expected an object, got \(json.typeName)") }
        guard case .array(let list)? = object["elements"] else {
            throw FieldError(field: "result.elements", problem: "expected an array, got \(object["elements"]?.typeName ?? "nothing")")
        }
        var elements: [MetadataElement] = []
        elements.reserveCapacity(list.count)
        for (index, item) in list.enumerated() { elements.append(try MetadataElement(json: item, at: "result.elements[\(index)]")) }
        self.init(elements: elements, nextAfter: try FieldError.optionalString(object, "nextAfter", in: "result"))
    }
}

extension MetadataElement {
    /// An element as ``write(to:)`` writes it; the error names the field.
    public init(json: JSONValue, at path: String) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: path, problem: "expected an object, got \(json.typeName)") }
        var classifications: Classifications?
        if let members = try FieldError.optionalObject(object, "classifications", in: path) {
            var found: Classifications = [:]
            for (name, value) in members {
                guard case .object(let properties) = value else {
                    throw FieldError(field: "\(path).classifications.\(name)", problem: "expected an object, got \(value.typeName)")
                }
                found[name] = properties
            }
            classifications = found
        }
        var relationships: [MetadataRelationship]?
        switch object["relationships"] {
        case nil, .null?: break
        case .array(let list)?:
            relationships = try list.enumerated().map { index, item throws(FieldError) in
                let at = "\(path).relationships[\(index)]"
                guard case .object(let fields) = item else { throw FieldError(field: at, problem: "expected an object, got \(item.typeName)") }
                return MetadataRelationship(guid: try FieldError.string(fields, "guid", in: at), typeName: try FieldError.string(fields, "typeName", in: at),
                                            end1GUID: try FieldError.string(fields, "end1GUID", in: at),
                                            end2GUID: try FieldError.string(fields, "end2GUID", in: at),
                                            properties: try FieldError.optionalObject(fields, "properties", in: at) ?? [:])
            }
        case let other?: throw FieldError(field: "\(path).relationships", problem: "expected an array, got \(other.typeName)")
        }
        self.init(guid: try FieldError.string(object, "guid", in: path), typeName: try FieldError.string(object, "typeName", in: path),
                  qualifiedName: try FieldError.string(object, "qualifiedName", in: path),
                  properties: try FieldError.optionalObject(object, "properties", in: path) ?? [:],
                  metadataSourceQualifiedName: try FieldError.optionalString(object, "metadataSourceQualifiedName", in: path),
                  createTime: try Self.date(object, "createTime", in: path), updateTime: try Self.date(object, "updateTime", in: path),
                  version: try Self.int(object, "version", in: path),
                  integrationService: try FieldError.optionalString(object, "integrationService", in: path),
                  classifications: classifications, relationships: relationships)
    }

    private static func int(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> Int {
        guard case .int(let number)? = object[key] else {
            throw FieldError(field: "\(path).\(key)", problem: "expected an integer, got \(object[key]?.typeName ?? "nothing")")
        }
        return number
    }

    /// Dates travel as epoch milliseconds.
    private static func date(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> Date {
        Date(timeIntervalSince1970: Double(try int(object, key, in: path)) / 1000)
    }
}

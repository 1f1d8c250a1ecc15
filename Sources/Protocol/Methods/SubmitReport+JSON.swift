/// `reports/submit` read and written by hand (``JSONParser``, ``JSONWriter``): the daemon takes tens of
/// thousands of reports a second, and `Codable` cost more than everything else on that path together.
extension SubmitReport.Params {
    /// The params read straight from a parsed value; the error names the field, with the checks the
    /// `Decodable` path makes (dates within year 1…9999, part numbers whole and in range).
    public init(json: JSONValue) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: "params", problem: "expected an object, got \(json.typeName)") }
        guard let report = object["report"] else { throw FieldError(field: "params.report", problem: "expected an object, got nothing") }
        self.report = try IntegrationReport(json: report, path: "params.report")
        switch object["part"] {
        case nil, .null?: part = nil
        case .object(let fields)?:
            let count = try FieldError.whole(fields, "count", in: "params.part", 1...SubmitReport.maxParts)
            let index = try FieldError.whole(fields, "index", in: "params.part", 0...SubmitReport.maxParts - 1)
            part = SubmitReport.ReportPart(index: index, count: count)
        case let other?: throw FieldError(field: "params.part", problem: "expected an object, got \(other.typeName)")
        }
    }
}

extension IntegrationReport {
    public init(json: JSONValue, path: String) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: path, problem: "expected an object, got \(json.typeName)") }
        reportId = try FieldError.string(object, "reportId", in: path)
        serverName = try FieldError.string(object, "serverName", in: path)
        connectorId = try FieldError.string(object, "connectorId", in: path)
        connectorName = try FieldError.string(object, "connectorName", in: path)
        refreshStartDate = try FieldError.date(object, "refreshStartDate", in: path)
        switch object["refreshCompletionDate"] {
        case nil, .null?: refreshCompletionDate = nil
        default: refreshCompletionDate = try FieldError.date(object, "refreshCompletionDate", in: path)
        }
        createdElements = try FieldError.strings(object, "createdElements", in: path)
        updatedElements = try FieldError.strings(object, "updatedElements", in: path)
        deletedElements = try FieldError.strings(object, "deletedElements", in: path)
        additionalProperties = [:]
        switch object["additionalProperties"] {
        case nil, .null?: break
        case .object(let members)?:
            for (key, value) in members {
                guard case .string(let text) = value else {
                    throw FieldError(field: "\(path).additionalProperties.\(key)", problem: "expected a string, got \(value.typeName)")
                }
                additionalProperties[key] = text
            }
        case let other?: throw FieldError(field: "\(path).additionalProperties", problem: "expected an object, got \(other.typeName)")
        }
    }

    /// The bytes ``write(to:)`` takes when no string needs an escape: a writer reserved this large never grows,
    /// and growing (allocate, copy, free) was a fifth of writing a stored report.
    public var encodedSizeEstimate: Int {
        // Member names, punctuation and two dates take under 260 bytes.
        var size = 260 + reportId.utf8.count + serverName.utf8.count + connectorId.utf8.count + connectorName.utf8.count
        for guid in createdElements { size += guid.utf8.count + 3 }
        for guid in updatedElements { size += guid.utf8.count + 3 }
        for guid in deletedElements { size += guid.utf8.count + 3 }
        for (key, value) in additionalProperties { size += key.utf8.count + value.utf8.count + 6 }
        return size
    }

    /// Writes the report as `JSONEncoder` with ``MessageEncoder``'s settings would: sorted keys, dates as epoch
    /// milliseconds, an absent completion date left out.
    public func write(to writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("additionalProperties", first: true)
        writer.stringObject(additionalProperties)
        writer.key("connectorId")
        writer.string(connectorId)
        writer.key("connectorName")
        writer.string(connectorName)
        writer.key("createdElements")
        writer.strings(createdElements)
        writer.key("deletedElements")
        writer.strings(deletedElements)
        if let refreshCompletionDate {
            writer.key("refreshCompletionDate")
            writer.int(Int(EpochMillis.int64(refreshCompletionDate)))
        }
        writer.key("refreshStartDate")
        writer.int(Int(EpochMillis.int64(refreshStartDate)))
        writer.key("reportId")
        writer.string(reportId)
        writer.key("serverName")
        writer.string(serverName)
        writer.key("updatedElements")
        writer.strings(updatedElements)
        writer.raw("}")
    }
}

extension FieldError {
    static func date(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> Date {
        let millis: Double
        switch object[key] {
        case .int(let value)?: millis = Double(value)
        case .double(let value)?: millis = value
        case let other: throw FieldError(field: "\(path).\(key)", problem: "expected epoch milliseconds, got \(other?.typeName ?? "nothing")")
        }
        guard EpochMillis.range.contains(millis) else {
            throw FieldError(field: "\(path).\(key)", problem: "date \(millis) ms since 1970 is out of range (year 1 to 9999)")
        }
        return Date(timeIntervalSince1970: millis / 1000)
    }

    static func strings(_ object: [String: JSONValue], _ key: String, in path: String) throws(FieldError) -> [String] {
        guard case .array(let items)? = object[key] else {
            throw FieldError(field: "\(path).\(key)", problem: "expected an array, got \(object[key]?.typeName ?? "nothing")")
        }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else { throw FieldError(field: "\(path).\(key)[\(index)]", problem: "expected a string, got \(item.typeName)") }
            strings.append(text)
        }
        return strings
    }

    static func whole(_ object: [String: JSONValue], _ key: String, in path: String, _ range: ClosedRange<Int>) throws(FieldError) -> Int {
        let value: Double
        switch object[key] {
        case .int(let number)?: value = Double(number)
        case .double(let number)?: value = number
        case let other: throw FieldError(field: "\(path).\(key)", problem: "expected a number, got \(other?.typeName ?? "nothing")")
        }
        guard value.rounded() == value, Double(range.lowerBound) <= value, value <= Double(range.upperBound) else {
            throw FieldError(field: "\(path).\(key)", problem: "\(value) is not a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return Int(value)
    }
}

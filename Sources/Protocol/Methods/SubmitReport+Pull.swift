/// A whole `reports/submit` request read straight from its line (``JSONParser``'s pull style): no `JSONValue`
/// tree, no dictionaries, member names compared as bytes. The daemon takes tens of thousands of these a second,
/// and the tree cost half of its reading thread.
extension SubmitReport {
    /// The request's id and params when `line` is a well-formed `reports/submit` request whose params are read
    /// as ``Params/init(json:)`` would read them; nil for anything else: a malformed line, unknown or repeated
    /// members, a wrong type or a date out of range. The caller then takes the general path, whose errors name
    /// the field. For every line it accepts, the result is the one that path gives. `report` is where the report's
    /// object lies in `line`: with only known members, each once, it reads back as `params.report`.
    public static func pull(_ line: Data) -> (id: RequestID, params: Params, report: Range<Int>)? {
        line.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            do throws(JSONParser.ParseError) { return try parser.submitRequest() } catch { return nil }
        }
    }
}

extension IntegrationReport {
    /// A report alone (as the store keeps its body) read in one pass; nil for anything
    /// ``init(json:path:)`` might read differently, which the caller then uses instead.
    public static func pull(_ body: Data) -> IntegrationReport? {
        body.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            do throws(JSONParser.ParseError) {
                guard let report = try parser.integrationReport(), parser.atEnd() else { return nil }
                return report
            } catch { return nil }
        }
    }
}

private extension JSONParser {
    mutating func submitRequest() throws(ParseError) -> (id: RequestID, params: SubmitReport.Params, report: Range<Int>)? {
        var id: RequestID?, version = false, method = false, params: (SubmitReport.Params, Range<Int>)?
        guard try openObject() else { return nil }
        repeat {
            let name = try memberName()
            if name.equals("id") {
                guard id == nil else { return nil }
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
                    id = .string(try string())
                } else if case .int(let number) = try numberValue() {
                    id = .number(number)
                } else {
                    return nil
                }
            } else if name.equals("jsonrpc") {
                guard !version, try stringValue() == "2.0" else { return nil }
                version = true
            } else if name.equals("method") {
                guard !method, try stringValue() == SubmitReport.name else { return nil }
                method = true
            } else if name.equals("params") {
                guard params == nil, let read = try submitParams() else { return nil }
                params = read
            } else {
                return nil
            }
        } while try more(closing: UInt8(ascii: "}"))
        guard atEnd(), version, method, let id, let params else { return nil }
        return (id, params.0, params.1)
    }

    mutating func submitParams() throws(ParseError) -> (SubmitReport.Params, Range<Int>)? {
        var report: IntegrationReport?, part: SubmitReport.ReportPart?, partSeen = false, range = 0..<0
        guard try openObject() else { return nil }
        repeat {
            let name = try memberName()
            if name.equals("report") {
                skipWhitespace()
                let start = position
                guard report == nil, let read = try integrationReport() else { return nil }
                report = read
                range = start..<position
            } else if name.equals("part") {
                guard !partSeen else { return nil }
                partSeen = true
                if try null() { continue }
                guard let read = try reportPart() else { return nil }
                part = read
            } else {
                return nil
            }
        } while try more(closing: UInt8(ascii: "}"))
        guard let report else { return nil }
        return (SubmitReport.Params(report: report, part: part), range)
    }

    mutating func reportPart() throws(ParseError) -> SubmitReport.ReportPart? {
        var count: Int?, index: Int?
        guard try openObject() else { return nil }
        repeat {
            let name = try memberName()
            if name.equals("count") {
                guard count == nil, let value = Self.whole(try numberValue(), 1...SubmitReport.maxParts) else { return nil }
                count = value
            } else if name.equals("index") {
                guard index == nil, let value = Self.whole(try numberValue(), 0...SubmitReport.maxParts - 1) else { return nil }
                index = value
            } else {
                return nil
            }
        } while try more(closing: UInt8(ascii: "}"))
        guard let count, let index else { return nil }
        return SubmitReport.ReportPart(index: index, count: count)
    }

    /// The report's members, each at most once; see ``IntegrationReport/init(json:path:)`` for what each may be.
    mutating func integrationReport() throws(ParseError) -> IntegrationReport? {
        var reportId: String?, serverName: String?, connectorId: String?, connectorName: String?
        var start: Date?, completion: Date?, completionSeen = false
        var created: [String]?, updated: [String]?, deleted: [String]?
        var properties: [String: String] = [:], propertiesSeen = false
        guard try openObject() else { return nil }
        repeat {
            guard let member = ReportMember(try memberName()) else { return nil }
            switch member {
            case .reportId:
                guard reportId == nil else { return nil }
                reportId = try stringValue()
            case .serverName:
                guard serverName == nil else { return nil }
                serverName = try stringValue()
            case .connectorId:
                guard connectorId == nil else { return nil }
                connectorId = try stringValue()
            case .connectorName:
                guard connectorName == nil else { return nil }
                connectorName = try stringValue()
            case .refreshStartDate:
                guard start == nil, let date = try date() else { return nil }
                start = date
            case .refreshCompletionDate:
                guard !completionSeen else { return nil }
                completionSeen = true
                if try null() { continue }
                guard let date = try date() else { return nil }
                completion = date
            case .createdElements:
                guard created == nil else { return nil }
                created = try strings()
            case .updatedElements:
                guard updated == nil else { return nil }
                updated = try strings()
            case .deletedElements:
                guard deleted == nil else { return nil }
                deleted = try strings()
            case .additionalProperties:
                guard !propertiesSeen else { return nil }
                propertiesSeen = true
                if try null() { continue }
                guard try openObject() else { continue }
                repeat {
                    skipWhitespace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    properties[key] = try stringValue()
                } while try more(closing: UInt8(ascii: "}"))
            }
        } while try more(closing: UInt8(ascii: "}"))
        guard let reportId, let serverName, let connectorId, let connectorName, let start, let created, let updated, let deleted else {
            return nil
        }
        return IntegrationReport(reportId: reportId, serverName: serverName, connectorId: connectorId, connectorName: connectorName,
                                 refreshStartDate: start, refreshCompletionDate: completion, createdElements: created,
                                 updatedElements: updated, deletedElements: deleted, additionalProperties: properties)
    }

    mutating func strings() throws(ParseError) -> [String] {
        var strings: [String] = []
        guard try openArray() else { return strings }
        repeat { strings.append(try stringValue()) } while try more(closing: UInt8(ascii: "]"))
        return strings
    }

    /// Epoch milliseconds within year 1…9999, as ``FieldError/date(_:_:in:)`` takes them.
    mutating func date() throws(ParseError) -> Date? {
        let millis: Double
        switch try numberValue() {
        case .int(let value): millis = Double(value)
        case .double(let value): millis = value
        default: return nil
        }
        guard EpochMillis.range.contains(millis) else { return nil }
        return Date(timeIntervalSince1970: millis / 1000)
    }

    /// A whole number in `range`, as ``FieldError/whole(_:_:in:_:)`` takes it.
    static func whole(_ value: JSONValue, _ range: ClosedRange<Int>) -> Int? {
        let number: Double
        switch value {
        case .int(let value): number = Double(value)
        case .double(let value): number = value
        default: return nil
        }
        guard number.rounded() == number, Double(range.lowerBound) <= number, number <= Double(range.upperBound) else { return nil }
        return Int(number)
    }
}

/// A report's member names, told apart by length (and first byte) before one comparison: a chain of comparisons
/// cost a twentieth of the daemon's reading thread.
private enum ReportMember {
    case reportId, serverName, connectorId, connectorName, refreshStartDate, refreshCompletionDate
    case createdElements, updatedElements, deletedElements, additionalProperties

    init?(_ name: UnsafeRawBufferPointer) {
        let candidate: (Self, StaticString)
        switch name.count {
        case 8: candidate = (.reportId, "reportId")
        case 10: candidate = (.serverName, "serverName")
        case 11: candidate = (.connectorId, "connectorId")
        case 13: candidate = (.connectorName, "connectorName")
        case 15:
            switch name[0] {
            case UInt8(ascii: "c"): candidate = (.createdElements, "createdElements")
            case UInt8(ascii: "u"): candidate = (.updatedElements, "updatedElements")
            default: candidate = (.deletedElements, "deletedElements")
            }
        case 16: candidate = (.refreshStartDate, "refreshStartDate")
        case 20: candidate = (.additionalProperties, "additionalProperties")
        case 21: candidate = (.refreshCompletionDate, "refreshCompletionDate")
        default: return nil
        }
        guard name.equals(candidate.1) else { return nil }
        self = candidate.0
    }
}

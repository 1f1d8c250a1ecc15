import Foundation
import Protocol
import Store

/// One OpenLineage event as the door takes it: checked against the OpenLineage 2-0-2 spec's required fields and
/// formats, with the few fields the store indexes pulled out. The body is kept as the client sent it.
///
/// The spec's three kinds are told apart as its JSON schema does: a `run` makes a RunEvent, a `dataset` a
/// DatasetEvent, a `job` alone a JobEvent. Facets are checked only for being objects (and a parent run's id for
/// being a UUID): they are open-ended, and producers add their own.
struct OpenLineageEvent: Sendable, Equatable {
    enum Kind: String, Sendable { case run = "RunEvent", dataset = "DatasetEvent", job = "JobEvent" }

    /// Why an event was refused, with the path of the field at fault (`run.runId`, `inputs[2].name`).
    struct Invalid: Error, CustomStringConvertible, Equatable {
        let field: String
        let reason: String
        var description: String { "\(field): \(reason)" }
    }

    let kind: Kind
    /// START, RUNNING, COMPLETE, ABORT, FAIL or OTHER; nil when a RunEvent leaves it out (the spec allows it).
    let eventType: String?
    let eventTimeMillis: Int64
    let runId: String?
    let jobNamespace: String?
    let jobName: String?
    /// What makes a retry of this event the same event: kind, run, type, time and the body's SHA-256.
    let key: String

    static let eventTypes: Set<String> = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]

    init(body: [UInt8]) throws(Invalid) {
        let value: JSONValue
        do { value = try JSONParser.parse(Data(body)) } catch {
            throw Invalid(field: "event", reason: "not JSON: \(error)")
        }
        guard case .object(let event) = value else { throw Invalid(field: "event", reason: "expected an object, got \(value.typeName)") }
        kind = if event["run"] != nil { .run } else if event["dataset"] != nil { .dataset } else if event["job"] != nil { .job } else {
            throw Invalid(field: "event", reason: "neither a RunEvent (run, job), a DatasetEvent (dataset) nor a JobEvent (job)")
        }
        let fields = Fields(event, path: "")
        eventTimeMillis = try Self.dateTime(fields.string("eventTime"), field: "eventTime")
        try Self.uri(fields.string("producer"), field: "producer")
        try Self.uri(fields.string("schemaURL"), field: "schemaURL")
        switch kind {
        case .run:
            let run = try fields.object("run")
            let id = try run.string("runId")
            try Self.uuid(id, field: "run.runId")
            runId = id.lowercased()
            try Self.checkFacets(run, parentRun: true)
            let type = try fields.optionalString("eventType")
            if let type, !Self.eventTypes.contains(type) {
                throw Invalid(field: "eventType", reason: "expected one of \(Self.eventTypes.sorted().joined(separator: ", ")), got \"\(type.prefix(64))\"")
            }
            eventType = type
        case .dataset, .job:
            runId = nil
            eventType = nil
        }
        if kind == .dataset {
            try Self.dataset(fields.object("dataset"))
            jobNamespace = nil
            jobName = nil
        } else {
            let job = try fields.object("job")
            jobNamespace = try job.string("namespace")
            jobName = try job.string("name")
            try Self.checkFacets(job, parentRun: false)
            for side in ["inputs", "outputs"] {
                for dataset in try fields.optionalObjects(side) { try Self.dataset(dataset) }
            }
        }
        let digits = Array("0123456789abcdef".utf8)
        let hex = String(decoding: BearerTokens.sha256(body).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
        key = [kind.rawValue, runId ?? "", eventType ?? "", String(eventTimeMillis), hex].joined(separator: "|")
    }

    private static func dataset(_ dataset: Fields) throws(Invalid) {
        _ = try dataset.string("namespace")
        _ = try dataset.string("name")
        try checkFacets(dataset, parentRun: false)
        for facets in ["inputFacets", "outputFacets"] { _ = try dataset.optionalObject(facets) }
    }

    private static func checkFacets(_ owner: Fields, parentRun: Bool) throws(Invalid) {
        guard let facets = try owner.optionalObject("facets") else { return }
        for name in facets.names { _ = try facets.object(name) }
        guard parentRun, let parent = try facets.optionalObject("parent") else { return }
        let job = try parent.object("job")
        _ = try job.string("namespace")
        _ = try job.string("name")
        let run = try parent.object("run")
        try uuid(run.string("runId"), field: run.path + ".runId")
    }

    /// RFC 3339 `date-time`, as the spec's `format: date-time` means: a date, `T`, a time with optional fraction,
    /// and `Z` or an offset. Milliseconds since 1970.
    static func dateTime(_ text: String, field: String) throws(Invalid) -> Int64 {
        let invalid = Invalid(field: field, reason: "expected an RFC 3339 date-time (2026-12-07T18:05:00.000Z), got \"\(text.prefix(64))\"")
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54 || bytes[10] == 0x74 || bytes[10] == 0x20,
              bytes[13] == 0x3A, bytes[16] == 0x3A,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), hour < 24, minute < 60, second <= 60 else { throw invalid }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...days[month - 1]).contains(day) else { throw invalid }
        var index = 19
        var millis = 0
        if index < bytes.count && bytes[index] == 0x2E {
            index += 1
            let start = index
            while index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 { index += 1 }
            guard index > start, index - start <= 9 else { throw invalid }
            let digits = Array(bytes[start..<min(index, start + 3)]) + Array(repeating: UInt8(0x30), count: max(0, 3 - (index - start)))
            millis = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard index < bytes.count else { throw invalid }
        var offsetMinutes = 0
        if bytes[index] == 0x5A || bytes[index] == 0x7A {
            index += 1
        } else if bytes[index] == 0x2B || bytes[index] == 0x2D {
            guard let hours = number(index + 1..<index + 3), index + 3 < bytes.count, bytes[index + 3] == 0x3A,
                  let minutes = number(index + 4..<index + 6), hours < 24, minutes < 60 else { throw invalid }
            offsetMinutes = (hours * 60 + minutes) * (bytes[index] == 0x2D ? -1 : 1)
            index += 6
        } else {
            throw invalid
        }
        guard index == bytes.count else { throw invalid }
        // Days from 1970-01-01 to the date (proleptic Gregorian), then the time of day.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let epochDays = era * 146_097 + dayOfEra - 719_468
        let seconds = epochDays * 86_400 + hour * 3_600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return Int64(seconds) * 1_000 + Int64(millis)
    }

    /// The spec's `format: uri`: an absolute URI, a scheme then `:`, with no spaces or control characters.
    static func uri(_ text: String, field: String) throws(Invalid) {
        let bytes = Array(text.utf8)
        guard let colon = bytes.firstIndex(of: 0x3A), colon > 0, colon + 1 < bytes.count,
              bytes[0].isASCIILetter, bytes[1..<colon].allSatisfy({ $0.isASCIILetter || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }),
              bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw Invalid(field: field, reason: "expected an absolute URI (https://…), got \"\(text.prefix(64))\"")
        }
    }

    /// The spec's `format: uuid`: 8-4-4-4-12 hexadecimal digits.
    static func uuid(_ text: String, field: String) throws(Invalid) {
        let bytes = Array(text.utf8)
        let hex: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
        guard bytes.count == 36, bytes.enumerated().allSatisfy({ [8, 13, 18, 23].contains($0.offset) ? $0.element == 0x2D : hex($0.element) }) else {
            throw Invalid(field: field, reason: "expected a UUID, got \"\(text.prefix(64))\"")
        }
    }

    /// An object's members, read with the path of each field for the error.
    private struct Fields {
        let members: [String: JSONValue]
        let path: String

        init(_ members: [String: JSONValue], path: String) {
            self.members = members
            self.path = path
        }

        var names: [String] { members.keys.sorted() }

        private func at(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

        func string(_ name: String) throws(Invalid) -> String {
            guard let value = members[name] else { throw Invalid(field: at(name), reason: "missing") }
            guard case .string(let text) = value, !text.isEmpty else {
                throw Invalid(field: at(name), reason: "expected a non-empty string, got \(value.typeName)")
            }
            return text
        }

        func optionalString(_ name: String) throws(Invalid) -> String? {
            guard let value = members[name], value != .null else { return nil }
            return try string(name)
        }

        func object(_ name: String) throws(Invalid) -> Fields {
            guard let value = members[name] else { throw Invalid(field: at(name), reason: "missing") }
            guard case .object(let members) = value else { throw Invalid(field: at(name), reason: "expected an object, got \(value.typeName)") }
            return Fields(members, path: at(name))
        }

        func optionalObject(_ name: String) throws(Invalid) -> Fields? {
            guard let value = members[name], value != .null else { return nil }
            return try object(name)
        }

        func optionalObjects(_ name: String) throws(Invalid) -> [Fields] {
            guard let value = members[name], value != .null else { return [] }
            guard case .array(let items) = value else { throw Invalid(field: at(name), reason: "expected an array, got \(value.typeName)") }
            var objects: [Fields] = []
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    throw Invalid(field: "\(at(name))[\(index)]", reason: "expected an object, got \(item.typeName)")
                }
                objects.append(Fields(members, path: "\(at(name))[\(index)]"))
            }
            return objects
        }
    }
}

private extension UInt8 {
    var isASCIILetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) }
}

extension OpenLineageEvent {
    /// What the store keeps of it beside its body.
    var record: LineageEventRecord {
        LineageEventRecord(kind: kind.rawValue, eventType: eventType, eventTimeMillis: eventTimeMillis, runId: runId,
                           jobNamespace: jobNamespace, jobName: jobName, key: key)
    }
}

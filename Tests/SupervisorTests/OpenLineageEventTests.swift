import Foundation
import Testing
@testable import Supervisor

/// The door's reading of an OpenLineage event: the spec's kinds, formats and field paths, without a daemon.
@Suite("OpenLineage events")
struct OpenLineageEventTests {
    static func corpus(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: LabPart.repositoryRoot.appendingPathComponent("Fuzz/Corpus/openlineage-event/\(name)")))
    }

    @Test("a RunEvent, a DatasetEvent and a JobEvent are told apart and their indexed fields read")
    func kinds() throws {
        let run = try OpenLineageEvent(body: Self.corpus("run-event.json"))
        #expect(run.kind == .run && run.eventType == "COMPLETE" && run.jobName == "daily.summarise" && run.jobNamespace == "airflow")
        #expect(run.runId == "0193a1c2-7d4e-7b8f-9a0b-1c2d3e4f5a6b")
        // 18:05:00.123456 at +01:00 is 17:05:00.123 UTC.
        #expect(run.eventTimeMillis == Int64(Date(timeIntervalSince1970: 1_796_663_100).timeIntervalSince1970 * 1000) + 123)
        let dataset = try OpenLineageEvent(body: Self.corpus("dataset-event.json"))
        #expect(dataset.kind == .dataset && dataset.runId == nil && dataset.jobName == nil)
        let job = try OpenLineageEvent(body: Self.corpus("job-event.json"))
        #expect(job.kind == .job && job.jobName == "j")
    }

    @Test("RFC 3339 date-times: offsets, fractions, a leap day and a leap second; impossible dates refused", arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)), ("1970-01-01T01:00:00+01:00", 0), ("1969-12-31T23:59:59.999Z", -1),
        ("2024-02-29T12:00:00.5z", 1_709_208_000_500), ("2016-12-31T23:59:60Z", 1_483_228_799_000),
        ("2026-12-07 18:05:00-05:30", 1_796_686_500_000),
    ])
    func dateTimes(text: String, millis: Int64) throws {
        #expect(try OpenLineageEvent.dateTime(text, field: "eventTime") == millis)
    }

    @Test("malformed date-times are refused, naming the field", arguments: [
        "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-07T24:00:00Z", "2026-12-07T18:05:00", "2026-12-07T18:05Z",
        "2026-12-07T18:05:00.Z", "2026-12-07T18:05:00+0100", "2026-12-07T18:05:00.1234567890Z", "+2026-12-07T18:05:00Z", "",
    ])
    func badDateTimes(text: String) {
        #expect(throws: OpenLineageEvent.Invalid.self) { try OpenLineageEvent.dateTime(text, field: "eventTime") }
    }

    @Test("the same bytes make the same key; another body, run or time another")
    func keys() throws {
        let body = try Self.corpus("run-event.json")
        #expect(try OpenLineageEvent(body: body).key == OpenLineageEvent(body: body).key)
        var spaced = body
        spaced.insert(0x20, at: 1)
        #expect(try OpenLineageEvent(body: spaced).key != OpenLineageEvent(body: body).key)
    }

    @Test("the first field at fault is named with its path")
    func paths() throws {
        let refused = #expect(throws: OpenLineageEvent.Invalid.self) { try OpenLineageEvent(body: Self.corpus("malformed.json")) }
        #expect(refused?.field == "eventTime")
        let noSchema = Array(#"{"eventTime":"2026-12-07T18:05:00Z","producer":"https://p","run":{"runId":"0193a1c2-7d4e-7b8f-9a0b-1c2d3e4f5a6b"},"job":{"namespace":"a","name":"b"}}"#.utf8)
        #expect((#expect(throws: OpenLineageEvent.Invalid.self) { try OpenLineageEvent(body: noSchema) })?.field == "schemaURL")
    }
}

import Foundation
import Protocol
import Testing

/// `SubmitReport.pull`, the one-pass read of `reports/submit`, gives what the full parse gives for every line it
/// takes, and leaves every line it is not sure of (malformed, unknown or repeated members, values out of range) to
/// the full parse, whose errors name the field.
@Suite("reports/submit read in one pass")
struct SubmitReportPullTests {
    /// The full parse, as the daemon's general fast path reads a request: nil where it would not serve it.
    static func reference(_ line: String) -> (id: RequestID, params: SubmitReport.Params)? {
        guard case .object(let message)? = try? JSONParser.parse(Data(line.utf8)), message["jsonrpc"] == .string("2.0"),
              message["method"] == .string(SubmitReport.name), let id = RequestID(json: message["id"]),
              let params = message["params"], let read = try? SubmitReport.Params(json: params) else { return nil }
        return (id, read)
    }

    static func same(_ a: (id: RequestID, params: SubmitReport.Params, report: Range<Int>), _ b: (id: RequestID, params: SubmitReport.Params)) -> Bool {
        a.id == b.id && a.params.report == b.params.report && a.params.part == b.params.part
    }

    /// The bytes `pull` says hold the report read back, in one pass and in full, as the report it took: the
    /// daemon stores them as they are.
    static func readsBack(_ line: [UInt8], _ pulled: (id: RequestID, params: SubmitReport.Params, report: Range<Int>)) -> Bool {
        guard pulled.report.lowerBound >= 0, pulled.report.upperBound <= line.count else { return false }
        let body = Data(line[pulled.report])
        guard let fast = IntegrationReport.pull(body), let json = try? JSONParser.parse(body),
              let full = try? IntegrationReport(json: json, path: "report") else { return false }
        return fast == pulled.params.report && full == pulled.params.report
    }

    static let report = #"{"additionalProperties":{"outcome":"completed"},"connectorId":"c-1","connectorName":"flood","createdElements":["g1","g2"],"deletedElements":[],"refreshCompletionDate":1795942514690,"refreshStartDate":1795942514675,"reportId":"r-1","serverName":"bench","updatedElements":["g3"]}"#

    static let taken: [String] = [
        // As our workers write it, and as the bench's flood worker does.
        #"{"id":"r1","jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":7,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        // Another member order, whitespace everywhere, a part, a null part.
        #" { "params" : { "part" : { "index" : 1 , "count" : 3 } , "report" : \#(report) } , "method" : "reports/submit" , "id" : -4 , "jsonrpc" : "2.0" } "#,
        #"{"jsonrpc":"2.0","id":"x","method":"reports/submit","params":{"report":\#(report),"part":null}}"#,
        #"{"jsonrpc":"2.0","id":"x","method":"reports/submit","params":{"report":\#(report),"part":{"count":2.0,"index":0}}}"#,
        // Escapes and UTF-8 in values and in property names; empty and null optional members; dates as doubles.
        #"{"jsonrpc":"2.0","id":"\u00e9\n","method":"reports/submit","params":{"report":{"reportId":"r\"2\\","serverName":"sé😀","connectorId":"\ud83d\ude00","connectorName":"c\u0041","refreshStartDate":1.7959425146755E12,"refreshCompletionDate":null,"createdElements":[],"updatedElements":[],"deletedElements":["a\/b"],"additionalProperties":{"k\u00e9y":"v\t","outcome":"completed"}}}}"#,
        #"{"jsonrpc":"2.0","id":"x","method":"reports/submit","params":{"report":{"reportId":"r","serverName":"s","connectorId":"c","connectorName":"c","refreshStartDate":-62135596800000,"createdElements":[],"updatedElements":[],"deletedElements":[],"additionalProperties":{}}}}"#,
        #"{"jsonrpc":"2.0","id":"x","method":"reports/submit","params":{"report":{"reportId":"r","serverName":"s","connectorId":"c","connectorName":"c","refreshStartDate":0,"createdElements":[],"updatedElements":[],"deletedElements":[],"additionalProperties":null}}}"#,
    ]

    @Test("a well-formed request is read as the full parse reads it", arguments: taken)
    func agrees(_ line: String) throws {
        let pulled = try #require(SubmitReport.pull(Data(line.utf8)), "not taken: \(line)")
        let full = try #require(Self.reference(line))
        #expect(Self.same(pulled, full), "\(pulled) vs \(full)")
        #expect(Self.readsBack(Array(line.utf8), pulled), "the report's bytes \(pulled.report) in \(line)")
    }

    static let left: [String] = [
        #"{"id":1,"jsonrpc":"2.0","method":"reports/other","params":{"report":\#(report)}}"#,
        #"{"id":1,"jsonrpc":"1.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":1.5,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":null,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)},"extra":1}"#,
        #"{"id":1,"id":2,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report),"report":\#(report)}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}} x"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report)}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report),"part":{"count":10001,"index":5}}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report),"part":{"count":0.5,"index":0}}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: "1795942514675", with: "1e300"))}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: #""createdElements":["g1","g2"]"#, with: #""createdElements":"g1""#))}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: #""serverName":"bench""#, with: #""serverName":"bench","source":"x""#))}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: #""outcome":"completed""#, with: #""outcome":1"#))}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: #""reportId":"r-1","#, with: ""))}}"#,
        #"{"id":1,"jsonr\u0070c":"2.0","method":"reports/submit","params":{"report":\#(report)}}"#,
        #"{"id":1,"jsonrpc":"2.0","method":"reports/submit","params":{"report":\#(report.replacingOccurrences(of: "r-1", with: "r\u{1}1"))}}"#,
    ]

    @Test("anything unexpected is left to the full parse", arguments: left)
    func leaves(_ line: String) {
        #expect(SubmitReport.pull(Data(line.utf8)) == nil, "taken: \(line)")
    }

    /// Thousands of damaged lines (bytes dropped, changed, duplicated): whatever the one-pass read takes, the full
    /// parse takes too, with the same result. A fixed seed, so a failure repeats.
    @Test("a damaged line is never read differently from the full parse")
    func damagedLines() {
        var random = SplitMix(seed: 0x5eed)
        let bases = Self.taken.map { Array($0.utf8) }
        let alphabet = Array(#"{}[],:"\ 0123456789.eE-+tfnulaxr/"#.utf8)
        var taken = 0
        for round in 0..<6_000 {
            var bytes = bases[round % bases.count]
            for _ in 0...(random.next() % 3) {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                default: bytes.insert(bytes[at], at: at)
                }
            }
            let line = String(decoding: bytes, as: UTF8.self)
            guard let pulled = SubmitReport.pull(Data(bytes)) else { continue }
            taken += 1
            guard let full = Self.reference(line) else {
                Issue.record("taken in one pass, refused by the full parse: \(line)")
                continue
            }
            #expect(Self.same(pulled, full), "\(line)")
            #expect(Self.readsBack(bytes, pulled), "the report's bytes \(pulled.report) in \(line)")
        }
        // Some damage is harmless (a digit in a GUID): the comparison above must have had work to do.
        #expect(taken > 100, "only \(taken) damaged lines were taken")
    }
}

/// A small seeded generator (SplitMix64), so the damage is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SubmitReportPullTests {
    @Test("a stored report body is read in one pass as the full parse reads it")
    func storedBodies() throws {
        let day = Date(timeIntervalSince1970: 1_795_942_514.675)
        let reports = [
            IntegrationReport(reportId: "r\"1\\", serverName: "sé😀", connectorId: "c\n", connectorName: "c\u{1}", refreshStartDate: day,
                              refreshCompletionDate: nil, createdElements: [], updatedElements: ["a/b"], deletedElements: ["x", "y"],
                              additionalProperties: [:]),
            IntegrationReport(reportId: "r2", serverName: "s", connectorId: "c", connectorName: "c", refreshStartDate: day,
                              refreshCompletionDate: day.addingTimeInterval(0.015), createdElements: (0..<50).map { "g\($0)" },
                              updatedElements: [], deletedElements: [], additionalProperties: ["outcome": "completed", "k\t": "v\u{7f}"]),
        ]
        for report in reports {
            var writer = JSONWriter()
            report.write(to: &writer)
            let body = Data(writer.bytes)
            let pulled = try #require(IntegrationReport.pull(body), "not taken: \(String(decoding: body, as: UTF8.self))")
            #expect(pulled == (try IntegrationReport(json: JSONParser.parse(body), path: "report")))
            // Dates go through epoch milliseconds, so compare the rest with what was written.
            #expect(pulled.reportId == report.reportId && pulled.connectorName == report.connectorName
                    && pulled.createdElements == report.createdElements && pulled.additionalProperties == report.additionalProperties)
        }
        #expect(IntegrationReport.pull(Data(#"{"reportId":"r"} x"#.utf8)) == nil)
        #expect(IntegrationReport.pull(Data("[]".utf8)) == nil)
    }
}

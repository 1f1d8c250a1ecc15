import Foundation
import Protocol
import Testing

/// The hand-written JSON parser and writer agree with Foundation's, refuse what RFC 8259 refuses, and
/// survive hostile input; the batch params read from them name the offending field.
@Suite("Hand-written JSON")
struct JSONCodecTests {
    static let valid: [String] = [
        "null", "true", "false", "0", "-0", "42", "-17", "9223372036854775807", "1.5", "-2.5e-3", "1E10", "1e300",
        "9223372036854775808", "\"\"", "\"plain\"", "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u00e9\\ud83d\\ude00\"",
        "\"bé😀\"", "[]", "[1,[2,[3]]]", "{}", "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}", "  { \"a\" : 1 }  ",
    ]

    @Test("valid JSON parses to what Foundation decodes", arguments: valid)
    func agreesWithFoundation(_ text: String) throws {
        let parsed = try JSONParser.parse(Data(text.utf8))
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(parsed == foundation || Self.sameNumber(parsed, foundation), "\(parsed) vs \(foundation)")
    }

    /// Foundation reads `-0` and `1E10` into other number cases; the values are equal.
    static func sameNumber(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard let x = a.doubleValue, let y = b.doubleValue else { return false }
        return x == y
    }

    static let invalid: [(String, String)] = [
        ("", "unexpected end"), ("nul", "unexpected end"), ("tru", "unexpected end"), ("[1,]", "unexpected character"),
        ("{\"a\":1,}", "expected a member name"), ("{\"a\" 1}", "expected ':'"), ("[1 2]", "expected ',' or ']'"),
        ("01", "unexpected text after"), ("1.", "invalid number"), ("-", "unexpected end"), ("1e", "invalid number"),
        ("1e400", "out of range"), ("-1e400", "out of range"), ("\"abc", "unterminated"), ("\"a\u{01}b\"", "control character"),
        ("\"\\x\"", "invalid escape"), ("\"\\u12zz\"", "invalid \\u escape"), ("\"\\ud800\"", "unpaired surrogate"),
        ("\"\\udc00\"", "unpaired surrogate"), ("{} {}", "unexpected text after"), ("'a'", "unexpected character"),
        ("NaN", "unexpected character"), ("Infinity", "unexpected character"),
    ]

    @Test("invalid JSON is refused with a reason and an offset")
    func refusesInvalid() {
        for (text, reason) in Self.invalid {
            #expect(throws: JSONParser.ParseError.self, "\(text)") { try JSONParser.parse(Data(text.utf8)) }
            do { _ = try JSONParser.parse(Data(text.utf8)) } catch {
                #expect(error.reason.contains(reason), "\(text): \(error)")
            }
        }
    }

    @Test("invalid UTF-8 in a string and nesting past the cap are refused, not crashed on")
    func hostileInput() throws {
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(Data([0x22, 0xFF, 0xFE, 0x22])) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do { _ = try JSONParser.parse(Data(deep.utf8)); Issue.record("100,000 levels accepted") } catch {
            #expect(error.reason.contains("nested deeper"))
        }
        let allowed = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(throws: Never.self) { try JSONParser.parse(Data(allowed.utf8)) }
    }

    @Test("the writer's output parses back to the same value, and Foundation reads it too")
    func writerRoundTrip() throws {
        let value: JSONValue = .object(["s": .string("quote \" slash / back \\ nl \n tab \t bell \u{07} é 😀"), "i": .int(Int.min),
                                        "d": .double(0.1), "big": .double(1e300), "b": .bool(false), "n": .null,
                                        "a": .array([.int(1), .object([:]), .array([])])])
        var writer = JSONWriter()
        writer.value(value)
        let data = Data(writer.bytes)
        #expect(try JSONParser.parse(data) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        var infinite = JSONWriter()
        infinite.value(.double(.infinity))
        #expect(infinite.bytes == Array("null".utf8))
    }

    @Test("integers are written as Swift prints them, at both ends of the range")
    func integers() {
        for number in [0, 7, -1, 10, -10, 1_795_940_000_123, Int.max, Int.min, Int.min + 1] {
            var writer = JSONWriter()
            writer.int(number)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(number))
        }
    }

    @Test("a writer appending to a buffer leaves what was there and adds only its own bytes")
    func appendsInPlace() {
        var buffer = Array("[1,".utf8)
        JSONWriter.append(to: &buffer) { $0.int(2); $0.raw("]") }
        #expect(String(decoding: buffer, as: UTF8.self) == "[1,2]")
    }

    @Test("an element written by hand (classifications and relationships too) is byte for byte what MessageEncoder writes")
    func elementMatchesEncoder() throws {
        let date = Date(timeIntervalSince1970: 1_795_940_000.123)
        for service in [nil, "files-integrator"] {
            let structured = service != nil
            let element = MetadataElement(guid: GUID.random(), typeName: "DataFile", qualifiedName: "/data/a \"b\".csv",
                                          properties: ["size": .int(3), "name": .string("a\u{01}"), "nested": .object(["x": .array([.null])])],
                                          metadataSourceQualifiedName: service, createTime: date, updateTime: date,
                                          version: 2, integrationService: service,
                                          classifications: structured ? ["PrimaryKey": ["displayName": .string("k")], "CalculatedValue": [:]] : nil,
                                          relationships: structured ? [MetadataRelationship(guid: "r", typeName: "ForeignKey", end1GUID: "a", end2GUID: "b",
                                                                                            properties: ["displayName": .string("x - y")])] : nil)
            var writer = JSONWriter()
            element.write(to: &writer)
            var encoded = try MessageEncoder().line(element)
            encoded.removeLast()
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
        }
    }

    @Test("GUIDs are lowercase time-ordered (version 7) UUIDs, do not repeat, and sort by creation time")
    func guids() {
        var seen = Set<String>()
        var previousMillis = ""
        for _ in 0..<10_000 {
            let guid = GUID.random()
            #expect(guid.count == 36 && guid == guid.lowercased())
            #expect(UUID(uuidString: guid) != nil, "\(guid) is not a UUID")
            let characters = Array(guid)
            #expect(characters[14] == "7" && "89ab".contains(characters[19]), "\(guid) is not version 7, RFC variant")
            let millis = String(guid.prefix(13))
            #expect(millis >= previousMillis, "\(guid) sorts before an earlier GUID")
            previousMillis = millis
            seen.insert(guid)
        }
        #expect(seen.count == 10_000)
    }

    @Test("writeElements params read by hand: every write kind, and each bad field named")
    func batchParams() throws {
        let good = try JSONParser.parse(Data("""
            {"connectorName":"c","metadataSourceQualifiedName":null,"writes":[
              {"op":"create","typeName":"T","qualifiedName":"q","properties":{"a":1}},
              {"op":"create","typeName":"T","qualifiedName":"r"},
              {"op":"update","guid":"g","properties":{"b":"x"},"replaceProperties":true},
              {"op":"delete","guid":"h"},
              {"op":"create","typeName":"C","qualifiedName":"s","parent":{"parentGUID":"p","relationshipTypeName":"NestedSchemaAttribute",
               "properties":{"position":2}},"initialClassifications":{"PrimaryKey":{"displayName":"k"},"CalculatedValue":null}},
              {"op":"create","typeName":"S","qualifiedName":"t","parent":{"parentGUID":"d","relationshipTypeName":"DataSetContent","parentAtEnd1":false}},
              {"op":"relate","typeName":"ForeignKey","end1GUID":"a","end2GUID":"b","properties":{"displayName":"x"}},
              {"op":"unrelate","relationshipGUID":"r"},
              {"op":"classify","guid":"g","classificationName":"PrimaryKey"},
              {"op":"declassify","guid":"g","classificationName":"PrimaryKey"}]}
            """.utf8))
        let params = try WriteElements.Params(json: good)
        #expect(params.connectorName == "c" && params.metadataSourceQualifiedName == nil)
        #expect(params.writes == [.create(typeName: "T", qualifiedName: "q", properties: ["a": .int(1)]),
                                  .create(typeName: "T", qualifiedName: "r", properties: [:]),
                                  .update(guid: "g", properties: ["b": .string("x")], replaceProperties: true),
                                  .delete(guid: "h"),
                                  .create(typeName: "C", qualifiedName: "s", properties: [:],
                                          parent: ParentLink(parentGUID: "p", relationshipTypeName: "NestedSchemaAttribute", properties: ["position": .int(2)]),
                                          classifications: ["PrimaryKey": ["displayName": .string("k")], "CalculatedValue": [:]]),
                                  .create(typeName: "S", qualifiedName: "t", properties: [:],
                                          parent: ParentLink(parentGUID: "d", relationshipTypeName: "DataSetContent", parentAtEnd1: false)),
                                  .relate(typeName: "ForeignKey", end1GUID: "a", end2GUID: "b", properties: ["displayName": .string("x")]),
                                  .unrelate(relationshipGUID: "r"),
                                  .classify(guid: "g", classificationName: "PrimaryKey", properties: [:]),
                                  .declassify(guid: "g", classificationName: "PrimaryKey")])
        // The Codable path (the general one, and the worker's encoder) agrees.
        let encoded = try JSONEncoder().encode(params)
        #expect(try JSONDecoder().decode(WriteElements.Params.self, from: encoded).writes == params.writes)
        let bad: [(String, String)] = [
            ("[]", "params: expected an object"), ("{\"writes\":[]}", "params.connectorName: expected a string, got nothing"),
            ("{\"connectorName\":\"c\"}", "params.writes: expected an array"),
            ("{\"connectorName\":\"c\",\"writes\":[1]}", "params.writes[0]: expected an object, got number"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"delete\"}]}", "params.writes[0].guid: expected a string"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"update\",\"guid\":\"g\"}]}", "params.writes[0].properties: expected an object"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"update\",\"guid\":\"g\",\"properties\":{},\"replaceProperties\":1}]}",
             "params.writes[0].replaceProperties: expected a boolean"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"x\"}]}", "params.writes[0].op: must be create, update, delete, relate, unrelate, classify or declassify"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"relate\",\"typeName\":\"T\",\"end1GUID\":\"a\"}]}", "params.writes[0].end2GUID: expected a string"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"create\",\"typeName\":\"T\",\"qualifiedName\":\"q\",\"parent\":{\"parentGUID\":\"p\"}}]}",
             "params.writes[0].parent.relationshipTypeName: expected a string"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"create\",\"typeName\":\"T\",\"qualifiedName\":\"q\",\"initialClassifications\":{\"K\":3}}]}",
             "params.writes[0].initialClassifications.K: expected an object"),
            ("{\"connectorName\":\"c\",\"writes\":[{\"op\":\"classify\",\"guid\":\"g\"}]}", "params.writes[0].classificationName: expected a string"),
            ("{\"connectorName\":\"c\",\"metadataSourceQualifiedName\":5,\"writes\":[]}", "params.metadataSourceQualifiedName: expected a string"),
        ]
        for (text, message) in bad {
            do { _ = try WriteElements.Params(json: try JSONParser.parse(Data(text.utf8))); Issue.record("\(text) accepted") } catch {
                #expect("\(error)".contains(message), "\(text): \(error)")
            }
        }
        let tooMany = WriteElements.Params(connectorName: "c", metadataSourceQualifiedName: nil,
                                           writes: Array(repeating: .delete(guid: "g"), count: WriteElements.maxWrites + 1))
        #expect(tooMany.outOfRange?.contains("writes (count)") == true)
    }

    @Test("a report written by hand is byte for byte MessageEncoder's, and reads back through the hand-written decoder")
    func reportMatchesEncoder() throws {
        let date = Date(timeIntervalSince1970: 1_795_940_000.5)
        // None, one and several additional properties: each has its own path in JSONWriter.stringObject.
        let properties: [[String: String]] = [[:], ["outcome": "completed"], ["outcome": "completed", "why": "a\nb", "a": ""]]
        let cases = [nil, date.addingTimeInterval(2)].flatMap { completion in properties.map { (completion, $0) } }
        for (completion, additional) in cases {
            let report = IntegrationReport(reportId: "r-\u{e9}\"1", serverName: "s", connectorId: "c-id", connectorName: "c", refreshStartDate: date,
                                           refreshCompletionDate: completion, createdElements: ["g1", "g2"], updatedElements: [],
                                           deletedElements: ["g3"], additionalProperties: additional)
            var writer = JSONWriter()
            report.write(to: &writer)
            var encoded = try MessageEncoder().line(report)
            encoded.removeLast()
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
            let params = try SubmitReport.Params(json: JSONParser.parse(Data("{\"report\":".utf8 + writer.bytes + "}".utf8)))
            #expect(params.report == report && params.part == nil)
        }
        // With nothing to escape, the estimate is an upper bound: the stored body's buffer never grows.
        let plain = IntegrationReport(reportId: String(repeating: "r", count: 40), serverName: "bench", connectorId: "flood-0",
                                      connectorName: "flood-0", refreshStartDate: date, refreshCompletionDate: date,
                                      createdElements: (0..<50).map { "guid-\($0)-0123456789abcdef" }, updatedElements: ["u"],
                                      deletedElements: ["d"], additionalProperties: ["outcome": "completed", "k": "v"])
        var writer = JSONWriter(capacity: 0)
        plain.write(to: &writer)
        #expect(writer.bytes.count <= plain.encodedSizeEstimate)
    }

    @Test("reports/submit params read by hand refuse out-of-range dates and part numbers, naming the field")
    func submitParamsRanges() throws {
        let report = "{\"reportId\":\"r\",\"serverName\":\"s\",\"connectorId\":\"i\",\"connectorName\":\"c\",\"refreshStartDate\":START,\"createdElements\":[],\"updatedElements\":[],\"deletedElements\":[]}"
        let cases: [(String, String)] = [
            ("{\"report\":" + report.replacingOccurrences(of: "START", with: "1e300") + "}", "params.report.refreshStartDate"),
            ("{\"report\":" + report.replacingOccurrences(of: "START", with: "\"today\"") + "}", "params.report.refreshStartDate: expected epoch milliseconds"),
            ("{\"report\":" + report.replacingOccurrences(of: "START", with: "0") + ",\"part\":{\"index\":0,\"count\":1e300}}", "params.part.count"),
            ("{\"report\":" + report.replacingOccurrences(of: "START", with: "0") + ",\"part\":{\"index\":0.5,\"count\":2}}", "params.part.index"),
            ("{\"report\":" + report.replacingOccurrences(of: "START", with: "0").replacingOccurrences(of: "\"createdElements\":[]", with: "\"createdElements\":[7]") + "}",
             "params.report.createdElements[0]"),
        ]
        for (text, field) in cases {
            do { _ = try SubmitReport.Params(json: try JSONParser.parse(Data(text.utf8))); Issue.record("accepted: \(text)") } catch {
                #expect("\(error)".contains(field), "\(error)")
            }
        }
        let ok = try SubmitReport.Params(json: JSONParser.parse(Data(("{\"report\":" + report.replacingOccurrences(of: "START", with: "0") + ",\"part\":{\"index\":1,\"count\":2}}").utf8)))
        #expect(ok.part == SubmitReport.ReportPart(index: 1, count: 2))
    }
}

import Protocol
import Testing

/// `lineage/deliver` is written by splicing stored events and read in one pass: what is read is what was stored,
/// and a bad line is refused naming its field.
@Suite("lineage/deliver on the wire")
struct DeliverLineageTests {
    @Test("a spliced request line reads back with its events, as the Codable reader reads it")
    func roundTrip() throws {
        let bodies: [(seq: Int, body: [UInt8])] = [
            (41, Array(#"{"eventType":"START","run":{"runId":"r1"},"job":{"namespace":"a\"b","name":"é"}}"#.utf8)),
            (42, Array("{\r\n  \"eventType\": \"COMPLETE\"\n}".utf8)),
        ]
        let line = DeliverLineage.requestLine(id: 13, connectorName: "lineage \"files\"", events: bodies)
        #expect(line.last == 0x0A)
        guard case .success(.request(let id, let method, let raw)) = IncomingMessage.decode(line.dropLast()) else {
            Issue.record("not a request"); return
        }
        #expect(id == .number(13) && method == DeliverLineage.name)
        let params = try DeliverLineage.Params.read(line: raw).get()
        #expect(params.connectorName == "lineage \"files\"")
        #expect(params.events.map(\.seq) == [41, 42])
        #expect(params.events[0].event["job"]?["namespace"] == .string("a\"b"))
        #expect(params.events[0].event["job"]?["name"] == .string("é"))
        #expect(params.events[1].event == .object(["eventType": .string("COMPLETE")]), "a pretty-printed event stays on the line")
        #expect(line.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x0D })
        let codable = try PayloadDecoder().params(DeliverLineage.self, from: raw).get()
        #expect(codable.events.map(\.event) == params.events.map(\.event))
    }

    @Test("a bad line names the field", arguments: [
        (#"{"params":{"events":[]}}"#, "params.connectorName"),
        (#"{"params":{"connectorName":"c","events":{}}}"#, "params.events"),
        (#"{"params":{"connectorName":"c","events":[{"seq":0,"event":{}}]}}"#, "params.events[0].seq"),
        (#"{"params":{"connectorName":"c","events":[{"seq":1,"event":{}},{"seq":2,"event":[]}]}}"#, "params.events[1].event"),
        (#"{"params":{"connectorName":"c","events":[{"seq":1.5,"event":{}}]}}"#, "params.events[0].seq"),
        (#"{"params":"#, "not JSON"),
    ])
    func refusals(line: String, field: String) {
        guard case .failure(let error) = DeliverLineage.Params.read(line: Data(line.utf8)) else {
            Issue.record("\(line) was read"); return
        }
        #expect(error.code == RPCError.invalidParamsCode && error.message.contains(field), "\(error.message)")
    }
}

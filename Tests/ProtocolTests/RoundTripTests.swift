import Protocol
import Testing

/// Messages survive encoding and decoding with their types, ids and dates.
@Suite("Encoding and decoding messages")
struct RoundTripTests {
    let encoder = MessageEncoder()
    let decoder = PayloadDecoder()

    @Test("a request round-trips with its typed params")
    func request() throws {
        let line = try encoder.request(Heartbeat.self, id: .number(7), params: .init(sequence: 3))
        #expect(line.last == 0x0A)
        #expect(String(decoding: line, as: UTF8.self) == "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"heartbeat\",\"params\":{\"sequence\":3}}\n")
        guard case .success(.request(let id, let method, let raw)) = IncomingMessage.decode(line.dropLast()) else {
            Issue.record("not a request"); return
        }
        #expect(id == .number(7))
        #expect(method == Heartbeat.name)
        #expect(try decoder.params(Heartbeat.self, from: raw).get().sequence == 3)
    }

    @Test("a notification has no id")
    func notification() throws {
        let params = ConnectorStatusChanged.Params(connectorName: "c", connectorId: "id", connectorStatus: .WAITING,
                                                   lastStatusChange: Date(timeIntervalSince1970: 1), lastRefreshTime: nil,
                                                   failingExceptionMessage: nil, refreshCount: 2)
        let line = try encoder.notification(ConnectorStatusChanged.self, params: params)
        guard case .success(.notification(let method, let raw)) = IncomingMessage.decode(line.dropLast()) else {
            Issue.record("not a notification"); return
        }
        #expect(method == ConnectorStatusChanged.name)
        #expect(try decoder.params(ConnectorStatusChanged.self, from: raw).get() == params)
    }

    @Test("results and errors are matched by id; string ids stay strings")
    func responses() throws {
        let ok = try encoder.response(id: .string("r-1"), result: Heartbeat.Result(sequence: 9))
        guard case .success(.response(let id, .result(let raw))) = IncomingMessage.decode(ok.dropLast()) else { Issue.record("not a result"); return }
        #expect(id == .string("r-1"))
        #expect(try decoder.result(Heartbeat.self, from: raw).get().sequence == 9)

        let failed = encoder.errorResponse(id: .number(4), error: .methodNotFound("nope"))
        guard case .success(.response(.number(4), .error(let error))) = IncomingMessage.decode(failed.dropLast()) else {
            Issue.record("not an error"); return
        }
        #expect(error.code == RPCError.methodNotFoundCode)
        #expect(error.message == "Method not found: nope")
    }

    @Test("an error for an unreadable request carries \"id\": null")
    func nullID() {
        let line = String(decoding: encoder.errorResponse(id: nil, error: .parseError("x")), as: UTF8.self)
        #expect(line.contains("\"id\":null"))
    }

    @Test("unknown fields are ignored, so the protocol can grow")
    func unknownFields() throws {
        let line = Data("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\",\"params\":{\"sequence\":1,\"future\":true},\"meta\":1}".utf8)
        guard case .success(.request(_, _, let raw)) = IncomingMessage.decode(line) else { Issue.record("rejected"); return }
        #expect(try decoder.params(Heartbeat.self, from: raw).get().sequence == 1)
    }

    @Test("dates are whole epoch milliseconds, as Egeria writes them")
    func dates() throws {
        let report = IntegrationReport(reportId: "r", serverName: "s", connectorId: "i", connectorName: "c",
                                       refreshStartDate: Date(timeIntervalSince1970: 1.2345), refreshCompletionDate: nil,
                                       createdElements: [], updatedElements: [], deletedElements: [], additionalProperties: [:])
        let line = String(decoding: try encoder.line(report), as: UTF8.self)
        #expect(line.contains("\"refreshStartDate\":1234"))
    }
}

/// Lines are split exactly, and an over-long line costs no more than the limit.
@Suite("Line framing")
struct LineFramerTests {
    func frame(_ chunks: [String], max: Int = 16) -> [LineFramer.Event] {
        var framer = LineFramer(maxLineLength: max)
        var events: [LineFramer.Event] = []
        for chunk in chunks { framer.feed(Data(chunk.utf8)) { events.append($0) } }
        return events
    }

    @Test("lines split across chunks are joined")
    func splitChunks() {
        #expect(frame(["ab", "c\nde", "f\n\n"]) == [.line(Data("abc".utf8)), .line(Data("def".utf8)), .line(Data())])
    }

    @Test("an over-long line is reported once with its length and the next line survives")
    func oversized() {
        let long = String(repeating: "x", count: 40)
        #expect(frame([long.prefix(10) + "", long.dropFirst(10) + "\nok\n"]) == [.oversized(byteCount: 40, prefix: Data(long.utf8.prefix(LineFramer.keptPrefix))), .line(Data("ok".utf8))])
    }

    @Test("a line of exactly the limit is accepted")
    func exactLimit() {
        let line = String(repeating: "y", count: 16)
        #expect(frame([line + "\n"]) == [.line(Data(line.utf8))])
    }

    @Test("an unterminated tail is pending, not emitted")
    func pending() {
        var framer = LineFramer(maxLineLength: 8)
        var count = 0
        framer.feed(Data("abc".utf8)) { _ in count += 1 }
        #expect(count == 0)
        #expect(framer.pendingByteCount == 3)
    }
}

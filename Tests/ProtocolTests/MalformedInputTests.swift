import Protocol
import Testing

/// Every kind of bad line maps to the JSON-RPC error a peer expects, and the reader never crashes.
@Suite("Malformed protocol input")
struct MalformedInputTests {
    /// A bad line, the code it must get, and a fragment of the message that explains it.
    struct Case: CustomTestStringConvertible, Sendable {
        let line: String
        let code: Int
        let says: String
        var testDescription: String { line.count > 60 ? String(line.prefix(57)) + "..." : line }
    }

    static let cases: [Case] = [
        Case(line: "", code: -32700, says: "empty line"),
        Case(line: "   ", code: -32700, says: "empty line"),
        Case(line: "not json at all", code: -32700, says: "not valid JSON"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\"", code: -32700, says: "not valid JSON"),
        Case(line: "{\"jsonrpc\":\"2.0\" \"id\":1}", code: -32700, says: "not valid JSON"),
        Case(line: "42", code: -32600, says: "expected a JSON object, got number"),
        Case(line: "\"hello\"", code: -32600, says: "got string"),
        Case(line: "null", code: -32600, says: "got null"),
        Case(line: "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\"}]", code: -32600, says: "batches are not supported"),
        Case(line: "{\"id\":1,\"method\":\"heartbeat\"}", code: -32600, says: "missing \"jsonrpc\""),
        Case(line: "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"heartbeat\"}", code: -32600, says: "must be \"2.0\""),
        Case(line: "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"heartbeat\"}", code: -32600, says: "must be \"2.0\""),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}", code: -32600, says: "\"method\" must be a string"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", code: -32600, says: "\"method\" is empty"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"heartbeat\"}", code: -32600, says: "\"id\" must be a string or an integer"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"heartbeat\"}", code: -32600, says: "got object"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"heartbeat\"}", code: -32600, says: "\"id\" must be"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"heartbeat\"}", code: -32600, says: "must not be null"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\",\"params\":7}", code: -32600, says: "\"params\" must be an object or an array"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\",\"params\":\"x\"}", code: -32600, says: "\"params\" must be"),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\",\"result\":{}}", code: -32600, says: "both \"method\" and \"result\""),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1}", code: -32600, says: "needs \"method\""),
        Case(line: "{\"jsonrpc\":\"2.0\"}", code: -32600, says: "needs \"method\""),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"x\"}}", code: -32600, says: "both \"result\" and \"error\""),
        Case(line: "{\"jsonrpc\":\"2.0\",\"result\":{}}", code: -32600, says: "needs an \"id\""),
        Case(line: "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"bad\"}", code: -32600, says: "\"error\" must be an object"),
    ]

    @Test("a bad line gets the right JSON-RPC error", arguments: cases)
    func badLine(_ c: Case) {
        switch IncomingMessage.decode(Data(c.line.utf8)) {
        case .success(let message):
            Issue.record("accepted a bad line as \(message)")
        case .failure(let violation):
            #expect(violation.error.code == c.code)
            #expect(violation.error.message.contains(c.says), "message was: \(violation.error.message)")
        }
    }

    @Test("invalid UTF-8 is a parse error")
    func invalidUTF8() {
        let line = Data([0x7B, 0xFF, 0xFE, 0x7D])
        guard case .failure(let violation) = IncomingMessage.decode(line) else { Issue.record("accepted"); return }
        #expect(violation.error.code == RPCError.parseErrorCode)
        #expect(violation.error.message.contains("UTF-8"))
    }

    @Test("a bad response is never answered, so two peers cannot ping-pong errors")
    func responsesAreNotAnswerable() {
        for line in ["{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}",
                     "{\"jsonrpc\":\"2.0\",\"result\":{}}",
                     "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":[]}"] {
            guard case .failure(let violation) = IncomingMessage.decode(Data(line.utf8)) else { Issue.record("accepted \(line)"); continue }
            #expect(!violation.answerable, "\(line)")
        }
    }

    @Test("the id of a bad request is kept, so the error goes back to the right caller")
    func idIsKept() {
        guard case .failure(let violation) = IncomingMessage.decode(Data("{\"jsonrpc\":\"1.0\",\"id\":\"abc\",\"method\":\"x\"}".utf8))
        else { Issue.record("accepted"); return }
        #expect(violation.id == .string("abc"))
    }

    @Test("params of the wrong shape are -32602 naming the field")
    func invalidParams() {
        let line = Data("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\",\"params\":{\"sequence\":\"one\"}}".utf8)
        guard case .success(.request(_, let method, let raw)) = IncomingMessage.decode(line) else { Issue.record("rejected"); return }
        #expect(method == Heartbeat.name)
        guard case .failure(let error) = PayloadDecoder().params(Heartbeat.self, from: raw) else { Issue.record("decoded"); return }
        #expect(error.code == RPCError.invalidParamsCode)
        #expect(error.message.contains("sequence"))
    }

    @Test("missing required params are -32602")
    func missingParams() {
        let line = Data("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"heartbeat\"}".utf8)
        guard case .success(.request(_, _, let raw)) = IncomingMessage.decode(line) else { Issue.record("rejected"); return }
        guard case .failure(let error) = PayloadDecoder().params(Heartbeat.self, from: raw) else { Issue.record("decoded"); return }
        #expect(error.code == RPCError.invalidParamsCode)
    }
}

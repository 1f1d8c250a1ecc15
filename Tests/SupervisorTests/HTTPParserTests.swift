import Testing
@testable import HTTPWire
@testable import Supervisor

/// The HTTP message parser on its own: split reads, chunked bodies, pipelining, limits and hostile input.
@Suite("HTTP message parser")
struct HTTPParserTests {
    static func feedAll(_ parser: inout HTTPMessageParser, _ text: String, step: Int) throws -> [HTTPMessageParser.Message] {
        let bytes = Array(text.utf8)
        var messages: [HTTPMessageParser.Message] = []
        var offset = 0
        while offset < bytes.count {
            parser.feed(bytes[offset..<min(bytes.count, offset + step)])
            offset += step
            while let message = try parser.next() { messages.append(message) }
        }
        return messages
    }

    /// Asks for messages until one comes or it throws; a bounded number of times, so a parser that neither
    /// answers nor fails ends the test instead of hanging it.
    static func drain(_ parser: inout HTTPMessageParser) throws {
        for _ in 0..<16 where try parser.next() != nil { return }
    }

    @Test("a request split at every byte boundary parses the same", arguments: [1, 2, 3, 7, 64, 10_000])
    func splitReads(step: Int) throws {
        var parser = HTTPMessageParser(kind: .request)
        let text = "POST /servers/d/api/token?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n"
        let messages = try Self.feedAll(&parser, text, step: step)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.head.method == "POST")
        #expect(message.head.target == "/servers/d/api/token?x=1")
        #expect(message.head.header("content-type") == "application/json")
        #expect(String(decoding: message.body, as: UTF8.self) == "{\"a\":\"bc\"}\n")
        #expect(message.head.keepAlive)
        #expect(parser.isIdle)
    }

    @Test("pipelined requests come out one by one, in order, with their bodies")
    func pipelined() throws {
        var parser = HTTPMessageParser(kind: .request)
        let one = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        let two = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        let three = "GET /c HTTP/1.0\r\n\r\n"
        let messages = try Self.feedAll(&parser, one + two + three, step: 1000)
        #expect(messages.map(\.head.target) == ["/a", "/b", "/c"])
        #expect(messages[1].body == Array("abc".utf8))
        #expect(!messages[2].head.keepAlive, "HTTP/1.0 closes unless asked to keep alive")
    }

    @Test("chunked bodies with extensions and trailers, split anywhere", arguments: [1, 5, 1000])
    func chunked(step: Int) throws {
        var parser = HTTPMessageParser(kind: .response)
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\n" + String(repeating: "z", count: 26)
            + "\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
        let messages = try Self.feedAll(&parser, text, step: step)
        #expect(messages.count == 2)
        #expect(String(decoding: messages[0].body, as: UTF8.self) == "hello" + String(repeating: "z", count: 26))
        #expect(messages[1].head.status == 204)
        #expect(messages[1].body.isEmpty)
    }

    @Test("a response without a length runs to the close")
    func untilClose() throws {
        var parser = HTTPMessageParser(kind: .response)
        parser.feed(Array("HTTP/1.0 200 OK\r\n\r\npartial".utf8))
        #expect(try parser.next() == nil)
        parser.feed(Array(" and the rest".utf8))
        #expect(try parser.next() == nil)
        let message = try #require(try parser.finish())
        #expect(String(decoding: message.body, as: UTF8.self) == "partial and the rest")
    }

    @Test("a header block over the limit is refused with 431 even when it never ends")
    func headerTooLarge() throws {
        var parser = HTTPMessageParser(kind: .request, limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 100))
        parser.feed(Array("GET / HTTP/1.1\r\nX: ".utf8))
        var failure: HTTPMessageParser.ParseError?
        for _ in 0..<100 where failure == nil {
            parser.feed([UInt8](repeating: 0x61, count: 100))
            do { _ = try parser.next() } catch { failure = error }
        }
        #expect(failure == .headerTooLarge(limit: 1024))
        #expect(failure?.status == 431)
    }

    @Test("a body over the limit is refused with 413, by length or by chunks")
    func bodyTooLarge() throws {
        var byLength = HTTPMessageParser(kind: .request, limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 100))
        byLength.feed(Array("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n".utf8))
        #expect(throws: HTTPMessageParser.ParseError.bodyTooLarge(limit: 100)) { try byLength.next() }

        var byChunks = HTTPMessageParser(kind: .request, limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 100))
        byChunks.feed(Array(("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "a", count: 64) + "\r\n40\r\n").utf8))
        #expect(throws: HTTPMessageParser.ParseError.bodyTooLarge(limit: 100)) { try Self.drain(&byChunks) }
    }

    @Test("ambiguous or broken framing is refused", arguments: [
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-10\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-ffffffffffffff\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "G\u{1}T / HTTP/1.1\r\n\r\n",
    ])
    func refused(text: String) throws {
        var parser = HTTPMessageParser(kind: .request, limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 100))
        parser.feed(Array(text.utf8))
        #expect(throws: HTTPMessageParser.ParseError.self) { try Self.drain(&parser) }
    }

    @Test("a connection closed in the middle of a message is an error, between messages it is not")
    func cutShort() throws {
        var parser = HTTPMessageParser(kind: .request)
        #expect(try parser.finish() == nil)
        parser.feed(Array("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc".utf8))
        #expect(try parser.next() == nil)
        #expect(throws: HTTPMessageParser.ParseError.self) { try parser.finish() }
    }

    @Test("random bytes never trap the parser")
    func garbage() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var parser = HTTPMessageParser(kind: Bool.random(using: &generator) ? .request : .response,
                                           limits: .init(maxHeaderBytes: 512, maxBodyBytes: 512))
            let prefix = ["", "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"].randomElement()!
            parser.feed(Array(prefix.utf8))
            for _ in 0..<20 {
                parser.feed((0..<Int.random(in: 0...64)).map { _ in UInt8.random(in: 0...255, using: &generator) })
                do { _ = try parser.next() } catch { break }
            }
        }
    }
}

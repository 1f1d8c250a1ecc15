import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The real `integration-worker`, driven over its stdin/stdout as the daemon (or a daemon in another
    /// language) would: the handshake, heartbeats, bad input, shutdown and EOF.
    @Suite("Worker over stdio", .serialized, .timeLimit(.minutes(1)))
    struct WorkerProtocolTests {
        let decoder = PayloadDecoder()

        func responses(_ worker: ChildProcess) -> [String: JSONValue] {
            var byID: [String: JSONValue] = [:]
            for line in worker.stdoutLines {
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)), let object = value.objectValue,
                      object["method"] == nil else { continue }
                let key = object["id"].map { $0 == .null ? "null" : $0.compactDescription } ?? "none"
                byID[key] = value
            }
            return byID
        }

        func waitForResponse(_ worker: ChildProcess, id: String, timeout: Double = 5) -> JSONValue? {
            worker.waitFor(timeout: timeout) { out, _, _ in
                out.contains { $0.contains("\"id\":\(id)") && !$0.contains("\"method\"") }
            }
            return responses(worker)[id]
        }

        func initialize(_ worker: ChildProcess, version: Int = ProtocolVersion.current, connectors: String = "[]") throws {
            try worker.write("""
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":\(version),"integrationServiceURLMarker":"test","serverName":"s","userId":"u","heartbeatIntervalSeconds":1,"connectors":\(connectors)}}

            """)
        }

        @Test("20+ kinds of malformed input each get the right JSON-RPC error from a live worker, which keeps serving")
        func malformedInputToRealWorker() throws {
            let worker = try ChildProcess([Binaries.worker])
            defer { worker.killGroup() }
            try initialize(worker)
            #expect(waitForResponse(worker, id: "1")?["result"]?["protocolVersion"] == .int(ProtocolVersion.current))

            // Bad lines whose id can be read get an answer with that id; the others an answer with a null id.
            let withID: [(String, Int)] = [
                ("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"no/such/method\"}", -32601),
                ("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"heartbeat\",\"params\":{\"sequence\":\"x\"}}", -32602),
                ("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"heartbeat\"}", -32602),
                ("{\"jsonrpc\":\"1.0\",\"id\":13,\"method\":\"heartbeat\"}", -32600),
                ("{\"id\":14,\"method\":\"heartbeat\"}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":7}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"\"}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"heartbeat\",\"params\":3}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"heartbeat\",\"result\":{}}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":19}", -32600),
                ("{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"initialize\",\"params\":{\"protocolVersion\":1}}", -32602),
                ("{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"connectors/refresh\",\"params\":{\"connectorName\":\"ghost\"}}", -32003),
            ]
            let withoutID: [String] = [
                "garbage", "{", "{\"jsonrpc\":\"2.0\" \"id\":1}", "42", "[1,2]", "\"text\"", "null",
                "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"heartbeat\"}", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"heartbeat\"}",
            ]
            for (line, _) in withID { try worker.write(line + "\n") }
            for line in withoutID { try worker.write(line + "\n") }
            try worker.write(String(repeating: "z", count: LineFramer.defaultMaxLineLength + 10) + "\n")
            try worker.write(bytes: [0x7B, 0xC3, 0x28, 0x7D, 0x0A])
            try worker.write("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"heartbeat\",\"params\":{\"sequence\":5}}\n")

            // The worker is unharmed: the heartbeat after all that is answered.
            #expect(waitForResponse(worker, id: "99")?["result"]?["sequence"] == .int(5))
            let byID = responses(worker)
            for (line, code) in withID {
                let id = line.components(separatedBy: "\"id\":")[1].prefix(2)
                #expect(byID[String(id)]?["error"]?["code"] == .int(code), "\(line) → \(String(describing: byID[String(id)]))")
            }
            let nullErrors = worker.stdoutLines.filter { $0.contains("\"id\":null") && $0.contains("\"error\"") }
            // withoutID + oversized line + the invalid UTF-8 line.
            #expect(nullErrors.count == withoutID.count + 2, "\(nullErrors.joined(separator: "\n"))")
            #expect(nullErrors.contains { $0.contains("exceeds the 1048576-byte limit") })
            #expect(nullErrors.contains { $0.contains("-32700") && $0.contains("UTF-8") })
            #expect(worker.exitStatus == nil)
        }

        @Test("a protocol version mismatch is refused with a clear error")
        func versionMismatch() throws {
            let worker = try ChildProcess([Binaries.worker])
            defer { worker.killGroup() }
            try initialize(worker, version: 999)
            let error = waitForResponse(worker, id: "1")?["error"]
            #expect(error?["code"] == .int(RPCError.protocolVersionMismatchCode))
            #expect(error?["message"]?.stringValue?.contains("protocol version 999 is not supported") == true)
        }

        @Test("connectors/refresh answers when the refresh ran, with its outcome; shutdown answers and exits 0")
        func refreshAndShutdown() throws {
            let worker = try ChildProcess([Binaries.worker])
            defer { worker.killGroup() }
            let connector = """
            [{"connectorId":"c1","connectorName":"chaos","connection":{"connectorType":{"connectorProviderClassName":"chaos"},"configurationProperties":{"failure":"none"}}}]
            """
            try initialize(worker, connectors: connector)
            // The worker writes elements through the supervisor: answer its calls as a daemon would.
            var served = Set<String>()
            try worker.write("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"connectors/refresh\",\"params\":{}}\n")
            try serve(worker, served: &served) { responses(worker)["2"] != nil }
            let refresh = try #require(responses(worker)["2"]?["result"]?["refreshes"]?.arrayValue?.first)
            #expect(refresh["connectorName"] == .string("chaos"))
            #expect(refresh["createdCount"] == .int(1))
            #expect(refresh["connectorStatus"] == .string("WAITING"))
            #expect(refresh["reportId"]?.stringValue != nil)

            try worker.write("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"shutdown\"}\n")
            try serve(worker, served: &served) { worker.exitStatus != nil }
            #expect(worker.waitForExit(timeout: 5) == .exited(0))
            #expect(responses(worker)["3"]?["result"] == .object([:]))
            #expect(worker.stdoutLines.contains { $0.contains("\"connectorStatus\":\"SHUTDOWN\"") })
        }

        /// Answers the worker's metadata and report calls, as the daemon would, until `done` (at most 5 s).
        func serve(_ worker: ChildProcess, served: inout Set<String>, until done: () -> Bool) throws {
            let deadline = Date().addingTimeInterval(5)
            while !done() && Date() < deadline {
                for line in worker.stdoutLines where !served.contains(line) {
                    served.insert(line)
                    guard case .success(.request(let id, let method, _)) = IncomingMessage.decode(Data(line.utf8)) else { continue }
                    let now = Int(Date().timeIntervalSince1970 * 1000)
                    let result = method == CreateElement.name
                        ? "{\"element\":{\"guid\":\"g-\(id)\",\"typeName\":\"ChaosEvent\",\"qualifiedName\":\"q\",\"properties\":{},\"createTime\":\(now),\"updateTime\":\(now),\"version\":1}}"
                        : "{\"reportId\":\"r\",\"stored\":true}"
                    try? worker.write("{\"jsonrpc\":\"2.0\",\"id\":\(id),\"result\":\(result)}\n")
                }
                worker.waitFor(timeout: 0.05) { out, _, exit in out.count > served.count || exit != nil }
            }
        }

        @Test("stdin EOF makes the worker exit by itself")
        func exitsOnEOF() throws {
            let worker = try ChildProcess([Binaries.worker])
            defer { worker.killGroup() }
            try initialize(worker)
            _ = waitForResponse(worker, id: "1")
            worker.closeStdin()
            #expect(worker.waitForExit(timeout: 5) == .exited(0))
        }
    }
}

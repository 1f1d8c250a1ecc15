import Foundation
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// A server that echoes the credentials it was sent: no secret is recorded anywhere the daemon writes or shows.
    @Suite("Echoed secrets", .serialized, .timeLimit(.minutes(3)))
    struct EchoedSecretTests {
        @Test("a server that echoes the Authorization header: the token is in no log line, dead letter, store record or status")
        func echoedSecret() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let token = "tok-\(UInt64.random(in: 1_000_000...9_999_999))-secret"
            let server = try EgeriaStandIn(stateFile: harness.directory + "/standin-state.jsonl", token: token)
            try server.setMode("echo-auth")
            let access = server.accessServer(extra: ["secretEnvironmentVariable": .string("EGERIA_TOKEN")])
            try harness.writeConfig(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 0.1)], accessServer: access)
            try harness.start(environment: ["EGERIA_TOKEN": token])
            let dead = harness.waitForStatus(timeout: 20) { $0.accessServer.deadLetters >= 2 }
            #expect(dead.ok, "no report was dead-lettered")
            let statusJSON = try harness.cli("status", "--json").stdout
            let metrics = try harness.cli("metrics").stdout
            #expect(harness.stop() == .exited(0))
            let files = ["/data/dead-letters.jsonl", "/data/store/store.sqlite", "/data/store/store.sqlite-wal"].map {
                String(decoding: FileManager.default.contents(atPath: harness.directory + $0) ?? Data(), as: UTF8.self)
            }
            #expect(files[0].contains("REDACTED"), "the echo did not reach the dead letters")
            for (name, text) in [("log", harness.daemon!.stderrLines.joined(separator: "\n")), ("dead letters", files[0]),
                                 ("store", files[1] + files[2]), ("status", statusJSON), ("metrics", metrics)] {
                #expect(!text.contains(token), "the token is in the \(name)")
            }
        }
    }
}

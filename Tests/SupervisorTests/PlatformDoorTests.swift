import Foundation
import Glibc
import Protocol
import Testing
@testable import HTTPWire
@testable import Supervisor

extension RealProcesses {
    /// The platform door as HTTP: keep-alive, pipelining, limits, slow clients, the connection cap, tokens, and
    /// Egeria's envelopes on every endpoint.
    @Suite("Platform door", .serialized)
    struct PlatformDoorTests {
        static let base = "/servers/test-daemon/open-metadata/integration-daemon"

        static func json(_ message: HTTPMessageParser.Message?) -> JSONValue? {
            message.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.body)) }
        }

        static func start(_ settings: [String: JSONValue] = [:], services: [ServiceFixture] = [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)])
            throws -> (DaemonHarness, UInt16) {
            let harness = try DaemonHarness(config: DaemonHarness.config(services: services, platform: DaemonHarness.platform(settings: settings)))
            let port = try harness.startWithPlatform()
            // Connector changes need a running worker; a test starts once every worker has refreshed.
            harness.waitForStatus(timeout: 10) { status in
                status.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" && $0.integrationConnectorReports.allSatisfy { $0.lastRefreshTime != nil } }
            }
            return (harness, port)
        }

        @Test("keep-alive and pipelining: three requests on one connection, answered in order")
        func pipelining() throws {
            let (harness, port) = try Self.start()
            defer { harness.cleanUp() }
            let token = try #require(try DaemonHarness.token(port: port))
            let client = try RawHTTP(port: port)
            client.send(RawHTTP.get(Self.base + "/status", token: token) + RawHTTP.get("/api/about")
                        + RawHTTP.get(Self.base + "/integration-connectors/chaos/configuration-properties?delegatingUserId=erinoverview", token: token))
            let first = Self.json(client.response())
            let second = Self.json(client.response())
            let third = Self.json(client.response())
            #expect(first?["class"] == .string("IntegrationDaemonStatusResponse"))
            #expect(first?["integrationDaemonStatus"]?["integrationConnectorReports"]?.arrayValue?.count == 1)
            #expect(second?["name"] == .string("integration-daemon"))
            #expect(third?["class"] == .string("PropertiesResponse"))
            #expect(third?["properties"]?["failure"] == .string("none"))
            // The same connection still serves, split across writes.
            let split = Array(RawHTTP.get(Self.base + "/integration-groups/summary", token: token).utf8)
            client.send(Array(split[..<20]))
            client.send(Array(split[20...]))
            #expect(Self.json(client.response())?["integrationGroupSummaries"]?.arrayValue?.first?["integrationGroupName"] == .string("chaos-integrator"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("oversized headers get 431, oversized bodies 413, garbage 400, and each connection is closed")
        func limits() throws {
            let (harness, port) = try Self.start(["maxHeaderBytes": .int(2048), "maxBodyBytes": .int(4096)])
            defer { harness.cleanUp() }
            let headers = try RawHTTP(port: port)
            headers.send("GET /api/about HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 5000))\r\n\r\n")
            #expect(headers.response()?.head.status == 431)
            #expect(headers.closedByServer())

            let body = try RawHTTP(port: port)
            body.send("POST /api/token HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
            #expect(body.response()?.head.status == 413)
            #expect(body.closedByServer())

            let garbage = try RawHTTP(port: port)
            garbage.send("\u{1}\u{2}NOT HTTP AT ALL\r\n\r\n")
            #expect(garbage.response()?.head.status == 400)

            let smuggle = try RawHTTP(port: port)
            smuggle.send("POST /api/token HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            #expect(smuggle.response()?.head.status == 400)

            // A signed chunk size once reversed the body's range and killed the daemon, before any authentication.
            for size in ["-1", "-10", "-ffffffffffffff", "+5"] {
                let negative = try RawHTTP(port: port)
                negative.send("POST /api/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n")
                #expect(negative.response()?.head.status == 400, "chunk size \(size)")
            }
            // The daemon is unharmed.
            #expect(try DaemonHarness.token(port: port) != nil)
            #expect(harness.stop() == .exited(0))
        }

        @Test("clients that reset while their refresh waits are dropped at once, not spun on until the answer comes")
        func resetWhileWaiting() throws {
            // The second refresh stalls, so the door's answer is 60 s away.
            let (harness, port) = try Self.start(["refreshWaitSeconds": .int(60)],
                                                 services: [DaemonHarness.chaosService(failure: "stall", afterRefreshes: 2, intervalSeconds: 3600)])
            defer { harness.cleanUp() }
            let token = try #require(try DaemonHarness.token(port: port))
            let pid = try #require(harness.daemon?.pid)
            let cpuBefore = try #require(Self.cpuTicks(pid))
            let started = Date()
            for _ in 0..<8 {
                let client = try RawHTTP(port: port)
                client.send(RawHTTP.post(Self.base + "/integration-connectors/refresh", body: "", token: token))
                // Wait until the door holds the request, then reset: SO_LINGER 0 makes close send RST.
                harness.waitForStatus(timeout: 5) { ($0.daemon.platform?.requests ?? 0) > 0 && ($0.daemon.platform?.openConnections ?? 0) >= 1 }
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            }
            let dropped = harness.waitForStatus(timeout: 10) { $0.daemon.platform?.openConnections == 0 }
            #expect(dropped.ok, "reset connections still open: \(String(describing: dropped.status?.daemon.platform))")
            // The daemon did not burn a core meanwhile: well under half of the elapsed time on its CPU.
            let elapsed = Date().timeIntervalSince(started)
            let cpu = Double((Self.cpuTicks(pid) ?? 0) - cpuBefore) / Double(sysconf(Int32(_SC_CLK_TCK)))
            #expect(cpu < max(0.5, elapsed / 2), "the daemon used \(cpu) s of CPU in \(elapsed) s")
            #expect(harness.stop() == .exited(0))
        }

        /// utime + stime of a process, in clock ticks.
        static func cpuTicks(_ pid: Int32) -> Int? {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = text.split(separator: ")").last?.split(separator: " "), fields.count > 13 else { return nil }
            return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        }

        @Test("a slow client gets 408 at the request deadline; an idle one is closed at the idle deadline")
        func slowClients() throws {
            let (harness, port) = try Self.start(["requestTimeoutSeconds": .double(0.5), "idleTimeoutSeconds": .int(1)])
            defer { harness.cleanUp() }
            let slow = try RawHTTP(port: port)
            slow.send("GET /api/about HTTP/1.1\r\nHost: x\r\n")
            let started = Date()
            #expect(slow.response()?.head.status == 408)
            #expect(Date().timeIntervalSince(started) < 5)

            let idle = try RawHTTP(port: port)
            idle.send(RawHTTP.get("/api/about"))
            #expect(idle.response()?.head.status == 200)
            #expect(idle.closedByServer(), "closed after the idle timeout, within the client's 10 s read timeout")
            #expect(harness.stop() == .exited(0))
        }

        @Test("at maxConnections the connection idle longest makes room for a new one; with none idle a newcomer gets 503 at once")
        func connectionCap() throws {
            let (harness, port) = try Self.start(["maxConnections": .int(4)])
            defer { harness.cleanUp() }
            var held: [RawHTTP] = []
            for _ in 0..<4 {
                let client = try RawHTTP(port: port)
                client.send(RawHTTP.get("/api/about"))
                #expect(client.response()?.head.status == 200)
                held.append(client)
            }
            // All four idle: the first (idle longest) is closed, and the newcomer is served.
            let extra = try RawHTTP(port: port)
            extra.send(RawHTTP.get("/api/about"))
            #expect(extra.response()?.head.status == 200)
            #expect(held[0].closedByServer())
            held[1].send(RawHTTP.get("/api/about"))
            #expect(held[1].response()?.head.status == 200)
            // Four clients each in the middle of a request: none is idle, so a fifth gets 503. Each sends its
            // partial request before the next connects, and the door reads open connections before it accepts.
            var partial: [RawHTTP] = []
            for _ in 0..<4 {
                let client = try RawHTTP(port: port)
                client.send("GET /api/about HTTP/1.1\r\nHost: localhost\r\n")
                partial.append(client)
            }
            let refused = try RawHTTP(port: port)
            #expect(refused.response()?.head.status == 503)
            // A partial request finished is answered: the held ones still work.
            partial[3].send("\r\n")
            #expect(partial[3].response()?.head.status == 200)
            let door = try #require(try harness.status().daemon.platform)
            #expect(door.refusedConnections >= 1)
            #expect(door.requests >= 6)
            #expect(try harness.cli("metrics").stdout.contains("integration_daemon_platform_connections_refused_total"))
            #expect(try harness.cli("status").stdout.contains("platform door: http://127.0.0.1:\(port)"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("tokens: 401 without one, with a forged one and after expiry; a wrong password gets none")
        func tokens() throws {
            let (harness, port) = try Self.start(["tokenLifetimeSeconds": .int(1)])
            defer { harness.cleanUp() }
            #expect(try DaemonHarness.token(port: port, password: "wrong") == nil)
            let token = try #require(try DaemonHarness.token(port: port))
            let client = try RawHTTP(port: port)
            client.send(RawHTTP.get(Self.base + "/status", token: token))
            #expect(client.response()?.head.status == 200)
            client.send(RawHTTP.get(Self.base + "/status"))
            let missing = client.response()
            #expect(missing?.head.status == 401)
            #expect(missing?.head.header("www-authenticate") == "Bearer")
            var forged = Array(token)
            forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
            client.send(RawHTTP.get(Self.base + "/status", token: String(forged)))
            #expect(client.response()?.head.status == 401)
            // The token expires after a second: poll until it is refused, bounded.
            let expired = eventually(timeout: 5, interval: 0.1) {
                client.send(RawHTTP.get(Self.base + "/status", token: token))
                return client.response()?.head.status == 401
            }
            #expect(expired)
            #expect(harness.stop() == .exited(0))
        }

        @Test("Egeria's envelopes: unknown server 404, bad bodies 400, configuration updates, groups, validate-connector, server status")
        func envelopes() throws {
            let (harness, port) = try Self.start()
            defer { harness.cleanUp() }
            let token = try #require(try DaemonHarness.token(port: port))
            let client = try RawHTTP(port: port)
            func get(_ path: String) -> JSONValue? {
                client.send(RawHTTP.get(path, token: token))
                let response = client.response()
                #expect(response?.head.status == 200, "\(path)")
                return Self.json(response)
            }
            func post(_ path: String, _ body: String) -> JSONValue? {
                client.send(RawHTTP.post(path, body: body, token: token))
                let response = client.response()
                #expect(response?.head.status == 200, "\(path)")
                return Self.json(response)
            }
            #expect(get("/servers/other/open-metadata/integration-daemon/status")?["relatedHTTPCode"] == .int(404))
            #expect(get(Self.base + "/integration-connectors/nope/configuration-properties")?["exceptionErrorMessageId"]
                    == .string("INTEGRATION-DAEMON-SERVICES-400-031"))
            #expect(post(Self.base + "/integration-connectors/refresh", "{not json")?["relatedHTTPCode"] == .int(400))
            #expect(post(Self.base + "/integration-connectors/configuration-properties", #"{"mergeUpdate": true}"#)?["exceptionProperties"]?["parameterName"]
                    == .string("connectorName"))

            // mergeUpdate true merges; false replaces; both re-create the connector with the new properties.
            let merged = post(Self.base + "/integration-connectors/configuration-properties",
                              #"{"class":"ConnectorConfigPropertiesRequestBody","connectorName":"chaos","mergeUpdate":true,"configurationProperties":{"extra":7}}"#)
            #expect(merged == .object(["class": .string("VoidResponse"), "relatedHTTPCode": .int(200)]))
            let properties = get(Self.base + "/integration-connectors/chaos/configuration-properties")?["properties"]
            #expect(properties?["extra"] == .int(7))
            #expect(properties?["failure"] == .string("none"))
            _ = post(Self.base + "/integration-connectors/configuration-properties",
                     #"{"connectorName":"chaos","mergeUpdate":false,"configurationProperties":{"failure":"none"}}"#)
            #expect(get(Self.base + "/integration-connectors/chaos/configuration-properties")?["properties"] == .object(["failure": .string("none")]))
            #expect(post(Self.base + "/integration-connectors/chaos/endpoint-network-address", #"{"class":"StringRequestBody","string":"/tmp/x"}"#)?["relatedHTTPCode"] == .int(200))
            let status = get(Self.base + "/status")
            let report = status?["integrationDaemonStatus"]?["integrationConnectorReports"]?.arrayValue?.first
            #expect(report?["connection"]?["endpoint"]?["networkAddress"] == .string("/tmp/x"))
            let date = report?["lastStatusChange"]?.stringValue ?? ""
            #expect(date.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$"#, options: .regularExpression) != nil, "\(date)")

            #expect(get(Self.base + "/integration-groups/chaos-integrator/summary")?["integrationGroupSummary"]?["integrationGroupStatus"] == .string("RUNNING"))
            #expect(get("/servers/test-daemon/open-metadata/integration-daemon-services/integration-groups/nope/summary")?["relatedHTTPCode"] == .int(400))
            #expect(get(Self.base + "/validate-connector/chaos")?["connectorReport"]?["connectorType"]?["connectorProviderClassName"] == .string("chaos"))
            #expect(get(Self.base + "/validate-connector/org.example.Nope")?["relatedHTTPCode"] == .int(400))
            #expect(get("/open-metadata/platform-services/server-platform/servers/test-daemon/instance/status")?["serverStatus"]?["serverActiveStatus"] == .string("RUNNING"))
            #expect(get("/open-metadata/admin-services/servers/test-daemon/configuration/resolved")?["omagserverConfig"]?["localServerName"] == .string("test-daemon"))
            client.send(RawHTTP.get("/no/such/path", token: token))
            #expect(client.response()?.head.status == 404)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a refresh of a hung connector answers at the documented bound over both doors, and the doors keep serving")
        func refreshBound() throws {
            let (harness, port) = try Self.start(["refreshWaitSeconds": .int(1)], services: [
                DaemonHarness.chaosService(failure: "stall", afterRefreshes: 1, intervalSeconds: 3600),
            ])
            defer { harness.cleanUp() }
            let token = try #require(try DaemonHarness.token(port: port))
            let client = try RawHTTP(port: port)
            let started = Date()
            client.send(RawHTTP.post(Self.base + "/integration-connectors/refresh", body: #"{"class":"NameRequestBody","name":"chaos"}"#, token: token))
            let answer = Self.json(client.response())
            #expect(answer?["relatedHTTPCode"] == .int(200))
            #expect(Date().timeIntervalSince(started) < 8)
            let cli = try harness.cli("refresh", "chaos", "--wait", "1")
            #expect(cli.code == 1)
            #expect(cli.stderr.contains("still running after 1 s"), "\(cli.stderr)")
            // Neither door is held: status answers at once on both.
            #expect(try harness.status().integrationServiceSummaries.count == 1)
            client.send(RawHTTP.get(Self.base + "/status", token: token))
            #expect(client.response()?.head.status == 200)
            #expect(harness.stop() == .exited(0))
        }
    }
}

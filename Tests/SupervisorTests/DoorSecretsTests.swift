import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Only the configuration file decides where a connector's secret is read and where it may go, and only an
    /// operator may change anything through the door.
    @Suite("Door secrets and roles", .serialized, .timeLimit(.minutes(3)))
    struct DoorSecretsTests {
        static let base = "/servers/test-daemon/open-metadata/integration-daemon"

        /// A daemon whose chaos connector names a password file and an endpoint, with an operator and an observer
        /// at the door.
        static func start() throws -> (DaemonHarness, UInt16, socket: String) {
            let harness = try DaemonHarness(config: "{}")
            let secret = harness.directory + "/chaos.password"
            try "s3cret for chaos".write(toFile: secret, atomically: true, encoding: .utf8)
            let service = ServiceFixture("chaos-integrator", connectors: [ConnectorFixture(
                "chaos", provider: "chaos", address: "https://db.example.com", properties: ["failure": .string("none"), "passwordFile": .string(secret)],
                refreshIntervalSeconds: 3600, metadataSource: "chaos")])
            let users = JSONValue.array([
                .object(["userId": .string("garygeeke"), "passwordEnvironmentVariable": .string("TEST_PLATFORM_PASSWORD")]),
                .object(["userId": .string("peterprofile"), "passwordEnvironmentVariable": .string("TEST_PLATFORM_PASSWORD"), "role": .string("observer")]),
            ])
            try DaemonHarness.config(services: [service], platform: DaemonHarness.platform(settings: ["maxBodyBytes": .int(4_194_304), "users": users])).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            let port = try harness.startWithPlatform()
            harness.waitForStatus(timeout: 10) { harness.connector($0, "chaos")?.lastRefreshTime != nil }
            return (harness, port, harness.directory + "/data/daemon.sock")
        }

        /// Whether the connector had its secret, for each refresh since the last call (the chaos connector writes one
        /// element per refresh and records it); `seen` holds the elements already counted.
        static func secretsSince(_ seen: inout Set<String>, _ harness: DaemonHarness) throws -> [Bool] {
            let new = try harness.elements().filter { $0.typeName == "ChaosEvent" && !seen.contains($0.guid) }
            new.forEach { seen.insert($0.guid) }
            return new.map { $0.properties["hasSecret"] == .bool(true) }
        }

        /// Refreshes the connector; whether every refresh since the last look had its secret, nil for none or a mix.
        static func refreshHadSecret(_ seen: inout Set<String>, _ harness: DaemonHarness, socket: String) throws -> Bool? {
            _ = try ControlClient.send(RefreshCommand(connectorName: "chaos", waitSeconds: 30), socketPath: socket, waitSeconds: 40)
            let had = try secretsSince(&seen, harness)
            guard !had.isEmpty, Set(had).count == 1 else { return nil }
            return had[0]
        }

        static func token(port: UInt16, user: String) throws -> String {
            let client = try RawHTTP(port: port)
            client.send(RawHTTP.post("/api/token", body: #"{"userId":"\#(user)","password":"\#(DaemonHarness.platformPassword)"}"#))
            let response = try #require(client.response())
            try #require(response.head.status == 200)
            return String(decoding: response.body, as: UTF8.self)
        }

        /// The chaos connector's endpoint set through the door, as Egeria's `updateEndpointNetworkAddress`; its envelope.
        static func setEndpoint(_ port: UInt16, token: String, _ address: String) throws -> JSONValue? {
            try envelope(port, RawHTTP.post(base + "/integration-connectors/chaos/endpoint-network-address",
                                            body: #"{"class":"StringRequestBody","string":"\#(address)"}"#, token: token))
        }

        static func envelope(_ port: UInt16, _ request: String) throws -> JSONValue? {
            let client = try RawHTTP(port: port)
            client.send(request)
            return client.response().flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.body)) }
        }

        @Test("neither door can name where a secret is read: configure and set-connection with passwordFile or passwordEnvironmentVariable are refused")
        func secretLocationsAreRefused() throws {
            let (harness, port, socket) = try Self.start()
            defer { harness.cleanUp() }
            let attempts: [(String, () throws -> Void)] = [
                ("passwordFile", { _ = try ControlClient.send(ConfigureCommand(connectorName: "chaos", properties: ["passwordFile": .string("/etc/shadow")], replace: false), socketPath: socket) }),
                ("passwordEnvironmentVariable", { _ = try ControlClient.send(ConfigureCommand(connectorName: "chaos", properties: ["passwordEnvironmentVariable": .string("HOME")], replace: true), socketPath: socket) }),
                ("connection.configurationProperties.passwordFile", {
                    var connection = Connection(connectorType: ConnectorType(connectorProviderClassName: "chaos"))
                    connection.configurationProperties = ["passwordFile": .string("/etc/shadow")]
                    _ = try ControlClient.send(SetConnectionCommand(connectorName: "chaos", connection: connection), socketPath: socket)
                }),
            ]
            for (field, attempt) in attempts {
                #expect {
                    try attempt()
                } throws: { error in
                    "\(error)".contains(field) && "\(error)".contains("only the configuration file")
                }
            }
            let token = try Self.token(port: port, user: "garygeeke")
            let answer = try Self.envelope(port, RawHTTP.post(Self.base + "/integration-connectors/configuration-properties",
                body: #"{"class":"ConnectorConfigPropertiesRequestBody","connectorName":"chaos","configurationProperties":{"passwordFile":"/etc/shadow"}}"#, token: token))
            #expect(answer?["relatedHTTPCode"] == .int(400))
            #expect(answer?["exceptionProperties"]?["parameterName"] == .string("passwordFile"))
            // The file's location still holds: the connector still gets its secret.
            var seen = Set<String>()
            _ = try Self.secretsSince(&seen, harness)
            #expect(try Self.refreshHadSecret(&seen, harness, socket: socket) == true)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a connector whose endpoint an operator changed gets no secret; replacing its properties keeps the file's secret")
        func changedEndpointGetsNoSecret() throws {
            let (harness, port, socket) = try Self.start()
            defer { harness.cleanUp() }
            var seen = Set<String>()
            let first = try Self.secretsSince(&seen, harness)
            #expect(!first.isEmpty && first.allSatisfy { $0 })
            // Properties replaced whole: the secret's location is the file's, not a property the operator owns.
            _ = try ControlClient.send(ConfigureCommand(connectorName: "chaos", properties: ["failure": .string("none")], replace: true), socketPath: socket)
            #expect(try Self.refreshHadSecret(&seen, harness, socket: socket) == true)
            // The caller's own server: no secret goes there.
            let token = try Self.token(port: port, user: "garygeeke")
            let answer = try Self.setEndpoint(port, token: token, "https://attacker.example.com")
            #expect(answer?["relatedHTTPCode"] == .int(200))
            #expect(try Self.refreshHadSecret(&seen, harness, socket: socket) == false)
            // Back to the file's endpoint: the secret with it.
            _ = try ControlClient.send(SetEndpointCommand(connectorName: "chaos", address: "https://db.example.com"), socketPath: socket)
            #expect(try Self.refreshHadSecret(&seen, harness, socket: socket) == true)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a password in an endpoint address is refused at both doors; a credential-named property is masked wherever the connection is shown")
        func credentialsInConnectionsAreNotShown() throws {
            let (harness, port, socket) = try Self.start()
            defer { harness.cleanUp() }
            let token = try Self.token(port: port, user: "garygeeke")
            let answer = try Self.setEndpoint(port, token: token, "postgresql://erin:hunter22@db/x")
            #expect(answer?["relatedHTTPCode"] == .int(400))
            #expect(answer?["exceptionProperties"]?["parameterName"] == .string("address"))
            #expect {
                _ = try ControlClient.send(SetEndpointCommand(connectorName: "chaos", address: "https://db.example.com/x?sslmode=require&password=hunter22"), socketPath: socket)
            } throws: { "\($0)".contains("address holds a password") }
            var connection = Connection(connectorType: ConnectorType(connectorProviderClassName: "chaos"))
            connection.endpoint = Endpoint(address: "host=db password=hunter22")
            #expect {
                _ = try ControlClient.send(SetConnectionCommand(connectorName: "chaos", connection: connection), socketPath: socket)
            } throws: { "\($0)".contains("connection.endpoint.address holds a password") }

            #expect(try harness.cli("configure", "chaos", "--set", "apiToken=hunter22", "--set", "note=kept").code == 0)
            let json = try harness.cli("status", "--json").stdout
            let rest = try Self.envelope(port, RawHTTP.get(Self.base + "/integration-connectors/chaos/configuration-properties", token: token))
            let restStatus = try Self.envelope(port, RawHTTP.get(Self.base + "/status", token: token))
            for (shown, place) in [(json, "status --json"), ("\(String(describing: rest))", "the door's configuration-properties"),
                                   ("\(String(describing: restStatus))", "the door's status")] {
                #expect(!shown.contains("hunter22"), "\(place) shows the secret")
                #expect(shown.contains("REDACTED") && shown.contains("kept"), "\(place): \(shown.prefix(400))")
            }
            #expect(harness.connector(try harness.status(), "chaos")?.connection?.endpoint?.address == "https://db.example.com", "nothing changed")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a configure whose message the worker could not read is refused at once and changes nothing; the service still restarts")
        func oversizedChangeIsRefused() throws {
            let (harness, port, socket) = try Self.start()
            defer { harness.cleanUp() }
            // The door takes bodies up to maxBodyBytes (4 MiB here); the worker reads lines up to 1 MiB.
            let huge = String(repeating: "x", count: InitializeMessage.lineLimit)
            let token = try Self.token(port: port, user: "garygeeke")
            let answer = try Self.envelope(port, RawHTTP.post(Self.base + "/integration-connectors/configuration-properties",
                body: #"{"connectorName":"chaos","mergeUpdate":true,"configurationProperties":{"note":"\#(huge)"}}"#, token: token))
            #expect(answer?["relatedHTTPCode"] == .int(400))
            #expect(answer?["exceptionErrorMessage"]?.stringValue?.contains("refused, nothing changed") == true, "\(String(describing: answer?["exceptionErrorMessage"]))")
            let status = try harness.status()
            #expect(harness.connector(status, "chaos")?.connection?.configurationProperties?["note"] == nil)
            let pid = try #require(harness.service(status, "chaos-integrator")?.worker.pid)
            _ = try ControlClient.send(RestartServiceCommand(service: "chaos-integrator"), socketPath: socket)
            let back = harness.waitForStatus(timeout: 10) { status in
                let worker = harness.service(status, "chaos-integrator")?.worker
                return worker?.state == "running" && worker?.pid != pid
            }
            #expect(back.ok, "the service did not start again: \(String(describing: back.status.flatMap { harness.service($0, "chaos-integrator")?.worker }))")
            #expect(harness.stop() == .exited(0))
        }

        @Test("an observer reads status but may not refresh, restart, configure or reload; an operator may")
        func observerReadsOnly() throws {
            let (harness, port, _) = try Self.start()
            defer { harness.cleanUp() }
            let observer = try Self.token(port: port, user: "peterprofile")
            #expect(try Self.envelope(port, RawHTTP.get(Self.base + "/status", token: observer))?["relatedHTTPCode"] == .int(200))
            #expect(try Self.envelope(port, RawHTTP.get(Self.base + "/integration-groups/summary", token: observer))?["relatedHTTPCode"] == .int(200))
            let refreshesBefore = try #require(harness.connector(try harness.status(), "chaos")?.statistics.refreshCount)
            let changes = [
                RawHTTP.post(Self.base + "/integration-connectors/refresh", body: "", token: observer),
                RawHTTP.post(Self.base + "/integration-connectors/restart", body: #"{"name":"chaos"}"#, token: observer),
                RawHTTP.post(Self.base + "/integration-connectors/configuration-properties",
                             body: #"{"connectorName":"chaos","configurationProperties":{"failure":"exit"}}"#, token: observer),
                RawHTTP.get(Self.base + "/integration-groups/chaos-integrator/refresh-config", token: observer),
            ]
            for request in changes {
                let answer = try Self.envelope(port, request)
                #expect(answer?["relatedHTTPCode"] == .int(403), "\(request.prefix(80)): \(String(describing: answer))")
                #expect(answer?["exceptionClassName"] == .string(EgeriaEnvelope.userNotAuthorized))
            }
            let status = try harness.status()
            #expect(harness.connector(status, "chaos")?.statistics.refreshCount == refreshesBefore)
            #expect(harness.connector(status, "chaos")?.connection?.configurationProperties?["failure"] == .string("none"))
            let operatorToken = try Self.token(port: port, user: "garygeeke")
            #expect(try Self.envelope(port, RawHTTP.post(Self.base + "/integration-connectors/refresh", body: "", token: operatorToken))?["relatedHTTPCode"] == .int(200))
            #expect(harness.stop() == .exited(0))
        }
    }
}

extension RealProcesses.DoorSecretsTests {
    @Test("a password a server echoes in its error is masked in status, the REST door, refresh output and the JSON log", arguments: ["s3cret for chaos", #"pa"ss\wo/rd!"#])
    func echoedSecretIsMasked(password: String) throws {
        let harness = try DaemonHarness(config: "{}")
        defer { harness.cleanUp() }
        let secret = harness.directory + "/chaos.password"
        try password.write(toFile: secret, atomically: true, encoding: .utf8)
        let service = ServiceFixture("chaos-integrator", connectors: [ConnectorFixture(
            "chaos", provider: "chaos", properties: ["failure": .string("throw"), "afterRefreshes": .int(1), "passwordFile": .string(secret),
                                                    "message": .string("FATAL: password authentication failed, got {secret}")],
            refreshIntervalSeconds: 3600, metadataSource: "chaos")])
        try DaemonHarness.config(services: [service], platform: DaemonHarness.platform()).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        let child = try harness.start(arguments: ["--log-format", "json"], environment: ["TEST_PLATFORM_PASSWORD": DaemonHarness.platformPassword])
        let failed = harness.waitForStatus(timeout: 10) { harness.connector($0, "chaos")?.failingExceptionMessage?.contains("authentication failed") == true }
        #expect(failed.ok)
        var shown: [(String, String)] = []
        shown.append(("status --json", try harness.cli("status", "--json").stdout))
        shown.append(("status", try harness.cli("status").stdout))
        shown.append(("refresh", try harness.cli("refresh", "chaos").stdout))
        var port: UInt16?
        for line in child.stderrLines where line.contains("platform door listening:") {
            if let range = line.range(of: #":[0-9]+/servers/"#, options: .regularExpression) { port = UInt16(line[range].dropFirst().prefix { $0.isNumber }) }
        }
        let door = try #require(port)
        let token = try #require(try DaemonHarness.token(port: door))
        let client = try RawHTTP(port: door)
        client.send(RawHTTP.get(RealProcesses.DoorSecretsTests.base + "/status", token: token) + RawHTTP.get(RealProcesses.DoorSecretsTests.base + "/integration-groups/summary", token: token))
        shown.append(("REST status", client.response().map { String(decoding: $0.body, as: UTF8.self) } ?? ""))
        shown.append(("REST summaries", client.response().map { String(decoding: $0.body, as: UTF8.self) } ?? ""))
        #expect(harness.stop() == .exited(0))
        shown.append(("log", child.stderrLines.joined(separator: "\n")))
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        for (place, text) in shown {
            #expect(text.contains("authentication failed"), "\(place) does not show the failure")
            #expect(!text.contains(password) && !text.contains(escaped), "\(place) shows the password:\n\(text.prefix(3000))")
        }
    }
}

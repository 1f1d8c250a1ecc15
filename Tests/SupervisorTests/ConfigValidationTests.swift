import Foundation
import Protocol
import Testing
@testable import Supervisor
@testable import Worker

extension RealProcesses {
    /// Bad configurations, checked through the real `integration-daemon validate` and `run`: every error names
    /// its JSON path and bad value, all errors come at once, and the exit code is 64.
    @Suite("Configuration validation", .serialized)
    struct ConfigValidationTests {
        static let service = """
        { "integrationServiceURLMarker": "files-integrator", "integrationConnectorConfigs": [ {
            "connectorName": "files", "connection": { "connectorType": { "connectorProviderClassName": "data-files-monitor" },
            "endpoint": { "address": "/tmp" } } } ] }
        """

        /// A broken config and the message fragments stderr must contain.
        struct Case: CustomTestStringConvertible, Sendable {
            let name: String
            let json: String
            let expected: [String]
            var testDescription: String { name }
        }

        static func doc(supervision: String = "{}", services: String = service, extra: String = "") -> String {
            "{ \"dataDirectory\": \"data\", \"supervision\": \(supervision), \(extra) \"integrationServices\": [ \(services) ] }"
        }

        static let cases: [Case] = [
            Case(name: "a provider the built-in worker does not know (the list comes from integration-worker --list-connectors)",
                 json: doc(services: service.replacingOccurrences(of: "\"data-files-monitor\"", with: "\"data-file-monitor\"")),
                 expected: ["integrationConnectorConfigs[0].connection.connectorType.connectorProviderClassName",
                            "unknown connector provider \"data-file-monitor\"", "it knows: chaos, data-files-monitor"]),
            Case(name: "store retention out of range",
                 json: doc(extra: "\"store\": { \"retention\": { \"maxReportsPerConnector\": 0, \"maxAgeDays\": \"90\", \"keep\": 1 }, \"cacheMegabytes\": 1e9 },"),
                 expected: ["store.retention.maxReportsPerConnector", "store.retention.maxAgeDays", "store.cacheMegabytes"]),
            Case(name: "not JSON", json: "{ \"integrationServices\": [ }", expected: ["not valid JSON"]),
            Case(name: "top level is an array", json: "[]", expected: ["expected an object, got []"]),
            Case(name: "no services", json: "{ \"dataDirectory\": \"data\" }", expected: ["integrationServices: is required"]),
            Case(name: "empty services", json: "{ \"integrationServices\": [] }", expected: ["integrationServices: must list at least one"]),
            Case(name: "wrong type for heartbeat", json: doc(supervision: "{ \"heartbeatIntervalSeconds\": \"2s\" }"),
                 expected: ["supervision.heartbeatIntervalSeconds: expected a number, got \"2s\""]),
            Case(name: "negative heartbeat", json: doc(supervision: "{ \"heartbeatIntervalSeconds\": -1 }"),
                 expected: ["supervision.heartbeatIntervalSeconds: must be between", "got -1"]),
            Case(name: "timeout not above interval", json: doc(supervision: "{ \"heartbeatIntervalSeconds\": 5, \"heartbeatTimeoutSeconds\": 2 }"),
                 expected: ["supervision.heartbeatTimeoutSeconds: must be greater than heartbeatIntervalSeconds (5), got 2"]),
            Case(name: "unknown restart policy", json: doc(supervision: "{ \"restart\": { \"policy\": \"always\" } }"),
                 expected: ["supervision.restart.policy: expected permanent|transient|temporary, got \"always\""]),
            Case(name: "max backoff below initial", json: doc(supervision: "{ \"restart\": { \"initialBackoffSeconds\": 5, \"maxBackoffSeconds\": 1 } }"),
                 expected: ["supervision.restart.maxBackoffSeconds: must not be less than initialBackoffSeconds (5), got 1"]),
            Case(name: "fractional maxRestarts", json: doc(supervision: "{ \"restart\": { \"maxRestarts\": 2.5 } }"),
                 expected: ["supervision.restart.maxRestarts: expected a whole number, got 2.5"]),
            Case(name: "missing URL marker", json: doc(services: "{ \"integrationConnectorConfigs\": [] }"),
                 expected: ["integrationServices[0].integrationServiceURLMarker: is required", "integrationServices[0].integrationConnectorConfigs: must list at least one connector"]),
            Case(name: "bad URL marker", json: doc(services: service.replacingOccurrences(of: "files-integrator", with: "Files Integrator")),
                 expected: ["integrationServices[0].integrationServiceURLMarker: must be lowercase letters, digits and hyphens", "got \"Files Integrator\""]),
            Case(name: "duplicate service", json: doc(services: service + "," + service.replacingOccurrences(of: "\"files\"", with: "\"files2\"")),
                 expected: ["integrationServices[1].integrationServiceURLMarker: duplicate integration service \"files-integrator\" (also integrationServices[0])"]),
            Case(name: "duplicate connector name", json: doc(services: service + "," + service.replacingOccurrences(of: "files-integrator", with: "other")),
                 expected: ["integrationServices[1].integrationConnectorConfigs[0].connectorName: duplicate connectorName \"files\""]),
            Case(name: "missing provider", json: doc(services: service.replacingOccurrences(of: "\"connectorProviderClassName\": \"data-files-monitor\"", with: "\"x\": 1")),
                 expected: ["integrationServices[0].integrationConnectorConfigs[0].connection.connectorType.connectorProviderClassName: is required"]),
            Case(name: "a password inside an endpoint address",
                 json: doc(services: service.replacingOccurrences(of: "\"address\": \"/tmp\"", with: "\"address\": \"postgresql://erin:hunter22@db:5432/x\"")),
                 expected: ["integrationServices[0].integrationConnectorConfigs[0].connection.endpoint.address: holds a password", "passwordFile"]),
            Case(name: "worker command not executable", json: doc(services: service.replacingOccurrences(of: "\"integrationConnectorConfigs\"", with: "\"worker\": { \"command\": [\"no-such-worker-binary\"] }, \"integrationConnectorConfigs\"")),
                 expected: ["integrationServices[0].worker.command[0]: \"no-such-worker-binary\" is not an executable file"]),
            Case(name: "remote worker: command and remote both, bad port, relative workerPath, unreadable key",
                 json: doc(services: service.replacingOccurrences(of: "\"integrationConnectorConfigs\"", with: """
                 "worker": { "command": ["ssh"], "remote": { "host": "10.0.0.2", "port": 70000, "workerPath": "bin/integration-worker", "identityFile": "/no/such/key" } }, "integrationConnectorConfigs"
                 """)),
                 expected: ["integrationServices[0].worker: give command or remote, not both",
                            "integrationServices[0].worker.remote.port: must be between 1 and 65535, got 70000",
                            "integrationServices[0].worker.remote.workerPath: expected an absolute path on the remote host",
                            "integrationServices[0].worker.remote.identityFile: \"/no/such/key\" cannot be read"]),
            Case(name: "two connectors, one provider, one folder, one host",
                 json: doc(services: service + "," + service.replacingOccurrences(of: "files-integrator", with: "other").replacingOccurrences(of: "\"files\"", with: "\"files2\"")),
                 expected: ["integrationServices[1].integrationConnectorConfigs[0].connection.endpoint.address:",
                            "is already catalogued by connector files with the same provider"]),
            Case(name: "empty worker command", json: doc(services: service.replacingOccurrences(of: "\"integrationConnectorConfigs\"", with: "\"worker\": { \"command\": [] }, \"integrationConnectorConfigs\"")),
                 expected: ["integrationServices[0].worker.command: expected a non-empty array of strings, got []"]),
            Case(name: "both refresh intervals", json: doc(services: service.replacingOccurrences(of: "\"connectorName\": \"files\",", with: "\"connectorName\": \"files\", \"refreshTimeInterval\": 1, \"refreshIntervalSeconds\": 5,")),
                 expected: ["refreshIntervalSeconds: give refreshTimeInterval (minutes) or refreshIntervalSeconds, not both"]),
            Case(name: "bad permittedSynchronization", json: doc(services: service.replacingOccurrences(of: "\"connectorName\": \"files\",", with: "\"connectorName\": \"files\", \"permittedSynchronization\": \"SIDEWAYS\",")),
                 expected: ["integrationConnectorConfigs[0].permittedSynchronization: expected BOTH_DIRECTIONS|TO_THIRD_PARTY|FROM_THIRD_PARTY|OTHER, got \"SIDEWAYS\""]),
            Case(name: "reports flag not boolean", json: doc(services: service.replacingOccurrences(of: "\"connectorName\": \"files\",", with: "\"connectorName\": \"files\", \"generateIntegrationReports\": \"yes\",")),
                 expected: ["integrationConnectorConfigs[0].generateIntegrationReports: expected true or false, got \"yes\""]),
            Case(name: "egeria access server incomplete", json: doc(extra: "\"accessServer\": { \"egeria\": { \"omagserverPlatformRootURL\": \"ftp://x\" } },"),
                 expected: ["accessServer.egeria.omagserverPlatformRootURL: expected an http:// or https:// URL, got \"ftp://x\"",
                            "accessServer.egeria.omagserverName: is required"]),
            Case(name: "two access servers", json: doc(extra: "\"accessServer\": { \"embedded\": {}, \"egeria\": {} },"),
                 expected: ["accessServer: expected {\"embedded\": {}} or {\"egeria\": {...}}"]),
            Case(name: "integration group incomplete", json: doc(extra: """
                 "dynamicIntegrationGroupsConfig": [ { "integrationGroupQualifiedName": "Egeria:IntegrationGroup:Files", "omagserverPlatformRootURL": "x:y",
                   "secretsStoreProvider": "org.example.VaultProvider", "secretsStoreLocation": "none.omsecrets", "groupRefreshSeconds": 0 } ],
                 """),
                 expected: ["dynamicIntegrationGroupsConfig[0].omagserverPlatformRootURL: expected an http:// or https:// URL, got \"x:y\"",
                            "dynamicIntegrationGroupsConfig[0].omagserverName: is required",
                            "dynamicIntegrationGroupsConfig[0].secretsStoreProvider: only Egeria's YAML secrets store is read",
                            "dynamicIntegrationGroupsConfig[0].secretsStoreCollection: is required",
                            "dynamicIntegrationGroupsConfig[0].groupRefreshSeconds: must be"]),
        ]

        func write(_ json: String) throws -> (TemporaryDirectory, String) {
            let folder = try TemporaryDirectory(prefix: "idc")
            let path = folder.path + "/daemon.json"
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            return (folder, path)
        }

        @Test("a bad config is refused with its JSON path, value and exit 64", arguments: cases)
        func badConfig(_ c: Case) throws {
            let (folder, path) = try write(c.json)
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", path])
            #expect(result.code == 64)
            for fragment in c.expected {
                #expect(result.stderr.contains(fragment), "missing \"\(fragment)\" in:\n\(result.stderr)")
            }
            #expect(result.stderr.contains(path), "errors must name the file")
        }

        @Test("every error is reported at once, and run refuses to start")
        func allErrorsAtOnce() throws {
            let json = Self.doc(supervision: "{ \"heartbeatIntervalSeconds\": \"x\", \"restart\": { \"policy\": \"always\", \"maxRestarts\": -1 } }",
                                services: Self.service.replacingOccurrences(of: "\"connectorName\": \"files\",", with: "\"connectorName\": 7,"))
            let (folder, path) = try write(json)
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "run", "--config", path])
            #expect(result.code == 64)
            for fragment in ["supervision.heartbeatIntervalSeconds", "supervision.restart.policy", "supervision.restart.maxRestarts",
                             "integrationServices[0].integrationConnectorConfigs[0].connectorName: expected a string, got 7",
                             "4 configuration error(s); nothing was started"] {
                #expect(result.stderr.contains(fragment), "missing \"\(fragment)\" in:\n\(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/data"), "nothing may be started or created")
        }

        @Test("a service whose initialize a worker could not read is refused: 10,000 connectors in one service, but not 1,000")
        func serviceTooLargeForOneInitialize() throws {
            func connectors(_ count: Int) -> String {
                (0..<count).map { index in
                    #"{ "connectorName": "c\#(index)", "connection": { "connectorType": { "connectorProviderClassName": "chaos" }, "configurationProperties": { "failure": "none" } } }"#
                }.joined(separator: ",")
            }
            for (count, valid) in [(10_000, false), (1_000, true)] {
                let json = Self.doc(services: #"{ "integrationServiceURLMarker": "big-integrator", "integrationConnectorConfigs": [ \#(connectors(count)) ] }"#)
                let (folder, path) = try write(json)
                defer { withExtendedLifetime(folder) {} }
                let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", path])
                if valid {
                    #expect(result.code == 0, "\(count) connectors: \(result.stderr)")
                } else {
                    #expect(result.code == 64)
                    #expect(result.stderr.contains("integrationServices[0].integrationConnectorConfigs: its 10000 connector(s) make an initialize message of"),
                            "\(result.stderr.prefix(2000))")
                    #expect(result.stderr.contains("split the connectors into more integration services"))
                }
            }
        }

        @Test("a missing file names the file and the reason")
        func missingFile() throws {
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", "/nonexistent/daemon.json"])
            #expect(result.code == 64)
            #expect(result.stderr.contains("/nonexistent/daemon.json: cannot read the file"))
        }

        @Test("the shipped configs are valid; an unknown field is an error naming the key it resembles, Egeria's own fields are accepted")
        func shippedConfigsAreValid() throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            for name in ["daemon.json", "chaos.json"] {
                let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", root.appendingPathComponent("config/\(name)").path])
                #expect(result.code == 0, "\(name): \(result.stderr)")
                #expect(result.stdout.contains("valid"))
            }
            // A typo must not silently move the store.
            let (folder, path) = try write(Self.doc(extra: "\"class\": \"OMAGServerConfig\", \"headerVersion\": 0, \"heartbeatInterval\": 3, \"DataDirectory\": \"x\","))
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", path])
            #expect(result.code == 64)
            #expect(result.stderr.contains("DataDirectory: unknown field; did you mean \"dataDirectory\"?"), "\(result.stderr)")
            #expect(result.stderr.contains("heartbeatInterval: unknown field; known here:"), "\(result.stderr)")
            #expect(!result.stderr.contains("class") && !result.stderr.contains("headerVersion"))
        }

        @Test("a connector's file properties (passwordFile, deadLetterFile, caFile) resolve against the configuration's folder")
        func connectorFilesResolve() throws {
            let service = ServiceFixture("lineage-integrator", connectors: [ConnectorFixture(
                "forward", provider: "open-lineage-api-publisher", address: "http://marquez:5000/api/v1/lineage",
                properties: ["deadLetterFile": .string("lineage/dead.jsonl"), "caFile": .string("/etc/ssl/ca.pem"),
                             "passwordFile": .string("secrets/marquez.key")])]).value
            let (folder, path) = try write(Self.doc(services: ConfigFixture.text(service)))
            defer { withExtendedLifetime(folder) {} }
            let (config, _) = try ConfigLoader.load(path: path, workerDirectory: Binaries.directory, checkProviders: false)
            let properties = try #require(config.integrationServices.first?.connectors.first?.connection.configurationProperties)
            let base = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
            #expect(properties["deadLetterFile"] == .string(base + "/lineage/dead.jsonl"))
            #expect(properties["passwordFile"] == .string(base + "/secrets/marquez.key"))
            #expect(properties["caFile"] == .string("/etc/ssl/ca.pem"))
        }

        @Test("an object missing a required field still has its unknown fields reported, in the same run")
        func unknownBesideMissing() throws {
            let platform = #""platform": { "adress": "127.0.0.1:0", "tokenLifetimeSecond": 5, "users": [ { "userid": "x", "passwordFile": "/p" } ] },"#
            let (folder, path) = try write(Self.doc(extra: platform))
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--json", "--config", path])
            #expect(result.code == 64)
            let errors = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))["errors"]?.arrayValue ?? []
            let byPath = Dictionary(errors.compactMap { error in error["path"]?.stringValue.map { ($0, error["message"]?.stringValue ?? "") } }) { first, _ in first }
            #expect(byPath["platform.address"] == "is required", "\(byPath)")
            #expect(byPath["platform.adress"] == "unknown field; did you mean \"address\"?")
            #expect(byPath["platform.tokenLifetimeSecond"] == "unknown field; did you mean \"tokenLifetimeSeconds\"?")
            #expect(byPath["platform.users[0].userId"] == "is required")
            #expect(byPath["platform.users[0].userid"] == "unknown field; did you mean \"userId\"?")
        }

        @Test("validate --json: {valid, errors, warnings} on stdout, errors and warnings alike as {path, message}")
        func validateJSON() throws {
            let bad = Self.doc(extra: "\"dataDirectry\": \"x\",")
            let (folder, path) = try write(bad)
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--json", "--config", path])
            #expect(result.code == 64)
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
            #expect(value["valid"] == .bool(false))
            #expect(value["errors"] == .array([.object(["path": .string("dataDirectry"), "message": .string("unknown field; did you mean \"dataDirectory\"?")])]))

            // Valid, but this host lacks what the file names: a folder and a password variable. Warnings, in
            // the errors' format, on both outputs.
            let service = Self.service.replacingOccurrences(of: "\"endpoint\": { \"address\": \"/tmp\" }",
                with: "\"endpoint\": { \"address\": \"/nonexistent/landing\" }, \"configurationProperties\": { \"passwordEnvironmentVariable\": \"IDT_UNSET_PASSWORD_VARIABLE\" }")
            try Self.doc(services: service).write(toFile: path, atomically: true, encoding: .utf8)
            let json = try DaemonHarness.run([Binaries.daemon, "validate", "--json", "--config", path])
            #expect(json.code == 0)
            let warnings = try JSONDecoder().decode(JSONValue.self, from: Data(json.stdout.utf8))["warnings"]?.arrayValue ?? []
            let paths = warnings.compactMap { $0["path"]?.stringValue }
            #expect(paths == ["integrationServices[0].integrationConnectorConfigs[0].connection.configurationProperties.passwordEnvironmentVariable",
                              "integrationServices[0].integrationConnectorConfigs[0].connection.endpoint.address"], "\(json.stdout)")
            let text = try DaemonHarness.run([Binaries.daemon, "validate", "--config", path])
            #expect(text.code == 0 && text.stdout.contains("2 warning(s)"))
            #expect(text.stderr.contains("\(path): warning: integrationServices[0].integrationConnectorConfigs[0].connection.endpoint.address: folder /nonexistent/landing does not exist here"), "\(text.stderr)")
            #expect(text.stderr.contains("names IDT_UNSET_PASSWORD_VARIABLE, which is not set; `run` refuses to start without it"))
        }

        @Test("Egeria's YAML secrets store: a collection's token request or secrets, quoted or plain; lists and unknown collections refused with where")
        func secretsStoreFile() throws {
            let folder = try TemporaryDirectory(prefix: "idt-secrets")
            let file = folder.path + "/servers.omsecrets"
            try """
            ---
            # comment
            secretsCollections:
              Plain:
                secrets:
                  userId: 'egeria_user'   # trailing comment
                  clearPassword: "p#ss word"
              Token:
                tokenAPI:
                  requestBody:
                    userId: npa
                    password: s3cret
            """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try SecretsStoreFile.credentials(file: file, collection: "Plain") == .init(userId: "egeria_user", password: "p#ss word"))
            #expect(try SecretsStoreFile.credentials(file: file, collection: "Token") == .init(userId: "npa", password: "s3cret"))
            #expect(throws: SecretsStoreFile.Problem.self) { try SecretsStoreFile.credentials(file: file, collection: "Other") }
            do { _ = try SecretsStoreFile.credentials(file: file, collection: "Other") } catch { #expect(error.description.contains("it has Plain, Token")) }
            try "secretsCollections:\n  - a\n".write(toFile: file, atomically: true, encoding: .utf8)
            do { _ = try SecretsStoreFile.credentials(file: file, collection: "a"); Issue.record("a list was read") } catch {
                #expect(error.description.hasSuffix("servers.omsecrets:2: a list, which a secrets store file does not hold"))
            }
        }

        @Test("placeholders are filled inside strings anywhere in the document, from the given values before the environment")
        func placeholders() {
            let document = JSONValue.object(["a": .array([.string("x~{one}~y~{two}~")]), "b": .object(["c": .string("~{three}~")]), "n": .int(3)])
            let (filled, issues) = ConfigPlaceholders.fill(document, given: ["one": "1", "two": "2"], environment: ["two": "env", "three": "3"])
            #expect(filled == .object(["a": .array([.string("x1y2")]), "b": .object(["c": .string("3")]), "n": .int(3)]))
            #expect(issues.isEmpty)
            let (_, missing) = ConfigPlaceholders.fill(document, given: [:], environment: [:])
            #expect(missing.map(\.path) == ["a[0]", "a[0]", "b.c"])
        }

        @Test("a JSON syntax error names its line and column")
        func syntaxErrorLineAndColumn() throws {
            // Columns count characters: the é is two bytes, one column.
            let (folder, path) = try write("{\n  \"localServerName\": \"x\",\n  \"integrationServices\": [\"é\", }\n")
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", path])
            #expect(result.code == 64)
            #expect(result.stderr.contains("not valid JSON: line 3, column 32"), "\(result.stderr)")
        }

        @Test("bad command lines exit 64 and say why")
        func badCommandLine() throws {
            let unknown = try DaemonHarness.run([Binaries.daemon, "frobnicate"])
            #expect(unknown.code == 64)
            #expect(unknown.stderr.contains("unknown command \"frobnicate\""))
            let option = try DaemonHarness.run([Binaries.daemon, "status", "--bogus"])
            #expect(option.code == 64)
            #expect(option.stderr.contains("unknown option \"--bogus\""))
            let help = try DaemonHarness.run([Binaries.daemon, "reports", "--help"])
            #expect(help.code == 0)
            #expect(help.stdout.contains("usage: integration-daemon reports"))

            // Options with no command print help; they never start a daemon.
            let (folder, path) = try write(Self.doc())
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let bare = try DaemonHarness.run([Binaries.daemon, "--json", "--config", path], timeout: 10)
            #expect(bare.code == 64 && bare.stderr.contains("no command given before --json") && bare.stderr.contains("usage: integration-daemon <command>"),
                    "\(bare)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/data"), "a daemon was started")
            let version = try DaemonHarness.run([Binaries.daemon, "--version"])
            #expect(version.code == 0 && version.stdout.hasPrefix("integration-daemon \(SupervisorCommand.version)"), "\(version)")
            let workerVersion = try DaemonHarness.run([Binaries.worker, "--version"])
            #expect(workerVersion.code == 0 && workerVersion.stdout.hasPrefix("integration-worker \(WorkerRuntime.version)"), "\(workerVersion)")
            // A run-only option given to another command is refused, naming the command it belongs to.
            let runOnly = try DaemonHarness.run([Binaries.daemon, "status", "--log-level", "debug", "--config", path])
            #expect(runOnly.code == 64 && runOnly.stderr.contains("--log-level is not an option of status (it is for: run)"), "\(runOnly.stderr)")
            let reportsOnly = try DaemonHarness.run([Binaries.daemon, "elements", "--since", "2h", "--config", path])
            #expect(reportsOnly.code == 64 && reportsOnly.stderr.contains("--since is not an option of elements (it is for: reports)"))
        }

        @Test("a live command with a configuration file that does not exist says so (64), not \"no daemon is running\" (69)")
        func liveCommandWithoutConfigFile() throws {
            for command in ["status", "reload", "metrics"] {
                let result = try DaemonHarness.run([Binaries.daemon, command, "--config", "/nonexistent/daemon.json"])
                #expect(result.code == 64, "\(command): \(result)")
                #expect(result.stderr.contains("/nonexistent/daemon.json: cannot read the configuration file"), "\(result.stderr)")
            }
        }

        @Test("run with a connector secret that cannot be read is a configuration error: 64, and nothing is created")
        func unreadableSecretAtRun() throws {
            let service = Self.service.replacingOccurrences(of: "\"endpoint\": { \"address\": \"/tmp\" }",
                                                            with: "\"endpoint\": { \"address\": \"/tmp\" }, \"configurationProperties\": { \"passwordEnvironmentVariable\": \"IDT_UNSET_PASSWORD_VARIABLE\" }")
            let (folder, path) = try write(Self.doc(services: service))
            let directory = folder.path
            defer { withExtendedLifetime(folder) {} }
            let result = try DaemonHarness.run([Binaries.daemon, "run", "--config", path], timeout: 20)
            #expect(result.code == 64, "\(result)")
            #expect(result.stderr.contains("IDT_UNSET_PASSWORD_VARIABLE"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/data"), "nothing may be created")
        }
    }
}

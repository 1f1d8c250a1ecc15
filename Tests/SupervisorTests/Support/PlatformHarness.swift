import Foundation
import Protocol
@testable import Supervisor

/// A daemon with its platform door on a kernel-chosen port, and the pyegeria venv that the README's test
/// command installs.
extension DaemonHarness {
    static let platformPassword = "s3cret-for-tests"

    /// The `platform` member for `config(platform:)`: a kernel-chosen port, one user; `settings` adds or replaces members.
    static func platform(tls: PrivateCA? = nil, settings: [String: JSONValue] = [:]) -> JSONValue {
        var members: [String: JSONValue] = [
            "address": .string("127.0.0.1:0"),
            "users": .array([.object(["userId": .string("garygeeke"), "passwordEnvironmentVariable": .string("TEST_PLATFORM_PASSWORD")])]),
        ]
        if let tls { members["tls"] = .object(["certificateFile": .string(tls.serverCert), "privateKeyFile": .string(tls.serverKey)]) }
        return .object(members.merging(settings) { _, given in given })
    }

    /// `platform.apiKeys`: one key for the OpenLineage door, read from `TEST_LINEAGE_KEY`.
    static let lineageKeys: [String: JSONValue] = [
        "apiKeys": .array([.object(["name": .string("airflow"), "keyEnvironmentVariable": .string("TEST_LINEAGE_KEY")])]),
    ]

    /// Starts the daemon with the platform password in its environment and returns the door's port, read from
    /// the log line that announces it.
    func startWithPlatform(wrapper: [String] = []) throws -> UInt16 {
        let child = try start(environment: ["TEST_PLATFORM_PASSWORD": Self.platformPassword], wrapper: wrapper)
        var port: UInt16?
        _ = child.waitFor(timeout: 10) { _, stderr, _ in
            for line in stderr where line.contains("platform door listening:") {
                if let range = line.range(of: #":[0-9]+/servers/"#, options: .regularExpression) {
                    port = UInt16(line[range].dropFirst().prefix { $0.isNumber })
                }
            }
            return port != nil
        }
        guard let port else { throw HarnessError("the platform door did not announce its port:\n\(child.stderrLines.joined(separator: "\n"))") }
        return port
    }

    /// A token from the door, over plain HTTP.
    static func token(port: UInt16, password: String = platformPassword) throws -> String? {
        let client = try RawHTTP(port: port)
        client.send(RawHTTP.post("/api/token", body: #"{"userId":"garygeeke","password":"\#(password)"}"#))
        guard let response = client.response(), response.head.status == 200 else { return nil }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The venv python with pyegeria, installed by `scripts/test-deps` (the README's test command runs it).
    static func pyegeriaPython() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".build/pyegeria-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("pyegeria is not installed at \(python): run scripts/test (the README's test command), which installs it")
        }
        return python
    }
}

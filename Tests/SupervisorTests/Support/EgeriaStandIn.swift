import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Protocol

/// The Python stand-in Egeria server (Fixtures/egeria_standin.py), started and owned by a test.
final class EgeriaStandIn: @unchecked Sendable {
    let port: Int
    let stateFile: String
    private(set) var process: ChildProcess?
    let token: String?
    /// Server certificate and key (PEM) for TLS; nil serves plain HTTP.
    let tls: (cert: String, key: String)?

    /// What the stand-in has received.
    struct Received: Decodable {
        struct Report: Decodable {
            let reportId: String
            let connectorName: String
            let refreshStartDate: Int
            let outcome: String?
            /// Egeria 6: the activity report's anchor, unique name and plain property values.
            let anchorGUID: String?
            let qualifiedName: String?
            let properties: JSONValue?
        }
        let reports: [Report]
        let requests: Int
        let duplicates: Int
        let errors: [String]
        /// Egeria 6: tokens issued, and requests refused with 401.
        let tokens: Int?
        let unauthorized: Int?
    }

    /// Which Egeria the stand-in plays: 6 (token API, open-metadata-store) or 5 (framework services).
    enum Version: Sendable { case v5, v6(password: String, tokenSeconds: Double) }
    let version: Version

    /// Starts it on `port` (0: any free port), remembering reports in `stateFile` across restarts.
    init(stateFile: String, port: Int = 0, token: String? = nil, tls: (cert: String, key: String)? = nil, version: Version = .v5) throws {
        self.stateFile = stateFile
        self.token = token
        self.tls = tls
        self.version = version
        let (process, port) = try Self.launch(port: port, stateFile: stateFile, token: token, tls: tls, version: version)
        self.process = process
        self.port = port
    }

    private static func launch(port: Int, stateFile: String, token: String?, tls: (cert: String, key: String)?,
                               version: Version) throws -> (ChildProcess, Int) {
        var argv = ["/usr/bin/env", "python3"]
        switch version {
        case .v5: argv.append(Binaries.fixtures + "/egeria_standin.py")
        case .v6(let password, let seconds):
            argv += [Binaries.fixtures + "/egeria6_standin.py", "--password", password, "--token-seconds", "\(seconds)"]
        }
        argv += ["--port", "\(port)", "--state", stateFile]
        if let token { argv += ["--token", token] }
        if let tls { argv += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        let child = try ChildProcess(argv)
        guard child.waitFor(timeout: 10, { out, _, _ in out.contains { $0.hasPrefix("PORT ") } }),
              let line = child.stdoutLines.first(where: { $0.hasPrefix("PORT ") }), let chosen = Int(line.dropFirst(5)) else {
            child.killGroup()
            throw HarnessError("stand-in did not start: \(child.stderrLines.joined(separator: "\n"))")
        }
        return (child, chosen)
    }

    /// For TLS the name the certificate carries (localhost); the control calls below stay on plain sockets' view.
    var rootURL: String { tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)" }

    /// The `accessServer` config block pointing at it. Element writes stay local unless asked: the report tests
    /// need connectors that keep producing reports while the server is down.
    func accessServer(elementWrites: String = "embedded", extra: [String: JSONValue] = [:]) -> JSONValue {
        var egeria: [String: JSONValue] = [
            "omagserverPlatformRootURL": .string(rootURL), "omagserverName": .string(serverName), "userId": .string("integration-daemon-npa"),
            "elementWrites": .string(elementWrites), "requestTimeoutSeconds": .int(2), "initialRetrySeconds": .double(0.05), "maxRetrySeconds": .double(0.5),
        ]
        switch version {
        case .v5: egeria["apiVersion"] = .string("5")
        // Egeria 6 gets its password from STANDIN_PASSWORD.
        case .v6: egeria.merge(["apiVersion": .string("6"), "passwordEnvironmentVariable": .string("STANDIN_PASSWORD")]) { _, given in given }
        }
        return .object(["egeria": .object(egeria.merging(extra) { _, given in given })])
    }

    var serverName: String {
        switch version {
        case .v5: "cocoMDS1"
        case .v6: "qs-metadata-store"
        }
    }

    func stop() {
        process?.killGroup()
        process = nil
    }

    /// Starts it again on the same port (its reports survive in the state file).
    func restart() throws {
        stop()
        process = try Self.launch(port: port, stateFile: stateFile, token: token, tls: tls, version: version).0
    }

    /// Elements the stand-in holds, by GUID: type name and plain property values.
    func elements() throws -> [String: JSONValue] {
        try JSONDecoder().decode(JSONValue.self, from: try request("GET", "/control/elements"))["elements"]?.objectValue ?? [:]
    }

    /// Relationships the stand-in holds, by GUID: `typeName`, `end1`, `end2`, `properties` (6.x only).
    func relationships() throws -> [String: JSONValue] {
        try JSONDecoder().decode(JSONValue.self, from: try request("GET", "/control/elements"))["relationships"]?.objectValue ?? [:]
    }

    /// Replaces every integration group the stand-in holds: per group qualified name, its registrations (see
    /// egeria6_standin.py for their fields).
    func setGroups(_ groups: [String: [[String: JSONValue]]]) throws {
        let body = JSONValue.object(["groups": .object(groups.mapValues { .array($0.map(JSONValue.object)) })])
        _ = try request("POST", "/control/groups", body: Data(ConfigFixture.text(body).utf8))
    }

    /// Replaces a registered connector's catalog targets: each `{catalogTargetName, path, …}` a folder asset.
    func setTargets(connector: String, _ targets: [[String: JSONValue]]) throws {
        let body = JSONValue.object(["connectorName": .string(connector), "targets": .array(targets.map(JSONValue.object))])
        _ = try request("POST", "/control/targets", body: Data(ConfigFixture.text(body).utf8))
    }

    /// A FileFolder asset with a connection to `path`: its GUID.
    func folderAsset(_ path: String) throws -> String {
        let body = JSONValue.object(["path": .string(path)])
        let answer = try JSONDecoder().decode(JSONValue.self, from: try request("POST", "/control/assets", body: Data(ConfigFixture.text(body).utf8)))
        guard let guid = answer["guid"]?.stringValue else { throw HarnessError("the stand-in made no asset for \(path)") }
        return guid
    }

    /// Governance-configuration calls answered so far.
    func groupReads() throws -> Int {
        try JSONDecoder().decode(JSONValue.self, from: try request("GET", "/control/groups"))["reads"]?.intValue ?? 0
    }

    func setMode(_ mode: String) throws {
        _ = try request("POST", "/control/mode", body: Data("{\"mode\":\"\(mode)\"}".utf8))
    }

    func received() throws -> Received {
        try JSONDecoder().decode(Received.self, from: try request("GET", "/control/reports"))
    }

    private func request(_ method: String, _ path: String, body: Data? = nil) throws -> Data {
        var request = URLRequest(url: URL(string: rootURL + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 5
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        URLSession.shared.dataTask(with: request) { data, _, error in
            box.set(data, error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 10) == .success, let data = box.data else {
            throw HarnessError("stand-in \(method) \(path) failed: \(String(describing: box.error))")
        }
        return data
    }

    deinit { stop() }
}

/// Hands one URLSession answer to the waiting test thread.
private final class ResultBox: @unchecked Sendable {
    private(set) var data: Data?
    private(set) var error: Error?
    func set(_ data: Data?, _ error: Error?) {
        self.data = data
        self.error = error
    }
}

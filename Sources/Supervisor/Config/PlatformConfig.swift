import Foundation
import Protocol

/// The platform door: Egeria's integration-daemon REST API (and the platform endpoints pyegeria touches) on a
/// TCP address, over TLS when `tls` is given. Without a `platform` block nothing listens.
struct PlatformConfig: Sendable, Equatable {
    var host: String
    var port: UInt16
    var tls: TLSFiles?
    var users: [PlatformUser]
    /// Long-lived keys for OpenLineage producers, which send one static `Authorization: Bearer` and cannot renew
    /// an hour-long token. A key lets its holder post lineage events and nothing else.
    var apiKeys: [APIKey] = []
    /// Egeria's tokens live an hour.
    var tokenLifetimeSeconds = 3600.0
    /// How long a REST refresh waits for the refresh to run before it answers anyway (pyegeria gives up at 60 s).
    var refreshWaitSeconds = 50.0
    var maxConnections = 1024
    var idleTimeoutSeconds = 60.0
    var requestTimeoutSeconds = 10.0
    var maxHeaderBytes = 16 * 1024
    var maxBodyBytes = 1 << 20

    /// PEM files for the door's TLS.
    struct TLSFiles: Sendable, Equatable {
        var certificateFile: String
        var privateKeyFile: String
    }

    /// A user who may get a token; the password is read at start from the variable (then removed from the
    /// environment, so no worker inherits it) or the file, and never logged.
    struct PlatformUser: Sendable, Equatable {
        var userId: String
        var passwordEnvironmentVariable: String?
        var passwordFile: String?
        var role: Role = .operator
    }

    /// An API key: its name (logged, never the key) and where the key is read at start, as a password is.
    struct APIKey: Sendable, Equatable {
        var name: String
        var keyEnvironmentVariable: String?
        var keyFile: String?
    }

    /// What a door user may do. Only the configuration file grants a role.
    enum Role: String, Sendable, Equatable, CaseIterable {
        /// Reads status, summaries, configuration properties and connector validation.
        case observer
        /// Also refreshes, restarts, reconfigures connectors and reloads the configuration.
        case `operator`
    }
}

extension ConfigLoader {
    static func parsePlatform(_ object: [String: JSONValue], baseDirectory: String, reader: inout ConfigReader) -> PlatformConfig? {
        let p = "platform"
        reader.checkKeys(object, p, known: ["address", "tls", "users", "apiKeys", "tokenLifetimeSeconds", "refreshWaitSeconds", "maxConnections",
                                            "idleTimeoutSeconds", "requestTimeoutSeconds", "maxHeaderBytes", "maxBodyBytes"])
        guard let address = reader.string(object["address"], "\(p).address", required: true) else { return nil }
        guard let (host, port) = Self.hostPort(address) else {
            reader.fail("\(p).address", "expected HOST:PORT (IPv6 as [ADDRESS]:PORT, port 0 to 65535), got \"\(address)\"")
            return nil
        }
        var config = PlatformConfig(host: host, port: port, users: [])
        if let tls = reader.object(object["tls"], "\(p).tls") {
            reader.checkKeys(tls, "\(p).tls", known: ["certificateFile", "privateKeyFile"])
            let certificate = reader.string(tls["certificateFile"], "\(p).tls.certificateFile", required: true).map { resolve($0, against: baseDirectory) }
            let key = reader.string(tls["privateKeyFile"], "\(p).tls.privateKeyFile", required: true).map { resolve($0, against: baseDirectory) }
            for (path, field) in [(certificate, "certificateFile"), (key, "privateKeyFile")] {
                if let path, !FileManager.default.isReadableFile(atPath: path) { reader.fail("\(p).tls.\(field)", "\"\(path)\" cannot be read") }
            }
            if let certificate, let key { config.tls = .init(certificateFile: certificate, privateKeyFile: key) }
        }
        let users = reader.array(object["users"], "\(p).users", required: true) ?? []
        if object["users"] != nil && users.isEmpty { reader.fail("\(p).users", "must list at least one user, or nobody can get a token") }
        var seen = Set<String>()
        for (index, value) in users.enumerated() {
            let u = "\(p).users[\(index)]"
            guard let user = reader.object(value, u, required: true) else { continue }
            reader.checkKeys(user, u, known: ["userId", "passwordEnvironmentVariable", "passwordFile", "role"])
            guard let userId = reader.string(user["userId"], "\(u).userId", required: true) else { continue }
            if !seen.insert(userId).inserted { reader.fail("\(u).userId", "duplicate user \"\(userId)\"") }
            let variable = reader.string(user["passwordEnvironmentVariable"], "\(u).passwordEnvironmentVariable")
            let file = reader.string(user["passwordFile"], "\(u).passwordFile").map { resolve($0, against: baseDirectory) }
            if (variable == nil) == (file == nil) {
                reader.fail(u, "needs exactly one of passwordEnvironmentVariable and passwordFile (the password itself never goes in the config)")
            }
            var role = PlatformConfig.Role.operator
            if let name = reader.string(user["role"], "\(u).role") {
                if let given = PlatformConfig.Role(rawValue: name) { role = given } else {
                    reader.fail("\(u).role", "expected one of \(PlatformConfig.Role.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
                }
            }
            config.users.append(.init(userId: userId, passwordEnvironmentVariable: variable, passwordFile: file, role: role))
        }
        var names = Set<String>()
        for (index, value) in (reader.array(object["apiKeys"], "\(p).apiKeys") ?? []).enumerated() {
            let k = "\(p).apiKeys[\(index)]"
            guard let key = reader.object(value, k, required: true) else { continue }
            reader.checkKeys(key, k, known: ["name", "keyEnvironmentVariable", "keyFile"])
            guard let name = reader.string(key["name"], "\(k).name", required: true) else { continue }
            if !names.insert(name).inserted { reader.fail("\(k).name", "duplicate key name \"\(name)\"") }
            let variable = reader.string(key["keyEnvironmentVariable"], "\(k).keyEnvironmentVariable")
            let file = reader.string(key["keyFile"], "\(k).keyFile").map { resolve($0, against: baseDirectory) }
            if (variable == nil) == (file == nil) {
                reader.fail(k, "needs exactly one of keyEnvironmentVariable and keyFile (the key itself never goes in the config)")
            }
            config.apiKeys.append(.init(name: name, keyEnvironmentVariable: variable, keyFile: file))
        }
        if let v = reader.number(object["tokenLifetimeSeconds"], "\(p).tokenLifetimeSeconds", in: 1...86_400) { config.tokenLifetimeSeconds = v }
        if let v = reader.number(object["refreshWaitSeconds"], "\(p).refreshWaitSeconds", in: 0...3600) { config.refreshWaitSeconds = v }
        if let v = reader.integer(object["maxConnections"], "\(p).maxConnections", in: 1...100_000) { config.maxConnections = v }
        if let v = reader.number(object["idleTimeoutSeconds"], "\(p).idleTimeoutSeconds", in: 0.1...86_400) { config.idleTimeoutSeconds = v }
        if let v = reader.number(object["requestTimeoutSeconds"], "\(p).requestTimeoutSeconds", in: 0.1...3600) { config.requestTimeoutSeconds = v }
        if let v = reader.integer(object["maxHeaderBytes"], "\(p).maxHeaderBytes", in: 1024...1_048_576) { config.maxHeaderBytes = v }
        if let v = reader.integer(object["maxBodyBytes"], "\(p).maxBodyBytes", in: 1024...(64 << 20)) { config.maxBodyBytes = v }
        return config
    }

    /// `127.0.0.1:9443`, `localhost:9443`, `[::1]:9443`.
    static func hostPort(_ text: String) -> (String, UInt16)? {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(" "), port.allSatisfy(\.isNumber), let number = UInt16(port) else { return nil }
        return (String(host), number)
    }
}

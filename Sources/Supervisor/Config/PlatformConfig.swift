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
    /// `localServerURL`: Egeria's document says there where the server's platform listens; without an `address`,
    /// the door listens on its host and port.
    static func parsePlatform(_ object: ConfigObject, baseDirectory: String, localServerURL: String? = nil, reader: inout ConfigReader) -> PlatformConfig? {
        let p = "platform"
        // Every field is read, and unknown ones reported, even when the address is missing or wrong.
        defer { reader.finish(object) }
        let local = localServerURL.flatMap(URL.init(string:)).flatMap { url -> (address: String, https: Bool)? in
            guard let host = url.host, let scheme = url.scheme, scheme == "http" || scheme == "https" else { return nil }
            return ((host.contains(":") ? "[\(host)]" : host) + ":\(url.port ?? (scheme == "https" ? 443 : 80))", scheme == "https")
        }
        let address = object["address"] == nil && local != nil ? local?.address : reader.string(object, "address", required: true)
        let settings = (tokenLifetime: reader.number(object, "tokenLifetimeSeconds", in: 1...86_400),
                        refreshWait: reader.number(object, "refreshWaitSeconds", in: 0...3600),
                        maxConnections: reader.integer(object, "maxConnections", in: 1...100_000),
                        idleTimeout: reader.number(object, "idleTimeoutSeconds", in: 0.1...86_400),
                        requestTimeout: reader.number(object, "requestTimeoutSeconds", in: 0.1...3600),
                        maxHeaderBytes: reader.integer(object, "maxHeaderBytes", in: 1024...1_048_576),
                        maxBodyBytes: reader.integer(object, "maxBodyBytes", in: 1024...(64 << 20)))
        let tls = parseTLS(object, baseDirectory: baseDirectory, reader: &reader)
        let users = parseUsers(object, baseDirectory: baseDirectory, reader: &reader)
        let apiKeys = parseAPIKeys(object, baseDirectory: baseDirectory, reader: &reader)
        if object["address"] == nil, local?.https == true, tls == nil {
            reader.fail("\(p).tls", "localServerURL is https, so the door listening there needs certificateFile and privateKeyFile (or give platform.address)")
        }
        guard let address else { return nil }
        guard let (host, port) = Self.hostPort(address) else {
            reader.fail("\(p).address", "expected HOST:PORT (IPv6 as [ADDRESS]:PORT, port 0 to 65535), got \"\(address)\"")
            return nil
        }
        var config = PlatformConfig(host: host, port: port, users: users)
        config.tls = tls
        config.apiKeys = apiKeys
        if let v = settings.tokenLifetime { config.tokenLifetimeSeconds = v }
        if let v = settings.refreshWait { config.refreshWaitSeconds = v }
        if let v = settings.maxConnections { config.maxConnections = v }
        if let v = settings.idleTimeout { config.idleTimeoutSeconds = v }
        if let v = settings.requestTimeout { config.requestTimeoutSeconds = v }
        if let v = settings.maxHeaderBytes { config.maxHeaderBytes = v }
        if let v = settings.maxBodyBytes { config.maxBodyBytes = v }
        return config
    }

    private static func parseTLS(_ platform: ConfigObject, baseDirectory: String, reader: inout ConfigReader) -> PlatformConfig.TLSFiles? {
        guard let tls = reader.object(platform, "tls") else { return nil }
        defer { reader.finish(tls) }
        let certificate = reader.string(tls, "certificateFile", required: true).map { resolve($0, against: baseDirectory) }
        let key = reader.string(tls, "privateKeyFile", required: true).map { resolve($0, against: baseDirectory) }
        for (path, field) in [(certificate, "certificateFile"), (key, "privateKeyFile")] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { reader.fail(tls.path(field), "\"\(path)\" cannot be read") }
        }
        guard let certificate, let key else { return nil }
        return .init(certificateFile: certificate, privateKeyFile: key)
    }

    private static func parseUsers(_ platform: ConfigObject, baseDirectory: String, reader: inout ConfigReader) -> [PlatformConfig.PlatformUser] {
        let list = reader.array(platform, "users", required: true) ?? []
        if platform["users"] != nil && list.isEmpty { reader.fail(platform.path("users"), "must list at least one user, or nobody can get a token") }
        var users: [PlatformConfig.PlatformUser] = []
        var seen = Set<String>()
        for (index, value) in list.enumerated() {
            let u = "\(platform.path("users"))[\(index)]"
            guard let user = reader.object(value, at: u, required: true) else { continue }
            defer { reader.finish(user) }
            let userId = reader.string(user, "userId", required: true)
            let variable = reader.string(user, "passwordEnvironmentVariable")
            let file = reader.string(user, "passwordFile").map { resolve($0, against: baseDirectory) }
            let roleName = reader.string(user, "role")
            guard let userId else { continue }
            if !seen.insert(userId).inserted { reader.fail("\(u).userId", "duplicate user \"\(userId)\"") }
            if (variable == nil) == (file == nil) {
                reader.fail(u, "needs exactly one of passwordEnvironmentVariable and passwordFile (the password itself never goes in the config)")
            }
            var role = PlatformConfig.Role.operator
            if let name = roleName {
                if let given = PlatformConfig.Role(rawValue: name) { role = given } else {
                    reader.fail("\(u).role", "expected one of \(PlatformConfig.Role.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
                }
            }
            users.append(.init(userId: userId, passwordEnvironmentVariable: variable, passwordFile: file, role: role))
        }
        return users
    }

    private static func parseAPIKeys(_ platform: ConfigObject, baseDirectory: String, reader: inout ConfigReader) -> [PlatformConfig.APIKey] {
        var keys: [PlatformConfig.APIKey] = []
        var names = Set<String>()
        for (index, value) in (reader.array(platform, "apiKeys") ?? []).enumerated() {
            let k = "\(platform.path("apiKeys"))[\(index)]"
            guard let key = reader.object(value, at: k, required: true) else { continue }
            defer { reader.finish(key) }
            let name = reader.string(key, "name", required: true)
            let variable = reader.string(key, "keyEnvironmentVariable")
            let file = reader.string(key, "keyFile").map { resolve($0, against: baseDirectory) }
            guard let name else { continue }
            if !names.insert(name).inserted { reader.fail("\(k).name", "duplicate key name \"\(name)\"") }
            if (variable == nil) == (file == nil) {
                reader.fail(k, "needs exactly one of keyEnvironmentVariable and keyFile (the key itself never goes in the config)")
            }
            keys.append(.init(name: name, keyEnvironmentVariable: variable, keyFile: file))
        }
        return keys
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

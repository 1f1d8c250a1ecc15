import Foundation
import Glibc
import Forwarding
import Protocol
import Store

/// Sets up the platform door at start: reads the users' passwords, makes the token key, loads TLS and starts
/// listening. Any failure is named by its config field, and the daemon does not start half-open.
enum PlatformStart {
    /// Why the door could not be opened.
    struct StartError: Error, CustomStringConvertible {
        let description: String
        /// A secret or file the configuration names cannot be read (exit 64), rather than a failure to listen.
        var isConfiguration = false
    }

    /// `maxConnections` is the door's cap after the descriptor budget (``DescriptorBudget``) had its say.
    static func start(_ platform: PlatformConfig, maxConnections: Int, config: DaemonConfig, store: EmbeddedStore, lineageTally: LineageTally, lineageKick: LineageKick,
                      events: EventQueue, logger: Logger) throws(StartError) -> HTTPServer {
        var passwords: [String: String] = [:]
        for (index, user) in platform.users.enumerated() {
            do {
                passwords[user.userId] = try AccessSecret.read(variable: user.passwordEnvironmentVariable, variableField: "passwordEnvironmentVariable",
                                                               file: user.passwordFile, fileField: "passwordFile", path: "platform.users[\(index)]")
            } catch {
                throw StartError(description: error.description, isConfiguration: true)
            }
        }
        passwords.values.forEach(Redaction.register)
        var keys: [(name: String, key: String)] = []
        for (index, key) in platform.apiKeys.enumerated() {
            let path = "platform.apiKeys[\(index)]"
            let value: String
            do {
                value = try AccessSecret.read(variable: key.keyEnvironmentVariable, variableField: "keyEnvironmentVariable",
                                              file: key.keyFile, fileField: "keyFile", path: path) ?? ""
            } catch {
                throw StartError(description: error.description, isConfiguration: true)
            }
            // A key never expires: one short enough to guess is refused.
            guard value.utf8.count >= LineageDoor.minimumKeyBytes else {
                throw StartError(description: "\(path) (\(key.name)): the key is \(value.utf8.count) bytes; use at least \(LineageDoor.minimumKeyBytes) (openssl rand -hex 32 makes one)", isConfiguration: true)
            }
            Redaction.register(value)
            keys.append((key.name, value))
        }
        let tokens: BearerTokens
        do { tokens = try BearerTokens(lifetimeSeconds: platform.tokenLifetimeSeconds) } catch {
            throw StartError(description: "platform: \(error)")
        }
        var tls: TLSServerContext?
        if let files = platform.tls {
            do { tls = try TLSServerContext(certificateFile: files.certificateFile, privateKeyFile: files.privateKeyFile) } catch {
                throw StartError(description: "platform.tls: \(error)", isConfiguration: true)
            }
        }
        let settings = HTTPServer.Settings(maxConnections: maxConnections, idleTimeoutSeconds: platform.idleTimeoutSeconds,
                                           requestTimeoutSeconds: platform.requestTimeoutSeconds,
                                           limits: .init(maxHeaderBytes: platform.maxHeaderBytes, maxBodyBytes: platform.maxBodyBytes))
        let server: HTTPServer
        do { server = try HTTPServer(host: platform.host, port: platform.port, tls: tls, settings: settings, logger: logger) } catch {
            throw StartError(description: "\(error)")
        }
        // Cached since the configuration was validated, so this does not spawn the worker again.
        let worker = SupervisorCommand.executableDirectory() + "/integration-worker"
        let providers = (try? ConnectorCatalog.providers(of: worker).get()) ?? []
        let door = PlatformDoor(serverName: config.localServerName, serverUserId: config.localServerUserId, settings: platform, tokens: tokens,
                                passwords: passwords, roles: Dictionary(platform.users.map { ($0.userId, $0.role) }) { first, _ in first },
                                providers: providers, accessServer: config.accessServer.egeria, startTime: Date(),
                                logger: logger, post: { events.post(.command($0)) },
                                lineage: LineageDoor(store: store, keys: keys, tally: lineageTally, kick: lineageKick, logger: logger))
        do { try server.start(handler: door.handle) } catch {
            throw StartError(description: "platform door: \(error)")
        }
        let scheme = tls == nil ? "http" : "https"
        let host = platform.host.contains(":") ? "[\(platform.host)]" : platform.host
        logger.notice("platform door listening: \(scheme)://\(host):\(server.port)/servers/\(config.localServerName)/open-metadata/integration-daemon",
                      ["users": .int(platform.users.count)])
        return server
    }
}

import Foundation
import Forwarding
import Protocol

/// `dynamicIntegrationGroupsConfig`, as Egeria's configuration document has it, in either kind of document: each
/// group becomes a service whose connectors are read from its metadata access server.
extension ConfigLoader {
    /// Egeria waits about 33 minutes between reads; a minute is what an operator adding a catalog target expects.
    static let defaultGroupRefreshSeconds = 60.0

    static func parseGroups(_ top: ConfigObject, config: DaemonConfig, baseDirectory: String, workerDirectory: String,
                            reader: inout ConfigReader) -> [ServiceConfig] {
        let refresh = reader.number(top, "groupRefreshSeconds", in: 1...86_400) ?? defaultGroupRefreshSeconds
        let documentStore = secretsStore(top, baseDirectory: baseDirectory, reader: &reader)
        guard let entries = reader.array(top, "dynamicIntegrationGroupsConfig") else { return [] }
        let worker = workerDirectory + "/integration-worker"
        if !entries.isEmpty && !ExecutableLocator.isExecutable(worker) {
            reader.fail("dynamicIntegrationGroupsConfig", "an integration group runs in \(worker), which does not exist; build it (swift build)")
        }
        var groups: [ServiceConfig] = []
        var seen: [String: Int] = [:]
        for (index, value) in entries.enumerated() {
            let p = "dynamicIntegrationGroupsConfig[\(index)]"
            guard let entry = reader.object(value, at: p, required: true) else { continue }
            defer { reader.finish(entry) }
            entry.accept("class", "headerVersion")
            // A group's own secrets store, else the document's.
            let ownStore = ["secretsStoreProvider", "secretsStoreLocation", "secretsStoreCollection"].contains { entry.members[$0] != nil }
            let store = (ownStore ? secretsStore(entry, baseDirectory: baseDirectory, reader: &reader) : nil) ?? documentStore
            let name = reader.string(entry, "integrationGroupQualifiedName", required: true)
            // Our own fields: the credentials to read the group with, else the access server's.
            let inherited = config.accessServer.egeria
            var server = parseEgeriaServer(entry, defaultUserId: store?.userId ?? inherited?.userId ?? config.localServerUserId, reader: &reader)
            server.apiVersion = .v6
            server.maxInFlight = 1
            let (variable, file) = parsePasswordSource(entry, baseDirectory: baseDirectory, reader: &reader)
            if variable != nil || file != nil {
                server.passwordEnvironmentVariable = variable
                server.passwordFile = file
            } else if let store {
                server.secretsStoreLocation = store.file
                server.secretsStoreCollection = store.collection
            } else if let inherited {
                server.passwordEnvironmentVariable = inherited.passwordEnvironmentVariable
                server.passwordFile = inherited.passwordFile
            }
            server.caFile = parseCAFile(entry, baseDirectory: baseDirectory, reader: &reader) ?? inherited?.caFile
            if let v = reader.number(entry, "requestTimeoutSeconds", in: 0.1...600) { server.requestTimeoutSeconds = v }
            let groupRefresh = reader.number(entry, "groupRefreshSeconds", in: 1...86_400) ?? refresh
            guard let name else { continue }
            if let first = seen[name] {
                reader.fail("\(p).integrationGroupQualifiedName", "duplicate integration group \"\(name)\" (also dynamicIntegrationGroupsConfig[\(first)])")
                continue
            }
            seen[name] = index
            let group = IntegrationGroupConfig(qualifiedName: name, server: server, refreshSeconds: groupRefresh)
            groups.append(ServiceConfig(urlMarker: IntegrationGroupConfig.marker(for: name), fullName: name, command: [worker],
                                        remote: nil, memoryLimitMegabytes: nil, restart: config.supervision.restart, connectors: [], group: group))
        }
        return groups
    }

    /// A secrets store named by `secretsStoreProvider`, `secretsStoreLocation` and `secretsStoreCollection`, with the
    /// user it holds; its password is read when the daemon starts.
    private static func secretsStore(_ object: ConfigObject, baseDirectory: String,
                                     reader: inout ConfigReader) -> (file: String, collection: String, userId: String?)? {
        let provider = reader.string(object, "secretsStoreProvider")
        guard let location = reader.string(object, "secretsStoreLocation") else {
            _ = reader.string(object, "secretsStoreCollection")
            return nil
        }
        if let provider, provider != SecretsStoreFile.provider {
            reader.fail(object.path("secretsStoreProvider"), "only Egeria's YAML secrets store is read (\(SecretsStoreFile.provider)), got \"\(provider)\"")
        }
        guard let collection = reader.string(object, "secretsStoreCollection", required: true) else { return nil }
        let file = resolve(location, against: baseDirectory)
        do {
            let credentials = try SecretsStoreFile.credentials(file: file, collection: collection)
            if credentials.password == nil {
                reader.fail(object.path("secretsStoreCollection"), "collection \"\(collection)\" in \(file) holds no password (tokenAPI.requestBody.password or secrets.clearPassword)")
            }
            return (file, collection, credentials.userId)
        } catch {
            reader.fail(object.path("secretsStoreLocation"), error.description)
            return nil
        }
    }
}

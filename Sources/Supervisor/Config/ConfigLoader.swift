import Foundation
import Forwarding
import Protocol
import Store

/// Reads, decodes and validates `daemon.json`, reporting every problem with its JSON path at once.
enum ConfigLoader {
    /// The loaded config and any warnings (unknown fields), or every error found.
    /// `checkProviders` asks the built-in worker for its connector providers (`run`, `validate`, `reload`);
    /// the read-only commands skip it, so `reports` does not spawn a worker.
    /// `placeholders` fill Egeria's `~{name}~` (see ``ConfigPlaceholders``).
    static func load(path: String, workerDirectory: String, checkProviders: Bool = true,
                     placeholders: [String: String] = [:]) throws(ConfigError) -> (DaemonConfig, [ConfigError.Issue]) {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError(file: path, issues: [.init(path: "", message: "cannot read the file: \(Self.reason(error))")])
        }
        return try load(data, path: path, workerDirectory: workerDirectory, checkProviders: checkProviders, placeholders: placeholders)
    }

    /// The same, from the file's bytes.
    static func load(_ data: Data, path: String, workerDirectory: String, checkProviders: Bool = true,
                     placeholders: [String: String] = [:]) throws(ConfigError) -> (DaemonConfig, [ConfigError.Issue]) {
        let url = URL(fileURLWithPath: path)
        let document: JSONValue
        do { document = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw ConfigError(file: path, issues: [.init(path: "", message: "not valid JSON: \(Self.syntaxError(in: data) ?? Self.reason(error))")])
        }
        let (root, unfilled) = ConfigPlaceholders.fill(document, given: placeholders)
        guard unfilled.isEmpty else { throw ConfigError(file: path, issues: unfilled) }
        let baseDirectory = url.deletingLastPathComponent().standardizedFileURL.path
        var reader = ConfigReader()
        reader.checksProviders = checkProviders
        guard var config = parse(root, file: path, baseDirectory: baseDirectory, workerDirectory: workerDirectory, reader: &reader),
              reader.issues.isEmpty else { throw ConfigError(file: path, issues: reader.issues, warnings: reader.warnings) }
        config.placeholders = placeholders
        return (config, reader.warnings)
    }

    /// The control socket of the daemon started with the config at `path`, found even when the file has since
    /// become invalid (only `dataDirectory` is read), so live commands reach a running daemon to report the errors.
    /// A file that cannot be read at all is an error: the path would be made up.
    static func controlSocketPath(forConfig path: String, placeholders: [String: String] = [:]) throws(ConfigError) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingLastPathComponent().standardizedFileURL.path
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw ConfigError(file: path, issues: [.init(path: "", message: "cannot read the configuration file: \(Self.reason(error))")])
        }
        let data = (try? JSONDecoder().decode(JSONValue.self, from: bytes)).map { ConfigPlaceholders.fill($0, given: placeholders).0 }
        let directory = data?["dataDirectory"]?.stringValue ?? "data"
        return resolve(directory, against: base) + "/daemon.sock"
    }

    /// `store`: retention and the page cache; every number range-checked.
    static func parseStore(_ store: ConfigObject, reader: inout ConfigReader) -> StoreSettings {
        defer { reader.finish(store) }
        var settings = StoreSettings()
        if let cache = reader.integer(store, "cacheMegabytes", in: 1...4096) { settings.cacheMegabytes = cache }
        if let retention = reader.object(store, "retention") {
            defer { reader.finish(retention) }
            if let count = reader.integer(retention, "maxReportsPerConnector", in: 1...100_000_000) {
                settings.retention.maxReportsPerConnector = count
            }
            if let days = reader.number(retention, "maxAgeDays", in: 0.001...36_500) {
                settings.retention.maxAgeDays = days
            }
            if let count = reader.integer(retention, "maxLineageEvents", in: 1...1_000_000_000) {
                settings.retention.maxLineageEvents = count
            }
        }
        return settings
    }

    static func parse(_ root: JSONValue, file: String, baseDirectory: String, workerDirectory: String,
                      reader: inout ConfigReader) -> DaemonConfig? {
        guard let top = reader.object(root, at: "", required: true) else { return nil }
        defer { reader.finish(top) }
        var config = DaemonConfig(file: file, dataDirectory: resolve("data", against: baseDirectory))
        if let name = reader.string(top, "localServerName") { config.localServerName = name }
        if let user = reader.string(top, "localServerUserId") { config.localServerUserId = user }
        if let data = reader.string(top, "dataDirectory") { config.dataDirectory = resolve(data, against: baseDirectory) }
        if config.controlSocketPath.utf8.count > 107 {
            reader.fail("dataDirectory", "\"\(config.dataDirectory)\" is too long for a Unix socket path (daemon.sock must fit in 107 bytes)")
        }
        config.accessServer = parseAccessServer(top["accessServer"], userId: config.localServerUserId, baseDirectory: baseDirectory, reader: &reader)
        if let metrics = reader.object(top, "metrics") {
            let file = reader.string(metrics, "textfile", required: true)
            let interval = reader.number(metrics, "intervalSeconds", in: 0.1...3600)
            reader.finish(metrics)
            if let file {
                var result = MetricsConfig(textfile: resolve(file, against: baseDirectory))
                if !file.hasSuffix(".prom") { reader.fail("metrics.textfile", "node_exporter reads only files ending in .prom, got \"\(file)\"") }
                if let interval { result.intervalSeconds = interval }
                config.metrics = result
            }
        }
        if let store = reader.object(top, "store") { config.store = parseStore(store, reader: &reader) }
        let localServerURL = reader.string(top, "localServerURL")
        if let platform = reader.object(top, "platform") {
            config.platform = parsePlatform(platform, baseDirectory: baseDirectory, localServerURL: localServerURL, reader: &reader)
        }
        noteEgeriaFields(top, reader: &reader)
        if let supervision = reader.object(top, "supervision") {
            config.supervision = parseSupervision(supervision, reader: &reader)
        }

        // Egeria's own document calls the list integrationServicesConfig; accept either name.
        let servicesKey = top["integrationServices"] != nil || top["integrationServicesConfig"] == nil
            ? "integrationServices" : "integrationServicesConfig"
        let groups = parseGroups(top, config: config, baseDirectory: baseDirectory, workerDirectory: workerDirectory, reader: &reader)
        // Egeria's own document has no accessServer: its reports and element writes go to the groups' metadata
        // access server, as Egeria's daemon sends them.
        if top.members["class"]?.stringValue == "OMAGServerConfig", top.members["accessServer"] == nil, let first = groups.first?.group {
            var server = first.server
            server.maxInFlight = EgeriaServerConfig.defaultMaxInFlight
            config.accessServer = .egeria(server)
            let others = Set(groups.compactMap(\.group).map { "\($0.server.omagserverPlatformRootURL) \($0.server.omagserverName)" })
            if others.count > 1 {
                reader.warn("dynamicIntegrationGroupsConfig", "the groups name \(others.count) metadata access servers; reports go to the first group's (\(first.server.omagserverName)): name another with accessServer")
            }
        }
        // An Egeria 6 document names groups only; ours may name services, groups or both.
        let hasGroups = top["dynamicIntegrationGroupsConfig"] != nil
        guard let services = reader.array(top[servicesKey], servicesKey, required: !hasGroups) ?? (hasGroups ? [] : nil) else { return nil }
        if services.isEmpty && groups.isEmpty && !reader.issues.contains(where: { $0.path.hasPrefix("dynamicIntegrationGroupsConfig") }) {
            reader.fail(hasGroups ? "dynamicIntegrationGroupsConfig" : servicesKey, "must list at least one integration service or integration group")
        }
        var markers: [String: Int] = [:]
        var connectorNames: [String: String] = [:]
        for (index, value) in services.enumerated() {
            let path = "\(servicesKey)[\(index)]"
            guard let service = parseService(value, path: path, supervision: config.supervision,
                                             baseDirectory: baseDirectory, workerDirectory: workerDirectory, reader: &reader)
            else { continue }
            if let first = markers[service.urlMarker] {
                reader.fail("\(path).integrationServiceURLMarker",
                            "duplicate integration service \"\(service.urlMarker)\" (also \(servicesKey)[\(first)])")
            } else {
                markers[service.urlMarker] = index
            }
            for (connectorIndex, connector) in service.connectors.enumerated() {
                let connectorPath = "\(path).integrationConnectorConfigs[\(connectorIndex)].connectorName"
                if let other = connectorNames[connector.connectorName] {
                    reader.fail(connectorPath, "duplicate connectorName \"\(connector.connectorName)\" (also \(other)); names must be unique in the daemon")
                } else {
                    connectorNames[connector.connectorName] = connectorPath
                }
            }
            if let problem = InitializeMessage.problem(service, daemon: config) { reader.fail("\(path).integrationConnectorConfigs", problem) }
            config.integrationServices.append(service)
        }
        checkSharedEndpoints(config.integrationServices, key: servicesKey, reader: &reader)
        for (index, group) in groups.enumerated() {
            if markers[group.urlMarker] != nil {
                reader.fail("dynamicIntegrationGroupsConfig[\(index)].integrationGroupQualifiedName",
                            "\"\(group.fullName)\" runs as \"\(group.urlMarker)\", the name of an integration service too; rename one")
            }
            markers[group.urlMarker] = -1
            config.integrationServices.append(group)
        }
        return config
    }

    private static func parseAccessServer(_ value: JSONValue?, userId: String, baseDirectory: String,
                                          reader: inout ConfigReader) -> AccessServerConfig {
        guard let access = reader.object(value, at: "accessServer") else { return .embedded }
        guard access.members.count == 1, let kind = access.members.keys.first, kind == "embedded" || kind == "egeria" else {
            reader.fail("accessServer", "expected {\"embedded\": {}} or {\"egeria\": {...}}, got \(JSONValue.object(access.members).compactDescription)")
            return .embedded
        }
        guard kind == "egeria", let egeria = reader.object(access, "egeria", required: true) else {
            _ = reader.object(access, "embedded")
            return .embedded
        }
        let p = "accessServer.egeria"
        defer { reader.finish(egeria) }
        var config = parseEgeriaServer(egeria, defaultUserId: userId, reader: &reader)
        if let marker = reader.string(egeria, "serviceURLMarker") { config.serviceURLMarker = marker }
        // "6" or 6: both are what an operator means.
        let version = egeria["apiVersion"].map { value -> JSONValue in if case .int(let number) = value { .string(String(number)) } else { value } }
        if let version = reader.choice(version, "\(p).apiVersion", EgeriaServerConfig.APIVersion.self) { config.apiVersion = version }
        (config.passwordEnvironmentVariable, config.passwordFile) = parsePasswordSource(egeria, baseDirectory: baseDirectory, reader: &reader)
        if config.apiVersion == .v5 && (config.passwordEnvironmentVariable != nil || config.passwordFile != nil) {
            reader.fail("\(p).apiVersion", "a password is exchanged for a token only with apiVersion \"6\"; Egeria 5 takes secretEnvironmentVariable or secretFile as the bearer token")
        }
        if let v = reader.number(egeria, "tokenRenewSeconds", in: 1...86_400) { config.tokenRenewSeconds = v }
        if let target = reader.string(egeria, "elementWrites") {
            if target == "egeria" || target == "embedded" { config.elementWritesToEgeria = target == "egeria" }
            else { reader.fail("\(p).elementWrites", "expected egeria|embedded, got \"\(target)\"") }
        }
        config.secretEnvironmentVariable = reader.string(egeria, "secretEnvironmentVariable")
        config.secretFile = reader.string(egeria, "secretFile").map { resolve($0, against: baseDirectory) }
        config.caFile = parseCAFile(egeria, baseDirectory: baseDirectory, reader: &reader)
        if let v = reader.number(egeria, "requestTimeoutSeconds", in: 0.1...600) { config.requestTimeoutSeconds = v }
        if let v = reader.integer(egeria, "maxInFlight", in: 1...256) { config.maxInFlight = v }
        if let v = reader.number(egeria, "initialRetrySeconds", in: 0.001...3600) { config.initialRetrySeconds = v }
        if let v = reader.number(egeria, "maxRetrySeconds", in: 0.001...86_400) { config.maxRetrySeconds = v }
        if let v = reader.number(egeria, "spoolLimitMegabytes", in: 0.001...1_048_576) {
            config.spoolLimitBytes = Int(v * 1_048_576)
        }
        return .egeria(config)
    }

    private static func parseSupervision(_ object: ConfigObject, reader: inout ConfigReader) -> SupervisionConfig {
        defer { reader.finish(object) }
        var result = SupervisionConfig()
        let p = "supervision"
        if let v = reader.number(object, "heartbeatIntervalSeconds", in: 0.01...3600) { result.heartbeatIntervalSeconds = v }
        if let v = reader.number(object, "heartbeatTimeoutSeconds", in: 0.01...3600) { result.heartbeatTimeoutSeconds = v }
        if let v = reader.number(object, "shutdownGraceSeconds", in: 0...600) { result.shutdownGraceSeconds = v }
        if let v = reader.number(object, "killGraceSeconds", in: 0...600) { result.killGraceSeconds = v }
        if let v = reader.number(object, "startTimeoutSeconds", in: 0.1...3600) { result.startTimeoutSeconds = v }
        if result.heartbeatTimeoutSeconds <= result.heartbeatIntervalSeconds {
            reader.fail("\(p).heartbeatTimeoutSeconds",
                        "must be greater than heartbeatIntervalSeconds (\(ConfigReader.format(result.heartbeatIntervalSeconds))), got \(ConfigReader.format(result.heartbeatTimeoutSeconds))")
        }
        if let restart = reader.object(object, "restart") {
            result.restart = parseRestart(restart, path: "\(p).restart", defaults: RestartSettings(), reader: &reader)
        }
        return result
    }

    private static func parseRestart(_ object: ConfigObject, path p: String, defaults: RestartSettings,
                                     reader: inout ConfigReader) -> RestartSettings {
        defer { reader.finish(object) }
        var result = defaults
        if let v = reader.choice(object, "policy", RestartPolicy.self) { result.policy = v }
        if let v = reader.integer(object, "maxRestarts", in: 0...1_000_000) { result.maxRestarts = v }
        if let v = reader.number(object, "withinSeconds", in: 0.001...86_400 * 365) { result.withinSeconds = v }
        if let v = reader.number(object, "initialBackoffSeconds", in: 0...3600) { result.initialBackoffSeconds = v }
        if let v = reader.number(object, "maxBackoffSeconds", in: 0...86_400) { result.maxBackoffSeconds = v }
        if let v = reader.number(object, "healthyAfterSeconds", in: 0...86_400) { result.healthyAfterSeconds = v }
        if result.maxBackoffSeconds < result.initialBackoffSeconds {
            reader.fail("\(p).maxBackoffSeconds", "must not be less than initialBackoffSeconds (\(ConfigReader.format(result.initialBackoffSeconds))), got \(ConfigReader.format(result.maxBackoffSeconds))")
        }
        return result
    }

    private static func parseService(_ value: JSONValue, path p: String, supervision: SupervisionConfig, baseDirectory: String,
                                     workerDirectory: String, reader: inout ConfigReader) -> ServiceConfig? {
        let defaults = supervision.restart
        guard let object = reader.object(value, at: p, required: true) else { return nil }
        defer { reader.finish(object) }
        // Egeria's fields for an integration service that mean nothing here.
        object.accept("integrationServiceName", "integrationServiceId", "integrationServiceOptions", "integrationServicePartnerOMAS",
                      "omagserverPlatformRootURL", "omagserverName", "integrationServiceDescription", "integrationServiceWiki")
        let marker = reader.string(object, "integrationServiceURLMarker", required: true)
        if let marker, !marker.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) {
            reader.fail("\(p).integrationServiceURLMarker", "must be lowercase letters, digits and hyphens (e.g. files-integrator), got \"\(marker)\"")
        }
        let fullName = reader.string(object, "integrationServiceFullName")
        var command = [workerDirectory + "/integration-worker"]
        if object["worker"]?["command"] == nil && object["worker"]?["remote"] == nil && !ExecutableLocator.isExecutable(command[0]) {
            reader.fail("\(p).worker.command", "not given, and the default \(command[0]) does not exist; build it (swift build) or name a worker command")
        }
        var memoryLimit: Int?
        var remote: RemoteWorker?
        if let worker = reader.object(object, "worker") {
            defer { reader.finish(worker) }
            memoryLimit = reader.integer(worker, "memoryLimitMegabytes", in: 1...1_048_576)
            if let settings = reader.object(worker, "remote") {
                if worker["command"] != nil { reader.fail("\(p).worker", "give command or remote, not both") }
                remote = parseRemote(settings, path: "\(p).worker.remote", baseDirectory: baseDirectory, supervision: supervision, reader: &reader)
                if let remote {
                    command = remote.argv(supervision: supervision)
                    if let ssh = ExecutableLocator.locate("ssh", baseDirectory: baseDirectory, siblingDirectory: workerDirectory) {
                        command[0] = ssh
                    } else {
                        reader.fail("\(p).worker.remote", "needs the ssh client, which is not on PATH (Debian: apt-get install openssh-client)")
                    }
                }
            } else if let given = parseCommand(worker["command"], path: "\(p).worker.command", baseDirectory: baseDirectory,
                                               workerDirectory: workerDirectory, reader: &reader) {
                command = given
            }
        }
        var restart = defaults
        if let override = reader.object(object, "restart") {
            restart = parseRestart(override, path: "\(p).restart", defaults: defaults, reader: &reader)
        }
        let syncDefault = reader.choice(object, "defaultPermittedSynchronization",
                                        PermittedSynchronization.self)
        var connectors: [IntegrationConnectorConfig] = []
        let list = reader.array(object, "integrationConnectorConfigs", required: true) ?? []
        if list.isEmpty && object["integrationConnectorConfigs"] != nil {
            reader.fail("\(p).integrationConnectorConfigs", "must list at least one connector")
        }
        for (index, value) in list.enumerated() {
            if var connector = parseConnector(value, path: "\(p).integrationConnectorConfigs[\(index)]", service: marker ?? "",
                                              baseDirectory: baseDirectory, reader: &reader) {
                if connector.permittedSynchronization == nil { connector.permittedSynchronization = syncDefault }
                connectors.append(connector)
            }
        }
        // The built-in worker knows a fixed set of providers: ask it, so a typo fails here, not at run time.
        if reader.checksProviders && object["worker"]?["command"] == nil && remote == nil && ExecutableLocator.isExecutable(command[0]) {
            checkProviders(list, of: command[0], path: p, reader: &reader)
        }
        guard let marker else { return nil }
        return ServiceConfig(urlMarker: marker, fullName: fullName ?? marker, command: command, remote: remote, memoryLimitMegabytes: memoryLimit,
                             restart: restart, connectors: connectors)
    }

    /// Two connectors of one provider on one endpoint of one host would fight over the same elements: refused.
    private static func checkSharedEndpoints(_ services: [ServiceConfig], key: String, reader: inout ConfigReader) {
        var seen: [String: String] = [:]
        for (serviceIndex, service) in services.enumerated() {
            let host = service.remote.map { "host \($0.host)" } ?? "the daemon's host"
            for (index, connector) in service.connectors.enumerated() {
                guard let address = connector.connection.endpoint?.address, !address.isEmpty else { continue }
                let provider = connector.connection.connectorType.connectorProviderClassName
                let identity = "\(host)\u{0}\(provider)\u{0}\(address)"
                let path = "\(key)[\(serviceIndex)].integrationConnectorConfigs[\(index)].connection.endpoint.address"
                if let other = seen[identity] {
                    reader.fail(path, "\"\(address)\" on \(host) is already catalogued by \(other) with the same provider; the two would delete each other's elements")
                } else {
                    seen[identity] = "connector \(connector.connectorName)"
                }
            }
        }
    }

    private static func checkProviders(_ connectors: [JSONValue], of worker: String, path p: String, reader: inout ConfigReader) {
        switch ConnectorCatalog.providers(of: worker) {
        case .failure(let failure):
            reader.warn("\(p).integrationConnectorConfigs", "connector providers not checked: \(failure)")
        case .success(let known):
            for (index, connector) in connectors.enumerated() {
                guard let provider = connector["connection"]?["connectorType"]?["connectorProviderClassName"]?.stringValue,
                      !known.contains(provider) else { continue }
                reader.fail("\(p).integrationConnectorConfigs[\(index)].connection.connectorType.connectorProviderClassName",
                            "unknown connector provider \"\(provider)\" for the built-in worker; it knows: \(known.joined(separator: ", "))")
            }
        }
    }

    private static func parseCommand(_ value: JSONValue?, path: String, baseDirectory: String, workerDirectory: String,
                                     reader: inout ConfigReader) -> [String]? {
        guard let value else { return nil }
        guard case .array(let items) = value, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
            reader.fail(path, "expected a non-empty array of strings, got \(value.compactDescription)")
            return nil
        }
        var argv = items.compactMap(\.stringValue)
        guard let executable = ExecutableLocator.locate(argv[0], baseDirectory: baseDirectory, siblingDirectory: workerDirectory) else {
            reader.fail("\(path)[0]", "\"\(argv[0])\" is not an executable file (looked next to integration-daemon, relative to the config file, and on PATH)")
            return nil
        }
        argv[0] = executable
        return argv
    }

    private static func parseConnector(_ value: JSONValue, path p: String, service: String, baseDirectory: String,
                                       reader: inout ConfigReader) -> IntegrationConnectorConfig? {
        guard let object = reader.object(value, at: p, required: true) else { return nil }
        defer { reader.finish(object) }
        let name = reader.string(object, "connectorName", required: true)
        let id = reader.string(object, "connectorId")
        let user = reader.string(object, "connectorUserId")
        let minutes = reader.number(object, "refreshTimeInterval", in: 0...525_600)
        let seconds = reader.number(object, "refreshIntervalSeconds", in: 0...31_536_000)
        if object["refreshTimeInterval"] != nil && object["refreshIntervalSeconds"] != nil {
            reader.fail("\(p).refreshIntervalSeconds", "give refreshTimeInterval (minutes) or refreshIntervalSeconds, not both")
        }
        let timeout = reader.number(object, "refreshTimeoutSeconds", in: 0.1...604_800)
        let source = reader.string(object, "metadataSourceQualifiedName")
        let sync = reader.choice(object, "permittedSynchronization", PermittedSynchronization.self)
        let reports = reader.bool(object, "generateIntegrationReports")

        let c = "\(p).connection"
        let connection = reader.object(object["connection"], c, required: true)
        let type = connection.flatMap { reader.object($0["connectorType"], "\(c).connectorType", required: true) }
        let provider = type.flatMap { reader.string($0["connectorProviderClassName"], "\(c).connectorType.connectorProviderClassName", required: true) }
        let endpoint = connection.flatMap { reader.object($0["endpoint"], "\(c).endpoint") }
        var address = endpoint.flatMap { reader.string($0["address"], "\(c).endpoint.address") }
        var properties = connection.flatMap { reader.object($0["configurationProperties"], "\(c).configurationProperties") }
        let userId = connection.flatMap { reader.string($0["userId"], "\(c).userId") }
        for field in ["clearPassword", "encryptedPassword"] where connection?[field] != nil {
            reader.fail("\(c).\(field)", "a password is never kept in the configuration: name where it is read with configurationProperties.passwordEnvironmentVariable or passwordFile")
        }
        if let given = address, Redaction.holdsCredential(address: given) {
            reader.fail("\(c).endpoint.address", Redaction.credentialInAddress)
        }
        if let given = address, !given.contains("://"), !given.hasPrefix("/"), !given.hasPrefix("jdbc:") {
            address = resolve(given, against: baseDirectory)
        }
        // Files a connector reads or writes, relative to the configuration like every other path in it.
        for key in ConfigLoader.connectorFileProperties {
            if case .string(let file)? = properties?[key] { properties?[key] = .string(resolve(file, against: baseDirectory)) }
        }
        if let properties, let problem = ConnectorSecret.shapeProblem(properties, path: "\(c).configurationProperties") {
            reader.fail(problem.field, problem.problem)
        }
        let targets = parseCatalogTargets(object, path: p, baseDirectory: baseDirectory, reader: &reader)
        guard let name, let provider else { return nil }
        return IntegrationConnectorConfig(
            connectorId: id ?? StableID.make(from: "\(service)/\(name)"), connectorName: name, connectorUserId: user,
            connection: Connection(connectorType: ConnectorType(connectorProviderClassName: provider),
                                   endpoint: endpoint == nil ? nil : Endpoint(address: address),
                                   configurationProperties: properties, userId: userId),
            refreshTimeInterval: minutes, refreshIntervalSeconds: seconds, metadataSourceQualifiedName: source,
            permittedSynchronization: sync, generateIntegrationReports: reports, refreshTimeoutSeconds: timeout, catalogTargets: targets)
    }

    /// Catalog targets that a deployment can hand a connector at runtime. More than this is a mistake of scale.
    static let maxCatalogTargets = 1000

    /// A connector's `catalogTargets`: what it works on, each with its own endpoint and settings.
    private static func parseCatalogTargets(_ connector: ConfigObject, path p: String, baseDirectory: String, reader: inout ConfigReader) -> [CatalogTarget]? {
        guard let list = reader.array(connector, "catalogTargets") else { return nil }
        if list.count > maxCatalogTargets { reader.fail("\(p).catalogTargets", "at most \(maxCatalogTargets) catalog targets, got \(list.count)") }
        var targets: [CatalogTarget] = []
        var names: Set<String> = []
        for (index, value) in list.prefix(maxCatalogTargets).enumerated() {
            let t = "\(p).catalogTargets[\(index)]"
            guard let object = reader.object(value, at: t, required: true) else { continue }
            defer { reader.finish(object) }
            let name = reader.string(object, "catalogTargetName", required: true)
            let endpoint = reader.object(object, "endpoint")
            var address = endpoint.flatMap { reader.string($0, "address") }
            endpoint.map { reader.finish($0) }
            if let given = address, Redaction.holdsCredential(address: given) { reader.fail("\(t).endpoint.address", Redaction.credentialInAddress) }
            if let given = address, !given.contains("://"), !given.hasPrefix("/"), !given.hasPrefix("jdbc:") { address = resolve(given, against: baseDirectory) }
            let properties = reader.object(object["configurationProperties"], "\(t).configurationProperties")
            if let properties, let problem = ConnectorSecret.shapeProblem(properties, path: "\(t).configurationProperties") { reader.fail(problem.field, problem.problem) }
            let source = reader.string(object, "metadataSourceQualifiedName")
            let sync = reader.choice(object, "permittedSynchronization", PermittedSynchronization.self)
            let delete = reader.string(object, "deleteMethod")
            guard let name else { continue }
            guard names.insert(name).inserted else {
                reader.fail("\(t).catalogTargetName", "duplicate catalog target \"\(name)\" of this connector")
                continue
            }
            targets.append(CatalogTarget(catalogTargetName: name, endpointAddress: address, configurationProperties: properties,
                                         metadataSourceQualifiedName: source, permittedSynchronization: sync, deleteMethod: delete))
        }
        return targets
    }

    /// `configurationProperties` that name a file: the password's, and the OpenLineage API publisher's dead letters
    /// and CA.
    static let connectorFileProperties = ["passwordFile", "deadLetterFile", "caFile"]

    static func resolve(_ path: String, against base: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Where the document stops being JSON, as a line and column an editor can go to.
    static func syntaxError(in data: Data) -> String? {
        do {
            _ = try JSONParser.parse(data)
            return nil
        } catch {
            let before = data.prefix(max(0, min(error.offset, data.count)))
            let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? before.startIndex
            // Columns count characters, not bytes, as editors do.
            let column = String(decoding: before[lineStart...], as: UTF8.self).count + 1
            return "line \(line), column \(column): \(error.reason)"
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let decoding = error as? DecodingError, case .dataCorrupted(let context) = decoding {
            return (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return ns.localizedDescription
    }
}

/// A deterministic UUID-shaped id, so a connector configured without `connectorId` keeps one id across restarts.
enum StableID {
    static func make(from text: String) -> String {
        var a: UInt64 = 0xcbf29ce484222325, b: UInt64 = 0x84222325cbf29ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100000001b3
            b = (b ^ UInt64(byte)) &* 0x100000001b3 &+ 0x9e3779b97f4a7c15
        }
        let hex = String(format: "%016llx%016llx", a, b)
        let chars = Array(hex)
        return "\(String(chars[0..<8]))-\(String(chars[8..<12]))-\(String(chars[12..<16]))-\(String(chars[16..<20]))-\(String(chars[20..<32]))"
    }
}

/// Finds a worker executable: next to integration-daemon first, then relative to the config file, then on PATH.
enum ExecutableLocator {
    static func locate(_ name: String, baseDirectory: String, siblingDirectory: String) -> String? {
        if name.contains("/") {
            let path = name.hasPrefix("/") ? name : ConfigLoader.resolve(name, against: baseDirectory)
            return isExecutable(path) ? path : nil
        }
        var candidates = [siblingDirectory + "/" + name]
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        candidates += path.split(separator: ":").map { "\($0)/\(name)" }
        return candidates.first(where: isExecutable)
    }

    static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}

extension ConfigLoader {
    /// Fields of Egeria's configuration document that mean nothing here. Accepted, and named once in one warning,
    /// so an Egeria document runs as it is and its author learns what was not used.
    static let unusedEgeriaFields = ["serverSecurityConnection", "eventBusConfig", "accessServicesConfig", "governanceEnginesConfig",
                                     "viewServicesConfig", "repositoryServicesConfig", "conformanceSuiteConfig", "auditTrail",
                                     "defaultLocalOrganizationName", "defaultLocalServerURL", "defaultLocalServerUserId",
                                     "localServerDescription", "localServerType", "localServerId", "organizationName", "maxPageSize"]

    static func noteEgeriaFields(_ top: ConfigObject, reader: inout ConfigReader) {
        let present = unusedEgeriaFields.filter { top.members[$0] != nil }
        top.tolerate(unusedEgeriaFields)
        if !present.isEmpty {
            reader.warn("", "fields of Egeria's configuration document that this daemon does not use, ignored: \(present.joined(separator: ", "))")
        }
    }
}

/// What every Egeria metadata access server entry has, `accessServer.egeria` and each integration group alike.
extension ConfigLoader {
    /// `omagserverPlatformRootURL` (an http(s) URL), `omagserverName` and `userId`.
    static func parseEgeriaServer(_ object: ConfigObject, defaultUserId: String, reader: inout ConfigReader) -> EgeriaServerConfig {
        let root = reader.string(object, "omagserverPlatformRootURL", required: true)
        if let root, URL(string: root)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            reader.fail(object.path("omagserverPlatformRootURL"), "expected an http:// or https:// URL, got \"\(root)\"")
        }
        let server = reader.string(object, "omagserverName", required: true)
        return EgeriaServerConfig(omagserverPlatformRootURL: root ?? "", omagserverName: server ?? "",
                                  userId: reader.string(object, "userId") ?? defaultUserId)
    }

    /// `passwordEnvironmentVariable` or `passwordFile` (resolved), never both.
    static func parsePasswordSource(_ object: ConfigObject, baseDirectory: String, reader: inout ConfigReader) -> (variable: String?, file: String?) {
        let variable = reader.string(object, "passwordEnvironmentVariable")
        let file = reader.string(object, "passwordFile").map { resolve($0, against: baseDirectory) }
        if variable != nil && file != nil { reader.fail(object.path("passwordFile"), "give passwordEnvironmentVariable or passwordFile, not both") }
        return (variable, file)
    }

    /// `caFile`, resolved, which must be readable.
    static func parseCAFile(_ object: ConfigObject, baseDirectory: String, reader: inout ConfigReader) -> String? {
        guard let ca = reader.string(object, "caFile") else { return nil }
        let path = resolve(ca, against: baseDirectory)
        guard FileManager.default.isReadableFile(atPath: path) else {
            reader.fail(object.path("caFile"), "\"\(path)\" cannot be read")
            return nil
        }
        return path
    }
}


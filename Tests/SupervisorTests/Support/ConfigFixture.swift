import Foundation
import Protocol

/// An integration service of a test's daemon.json, built as values: a test says what it configures, and the
/// spelling of the document (Egeria's names, nesting, quoting) is written once, here.
struct ServiceFixture: Sendable {
    var marker: String
    var connectors: [ConnectorFixture]
    /// `worker.command`, when not the built-in worker.
    var command: [String]?
    /// `restart`, the service's own restart settings.
    var restart: JSONValue?
    /// `worker.memoryLimitMegabytes`.
    var memoryLimitMegabytes: Int?
    /// `worker.remote`: the host the worker runs on, over ssh.
    var remote: [String: JSONValue]?

    init(_ marker: String, connectors: [ConnectorFixture], command: [String]? = nil, restart: JSONValue? = nil, memoryLimitMegabytes: Int? = nil,
         remote: [String: JSONValue]? = nil) {
        self.remote = remote
        self.marker = marker
        self.connectors = connectors
        self.command = command
        self.restart = restart
        self.memoryLimitMegabytes = memoryLimitMegabytes
    }

    var value: JSONValue {
        var members: [String: JSONValue] = ["integrationServiceURLMarker": .string(marker),
                                            "integrationConnectorConfigs": .array(connectors.map(\.value))]
        var worker: [String: JSONValue] = [:]
        if let command { worker["command"] = .array(command.map(JSONValue.string)) }
        if let memoryLimitMegabytes { worker["memoryLimitMegabytes"] = .int(memoryLimitMegabytes) }
        if let remote { worker["remote"] = .object(remote) }
        if !worker.isEmpty { members["worker"] = .object(worker) }
        if let restart { members["restart"] = restart }
        return .object(members)
    }

    /// A service's `restart` settings; what is left out keeps the daemon's.
    static func restart(policy: String? = nil, maxRestarts: Int? = nil, withinSeconds: Double? = nil,
                        initialBackoffSeconds: Double? = nil, maxBackoffSeconds: Double? = nil, healthyAfterSeconds: Double? = nil) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let policy { members["policy"] = .string(policy) }
        if let maxRestarts { members["maxRestarts"] = .int(maxRestarts) }
        if let withinSeconds { members["withinSeconds"] = .double(withinSeconds) }
        if let initialBackoffSeconds { members["initialBackoffSeconds"] = .double(initialBackoffSeconds) }
        if let maxBackoffSeconds { members["maxBackoffSeconds"] = .double(maxBackoffSeconds) }
        if let healthyAfterSeconds { members["healthyAfterSeconds"] = .double(healthyAfterSeconds) }
        return .object(members)
    }
}

/// One connector of a ``ServiceFixture``.
struct ConnectorFixture: Sendable {
    var name: String
    var provider: String
    var address: String?
    var properties: [String: JSONValue]?
    var refreshIntervalSeconds: Double?
    var metadataSource: String?
    var refreshTimeoutSeconds: Double?
    var generateIntegrationReports: Bool?
    /// `connection.userId`: the role it signs in to the third party as.
    var userId: String?
    /// `catalogTargets`: what it works on, each `{catalogTargetName, endpoint, configurationProperties, …}`.
    var catalogTargets: [JSONValue]?

    init(_ name: String, provider: String, address: String? = nil, properties: [String: JSONValue]? = nil,
         refreshIntervalSeconds: Double? = nil, metadataSource: String? = nil, refreshTimeoutSeconds: Double? = nil,
         generateIntegrationReports: Bool? = nil, userId: String? = nil, catalogTargets: [JSONValue]? = nil) {
        self.userId = userId
        self.catalogTargets = catalogTargets
        self.refreshTimeoutSeconds = refreshTimeoutSeconds
        self.generateIntegrationReports = generateIntegrationReports
        self.name = name
        self.provider = provider
        self.address = address
        self.properties = properties
        self.refreshIntervalSeconds = refreshIntervalSeconds
        self.metadataSource = metadataSource
    }

    var value: JSONValue {
        var connection: [String: JSONValue] = ["connectorType": .object(["connectorProviderClassName": .string(provider)])]
        if let address { connection["endpoint"] = .object(["address": .string(address)]) }
        if let properties { connection["configurationProperties"] = .object(properties) }
        if let userId { connection["userId"] = .string(userId) }
        var members: [String: JSONValue] = ["connectorName": .string(name), "connection": .object(connection)]
        if let refreshIntervalSeconds { members["refreshIntervalSeconds"] = .double(refreshIntervalSeconds) }
        if let metadataSource { members["metadataSourceQualifiedName"] = .string(metadataSource) }
        if let refreshTimeoutSeconds { members["refreshTimeoutSeconds"] = .double(refreshTimeoutSeconds) }
        if let generateIntegrationReports { members["generateIntegrationReports"] = .bool(generateIntegrationReports) }
        if let catalogTargets { members["catalogTargets"] = .array(catalogTargets) }
        return .object(members)
    }
}

enum ConfigFixture {
    static func text(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

import Foundation
import Protocol

/// What a valid configuration needs from the host that runs it, checked by `validate` and reported as warnings:
/// the file is right, but `run` here would refuse to start (a secret it cannot read) or a connector would fail
/// (a folder that is not there). Warnings, because `validate` often runs where the daemon will not.
enum EnvironmentCheck {
    /// The built-in folder connector's provider names: its endpoint is a local folder.
    static let folderProviders: Set<String> = [
        "data-files-monitor", "org.odpi.openmetadata.adapters.connectors.integration.basicfiles.DataFilesMonitorIntegrationProvider",
    ]

    static func issues(_ config: DaemonConfig) -> [ConfigError.Issue] {
        var issues: [ConfigError.Issue] = []
        for (s, service) in config.integrationServices.enumerated() {
            for (c, connector) in service.connectors.enumerated() {
                let path = "integrationServices[\(s)].integrationConnectorConfigs[\(c)].connection"
                if let properties = connector.connection.configurationProperties {
                    do { _ = try ConnectorSecret.read(properties, path: "\(path).configurationProperties") } catch {
                        let message = error.problem.hasPrefix(error.field + " ") ? String(error.problem.dropFirst(error.field.count + 1)) : error.problem
                        issues.append(.init(path: error.field, message: message + "; `run` refuses to start without it"))
                    }
                }
                // A remote worker's folder is on its own host, where this cannot look.
                guard service.remote == nil, folderProviders.contains(connector.connection.connectorType.connectorProviderClassName),
                      let folder = connector.connection.endpoint?.address else { continue }
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
                    issues.append(.init(path: "\(path).endpoint.address", message: "folder \(folder) does not exist here; connector \(connector.connectorName) is FAILED until it does"))
                } else if !isDirectory.boolValue {
                    issues.append(.init(path: "\(path).endpoint.address", message: "\(folder) is not a folder; connector \(connector.connectorName) is FAILED until it is"))
                }
            }
        }
        return issues
    }
}

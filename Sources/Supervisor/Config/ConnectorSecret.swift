import Forwarding
import Protocol

/// A connector's secret (its database password), named by `configurationProperties.passwordEnvironmentVariable`
/// or `passwordFile` and read by the daemon, which hands it to the worker over the protocol. The config keeps
/// only where it is; the value is never logged, shown in status or written to a report.
///
/// Only the configuration file decides where a secret is read and where it may go: neither door can name a
/// secret's location, and a connector whose endpoint an operator changed gets no secret until the file names
/// that endpoint (see ``SupervisionLoop/secret(of:in:)``).
enum ConnectorSecret {
    /// The properties that say where a secret is read.
    static let locationFields = ["passwordEnvironmentVariable", "passwordFile"]

    /// The first secret-location field among `properties`, which a live change may not set.
    static func locationField(in properties: [String: JSONValue]?) -> String? {
        locationFields.first { properties?[$0] != nil }
    }

    /// `properties` with the secret location of `current` in place of any it had.
    static func keepingLocation(of current: [String: JSONValue]?, in properties: [String: JSONValue]?) -> [String: JSONValue]? {
        var result = properties ?? [:]
        for field in locationFields { result[field] = current?[field] }
        return result.isEmpty && properties == nil ? nil : result
    }

    /// Why a connector's secret cannot be read, naming the field.
    struct ReadError: Error, CustomStringConvertible {
        var description: String { problem }
        let field: String
        let problem: String
    }

    /// The secret, nil when the connector names none; `path` is the config path of its configurationProperties.
    static func read(_ properties: [String: JSONValue], path: String) throws(ReadError) -> String? {
        if let problem = shapeProblem(properties, path: path) { throw problem }
        let variable = properties["passwordEnvironmentVariable"]?.stringValue, file = properties["passwordFile"]?.stringValue
        do {
            let secret = try AccessSecret.read(variable: variable, variableField: "passwordEnvironmentVariable",
                                               file: file, fileField: "passwordFile", path: path)
            // Should a server or library ever echo it, log lines are scrubbed of it.
            secret.map(Redaction.register)
            return secret
        } catch {
            throw ReadError(field: "\(path).\(file != nil ? "passwordFile" : "passwordEnvironmentVariable")", problem: error.description)
        }
    }

    /// What is wrong with the two fields' shape, read without touching the environment or the disk: the CLI
    /// loads the config to find the store and must not need the secret.
    static func shapeProblem(_ properties: [String: JSONValue], path: String) -> ReadError? {
        var names: [String: String] = [:]
        for field in ["passwordEnvironmentVariable", "passwordFile"] {
            switch properties[field] {
            case nil: continue
            case .string(let text)? where !text.isEmpty: names[field] = text
            case let other?: return ReadError(field: "\(path).\(field)", problem: "expected a non-empty string, got \(other.typeName)")
            }
        }
        return names.count == 2 ? ReadError(field: "\(path).passwordFile", problem: "give passwordEnvironmentVariable or passwordFile, not both") : nil
    }

    /// Every connector secret of `config` that cannot be read now, one line each naming the connector and field:
    /// `run` refuses to start, and `reload` to apply, a configuration with any.
    static func problems(in config: DaemonConfig) -> [String] {
        var problems: [String] = []
        for service in config.integrationServices {
            for connector in service.connectors {
                guard let properties = connector.connection.configurationProperties else { continue }
                do { _ = try read(properties, path: "\(service.urlMarker) connector \(connector.connectorName): connection.configurationProperties") } catch {
                    problems.append(error.problem)
                }
            }
        }
        return problems
    }

    static func secret(of connector: IntegrationConnectorConfig, onError: (String, String) -> Void) -> String? {
        guard let properties = connector.connection.configurationProperties else { return nil }
        do { return try read(properties, path: "connector \(connector.connectorName): connection.configurationProperties") } catch {
            onError(connector.connectorName, error.problem)
            return nil
        }
    }
}

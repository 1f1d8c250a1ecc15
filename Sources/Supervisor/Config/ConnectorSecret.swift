import Protocol

/// A connector's secret (its database password), named by `configurationProperties.passwordEnvironmentVariable`
/// or `passwordFile` and read by the daemon, which hands it to the worker over the protocol. The config keeps
/// only where it is; the value is never logged, shown in status or written to a report.
enum ConnectorSecret {
    /// Why a connector's secret cannot be read, naming the field.
    struct ReadError: Error {
        let field: String
        let problem: String
    }

    /// The secret, nil when the connector names none; `path` is the config path of its configurationProperties.
    static func read(_ properties: [String: JSONValue], path: String) throws(ReadError) -> String? {
        var names: [String: String] = [:]
        for field in ["passwordEnvironmentVariable", "passwordFile"] {
            switch properties[field] {
            case nil: continue
            case .string(let text)? where !text.isEmpty: names[field] = text
            case let other?: throw ReadError(field: "\(path).\(field)", problem: "expected a non-empty string, got \(other.typeName)")
            }
        }
        if names.count == 2 {
            throw ReadError(field: "\(path).passwordFile", problem: "give passwordEnvironmentVariable or passwordFile, not both")
        }
        do {
            return try AccessSecret.read(variable: names["passwordEnvironmentVariable"], variableField: "passwordEnvironmentVariable",
                                         file: names["passwordFile"], fileField: "passwordFile", path: path)
        } catch {
            let field = names["passwordFile"] != nil ? "passwordFile" : "passwordEnvironmentVariable"
            throw ReadError(field: "\(path).\(field)", problem: error.description)
        }
    }

    /// The secrets of `connectors` by connector name, for `initialize`; one that cannot be read now is left out
    /// (its connector then fails with a message saying it has no password) and the reason goes to `onError`.
    static func secrets(of connectors: [IntegrationConnectorConfig], onError: (String, String) -> Void) -> [String: String]? {
        var secrets: [String: String] = [:]
        for connector in connectors {
            if let secret = secret(of: connector, onError: onError) { secrets[connector.connectorName] = secret }
        }
        return secrets.isEmpty ? nil : secrets
    }

    static func secret(of connector: IntegrationConnectorConfig, onError: (String, String) -> Void) -> String? {
        guard let properties = connector.connection.configurationProperties else { return nil }
        do { return try read(properties, path: "connector \(connector.connectorName): connection.configurationProperties") } catch {
            onError(connector.connectorName, "\(error.field): \(error.problem)")
            return nil
        }
    }
}

import Foundation
import Protocol

/// Egeria's placeholders: a configuration document saved by Egeria's admin services holds `~{egeriaEndpoint}~` where a
/// deployment fills in its own value. Each is filled, in every string of the document, from `--placeholder
/// NAME=VALUE` or else from the environment variable of that name; one that neither gives is an error at its path.
enum ConfigPlaceholders {
    /// `value` with every placeholder filled, and an issue for each that could not be.
    static func fill(_ value: JSONValue, given: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment,
                     path: String = "") -> (JSONValue, [ConfigError.Issue]) {
        switch value {
        case .string(let text):
            guard text.contains("~{") else { return (value, []) }
            var issues: [ConfigError.Issue] = []
            var filled = ""
            var rest = text[...]
            while let open = rest.range(of: "~{") {
                filled += rest[..<open.lowerBound]
                guard let close = rest[open.upperBound...].range(of: "}~") else {
                    filled += rest[open.lowerBound...]
                    rest = rest[rest.endIndex...]
                    break
                }
                let name = String(rest[open.upperBound..<close.lowerBound])
                if let replacement = given[name] ?? environment[name] {
                    filled += replacement
                } else {
                    issues.append(.init(path: path, message: "placeholder ~{\(name)}~ is not filled: give --placeholder \(name)=VALUE, or set \(name) in the environment"))
                    filled += rest[open.lowerBound..<close.upperBound]
                }
                rest = rest[close.upperBound...]
            }
            return (.string(filled + rest), issues)
        case .array(let items):
            var issues: [ConfigError.Issue] = []
            let filled = items.enumerated().map { index, item in
                let (value, found) = fill(item, given: given, environment: environment, path: "\(path)[\(index)]")
                issues += found
                return value
            }
            return (.array(filled), issues)
        case .object(let members):
            var issues: [ConfigError.Issue] = []
            var filled: [String: JSONValue] = [:]
            for (key, member) in members {
                let (value, found) = fill(member, given: given, environment: environment, path: ConfigReader.join(path, key))
                issues += found
                filled[key] = value
            }
            return (.object(filled), issues.sorted { $0.path < $1.path })
        default:
            return (value, [])
        }
    }
}

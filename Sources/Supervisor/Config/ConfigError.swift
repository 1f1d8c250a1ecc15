/// Everything wrong with a configuration file, found in one pass; each issue names its JSON path and bad value.
struct ConfigError: Error, CustomStringConvertible {
    /// One problem at one place in the file.
    struct Issue: Equatable, CustomStringConvertible {
        let path: String
        let message: String
        var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    let file: String
    let issues: [Issue]

    var description: String {
        issues.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}

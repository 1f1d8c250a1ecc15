import Protocol

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
    /// Problems that do not stop the file from being used, found in the same pass.
    var warnings: [Issue] = []

    var description: String {
        issues.map { "\(file): \($0)" }.joined(separator: "\n")
    }

    /// A warning as `validate` prints it: an error's format, marked.
    static func line(file: String, warning: Issue) -> String { "\(file): warning: \(warning)" }

    /// An issue as `validate --json` lists it, errors and warnings alike.
    static func json(_ issue: Issue) -> JSONValue { .object(["path": .string(issue.path), "message": .string(issue.message)]) }
}

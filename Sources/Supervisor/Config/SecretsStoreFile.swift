import Foundation

/// Egeria's YAML secrets store (`YAMLSecretsStoreProvider`), as its `.omsecrets` files are written: under
/// `secretsCollections`, a collection holds `secrets` (`userId`, `clearPassword`) or a `tokenAPI` whose
/// `requestBody` has the `userId` and `password` exchanged for a token. Only what those files use is read: nested
/// mappings of plain or quoted scalars, and comments; anything else is refused with its line.
enum SecretsStoreFile {
    static let provider = "org.odpi.openmetadata.adapters.connectors.secretsstore.yaml.YAMLSecretsStoreProvider"
    /// A secrets file is small; a bigger one is not what the field meant.
    static let maxBytes = 1 << 20

    struct Credentials: Equatable {
        var userId: String?
        var password: String?
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The user and password a collection holds.
    static func credentials(file: String, collection: String) throws(Problem) -> Credentials {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw Problem(description: "\(file) cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else { throw Problem(description: "\(file) is larger than \(maxBytes) bytes") }
        let values = try parse(String(decoding: data, as: UTF8.self), file: file)
        let base = ["secretsCollections", collection]
        guard values.keys.contains(where: { $0.starts(with: base) }) else {
            let known = Set(values.keys.filter { $0.first == "secretsCollections" && $0.count > 1 }.map { $0[1] }).sorted()
            throw Problem(description: "\(file) has no secrets collection \"\(collection)\"; it has \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        let token = base + ["tokenAPI", "requestBody"], secrets = base + ["secrets"]
        return Credentials(userId: values[token + ["userId"]] ?? values[secrets + ["userId"]],
                           password: values[token + ["password"]] ?? values[secrets + ["clearPassword"]])
    }

    /// Every scalar by its path of keys.
    static func parse(_ text: String, file: String) throws(Problem) -> [[String]: String] {
        var values: [[String]: String] = [:]
        // The open mappings: each key's indentation, innermost last.
        var open: [(indent: Int, key: String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(raw)).trimmingTrailingWhitespace
            let content = line.drop { $0 == " " }
            if content.isEmpty || content == "---" { continue }
            let indent = line.count - content.count
            func refuse(_ why: String) -> Problem { Problem(description: "\(file):\(index + 1): \(why)") }
            if content.hasPrefix("\t") || line.hasPrefix("\t") { throw refuse("a tab in the indentation") }
            if content.hasPrefix("- ") || content == "-" { throw refuse("a list, which a secrets store file does not hold") }
            guard let colon = content.firstIndex(of: ":") else { throw refuse("expected KEY: VALUE") }
            let key = unquote(String(content[..<colon]).trimmingTrailingWhitespace)
            let value = String(content[content.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            while let last = open.last, last.indent >= indent { open.removeLast() }
            let path = open.map(\.key) + [key]
            if value.isEmpty {
                open.append((indent, key))
            } else {
                if value.hasPrefix("{") || value.hasPrefix("[") || value.hasPrefix("|") || value.hasPrefix(">") || value.hasPrefix("&") || value.hasPrefix("*") {
                    throw refuse("\(value.prefix(1)) values are not read; write the value plainly or quoted")
                }
                values[path] = unquote(value)
            }
        }
        return values
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && (previous == " " || offset == 0) {
                return String(line.prefix(offset))
            }
            previous = character
        }
        return line
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, let first = text.first, first == text.last, first == "\"" || first == "'" else { return text }
        return String(text.dropFirst().dropLast())
    }
}

private extension String {
    var trimmingTrailingWhitespace: String {
        var text = self
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}

import Foundation
import Protocol
import Synchronization

/// Keeps secrets out of everything the daemon records or shows: log lines (its own and relayed worker
/// lines), dead letters, the store, status and metrics.
///
/// Two nets: every secret the daemon itself read (the access server token) is replaced wherever it appears,
/// and anything shaped like a credential (an `Authorization` header, a bearer token, a `password`, `token`
/// or `secret` field) is masked, since a server may echo back a header or a body the daemon never saw.
package enum Redaction {
    package static let mask = "[REDACTED]"

    private static let secrets = Mutex<[String]>([])

    /// Remembers a secret to replace wherever it appears. Very short values are masked by shape only: they
    /// would match ordinary words.
    /// The secret is also remembered as a JSON string writes it, since log lines in JSON (and echoed JSON bodies)
    /// escape a `"` or `\\` in it.
    package static func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        // As the JSON log format (Logger.jsonLine) and the daemon's own JSON writer escape it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let encoded = (try? encoder.encode([secret])).map { String(decoding: $0.dropFirst(2).dropLast(2), as: UTF8.self) }
        var writer = JSONWriter()
        writer.string(secret)
        let written = String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
        secrets.withLock { secrets in
            for form in [secret, encoded, written].compactMap({ $0 }) where !secrets.contains(form) { secrets.append(form) }
        }
    }

    /// Words that any credential-shaped text contains; text without them (and without a known secret) is
    /// returned untouched, cheaply.
    private static let triggers = ["uthorization", "earer", "assword", "oken", "ecret", "asswd", "pikey", "pi_key", "pi-key"]

    private static let patterns: [NSRegularExpression] = [
        // Authorization: Bearer abc / "Authorization":"Basic abc" / authorization=abc
        #"(?i)(authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token)\s+)?[^\s"',;}&\]]+"#,
        #"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]+"#,
        // "password": "x", password=x, token: x, secret='x', apiKey=x (JSON, query strings, key=value logs)
        #"(?i)((?:password|passwd|secret|token|api[_-]?key|access[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;}&\]]+"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }

    /// The password of a URI's user information: `postgresql://user:pw@host` keeps `user`.
    private static let userInformation = try? NSRegularExpression(pattern: #"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@"'?#]*:)[^@/\s"'?#]+(@)"#)

    package static func scrub(_ text: String) -> String {
        var text = text
        for secret in secrets.withLock({ $0 }) where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: mask)
        }
        return credentialShaped(text)
    }

    /// `text` with what is shaped like a credential masked; known secrets are not looked for.
    package static func credentialShaped(_ text: String) -> String {
        var text = text
        if text.contains("://"), text.contains("@"), let userInformation {
            text = userInformation.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1\(mask)$2")
        }
        let lowered = text.lowercased()
        guard triggers.contains(where: lowered.contains) else { return text }
        for pattern in patterns {
            let range = NSRange(text.startIndex..., in: text)
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "$1\(mask)")
        }
        return text
    }

    /// Whether an endpoint address carries a credential (`user:password@`, `?password=`, libpq's `password=`):
    /// an address is shown in status and logs, so a secret belongs in the connector's secret instead.
    package static func holdsCredential(address: String) -> Bool {
        credentialShaped(address) != address
    }

    /// Why such an address is refused, for `validate` and the doors alike.
    package static let credentialInAddress = "holds a password (user:password@ or password=), and an address is shown in status and logs: "
        + "name where the secret is read with configurationProperties.passwordEnvironmentVariable or passwordFile"

    /// A connection as status and the doors show it: a credential in its address, or in a configuration
    /// property named like one (`password`, `token`, `secret`, `apiKey`), is masked.
    package static func shown(_ connection: Connection) -> Connection {
        var connection = connection
        if let address = connection.endpoint?.address { connection.endpoint = Endpoint(address: scrub(address)) }
        connection.configurationProperties = connection.configurationProperties.map { properties in
            Dictionary(uniqueKeysWithValues: properties.map { key, value in
                (key, credentialKey(key) ? .string(mask) : value)
            })
        }
        return connection
    }

    /// A property that holds a secret itself; `passwordFile` and `passwordEnvironmentVariable` only say where one
    /// is read, and stay shown.
    private static func credentialKey(_ key: String) -> Bool {
        let lowered = key.lowercased().filter { $0 != "_" && $0 != "-" }
        guard lowered != "passwordfile", lowered != "passwordenvironmentvariable" else { return false }
        return ["password", "passwd", "secret", "token", "apikey", "accesskey"].contains { lowered.hasSuffix($0) }
    }
}

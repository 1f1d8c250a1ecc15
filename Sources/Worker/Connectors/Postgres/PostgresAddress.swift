import Protocol

/// Where a postgres-monitor connects: `endpoint.address` as a JDBC URL (`jdbc:postgresql://host:port/db`, as
/// Egeria's JDBC resource connector takes it) or a libpq URI (`postgresql://host:port/db?host=/socket/dir`),
/// turned into libpq keywords. A password in the address is refused: it would sit in the config text.
struct PostgresAddress: Sendable {
    /// libpq keywords, without the user and password.
    var keywords: [(String, String)]
    /// The JDBC URL form, recorded as the database's `importedFrom`, as Egeria records the driver's URL.
    var jdbcURL: String
    var host: String
    var port: String
    var database: String

    init(_ address: String) throws(ConnectorError) {
        if address.hasPrefix("jdbc:postgresql:") {
            try self.init(jdbc: String(address.dropFirst("jdbc:postgresql:".count)))
        } else if address.hasPrefix("postgresql://") || address.hasPrefix("postgres://") {
            let rest = String(address.drop(while: { $0 != ":" }).dropFirst(3))
            try self.init(authorityAndPath: rest)
        } else {
            throw ConnectorError("connection.endpoint.address must be a JDBC URL (jdbc:postgresql://host:port/database) or a libpq URI (postgresql://host:port/database), got \"\(address)\"")
        }
    }

    /// `//host:port/db?params`, or `db` alone (localhost), as pgjdbc reads it.
    private init(jdbc rest: String) throws(ConnectorError) {
        guard rest.hasPrefix("//") else {
            try self.init(authorityAndPath: "/" + rest)
            return
        }
        try self.init(authorityAndPath: String(rest.dropFirst(2)))
    }

    private init(authorityAndPath text: String) throws(ConnectorError) {
        let (main, query) = Self.split(text, at: "?")
        let (authority, path) = Self.split(main, at: "/")
        if authority.contains("@") || query.split(separator: "&").contains(where: { $0.hasPrefix("password=") }) {
            throw ConnectorError("connection.endpoint.address carries credentials; put the user in connection.userId and name the password with configurationProperties.passwordEnvironmentVariable or passwordFile")
        }
        var host = "localhost", port = "5432"
        if !authority.isEmpty {
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") { port = String(after.dropFirst()) }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                port = String(authority[authority.index(after: colon)...])
            } else {
                host = authority
            }
        }
        var database = Self.decoded(path.isEmpty ? "postgres" : path)
        var options: [(String, String)] = []
        var socketFolder: String?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let (key, value) = Self.split(String(pair), at: "=")
            switch key {
            // A Unix-socket folder overrides the TCP host (libpq's `host=/dir`), for a local server.
            case "host": socketFolder = Self.decoded(value)
            // libpq's URI parameters override what the URI's parts say, as libpq itself reads them.
            case "port": port = Self.decoded(value)
            case "dbname": database = Self.decoded(value)
            case "sslmode", "sslrootcert", "target_session_attrs", "gssencmode": options.append((key, Self.decoded(value)))
            // pgjdbc's own options (currentSchema, ApplicationName, loginTimeout …) mean nothing to libpq.
            default: continue
            }
        }
        guard port.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let portNumber = Int(port),
              (1...65_535).contains(portNumber) else {
            throw ConnectorError("connection.endpoint.address has port \"\(port)\"; expected 1 to 65535")
        }
        let keywords = [("host", socketFolder ?? host), ("port", port), ("dbname", database)] + options
        self.keywords = keywords
        self.host = host
        self.port = port
        self.database = database
        self.jdbcURL = "jdbc:postgresql://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }

    /// The same server, another database (the server-wide provider catalogues each).
    func with(database: String) -> PostgresAddress {
        var copy = self
        copy.database = database
        copy.keywords = keywords.map { $0.0 == "dbname" ? ("dbname", database) : $0 }
        copy.jdbcURL = "jdbc:postgresql://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        return copy
    }

    private static func split(_ text: String, at separator: Character) -> (String, String) {
        guard let index = text.firstIndex(of: separator) else { return (text, "") }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }

    /// Percent-decoding, as URIs carry a socket folder (`%2Ftmp%2Fpg`).
    private static func decoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

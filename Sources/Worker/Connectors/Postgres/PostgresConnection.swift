import CLibPQ
import Glibc
import Protocol

/// One libpq connection: connect with keyword parameters, run read-only catalogue queries with a client-side
/// deadline, close. libpq's own `connect_timeout` bounds the connect; the server's `statement_timeout` bounds a
/// query that runs; the deadline here bounds a server that stopped answering at all (a SIGSTOPped backend
/// never reaches its own timeout).
final class PostgresConnection {
    private let handle: OpaquePointer

    /// Why a connection or query failed, sorted the way the connector reacts to it.
    struct Failure: Error, CustomStringConvertible {
        enum Kind {
            /// Wrong password, unknown role or database: a configuration problem, not retried.
            case rejected
            /// Refused, unreachable, timed out, or the server went away: retried at the next refresh.
            case unavailable
            /// A query failed for another reason.
            case query
        }
        let kind: Kind
        let message: String
        var description: String { message }
    }

    /// Connects; `parameters` are libpq keywords (`host`, `port`, `dbname`, `user`, `password`, `connect_timeout`,
    /// `options`, `application_name`), `dbname` may be a `postgresql://` URI.
    init(parameters: [(String, String)]) throws(Failure) {
        let keys = parameters.map { strdup($0.0) }, values = parameters.map { strdup($0.1) }
        defer { (keys + values).forEach { free($0) } }
        let connection: OpaquePointer? = (keys.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { keyList in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valueList in
                PQconnectdbParams(keyList.baseAddress, valueList.baseAddress, 1)
            }
        }
        guard let connection else { throw Failure(kind: .unavailable, message: "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            let needsPassword = PQconnectionNeedsPassword(connection) == 1
            PQfinish(connection)
            throw Failure(kind: needsPassword || Self.isRejection(message) ? .rejected : .unavailable, message: message)
        }
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// The server's version (`server_version`), as the JDBC driver's `getDatabaseProductVersion` gives it.
    var serverVersion: String { PQparameterStatus(handle, "server_version").map { String(cString: $0) } ?? "" }
    var databaseName: String { PQdb(handle).map { String(cString: $0) } ?? "" }
    var host: String { PQhost(handle).map { String(cString: $0) } ?? "" }
    var port: String { PQport(handle).map { String(cString: $0) } ?? "" }

    /// The rows of `sql` as text (nil for SQL NULL); the query must finish within `timeoutSeconds`.
    func query(_ sql: String, timeoutSeconds: Double) throws(Failure) -> [[String?]] {
        guard PQsendQuery(handle, sql) == 1 else { throw failure(.unavailable) }
        let deadline = MonotonicClock.now() + timeoutSeconds
        var rows: [[String?]] = []
        var problem: Failure?
        // PQgetResult blocks while the connection is busy, so each result (and the end, nil) is awaited here first.
        while true {
            try waitUntilReadable(deadline: deadline, timeoutSeconds: timeoutSeconds)
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK:
                let columns = PQnfields(result)
                for row in 0..<PQntuples(result) {
                    rows.append((0..<columns).map { column in
                        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                    })
                }
            case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                break
            default:
                let state = clibpq_sqlstate(result).map { String(cString: $0) } ?? ""
                let message = Self.trimmed(PQresultErrorMessage(result))
                // 57014: canceled by statement_timeout; class 08: connection exceptions; 57P: the server is shutting down.
                let unavailable = state == "57014" || state.hasPrefix("08") || state.hasPrefix("57P") || PQstatus(handle) != CONNECTION_OK
                problem = problem ?? Failure(kind: unavailable ? .unavailable : .query, message: state.isEmpty ? message : "\(message) (SQLSTATE \(state))")
            }
        }
        if let problem { throw problem }
        return rows
    }

    /// Reads from the server until a result can be taken without blocking, or the deadline passes.
    private func waitUntilReadable(deadline: Double, timeoutSeconds: Double) throws(Failure) {
        while PQisBusy(handle) == 1 {
            let remaining = deadline - MonotonicClock.now()
            guard remaining > 0 else {
                throw Failure(kind: .unavailable, message: "the server did not answer within \(timeoutSeconds) s")
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 && errno != EINTR { throw Failure(kind: .unavailable, message: "poll: \(String(cString: strerror(errno)))") }
            guard PQconsumeInput(handle) == 1 else { throw failure(.unavailable) }
        }
    }

    private func failure(_ kind: Failure.Kind) -> Failure {
        Failure(kind: PQstatus(handle) == CONNECTION_OK ? kind : .unavailable, message: Self.trimmed(PQerrorMessage(handle)))
    }

    /// The server's refusals that retrying cannot fix. libpq gives no SQLSTATE for a failed connect, so these are
    /// the server's (English, `lc_messages` C) texts for 28P01, 28000 and 3D000.
    private static func isRejection(_ message: String) -> Bool {
        ["password authentication failed", "no password supplied", "role \"", "database \"", "no pg_hba.conf entry",
         "authentication failed"].contains { message.contains($0) }
            && !message.contains("the database system is starting up")
    }

    private static func trimmed(_ text: UnsafeMutablePointer<CChar>?) -> String {
        guard let text else { return "unknown libpq error" }
        return String(cString: text).split(whereSeparator: \.isNewline).map { $0.trimmingPrefix(while: \.isWhitespace) }
            .joined(separator: " ").trimmingSuffix { $0 == " " }
    }
}

private extension String {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var text = self
        while let last = text.last, predicate(last) { text.removeLast() }
        return text
    }
}

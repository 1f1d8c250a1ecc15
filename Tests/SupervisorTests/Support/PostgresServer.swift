import Foundation
import Glibc

/// A real PostgreSQL 15 server for one test: `initdb` into a temporary folder and `pg_ctl start` as the
/// unprivileged `postgres` user (PostgreSQL refuses to run as root), listening on 127.0.0.1 at a free port
/// and on a Unix socket in that folder. Local socket logins are trusted (the test's psql); TCP logins need a
/// SCRAM password, as a production server would.
final class PostgresServer: @unchecked Sendable {
    let directory: String
    let port: Int
    private var dataDirectory: String { directory + "/data" }
    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted() ?? []
        return versions.reversed().map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()

    init() throws {
        guard let binaries = Self.binaries else {
            throw HarnessError("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/test-deps installs Debian's postgresql)")
        }
        guard let account = getpwnam("postgres") else { throw HarnessError("no postgres user (Debian's postgresql package makes it)") }
        var template = Array("/tmp/pgt-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        directory = String(cString: made)
        chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        port = Int(try FreePort.tcp())
        let initdb = try DaemonHarness.run(["/usr/sbin/runuser", "-u", "postgres", "--", binaries + "/initdb", "-D", dataDirectory, "-U", "postgres",
                                            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"],
                                           timeout: 120)
        guard initdb.code == 0 else { throw HarnessError("initdb failed: \(initdb.stderr)") }
        try start()
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    func start() throws {
        let result = try DaemonHarness.run(["/usr/sbin/runuser", "-u", "postgres", "--", Self.binaries! + "/pg_ctl", "-D", dataDirectory,
                                            "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                                            "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c lc_messages=C", "start"],
                                           timeout: 90)
        guard result.code == 0 else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw HarnessError("pg_ctl start failed: \(result.stdout) \(result.stderr)\n\(log)")
        }
    }

    /// Stops the server at once (`immediate`: no checkpoint), as a crash would.
    func stop() {
        _ = try? DaemonHarness.run(["/usr/sbin/runuser", "-u", "postgres", "--", Self.binaries! + "/pg_ctl", "-D", dataDirectory, "-m", "immediate",
                                    "-w", "-t", "30", "stop"], timeout: 40)
    }

    /// The postmaster's pid, from its pid file.
    var postmasterPID: Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// Runs SQL as the superuser over the socket; throws with psql's error.
    @discardableResult
    func sql(_ statements: String, database: String = "postgres") throws -> String {
        let result = try DaemonHarness.run(["/usr/sbin/runuser", "-u", "postgres", "--", Self.binaries! + "/psql", "-h", directory, "-p", "\(port)",
                                            "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statements], timeout: 60)
        guard result.code == 0 else { throw HarnessError("psql failed: \(result.stderr)") }
        return result.stdout
    }

    /// The JDBC URL of a database on this server, as an Egeria config gives it.
    func jdbcURL(_ database: String) -> String { "jdbc:postgresql://127.0.0.1:\(port)/\(database)" }

    func cleanUp() {
        if let pid = postmasterPID, kill(pid, SIGCONT) == 0 { stop() }
        if let pid = postmasterPID, kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { cleanUp() }
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
enum FreePort {
    static func tcp() throws -> UInt16 {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}

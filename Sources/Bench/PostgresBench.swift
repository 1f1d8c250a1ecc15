import Foundation
import Protocol

/// The PostgreSQL connector's targets: a database of 20 schemas × 100 tables × 10 columns (22,043 elements)
/// catalogued by a real worker into the embedded store: the first full catalogue, a refresh with nothing changed,
/// one column added, and the worker's peak memory. Needs PostgreSQL's server binaries and the postgres user (as
/// the tests do: scripts/test-deps installs them) and root, to start the server as that user.
enum PostgresBench {
    static func run(rounds: Int = 3) throws {
        print("\npostgres: a 20 × 100 × 10 database catalogued by postgres-monitor into the embedded store, \(rounds) rounds")
        let server = try BenchPostgres()
        defer { server.stop() }
        try server.sql("CREATE ROLE cataloguer LOGIN PASSWORD 'bench-password'")
        try server.sql("CREATE DATABASE big OWNER cataloguer")
        let columns = (1..<10).map { "c\($0) text" }.joined(separator: ", ")
        try server.sql("""
            DO $$ BEGIN FOR s IN 0..19 LOOP EXECUTE format('CREATE SCHEMA s%s', s);
              FOR t IN 0..99 LOOP EXECUTE format('CREATE TABLE s%s.t%s (c0 int PRIMARY KEY, \(columns))', s, t); END LOOP;
            END LOOP; END $$;
            """, database: "big")
        var first: [Double] = [], quiet: [Double] = [], added: [Double] = [], memory: [Double] = []
        for round in 0..<rounds {
            let passwordFile = server.directory + "/password"
            try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            let service = """
            { "integrationServiceURLMarker": "database-integrator", "integrationConnectorConfigs": [ { "connectorName": "big",
                "metadataSourceQualifiedName": "big", "refreshIntervalSeconds": 0,
                "connection": { "connectorType": { "connectorProviderClassName": "postgres-monitor" },
                                "endpoint": { "address": "jdbc:postgresql://127.0.0.1:\(server.port)/big" }, "userId": "cataloguer",
                                "configurationProperties": { "passwordFile": "\(passwordFile)", "serverName": "bench" } } } ] }
            """
            let started = Clock.now()
            let daemon = try DaemonUnderTest(services: [service], supervision: "{ \"startTimeoutSeconds\": 30 }")
            defer { daemon.stop() }
            let worker = try daemon.waitUntilAllRunning(timeout: 30)[0]
            try waitForReports(daemon, count: 1, timeout: 120)
            first.append(Clock.now() - started)
            let created = try daemon.createdInNewestReport()
            guard created == 22_043 else {
                throw DaemonUnderTest.BenchError(description: "the first report lists \(created) created elements, not 22,043 (the 20 schemas and public); log: \(daemon.directory)/daemon.log")
            }

            quiet.append(try timedRefresh(daemon))
            guard reportsStored(daemon) == 1 else { throw DaemonUnderTest.BenchError(description: "an unchanged database made a report") }

            try server.sql("ALTER TABLE s7.t42 ADD COLUMN extra\(round) int", database: "big")
            added.append(try timedRefresh(daemon))
            try waitForReports(daemon, count: 2, timeout: 10)
            let one = try daemon.createdInNewestReport()
            guard one == 1 else { throw DaemonUnderTest.BenchError(description: "one column added made \(one) created elements, not 1") }
            try server.sql("ALTER TABLE s7.t42 DROP COLUMN extra\(round)", database: "big")
            // The peak over the worker's life: the first catalogue and the refreshes after it.
            memory.append((ProcStats.peakRSSKiB(worker) ?? .nan) / 1024)
        }
        print(Figures.line("daemon start → first full catalogue stored (22,043 elements)", first, unit: "s", target: "≤ 10 s"))
        print(Figures.line("refresh with nothing changed (no report)", quiet, unit: "s", target: "≤ 1 s"))
        print(Figures.line("refresh after one column added (one report, one created element)", added, unit: "s", target: "≤ 1 s"))
        print(Figures.line("worker peak RSS over the first catalogue and both refreshes", memory, unit: "MiB", target: "≤ 64 MiB"))
    }

    private static func reportsStored(_ daemon: DaemonUnderTest) -> Int {
        daemon.services.first?["integrationConnectorReports"]?.arrayValue?.first?["statistics"]?["reportsStored"]?.intValue ?? 0
    }

    private static func waitForReports(_ daemon: DaemonUnderTest, count: Int, timeout: Double) throws {
        let deadline = Clock.now() + timeout
        while reportsStored(daemon) < count {
            guard Clock.now() < deadline else {
                throw DaemonUnderTest.BenchError(description: "fewer than \(count) reports after \(timeout) s; log: \(daemon.directory)/daemon.log")
            }
            usleep(50_000)
        }
    }

    /// Wall time of `integration-daemon refresh big` (the CLI answers once the refresh has run).
    private static func timedRefresh(_ daemon: DaemonUnderTest) throws -> Double {
        let started = Clock.now()
        let (status, output) = try daemon.run(["refresh", "big", "--wait", "60"])
        guard status == 0 else {
            throw DaemonUnderTest.BenchError(description: "refresh big failed: \(String(decoding: output, as: UTF8.self))")
        }
        return Clock.now() - started
    }
}

/// A throwaway PostgreSQL server for the benchmark, run as the postgres user on a free port.
final class BenchPostgres {
    let directory: String
    let port: Int
    private let binaries: String

    init() throws {
        let root = "/usr/lib/postgresql"
        guard let found = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted().reversed()
            .map({ "\(root)/\($0)/bin" }).first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }),
              let account = getpwnam("postgres") else {
            throw DaemonUnderTest.BenchError(description: "PostgreSQL server binaries or the postgres user are missing (scripts/test-deps installs them)")
        }
        binaries = found
        var template = Array("/tmp/idb-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonUnderTest.BenchError(description: "mkdtemp failed") }
        directory = String(cString: made)
        chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        port = 20_000 + Int(getpid() % 20_000)
        try asPostgres([binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "--auth-local=trust",
                        "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"])
        try asPostgres([binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                        "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    func sql(_ statements: String, database: String = "postgres") throws {
        try asPostgres([binaries + "/psql", "-h", directory, "-p", "\(port)", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statements])
    }

    func stop() {
        try? asPostgres([binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `argv` as the postgres user and waits for it. posix_spawn and waitpid, not Foundation's Process:
    /// Process sees a child's exit only once every descendant is gone, and pg_ctl leaves the server running.
    private func asPostgres(_ argv: [String]) throws {
        let errorPath = directory + "/command.err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let full = ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv
        let cArguments = full.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, full[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw DaemonUnderTest.BenchError(description: "cannot run \(full[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw DaemonUnderTest.BenchError(description: "\(argv[0]) failed (wait status \(status)): \(text)")
        }
    }
}

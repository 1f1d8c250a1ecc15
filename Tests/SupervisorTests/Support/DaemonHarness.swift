import Foundation
import Glibc
import Protocol
import Synchronization
@testable import Supervisor

/// A real `integration-daemon run` in a temporary folder, with helpers to read its status, run its CLI and
/// make sure that nothing it started outlives the test.
final class DaemonHarness: @unchecked Sendable {
    let directory: String
    let configPath: String
    private(set) var daemon: ChildProcess?
    /// Every worker pid ever seen in status, killed at cleanup if still alive.
    private let seenPids = Mutex<Set<Int32>>([])
    /// False for a daemon in a pid namespace of its own: its status names pids of that namespace, which here would
    /// be other processes. Everything in the namespace dies with the daemon, its pid 1.
    var recordsWorkerPids = true

    /// How much longer deadlines are: `TEST_TIME_SCALE` (scripts/sanitize sets it, since a sanitizer slows every
    /// process several times over), else 1.
    static let timeScale = max(1, Double(ProcessInfo.processInfo.environment["TEST_TIME_SCALE"] ?? "") ?? 1)

    /// Short timings so hang detection and restarts happen within a second or two.
    static let fastSupervision: [String: JSONValue] = [
        "heartbeatIntervalSeconds": .double(0.2), "heartbeatTimeoutSeconds": .double(1.0 * timeScale),
        "shutdownGraceSeconds": .double(1.0 * timeScale), "killGraceSeconds": .double(0.3), "startTimeoutSeconds": .double(5 * timeScale),
        "restart": ServiceFixture.restart(maxRestarts: 5, withinSeconds: 60, initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.5,
                                          healthyAfterSeconds: 0.5),
    ]

    /// The daemon's own store as the access server.
    static let embeddedAccess = JSONValue.object(["embedded": .object([:])])

    init(config: String) throws {
        var template = Array("/tmp/idt-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        directory = String(cString: made)
        configPath = directory + "/daemon.json"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    convenience init(services: [ServiceFixture], supervision: [String: JSONValue] = DaemonHarness.fastSupervision,
                     accessServer: JSONValue = DaemonHarness.embeddedAccess) throws {
        try self.init(config: Self.config(services: services, supervision: supervision, accessServer: accessServer))
    }

    /// A daemon.json. `platform` is the REST door (``platform(tls:settings:)``); `members` are more top-level
    /// members (`store`, `metrics`).
    static func config(services: [ServiceFixture], supervision: [String: JSONValue] = fastSupervision, accessServer: JSONValue = embeddedAccess,
                       platform: JSONValue? = nil, members: [String: JSONValue] = [:]) -> String {
        ConfigFixture.text(.object(document(services: services, supervision: supervision, accessServer: accessServer, platform: platform, members: members)))
    }

    /// ``config(services:supervision:accessServer:platform:members:)`` as members, for a test to change further.
    static func document(services: [ServiceFixture], supervision: [String: JSONValue] = fastSupervision, accessServer: JSONValue = embeddedAccess,
                         platform: JSONValue? = nil, members: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var document = members
        document["localServerName"] = .string("test-daemon")
        document["dataDirectory"] = .string("data")
        document["accessServer"] = accessServer
        document["supervision"] = .object(supervision)
        if let platform { document["platform"] = platform }
        document["integrationServices"] = .array(services.map(\.value))
        return document
    }

    static func filesService(_ marker: String = "files-integrator", connector: String = "files", folder: String,
                             intervalSeconds: Double = 0.3, reports: Bool? = nil) -> ServiceFixture {
        ServiceFixture(marker, connectors: [ConnectorFixture(connector, provider: "data-files-monitor", address: folder,
                                                             refreshIntervalSeconds: intervalSeconds, metadataSource: connector,
                                                             generateIntegrationReports: reports)])
    }

    /// The hostile worker in `flood` mode: reports without end, each acknowledged id appended to `acked`.
    static func floodService(acked: String) -> ServiceFixture {
        ServiceFixture("flood-integrator", connectors: [ConnectorFixture("hostile", provider: "hostile", metadataSource: "hostile")],
                       command: ["python3", "\(Binaries.fixtures)/hostile_worker.py", "flood", acked])
    }

    static func chaosService(_ marker: String = "chaos-integrator", connector: String = "chaos", failure: String,
                             afterRefreshes: Int = 1, intervalSeconds: Double = 0.2, extraProperties: [String: JSONValue] = [:],
                             restart: JSONValue? = nil, refreshTimeoutSeconds: Double? = nil, memoryLimitMegabytes: Int? = nil) -> ServiceFixture {
        let properties: [String: JSONValue] = ["failure": .string(failure), "afterRefreshes": .int(afterRefreshes)]
        return ServiceFixture(marker, connectors: [ConnectorFixture(connector, provider: "chaos", properties: properties.merging(extraProperties) { _, extra in extra },
                                                                    refreshIntervalSeconds: intervalSeconds, metadataSource: connector,
                                                                    refreshTimeoutSeconds: refreshTimeoutSeconds)],
                              restart: restart, memoryLimitMegabytes: memoryLimitMegabytes)
    }

    /// Replaces the configuration file (for tests that need the harness's folder before they can write it).
    func writeConfig(services: [ServiceFixture], accessServer: JSONValue = DaemonHarness.embeddedAccess, platform: JSONValue? = nil,
                     members: [String: JSONValue] = [:]) throws {
        try Self.config(services: services, accessServer: accessServer, platform: platform, members: members)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A folder for a files monitor to watch, inside this harness's temporary folder.
    func makeFolder(_ name: String) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Starts the daemon and waits (at most 10 s) until its control socket answers, unless `waitForSocket`
    /// is false (a daemon expected to refuse to start). `wrapper` runs before the daemon's own argv (`prlimit …`).
    @discardableResult
    func start(arguments: [String] = [], environment: [String: String]? = nil, waitForSocket: Bool = true,
               wrapper: [String] = []) throws -> ChildProcess {
        let child = try ChildProcess(wrapper + [Binaries.daemon, "run", "--config", configPath] + arguments, environment: environment)
        daemon = child
        guard waitForSocket else { return child }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? status()) != nil { return child }
            if child.exitStatus != nil { break }
            usleep(10_000)
        }
        throw HarnessError("daemon did not come up: exit \(String(describing: child.exitStatus)); stderr:\n\(child.stderrLines.joined(separator: "\n"))")
    }

    func status() throws -> DaemonStatus {
        let status = try ControlClient.send(StatusCommand(), socketPath: directory + "/data/daemon.sock", waitSeconds: 5)
        if recordsWorkerPids {
            seenPids.withLock { seen in status.integrationServiceSummaries.compactMap(\.worker.pid).forEach { seen.insert($0) } }
        }
        return status
    }

    /// Polls status every 20 ms until `predicate` holds, for at most `timeout` seconds; the last status either way.
    @discardableResult
    func waitForStatus(timeout: Double, _ predicate: (DaemonStatus) -> Bool) -> (ok: Bool, status: DaemonStatus?) {
        let deadline = Date().addingTimeInterval(timeout)
        var last: DaemonStatus?
        repeat {
            if let status = try? status() {
                last = status
                if predicate(status) { return (true, status) }
            }
            usleep(20_000)
        } while Date() < deadline
        return (false, last)
    }

    func service(_ status: DaemonStatus, _ marker: String) -> DaemonStatus.ServiceSummary? {
        status.integrationServiceSummaries.first { $0.integrationServiceURLMarker == marker }
    }

    func connector(_ status: DaemonStatus, _ name: String) -> DaemonStatus.ConnectorReport? {
        status.integrationServiceSummaries.flatMap(\.integrationConnectorReports).first { $0.connectorName == name }
    }

    /// Runs the real CLI with `--config` for this harness and returns its exit code and output.
    func cli(_ arguments: String...) throws -> (code: Int32, stdout: String, stderr: String) {
        try Self.run([Binaries.daemon] + arguments + ["--config", configPath])
    }

    /// Runs the CLI with `--json` and parses its output; the exit code comes along.
    func cliJSON(_ arguments: String...) throws -> (code: Int32, value: JSONValue?, stderr: String) {
        let result = try Self.run([Binaries.daemon] + arguments + ["--json", "--config", configPath])
        return (result.code, try? JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8)), result.stderr)
    }

    static func run(_ argv: [String], timeout: Double = 30) throws -> (code: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(argv)
        child.closeStdin()
        guard let status = child.waitForExit(timeout: timeout) else {
            child.killGroup()
            throw HarnessError("\(argv.joined(separator: " ")) did not finish within \(timeout) s")
        }
        // The exit can be seen before the reader threads have read the last bytes: wait for their EOF.
        child.waitForOutputEnd(timeout: 5)
        let code: Int32 = if case .exited(let c) = status { c } else { 128 }
        return (code, child.stdoutLines.joined(separator: "\n"), child.stderrLines.joined(separator: "\n"))
    }

    /// Every report stored, read through `reports --json`.
    /// Every report with its forward state, through `reports --json`.
    func reportStates() throws -> [(report: IntegrationReport, state: String)] {
        let result = try cli("reports", "--json")
        guard result.code == 0 else { throw HarnessError("reports failed: \(result.stderr)") }
        return try result.stdout.split(separator: "\n").map { line in
            let report = try JSONDecoder.daemon.decode(IntegrationReport.self, from: Data(line.utf8))
            let state = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))["forwardState"]?.stringValue ?? "?"
            return (report, state)
        }
    }

    func reports(connector: String? = nil) throws -> [IntegrationReport] {
        let result = connector.map { try? cli("reports", "--json", "--connector", $0) } ?? (try? cli("reports", "--json"))
        guard let result, result.code == 0 else { throw HarnessError("reports failed: \(String(describing: result))") }
        return try result.stdout.split(separator: "\n").map { try JSONDecoder.daemon.decode(IntegrationReport.self, from: Data($0.utf8)) }
    }

    func elements() throws -> [MetadataElement] {
        let result = try cli("elements", "--json")
        guard result.code == 0 else { throw HarnessError("elements failed: \(result.stderr)") }
        return try result.stdout.split(separator: "\n").map { try JSONDecoder.daemon.decode(MetadataElement.self, from: Data($0.utf8)) }
    }

    var workerPidsSeen: [Int32] { seenPids.withLock { Array($0) } }

    /// Stops the daemon with SIGTERM and waits for its exit (at most `timeout` seconds), then for the end of
    /// its output, so a test that reads the log after `stop()` sees its last lines (a busy machine delivers
    /// them after the exit is reaped).
    func stop(timeout: Double = 15) -> TerminationStatus? {
        guard let daemon else { return nil }
        daemon.signal(SIGTERM)
        let status = daemon.waitForExit(timeout: timeout)
        if status != nil { daemon.waitForOutputEnd(timeout: 5) }
        return status
    }

    /// Kills whatever is left (daemon group, every worker seen) and removes the temporary folder.
    func cleanUp() {
        daemon?.killGroup()
        for pid in workerPidsSeen where ProcessTable.isAlive(pid) { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { cleanUp() }
}

/// A test set-up problem, with what went wrong.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

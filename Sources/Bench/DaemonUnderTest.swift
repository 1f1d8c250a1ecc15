import Foundation
import Protocol

/// A daemon started for one benchmark: its own temporary folder and config, stderr to a log file, status
/// read through the real CLI, stopped and cleaned up at the end.
final class DaemonUnderTest {
    static let binaryDirectory: String = {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }()

    let directory: String
    let configPath: String
    let process = Process()

    /// Why a benchmark could not run.
    struct BenchError: Error, CustomStringConvertible {
        let description: String
    }

    init(services: [String], supervision: String, accessServer: String = "{ \"embedded\": {} }", extra: String? = nil) throws {
        var template = Array("/tmp/idb-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError(description: "mkdtemp failed") }
        directory = String(cString: made)
        configPath = directory + "/daemon.json"
        let config = """
        { "localServerName": "bench", "dataDirectory": "data", "accessServer": \(accessServer), \(extra.map { $0 + "," } ?? "")
          "supervision": \(supervision), "integrationServices": [ \(services.joined(separator: ",\n")) ] }
        """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try launch()
    }

    /// Starts a daemon again on the folder (config and data) an earlier one left, which must have stopped.
    init(reusing directory: String) throws {
        self.directory = directory
        configPath = directory + "/daemon.json"
        try launch()
    }

    private func launch() throws {
        process.executableURL = URL(fileURLWithPath: Self.binaryDirectory + "/integration-daemon")
        process.arguments = ["run", "--config", configPath]
        _ = FileManager.default.createFile(atPath: directory + "/daemon.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/daemon.log")
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// A service whose worker is `integration-bench flood-worker`: `reports` reports rotating over `connectors`
    /// connector names (`flood`, or `flood-0`…), each configured, since a worker may report only for its own.
    static func floodService(_ marker: String = "flood", reports: Int, result: String, connectors: Int = 1) -> String {
        let names = connectors == 1 ? ["flood"] : (0..<connectors).map { "flood-\($0)" }
        let configs = names.map { "{ \"connectorName\": \"\($0)\", \"connection\": { \"connectorType\": { \"connectorProviderClassName\": \"flood\" } } }" }
        let command = ["\(binaryDirectory)/integration-bench", FloodWorker.subcommand, "\(reports)", result, "\(connectors)"].map { "\"\($0)\"" }
        return """
        { "integrationServiceURLMarker": "\(marker)", "worker": { "command": [\(command.joined(separator: ", "))] },
          "integrationConnectorConfigs": [ \(configs.joined(separator: ", ")) ] }
        """
    }

    static func chaosService(_ index: Int) -> String {
        """
        { "integrationServiceURLMarker": "service-\(index)", "integrationConnectorConfigs": [ { "connectorName": "connector-\(index)",
            "connection": { "connectorType": { "connectorProviderClassName": "chaos" }, "configurationProperties": { "failure": "none" } } } ] }
        """
    }

    /// The daemon's status as JSON, via `integration-daemon status --json`.
    func status() -> JSONValue? {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: Self.binaryDirectory + "/integration-daemon")
        cli.arguments = ["status", "--json", "--config", configPath]
        let pipe = Pipe()
        cli.standardOutput = pipe
        cli.standardError = FileHandle.nullDevice
        guard (try? cli.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        cli.waitUntilExit()
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The daemon's status straight from its control socket: for sampling many times a second, where starting
    /// the CLI each time would take a good part of a core.
    func statusFromSocket() -> JSONValue? {
        guard let fd = Self.connectUnix(directory + "/data/daemon.sock") else { return nil }
        defer { close(fd) }
        let request = Array(#"{"command":"status"}"#.utf8) + [0x0A]
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !answer.contains(0x0A) {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return nil }
            answer += buffer[0..<n]
        }
        return (try? JSONParser.parse(Data(answer)))?["result"]
    }

    static func connectUnix(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { close(fd); return nil }
        return fd
    }

    /// Runs `integration-daemon ARGS --config …` and fails unless it exits 0.
    func cli(_ arguments: [String]) throws {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: Self.binaryDirectory + "/integration-daemon")
        cli.arguments = arguments + ["--config", configPath]
        cli.standardOutput = FileHandle.nullDevice
        cli.standardError = FileHandle.nullDevice
        try cli.run()
        cli.waitUntilExit()
        guard cli.terminationStatus == 0 else {
            throw BenchError(description: "integration-daemon \(arguments.joined(separator: " ")) exited \(cli.terminationStatus)")
        }
    }

    /// Runs `integration-daemon ARGS --config …`: its exit status and its stdout and stderr together.
    func run(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: Self.binaryDirectory + "/integration-daemon")
        cli.arguments = arguments + ["--config", configPath]
        let pipe = Pipe()
        cli.standardOutput = pipe
        cli.standardError = pipe
        try cli.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        cli.waitUntilExit()
        return (cli.terminationStatus, output)
    }

    /// Created elements in the newest stored report, read with the real CLI; -1 when there is none.
    func createdInNewestReport() throws -> Int {
        let (_, data) = try run(["reports", "--json", "--limit", "1"])
        guard let line = data.split(separator: UInt8(ascii: "\n")).last,
              let report = try? JSONDecoder().decode(JSONValue.self, from: Data(line)) else { return -1 }
        return report["createdElements"]?.arrayValue?.count ?? -1
    }

    var services: [JSONValue] { status()?["integrationServiceSummaries"]?.arrayValue ?? [] }

    /// Waits until every service's worker is running (at most `timeout` seconds); their pids.
    func waitUntilAllRunning(timeout: Double) throws -> [Int32] {
        let deadline = Clock.now() + timeout
        while Clock.now() < deadline {
            let services = self.services
            if !services.isEmpty && services.allSatisfy({ $0["worker"]?["state"] == .string("running") }) {
                return services.compactMap { $0["worker"]?["pid"]?.intValue.map(Int32.init) }
            }
            usleep(20_000)
        }
        throw BenchError(description: "workers not running after \(timeout) s; log: \(directory)/daemon.log")
    }

    func stop() {
        if process.isRunning {
            kill(pid, SIGTERM)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import Protocol

/// The figures behind the two promises under abuse: a huge folder's first refresh, crashes whose helpers keep the
/// worker's pipes open, and `status` latency after a storm of abusive control connections.
enum HostileBench {
    /// A `files` folder's first refresh through the real worker: wall time until the one report is stored, and
    /// daemon CPU per stored element (every element is a `createElement` call through the daemon, then the report).
    static func bigFolder(files: Int, rounds: Int = 3) throws {
        print("\nbigfolder: first refresh of a \(files)-file folder through the real worker, \(rounds) rounds")
        var template = Array("/tmp/idb-folder-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonUnderTest.BenchError(description: "mkdtemp failed") }
        let folder = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for index in 0..<files {
            let fd = open(folder + "/file-\(index).csv", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw DaemonUnderTest.BenchError(description: "cannot create files in \(folder): errno \(errno)") }
            close(fd)
        }
        let service = """
        { "integrationServiceURLMarker": "files-integrator", "integrationConnectorConfigs": [ { "connectorName": "big",
            "refreshIntervalSeconds": 86400, "metadataSourceQualifiedName": "big",
            "connection": { "connectorType": { "connectorProviderClassName": "data-files-monitor" }, "endpoint": { "address": "\(folder)" } } } ] }
        """
        var wall: [Double] = [], daemonMicros: [Double] = [], workerMicros: [Double] = []
        for _ in 0..<rounds {
            let started = Clock.now()
            let daemon = try DaemonUnderTest(services: [service], supervision: "{ \"startTimeoutSeconds\": 30 }")
            defer { daemon.stop() }
            let workerPid = try daemon.waitUntilAllRunning(timeout: 30)[0]
            var stored = false
            let deadline = started + 600
            while !stored && Clock.now() < deadline {
                usleep(250_000)
                let connector = daemon.services.first?["integrationConnectorReports"]?.arrayValue?.first
                stored = (connector?["statistics"]?["reportsStored"]?.intValue ?? 0) >= 1
            }
            guard stored else { throw DaemonUnderTest.BenchError(description: "no report stored in 600 s; log: \(daemon.directory)/daemon.log") }
            wall.append(Clock.now() - started)
            daemonMicros.append((ProcStats.cpuSeconds(daemon.pid) ?? .nan) * 1e6 / Double(files))
            workerMicros.append((ProcStats.cpuSeconds(workerPid) ?? .nan) * 1e6 / Double(files))
            let report = try daemon.createdInNewestReport()
            guard report == files else {
                throw DaemonUnderTest.BenchError(description: "the stored report lists \(report) created elements, not \(files)")
            }
        }
        print(Figures.line("daemon start → the one complete report stored", wall, unit: "s"))
        print(Figures.line("daemon CPU per stored element (element writes + report, start-up included)", daemonMicros, unit: "µs", target: "≤ 50 µs"))
        print(Figures.line("worker CPU per element (scan, compare, write, report)", workerMicros, unit: "µs"))
    }

    /// A worker that crashes after each refresh, launched through a shell that leaves a `setsid` helper holding
    /// the worker's stdout and stderr open. After `crashes` restarts the daemon's fds and threads are compared with
    /// their baseline, and no helper may outlive the daemon's stop.
    static func leaks(crashes: Int) throws {
        print("\nleaks: \(crashes) crashes of a worker whose helper left its process group and holds its pipes")
        let marker = "9\(getpid() % 10_000)9"
        let service = """
        { "integrationServiceURLMarker": "leaky", "worker": { "command": ["/bin/sh", "-c", "setsid sleep \(marker) & exec \(DaemonUnderTest.binaryDirectory)/integration-worker"] },
          "restart": { "maxRestarts": \(crashes), "withinSeconds": 86400, "initialBackoffSeconds": 0.001, "maxBackoffSeconds": 0.001 },
          "integrationConnectorConfigs": [ { "connectorName": "leaky", "refreshIntervalSeconds": 0.02,
            "connection": { "connectorType": { "connectorProviderClassName": "chaos" }, "configurationProperties": { "failure": "none" } } } ] }
        """
        let daemon = try DaemonUnderTest(services: [service], supervision: "{}")
        var stopped = false
        defer { if !stopped { daemon.stop() } }
        // The baseline: a steady daemon with one healthy worker (and its helper) that has refreshed a few times.
        _ = try daemon.waitUntilAllRunning(timeout: 10)
        let steadyDeadline = Clock.now() + 10
        while (daemon.services.first?["integrationConnectorReports"]?.arrayValue?.first?["statistics"]?["refreshCount"]?.intValue ?? 0) < 5 {
            guard Clock.now() < steadyDeadline else { throw DaemonUnderTest.BenchError(description: "the worker did not refresh 5 times in 10 s") }
            usleep(20_000)
        }
        let baseFDs = openFDs(daemon.pid), baseThreads = threads(daemon.pid)
        // Now every incarnation exits on its first refresh, until the restart budget is spent.
        try daemon.cli(["configure", "leaky", "--set", "failure=exit"])
        let started = Clock.now()
        var peakFDs = baseFDs, peakThreads = baseThreads
        while daemon.services.first?["worker"]?["state"] != .string("failed") {
            guard Clock.now() - started < 600 else { throw DaemonUnderTest.BenchError(description: "\(crashes) crashes did not finish in 600 s") }
            peakFDs = max(peakFDs, openFDs(daemon.pid))
            peakThreads = max(peakThreads, threads(daemon.pid))
            usleep(50_000)
        }
        let crashSeconds = Clock.now() - started
        // The last incarnation's pipes end within their drain bound (1 s) after its exit: wait until the
        // counts have held still for longer than that (at most 10 s).
        let settleDeadline = Clock.now() + 10
        var last = (openFDs(daemon.pid), threads(daemon.pid)), stableSince = Clock.now()
        while Clock.now() < settleDeadline && Clock.now() - stableSince < 1.5 {
            usleep(50_000)
            let now = (openFDs(daemon.pid), threads(daemon.pid))
            if now != last { last = now; stableSince = Clock.now() }
        }
        let endFDs = openFDs(daemon.pid), endThreads = threads(daemon.pid)
        let helpersWhileRunning = helpers(marker)
        daemon.stop()
        stopped = true
        let helpersAfterStop = helpers(marker)
        print("  \(crashes) crashes in \(Figures.format(crashSeconds)) s")
        print("  daemon fds: baseline \(baseFDs) (one healthy worker), peak \(peakFDs), after the last crash \(endFDs)   [target baseline ± 2]")
        print("  daemon threads: baseline \(baseThreads), peak \(peakThreads), after the last crash \(endThreads)   [target baseline ± 2]")
        print("  helpers alive: after the last crash \(helpersWhileRunning), after the daemon's stop \(helpersAfterStop)   [target 0]")
    }

    /// `status` latency through the real socket protocol, before and after `connections` abusive clients
    /// (half silent, half sending a partial line) come and go in waves of 500.
    static func controlAbuse(connections: Int, samples: Int = 50) throws {
        print("\ncontrol: status latency before and after \(connections) abusive control connections")
        let daemon = try DaemonUnderTest(services: [DaemonUnderTest.chaosService(0)], supervision: "{}")
        defer { daemon.stop() }
        _ = try daemon.waitUntilAllRunning(timeout: 10)
        let socketPath = daemon.directory + "/data/daemon.sock"
        let before = try (0..<samples).map { _ in try statusMillis(socketPath) }
        var refused = 0
        var remaining = connections
        while remaining > 0 {
            let wave = min(500, remaining)
            remaining -= wave
            var fds: [Int32] = []
            for index in 0..<wave {
                guard let fd = DaemonUnderTest.connectUnix(socketPath) else { continue }
                if index % 2 == 1 { _ = "{\"command\":".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
                fds.append(fd)
            }
            for fd in fds {
                var buffer = [UInt8](repeating: 0, count: 256)
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 && String(decoding: buffer[0..<n], as: UTF8.self).contains("too many") { refused += 1 }
                close(fd)
            }
        }
        let after = try (0..<samples).map { _ in try statusMillis(socketPath) }
        print("  \(refused) of \(connections) refused at the cap with a message")
        print(Figures.line("status round trip before", before, unit: "ms"))
        print(Figures.line("status round trip after they came and went", after, unit: "ms", target: "≤ 100 ms"))
    }

    /// One `status` request over the control socket, timed from connect to the full answer.
    private static func statusMillis(_ path: String) throws -> Double {
        let started = Clock.now()
        guard let fd = DaemonUnderTest.connectUnix(path) else { throw DaemonUnderTest.BenchError(description: "cannot connect to \(path): errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "{\"command\":\"status\"}\n"
        guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else {
            throw DaemonUnderTest.BenchError(description: "status request not sent: errno \(errno)")
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { throw DaemonUnderTest.BenchError(description: "status not answered (read \(n), errno \(errno))") }
            if buffer[0..<n].contains(UInt8(ascii: "\n")) { break }
        }
        return (Clock.now() - started) * 1000
    }

    private static func openFDs(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
    private static func threads(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1 }

    /// Live processes whose command line contains `sleep <marker>`.
    private static func helpers(_ marker: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard ProcStats.isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains("sleep \(marker)")
        }.count
    }
}

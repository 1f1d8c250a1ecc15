import Foundation
import Protocol

/// Integration groups read from a metadata access server that answers at once: what one full read of every group
/// (registrations, catalog targets, their connections) costs the daemon in CPU and memory, and how fast status
/// answers while reads go on.
enum GroupsBench {
    static func run(groups: Int = 100, connectors: Int = 10, targets: Int = 10, polls: Int = 5) throws {
        print("\ngroups: \(groups) integration groups × \(connectors) registered connectors × \(targets) catalog targets, at a stand-in that answers at once")
        let server = try GroupStandIn(connectors: connectors, targets: targets)
        defer { server.close() }
        let passwordFile = "/tmp/idb-groups-password-\(getpid())"
        try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { unlink(passwordFile) }
        let entries = (0..<groups).map { g in
            #"{ "integrationGroupQualifiedName": "Bench:IntegrationGroup:\#(g)", "omagserverName": "bench", "omagserverPlatformRootURL": "http://127.0.0.1:\#(server.port)", "passwordFile": "\#(passwordFile)" }"#
        }
        let daemon = try DaemonUnderTest(services: [], supervision: "{ \"heartbeatIntervalSeconds\": 5, \"heartbeatTimeoutSeconds\": 60, \"startTimeoutSeconds\": 120 }",
                                         extra: #""groupRefreshSeconds": 3600, "dynamicIntegrationGroupsConfig": [ \#(entries.joined(separator: ", ")) ]"#)
        defer { daemon.stop() }
        // Every group read once and applied: every connector present with its targets.
        let expected = groups * connectors
        let deadline = Clock.now() + 600
        while Clock.now() < deadline {
            let present = (daemon.statusFromSocket()?["integrationServiceSummaries"]?.arrayValue ?? [])
                .flatMap { $0["integrationConnectorReports"]?.arrayValue ?? [] }
                .filter { ($0["catalogTargets"]?.arrayValue?.count ?? 0) == targets }.count
            if present == expected { break }
            usleep(200_000)
        }
        var cpu: [Double] = [], growth: [Double] = [], wall: [Double] = []
        for _ in 0..<polls {
            let rss = ProcStats.rssKiB(daemon.pid) ?? 0, before = ProcStats.cpuSeconds(daemon.pid) ?? 0, start = Clock.now()
            try daemon.cli(["refresh-config"])
            wall.append(Clock.now() - start)
            cpu.append(((ProcStats.cpuSeconds(daemon.pid) ?? 0) - before) * 1000)
            growth.append(((ProcStats.rssKiB(daemon.pid) ?? 0) - rss) / 1024)
        }
        print(Figures.line("one full read of every group, daemon CPU", cpu, unit: "ms", target: "≤ 50 ms"))
        print(Figures.line("daemon RSS growth over a read", growth, unit: "MiB", target: "≤ 10 MiB"))
        print(Figures.line("refresh-config of every group, wall time", wall, unit: "s"))
        // Status while reads run back to back.
        // The CLI by its path and config, not the daemon object: the thread outlives nothing but this function.
        let cli = DaemonUnderTest.binaryDirectory + "/integration-daemon", config = daemon.configPath
        let reading = Thread {
            while !Thread.current.isCancelled {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: cli)
                process.arguments = ["refresh-config", "--config", config]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                guard (try? process.run()) != nil else { return }
                process.waitUntilExit()
            }
        }
        reading.start()
        var latency: [Double] = []
        for _ in 0..<200 {
            let start = Clock.now()
            _ = daemon.statusFromSocket()
            latency.append((Clock.now() - start) * 1000)
        }
        reading.cancel()
        print("  status while every group is read again and again: p50 \(Figures.format(Figures.percentile(latency, 0.5))) ms, p99 \(Figures.format(Figures.percentile(latency, 0.99))) ms, n=\(latency.count)   [target p99 ≤ 10 ms]")
    }
}

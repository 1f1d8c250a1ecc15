import Foundation
import Protocol

/// Forwarding to an Egeria stand-in that answers at once: throughput with several connectors in flight, the
/// daemon's CPU per forwarded report, and how fast a backlog drains after an outage.
enum ForwardBench {
    static func run(reports: Int, connectors: Int = 8) throws {
        for version in ["6", "5"] {
            print("\nforward (Egeria \(version) API): one worker submits \(reports) reports over \(connectors) connectors; the stand-in answers at once")
            // Steady state: server up from the start.
            let server = try FastStandIn()
            var (seconds, cpu) = try measure(reports: reports, connectors: connectors, server: server, version: version)
            print("  steady state: \(Int(Double(reports) / seconds)) reports/s end to end; daemon CPU \(Figures.format(cpu / Double(reports) * 1e6)) µs per report for accept + fsync + forward")
            server.close()
            // After an outage: everything spooled first, then the server comes up and the backlog drains.
            (seconds, cpu) = try measure(reports: reports, connectors: connectors, server: nil, version: version)
            let target = version == "6" ? "[target ≥ 5,000/s, ≤ 150 µs]" : "[target ≤ 100 µs]"
            print("  backlog drain after an outage: \(Int(Double(reports) / seconds)) reports/s; daemon CPU \(Figures.format(cpu / Double(reports) * 1e6)) µs per forwarded report   \(target)")
        }
    }

    /// Seconds until every report is forwarded, and the daemon's CPU seconds over that time. Without a server,
    /// the reports are all spooled first (outage), then a server starts on the port the daemon was given.
    private static func measure(reports: Int, connectors: Int, server running: FastStandIn?, version: String) throws -> (Double, Double) {
        let outageFirst = running == nil
        var targetPort = running?.port ?? 0
        if outageFirst {
            let reserved = try FastStandIn()
            targetPort = reserved.port
            reserved.close()
        }
        let result = "/tmp/idb-forward-\(getpid())-\(outageFirst).json"
        let service = DaemonUnderTest.floodService(reports: reports, result: result, connectors: connectors)
        let passwordFile = "/tmp/idb-forward-password-\(getpid())"
        try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { unlink(passwordFile) }
        let password = version == "6" ? "\"passwordFile\": \"\(passwordFile)\", " : ""
        let access = """
        { "egeria": { "apiVersion": "\(version)", \(password)"omagserverPlatformRootURL": "http://127.0.0.1:\(targetPort)", "omagserverName": "bench", "elementWrites": "embedded",
                      "maxInFlight": \(connectors), "initialRetrySeconds": 0.05, "maxRetrySeconds": 0.2 } }
        """
        let daemon = try DaemonUnderTest(services: [service], supervision: "{ \"restart\": { \"policy\": \"temporary\" } }", accessServer: access)
        defer { daemon.stop(); unlink(result) }
        var server = running
        var start = Clock.now()
        var cpuStart = ProcStats.cpuSeconds(daemon.pid) ?? 0
        if outageFirst {
            // Wait until the worker has every report acknowledged (spooled), then bring the server up.
            let deadline = Clock.now() + 300
            while !FileManager.default.fileExists(atPath: result) && Clock.now() < deadline { usleep(20_000) }
            start = Clock.now()
            cpuStart = ProcStats.cpuSeconds(daemon.pid) ?? 0
            server = try FastStandIn(port: targetPort)
        }
        let baseline = server?.count ?? 0
        let deadline = Clock.now() + 600
        while (server?.count ?? 0) - baseline < reports && Clock.now() < deadline { usleep(5_000) }
        let seconds = Clock.now() - start
        let cpu = (ProcStats.cpuSeconds(daemon.pid) ?? 0) - cpuStart
        if outageFirst { server?.close() }
        guard (server?.count ?? 0) - baseline >= reports else { throw DaemonUnderTest.BenchError(description: "only \((server?.count ?? 0) - baseline) of \(reports) forwarded") }
        return (seconds, cpu)
    }
}

import Foundation
import Protocol

/// A long run through one daemon, as an operator's week: N reports over 100 connectors with retention on.
/// Prints memory growth, disk against the retention bound, restart time on the data, a query's time, and
/// durable throughput from one worker and from eight.
enum SoakBench {
    static let connectors = 100
    /// Per connector; small enough that retention works during the run (100 × 1,000 = 100,000 kept).
    static let keptPerConnector = 1_000

    static func run(reports: Int) throws {
        print("\nsoak: \(reports) reports from one worker over \(connectors) connectors; retention keeps \(keptPerConnector) per connector")
        let result = "/tmp/idb-soak-\(getpid()).json"
        defer { unlink(result) }
        let retention = "\"store\": { \"retention\": { \"maxReportsPerConnector\": \(keptPerConnector) } }"
        let daemon = try DaemonUnderTest(services: [DaemonUnderTest.floodService(reports: reports, result: result, connectors: connectors)],
                                         supervision: "{ \"restart\": { \"policy\": \"temporary\" } }", extra: retention)
        defer { daemon.stop() }
        let early = max(1, reports / 10)
        var rssAtEarly: Int?, sizeAtEarly: Int?
        let deadline = Clock.now() + 3600
        while !FileManager.default.fileExists(atPath: result) {
            guard Clock.now() < deadline else { throw DaemonUnderTest.BenchError(description: "soak did not finish in an hour; log: \(daemon.directory)/daemon.log") }
            usleep(250_000)
            if rssAtEarly == nil, stored(daemon) >= early {
                rssAtEarly = residentKiB(daemon.pid)
                sizeAtEarly = daemon.status()?["daemon"]?["storeSizeBytes"]?.intValue
            }
        }
        guard let data = FileManager.default.contents(atPath: result),
              let seconds = (try? JSONDecoder().decode(JSONValue.self, from: data))?["seconds"]?.doubleValue else {
            throw DaemonUnderTest.BenchError(description: "the flood worker gave no result")
        }
        // Let retention finish its batches, then read the end state.
        let settle = Clock.now() + 60
        while (daemon.status()?["daemon"]?["storeReports"]?.intValue ?? 0) > connectors * keptPerConnector && Clock.now() < settle { usleep(250_000) }
        let rssAtEnd = residentKiB(daemon.pid)
        let status = daemon.status()?["daemon"]
        let sizeAtEnd = status?["storeSizeBytes"]?.intValue ?? 0
        print("  \(reports) reports acknowledged durably in \(Figures.format(seconds)) s: \(Int(Double(reports) / seconds)) reports/s from one worker   [target ≥ 40,000/s]")
        if let rssAtEarly, let rssAtEnd {
            print("  daemon RSS: \(rssAtEarly / 1024) MiB at report \(early), \(rssAtEnd / 1024) MiB at report \(reports): grew \(Figures.format(Double(rssAtEnd - rssAtEarly) / 1024)) MiB   [target ≤ 16 MiB]")
        }
        let kept = status?["storeReports"]?.intValue ?? 0
        print("  store: \(kept) reports kept, \(Figures.format(Double(sizeAtEnd) / 1_048_576)) MiB on disk at the end")
        if let sizeAtEarly, early >= connectors * keptPerConnector {
            print("  disk against the retention bound (the size when \(early) reports were kept): \(Figures.format(Double(sizeAtEnd) / Double(sizeAtEarly) * 100)) %   [target ≤ 110 %]")
        }
        // Restart on that data, with an idle service instead of the flood (which would replay everything).
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        let idle = """
        { "localServerName": "bench", "dataDirectory": "data", "accessServer": { "embedded": {} }, \(retention),
          "integrationServices": [ \(DaemonUnderTest.chaosService(0)) ] }
        """
        try idle.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let restarted = try DaemonUnderTest(reusing: daemon.directory)
        defer { restarted.stop() }
        let started = Clock.now()
        while restarted.status() == nil {
            guard Clock.now() - started < 60 else { throw DaemonUnderTest.BenchError(description: "the restarted daemon did not answer in 60 s") }
            usleep(5_000)
        }
        print("  restart on that data: status answered after \(Figures.format((Clock.now() - started) * 1000)) ms (upper bound: includes CLI runs)   [target ≤ 1 s]")
        var query: [Double] = []
        for _ in 0..<5 {
            let before = Clock.now()
            try restarted.cli(["reports", "--limit", "5"])
            query.append((Clock.now() - before) * 1000)
        }
        print(Figures.line("`integration-daemon reports --limit 5` on that store, daemon running (whole CLI run)", query, unit: "ms", target: "≤ 100 ms"))
        try manyWorkers(reports: reports / 4)
    }

    /// Eight workers pipelining at once into one daemon: their reports share group commits. Reports/s together.
    @discardableResult
    static func manyWorkers(reports: Int, workers: Int = 8, quiet: Bool = false) throws -> Double {
        let each = max(1, reports / workers)
        let results = (0..<workers).map { "/tmp/idb-soak-\(getpid())-w\($0).json" }
        defer { results.forEach { unlink($0) } }
        // Connector names are unique across services: each worker is told its own (FloodWorker's fourth argument).
        let named = (0..<workers).map { index in
            """
            { "integrationServiceURLMarker": "flood-\(index)", "worker": { "command": ["\(DaemonUnderTest.binaryDirectory)/integration-bench", "\(FloodWorker.subcommand)", "\(each)", "\(results[index])", "1", "flood-w\(index)"] },
              "integrationConnectorConfigs": [ { "connectorName": "flood-w\(index)", "connection": { "connectorType": { "connectorProviderClassName": "flood" } } } ] }
            """
        }
        let daemon = try DaemonUnderTest(services: named, supervision: "{ \"restart\": { \"policy\": \"temporary\" } }")
        defer { daemon.stop() }
        let deadline = Clock.now() + 600
        while !results.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            guard Clock.now() < deadline else { throw DaemonUnderTest.BenchError(description: "\(workers) workers did not finish; log: \(daemon.directory)/daemon.log") }
            usleep(50_000)
        }
        let seconds = results.compactMap { path in
            FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }?["seconds"]?.doubleValue
        }
        guard seconds.count == workers, let slowest = seconds.max() else { throw DaemonUnderTest.BenchError(description: "a worker gave no result") }
        let rate = Double(each * workers) / slowest
        if !quiet { print("  \(workers) workers × \(each) reports at once: \(Int(rate)) reports/s together   [target ≥ 60,000/s]") }
        return rate
    }

    /// Reports stored so far, summed over the connectors in status.
    private static func stored(_ daemon: DaemonUnderTest) -> Int {
        daemon.services.flatMap { $0["integrationConnectorReports"]?.arrayValue ?? [] }
            .reduce(0) { $0 + ($1["statistics"]?["reportsStored"]?.intValue ?? 0) }
    }

    private static func residentKiB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }
}

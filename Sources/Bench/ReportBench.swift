import Foundation
import Protocol

/// One worker, then eight at once, pipelining integration reports into the embedded store; each is
/// acknowledged only when durable.
enum ReportBench {
    static func run(reports: Int, rounds: Int = 3) throws {
        print("\nreports: one worker submits \(reports) reports, up to \(FloodWorker.window) in flight, \(rounds) rounds")
        var rates: [Double] = []
        for round in 0..<rounds {
            let result = "/tmp/idb-flood-\(getpid())-\(round).json"
            let service = DaemonUnderTest.floodService(reports: reports, result: result)
            let daemon = try DaemonUnderTest(services: [service], supervision: "{ \"restart\": { \"policy\": \"temporary\" } }")
            defer { daemon.stop(); unlink(result) }
            let deadline = Clock.now() + 120
            while !FileManager.default.fileExists(atPath: result) && Clock.now() < deadline { usleep(20_000) }
            guard let data = FileManager.default.contents(atPath: result),
                  let value = try? JSONDecoder().decode(JSONValue.self, from: data), let seconds = value["seconds"]?.doubleValue else {
                throw DaemonUnderTest.BenchError(description: "flood worker gave no result; log: \(daemon.directory)/daemon.log")
            }
            rates.append(Double(reports) / seconds)
        }
        print(Figures.line("reports acknowledged durably, one worker", rates, unit: "reports/s", target: "≥ 40,000 reports/s"))
        let together = try (0..<rounds).map { _ in try SoakBench.manyWorkers(reports: reports, quiet: true) }
        print(Figures.line("reports acknowledged durably, 8 workers at once", together, unit: "reports/s", target: "≥ 60,000 reports/s"))
    }
}

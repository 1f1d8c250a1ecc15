import Foundation
import Protocol

/// One worker pipelining integration reports into the embedded store; each is acknowledged only when durable.
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
        print(Figures.line("reports acknowledged durably", rates, unit: "reports/s", target: "≥ 20,000 reports/s"))
    }
}

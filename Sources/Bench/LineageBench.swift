import Foundation
import Glibc
import Protocol
import Synchronization

/// OpenLineage events in: `clients` keep-alive connections post small RunEvents to `POST /api/v1/lineage` for
/// `seconds`, each waiting for its answer (stored and synced) before the next. Events stored per second, and each
/// request's time from send to answer.
enum LineageBench {
    static func run(clients: Int = 16, seconds: Double = 5) throws {
        print("\nlineage: \(clients) keep-alive clients posting small RunEvents to POST /api/v1/lineage for \(Int(seconds)) s")
        let door = try Door(services: [DaemonUnderTest.chaosService(0)])
        defer { door.stop() }
        let latencies = try door.post(clients: clients, seconds: seconds, perClientRate: nil)
        print("  \(Figures.format(Double(latencies.count) / seconds)) events/s stored durably   [target ≥ 10,000]")
        print(Figures.line("request to answer (stored), p50", latencies, unit: "ms"))
        print("  p99 \(Figures.format(Figures.percentile(latencies, 0.99))) ms   [target ≤ 20 ms]")
    }

    /// The fan-out keeping up: events posted at `rate` a second while the file publisher writes each to its own
    /// file. Every `sampleSeconds` status gives the events stored and the publisher's acknowledged seq; the lag
    /// of a sample is how long until the publisher had acknowledged everything stored at that moment (so it is
    /// measured to within one sample interval).
    static func fanOut(rate: Int = 5_000, clients: Int = 8, seconds: Double = 5, sampleSeconds: Double = 0.05) throws {
        print("\nlineage fan-out: \(rate) events/s posted for \(Int(seconds)) s while the file publisher writes each one")
        let folder = "/tmp/idb-lineage-files-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let publisher = """
        { "integrationServiceURLMarker": "lineage-integrator", "integrationConnectorConfigs": [ { "connectorName": "lineage-files",
            "connection": { "connectorType": { "connectorProviderClassName": "open-lineage-file-publisher" }, "endpoint": { "address": "\(folder)" } } } ] }
        """
        let door = try Door(services: [publisher])
        defer { door.stop() }
        let samples = Mutex<[(time: Double, stored: Int, acknowledged: Int)]>([])
        let sampling = Atomic<Bool>(true)
        // The sampler only reads the control socket's path.
        nonisolated(unsafe) let daemon = door.daemon
        let sampler = Thread {
            while sampling.load(ordering: .relaxed) {
                let time = Clock.now()
                if let status = daemon.statusFromSocket(),
                   let stored = status["daemon"]?["platform"]?["lineage"]?["stored"]?.intValue,
                   let acknowledged = status["integrationServiceSummaries"]?.arrayValue?.first?["lineageConnectors"]?.arrayValue?.first?["acknowledgedSeq"]?.intValue {
                    samples.withLock { $0.append((time, stored, acknowledged)) }
                }
                usleep(useconds_t(sampleSeconds * 1_000_000))
            }
        }
        sampler.start()
        let latencies = try door.post(clients: clients, seconds: seconds, perClientRate: Double(rate) / Double(clients))
        // Until the publisher has caught up with the last event, at most 30 s.
        let deadline = Clock.now() + 30
        while Clock.now() < deadline, let last = samples.withLock({ $0.last }), last.acknowledged < last.stored { usleep(50_000) }
        sampling.store(false, ordering: .relaxed)
        let taken = samples.withLock { $0 }
        var lags: [Double] = []
        for sample in taken where sample.stored > 0 {
            guard let caughtUp = taken.first(where: { $0.time >= sample.time && $0.acknowledged >= sample.stored }) else { continue }
            lags.append(caughtUp.time - sample.time)
        }
        print("  \(Figures.format(Double(latencies.count) / seconds)) events/s posted and stored; \(taken.count) status samples every \(Int(sampleSeconds * 1000)) ms")
        if let first = taken.first(where: { $0.acknowledged > 0 }), let last = taken.last, last.time > first.time {
            print("  the publisher took \(Figures.format(Double(last.acknowledged - first.acknowledged) / (last.time - first.time))) events/s while it had any")
        }
        guard !lags.isEmpty else { throw DaemonUnderTest.BenchError(description: "no status sample showed the publisher's cursor") }
        print("  publisher lag p50 \(Figures.format(Figures.percentile(lags, 0.5))) s, p99 \(Figures.format(Figures.percentile(lags, 0.99))) s, max \(Figures.format(lags.max() ?? 0)) s   [target < 1 s]")
    }

    /// A daemon with the platform door and an API key, and keep-alive clients posting small RunEvents to it.
    private final class Door {
        let daemon: DaemonUnderTest
        let port: UInt16
        private let key = "bench-lineage-key-0123456789abcdef0123456789"
        private let keyFile = "/tmp/idb-lineage-key-\(getpid())", passwordFile = "/tmp/idb-lineage-password-\(getpid())"

        init(services: [String]) throws {
            try key.write(toFile: keyFile, atomically: true, encoding: .utf8)
            try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            let platform = """
            "platform": { "address": "127.0.0.1:0", "users": [ { "userId": "bench", "passwordFile": "\(passwordFile)" } ],
                          "apiKeys": [ { "name": "bench", "keyFile": "\(keyFile)" } ] }
            """
            daemon = try DaemonUnderTest(services: services, supervision: "{}", extra: platform)
            _ = try daemon.waitUntilAllRunning(timeout: 60)
            port = try PlatformBench.doorPort(daemon)
        }

        func stop() {
            daemon.stop()
            unlink(keyFile)
            unlink(passwordFile)
        }

        /// Each client posts, waits for the answer, and (with a rate) waits for its next slot. The first second
        /// warms up (connections, the store's first pages); the latencies are those of the `seconds` after it.
        func post(clients: Int, seconds: Double, perClientRate: Double?) throws -> [Double] {
            let stop = Atomic<Bool>(false), measuring = Atomic<Bool>(false)
            let results = Mutex<[[Double]]>([])
            let failures = Mutex<[String]>([])
            let finished = DispatchSemaphore(value: 0)
            let port = self.port, key = self.key
            for index in 0..<clients {
                let thread = Thread {
                    var latencies: [Double] = []
                    var sequence = 0
                    defer {
                        results.withLock { $0.append(latencies) }
                        finished.signal()
                    }
                    // Each thread owns its connection.
                    let client: PlatformBench.Client
                    do { client = try PlatformBench.Client(port: port) } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                    let began = Clock.now()
                    while !stop.load(ordering: .relaxed) {
                        sequence += 1
                        if let rate = perClientRate {
                            let slot = began + Double(sequence) / rate
                            let wait = slot - Clock.now()
                            if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
                        }
                        let runId = String(format: "0193a1c2-7d4e-7b8f-%04x-%012x", index, sequence)
                        let body = """
                        {"eventType":"START","eventTime":"2026-12-07T18:05:00.000Z","producer":"https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",\
                        "schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","run":{"runId":"\(runId)"},\
                        "job":{"namespace":"bench","name":"job-\(index)"},"inputs":[{"namespace":"postgres://db:5432","name":"sales.public.orders"}],\
                        "outputs":[{"namespace":"s3://warehouse","name":"daily/summary"}]}
                        """
                        let start = Clock.now()
                        do {
                            let answer = try client.exchange(post: "/api/v1/lineage", body: body, token: key)
                            guard answer.status == 200 else { throw DaemonUnderTest.BenchError(description: "answered \(answer.status): \(answer.body)") }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                            break
                        }
                        // A 200 is an event stored and synced: each one answered in the window counts.
                        if measuring.load(ordering: .relaxed) { latencies.append((Clock.now() - start) * 1000) }
                    }
                }
                thread.start()
            }
            usleep(1_000_000)
            measuring.store(true, ordering: .relaxed)
            usleep(useconds_t(seconds * 1_000_000))
            measuring.store(false, ordering: .relaxed)
            stop.store(true, ordering: .relaxed)
            for _ in 0..<clients { finished.wait() }
            if let failure = failures.withLock({ $0.first }) { throw DaemonUnderTest.BenchError(description: "a client failed: \(failure)") }
            return results.withLock { $0.flatMap { $0 } }
        }
    }
}

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
        let keyFile = "/tmp/idb-lineage-key-\(getpid())", passwordFile = "/tmp/idb-lineage-password-\(getpid())"
        let key = "bench-lineage-key-0123456789abcdef0123456789"
        try key.write(toFile: keyFile, atomically: true, encoding: .utf8)
        try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { unlink(keyFile); unlink(passwordFile) }
        let platform = """
        "platform": { "address": "127.0.0.1:0", "users": [ { "userId": "bench", "passwordFile": "\(passwordFile)" } ],
                      "apiKeys": [ { "name": "bench", "keyFile": "\(keyFile)" } ] }
        """
        let daemon = try DaemonUnderTest(services: [DaemonUnderTest.chaosService(0)], supervision: "{}", extra: platform)
        defer { daemon.stop() }
        _ = try daemon.waitUntilAllRunning(timeout: 60)
        let port = try PlatformBench.doorPort(daemon)
        let stop = Atomic<Bool>(false), measuring = Atomic<Bool>(false)
        let results = Mutex<[[Double]]>([])
        let failures = Mutex<[String]>([])
        let finished = DispatchSemaphore(value: 0)
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
                while !stop.load(ordering: .relaxed) {
                    sequence += 1
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
        // The first second warms up (connections, the store's first pages); counted are the `seconds` after it.
        usleep(1_000_000)
        measuring.store(true, ordering: .relaxed)
        let began = Clock.now()
        usleep(useconds_t(seconds * 1_000_000))
        measuring.store(false, ordering: .relaxed)
        let elapsed = Clock.now() - began
        stop.store(true, ordering: .relaxed)
        for _ in 0..<clients { finished.wait() }
        if let failure = failures.withLock({ $0.first }) { throw DaemonUnderTest.BenchError(description: "a client failed: \(failure)") }
        let latencies = results.withLock { $0.flatMap { $0 } }
        print("  \(Figures.format(Double(latencies.count) / elapsed)) events/s stored durably   [target ≥ 10,000]")
        print(Figures.line("request to answer (stored), p50", latencies, unit: "ms"))
        print("  p99 \(Figures.format(Figures.percentile(latencies, 0.99))) ms   [target ≤ 20 ms]")
    }
}

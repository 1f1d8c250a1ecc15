import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// A worker that loses its supervisor ends itself (self-fencing), and reports its own facts.
    @Suite("Worker self-fencing", .serialized)
    struct SelfFenceTests {
        /// One worker with a healthy connector and one wedged in its second refresh.
        static let wedged = ServiceFixture("chaos-integrator", connectors: [
            ConnectorFixture("healthy", provider: "chaos", properties: ["failure": .string("none")], refreshIntervalSeconds: 0.2),
            ConnectorFixture("wedged", provider: "chaos", properties: ["failure": .string("stall"), "afterRefreshes": .int(1)], refreshIntervalSeconds: 0.2),
        ])

        @Test("a stopped daemon: the worker fences itself within heartbeat timeout + 2 s, wedged connector and all; the daemon then replaces it")
        func stoppedDaemon() throws {
            let harness = try DaemonHarness(services: [Self.wedged])
            defer { harness.cleanUp() }
            let daemon = try harness.start()
            let (ready, status) = harness.waitForStatus(timeout: 10) { status in
                harness.connector(status, "wedged")?.connectorStatus == .REFRESHING && status.integrationServiceSummaries.first?.worker.state == "running"
            }
            #expect(ready, "the wedged connector is stuck in its refresh")
            let pid = try #require(status?.integrationServiceSummaries.first?.worker.pid)
            daemon.signal(SIGSTOP)
            let stopped = Date()
            // Heartbeat timeout 1 s in these tests: gone within 3 s, though no daemon acts and a connector is wedged.
            #expect(ProcessTable.waitUntilGone([pid], timeout: 3), "the worker outlived heartbeat timeout + 2 s")
            let took = Date().timeIntervalSince(stopped)
            daemon.signal(SIGCONT)
            #expect(took >= 0.9, "it waited for the heartbeat timeout (\(took) s)")
            let (replaced, after) = harness.waitForStatus(timeout: 10) { status in
                guard let worker = status.integrationServiceSummaries.first?.worker else { return false }
                return worker.state == "running" && worker.pid != pid && worker.lastExit != nil
            }
            #expect(replaced)
            #expect(after?.integrationServiceSummaries.first?.worker.lastExit?.exitCode == WorkerExitCode.fenced,
                    "\(String(describing: after?.integrationServiceSummaries.first?.worker.lastExit))")
            #expect(harness.daemon!.stderrLines.contains { $0.contains("fencing: no heartbeat") })
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker over its memory limit ends itself with its own exit code, and reports its pid, host and memory")
        func memoryLimitAndFacts() throws {
            let leaky = DaemonHarness.chaosService(failure: "leak", afterRefreshes: 2, intervalSeconds: 0.2, extraProperties: ["leakMegabytes": .int(96)],
                                                   memoryLimitMegabytes: 64)
            // Heartbeats every 2 s: the daemon's own check comes late, so the worker's is what ends it.
            let supervision = DaemonHarness.fastSupervision.merging(["heartbeatIntervalSeconds": .int(2), "heartbeatTimeoutSeconds": .int(6)]) { _, given in given }
            let harness = try DaemonHarness(services: [leaky], supervision: supervision)
            defer { harness.cleanUp() }
            try harness.start()
            let (reported, first) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.hostName != nil }
            #expect(reported)
            let worker = try #require(first?.integrationServiceSummaries.first?.worker)
            var name = [CChar](repeating: 0, count: 256)
            gethostname(&name, 255)
            let hostName = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(worker.hostName == hostName)
            #expect(worker.workerPid == worker.pid, "a local worker's own pid is the one the daemon spawned")
            let (ended, status) = harness.waitForStatus(timeout: 20) { $0.integrationServiceSummaries.first?.worker.lastExit != nil }
            #expect(ended)
            #expect(status?.integrationServiceSummaries.first?.worker.lastExit?.exitCode == WorkerExitCode.memoryLimit,
                    "\(String(describing: status?.integrationServiceSummaries.first?.worker.lastExit))")
            #expect(harness.daemon!.stderrLines.contains { $0.contains("fencing: resident memory") })
            #expect(harness.stop() == .exited(0))
        }
    }
}

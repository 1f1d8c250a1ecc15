import Foundation
import Glibc
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Nothing outlives the daemon: not after SIGTERM, not after SIGKILL.
    @Suite("Shutdown", .serialized, .timeLimit(.minutes(2)))
    struct ShutdownTests {
        static let services = [
            DaemonHarness.filesService(folder: "a"),
            DaemonHarness.filesService("files-b", connector: "files-b", folder: "b"),
            DaemonHarness.chaosService(failure: "none"),
        ]

        func startWithWorkers(_ harness: DaemonHarness) throws -> [Int32] {
            _ = try harness.makeFolder("a")
            _ = try harness.makeFolder("b")
            try harness.start()
            let (ready, status) = harness.waitForStatus(timeout: 10) { status in
                status.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" }
            }
            try #require(ready)
            return status!.integrationServiceSummaries.compactMap(\.worker.pid)
        }

        @Test("SIGTERM: every worker is stopped, the daemon exits 0, no process is left")
        func sigterm() throws {
            let harness = try DaemonHarness(services: Self.services)
            defer { harness.cleanUp() }
            let workers = try startWithWorkers(harness)
            #expect(workers.count == 3)
            #expect(harness.stop(timeout: 10) == .exited(0))
            #expect(ProcessTable.waitUntilGone(workers, timeout: 1), "left behind: \(workers.filter(ProcessTable.isAlive))")
            let log = harness.daemon!.stderrLines.joined(separator: "\n")
            #expect(log.contains("SIGTERM received: stopping 3 worker(s)"))
            #expect(log.contains("all workers stopped"))
            #expect(!FileManager.default.fileExists(atPath: harness.directory + "/data/daemon.sock"))
        }

        @Test("SIGINT behaves as SIGTERM")
        func sigint() throws {
            let harness = try DaemonHarness(services: [Self.services[0]])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("a")
            try harness.start()
            let (_, status) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.state == "running" }
            let pid = try #require(status?.integrationServiceSummaries.first?.worker.pid)
            harness.daemon!.signal(SIGINT)
            #expect(harness.daemon!.waitForExit(timeout: 10) == .exited(0))
            #expect(ProcessTable.waitUntilGone([pid], timeout: 1))
        }

        @Test("SIGTERM with a hung worker: escalates to SIGKILL and still exits 0")
        func sigtermWithHungWorker() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none")])
            defer { harness.cleanUp() }
            try harness.start()
            let (_, status) = harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.state == "running" }
            let pid = try #require(status?.integrationServiceSummaries.first?.worker.pid)
            kill(pid, SIGSTOP)
            // shutdown request unanswered (1 s grace) → SIGTERM+SIGCONT.
            #expect(harness.stop(timeout: 10) == .exited(0))
            #expect(ProcessTable.waitUntilGone([pid], timeout: 1))
        }

        @Test("SIGKILL of the daemon: every worker exits by itself within 2 s")
        func sigkillOfDaemon() throws {
            let harness = try DaemonHarness(services: Self.services)
            defer { harness.cleanUp() }
            let workers = try startWithWorkers(harness)
            // One worker is also stopped (SIGSTOP): stdin EOF cannot reach it; the parent-death signal must.
            kill(workers[0], SIGSTOP)
            harness.daemon!.signal(SIGKILL)
            #expect(harness.daemon!.waitForExit(timeout: 5) == .signaled(SIGKILL))
            #expect(ProcessTable.waitUntilGone(workers, timeout: 2), "left behind: \(workers.filter(ProcessTable.isAlive))")
        }

        @Test("a second daemon on the same data directory is refused")
        func oneDaemonPerDataDirectory() throws {
            let harness = try DaemonHarness(services: [Self.services[0]])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("a")
            try harness.start()
            let second = try harness.cli("run")
            #expect(second.code == 1)
            #expect(second.stderr.contains("another integration-daemon is already running with dataDirectory"))
            #expect(harness.stop() == .exited(0))
        }
    }
}

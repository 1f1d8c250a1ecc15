import Foundation
import Glibc
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Real daemons, real workers: kill them, stop them, crash-loop them, feed garbage, and check the outcome.
    @Suite("Crash recovery", .serialized, .timeLimit(.minutes(2)))
    struct CrashRecoveryTests {
        @Test("kill -9 of a worker: restarted, refreshes again, status shows restartCount 1 and the signal")
        func killedWorkerIsRestarted() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: "watched")])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("watched")
            try harness.start()
            let (ready, before) = harness.waitForStatus(timeout: 10) { status in
                (harness.connector(status, "files")?.statistics.refreshCount ?? 0) >= 1
            }
            try #require(ready, "no refresh before the kill")
            let oldPid = try #require(harness.service(before!, "files-integrator")?.worker.pid)
            kill(oldPid, SIGKILL)
            let (restarted, after) = harness.waitForStatus(timeout: 10) { status in
                guard let worker = harness.service(status, "files-integrator")?.worker else { return false }
                return worker.restartCount == 1 && worker.state == "running" && worker.pid != nil && worker.pid != oldPid
            }
            try #require(restarted, "not restarted: \(String(describing: after))")
            let worker = try #require(harness.service(after!, "files-integrator")?.worker)
            #expect(worker.lastExit?.signal == SIGKILL)
            #expect(worker.lastExit?.signalName == "SIGKILL")
            #expect(worker.lastExit?.cause == "crash")
            #expect(!ProcessTable.isAlive(oldPid))
            // Its connector refreshes again in the new incarnation.
            let refreshedBefore = harness.connector(after!, "files")?.statistics.refreshCount ?? 0
            let (refreshed, _) = harness.waitForStatus(timeout: 10) { status in
                (harness.connector(status, "files")?.statistics.refreshCount ?? 0) > refreshedBefore
                    && harness.connector(status, "files")?.lastRefreshTime != nil
            }
            #expect(refreshed)
            #expect(harness.stop() == .exited(0))
        }

        @Test("kill -STOP of a worker: replaced within heartbeat timeout plus grace")
        func stoppedWorkerIsReplaced() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: "watched")])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("watched")
            try harness.start()
            let (ready, before) = harness.waitForStatus(timeout: 10) { harness.service($0, "files-integrator")?.worker.state == "running" }
            try #require(ready)
            let oldPid = try #require(harness.service(before!, "files-integrator")?.worker.pid)
            let stoppedAt = Date()
            kill(oldPid, SIGSTOP)
            // heartbeatTimeout 1.0 + killGrace 0.3 (+ one heartbeat interval of detection slack and restart).
            let (replaced, after) = harness.waitForStatus(timeout: 10) { status in
                guard let worker = harness.service(status, "files-integrator")?.worker else { return false }
                return worker.state == "running" && worker.pid != oldPid && worker.restartCount == 1
            }
            let elapsed = Date().timeIntervalSince(stoppedAt)
            try #require(replaced, "not replaced: \(String(describing: after))")
            #expect(elapsed < 1.0 * DaemonHarness.timeScale + 0.3 + 1.5, "took \(elapsed) s")
            let exit = try #require(harness.service(after!, "files-integrator")?.worker.lastExit)
            #expect(exit.cause == "hang")
            #expect(ProcessTable.waitUntilGone([oldPid], timeout: 2))
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker whose whole I/O loop hangs (chaos hang) is detected and replaced")
        func hungWorkerIsReplaced() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "hang", afterRefreshes: 2)])
            defer { harness.cleanUp() }
            try harness.start()
            let (replaced, status) = harness.waitForStatus(timeout: 15) { status in
                (harness.service(status, "chaos-integrator")?.worker.restartCount ?? 0) >= 1
            }
            try #require(replaced, "\(String(describing: status))")
            #expect(harness.service(status!, "chaos-integrator")?.worker.lastExit?.cause == "hang")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a refresh that stalls forever while heartbeats are answered (chaos stall) overruns refreshTimeoutSeconds: counted, an incident, worker replaced")
        func stalledRefreshIsReplaced() throws {
            let service = DaemonHarness.chaosService(failure: "stall", afterRefreshes: 2, intervalSeconds: 0.1, refreshTimeoutSeconds: 1)
            let harness = try DaemonHarness(services: [service])
            defer { harness.cleanUp() }
            try harness.start()
            // While it stalls, the worker answers heartbeats: status shows it running and refreshing.
            let stalled = harness.waitForStatus(timeout: 10) { status in
                harness.connector(status, "chaos")?.connectorStatus == .REFRESHING && (harness.connector(status, "chaos")?.statistics.refreshCount ?? 0) >= 1
            }
            #expect(stalled.ok, "\(String(describing: stalled.status))")
            let (replaced, status) = harness.waitForStatus(timeout: 15) { status in
                (harness.service(status, "chaos-integrator")?.worker.restartCount ?? 0) >= 1
            }
            try #require(replaced, "\(String(describing: status))")
            #expect(harness.service(status!, "chaos-integrator")?.worker.lastExit?.cause == "refresh-timeout")
            #expect((harness.connector(status!, "chaos")?.statistics.refreshOverruns ?? 0) >= 1)
            #expect(harness.daemon!.stderrLines.contains { $0.contains("past its refreshTimeoutSeconds") })
            let metrics = try harness.cli("metrics").stdout
            #expect(metrics.contains("integration_daemon_connector_refresh_overruns_total{service=\"chaos-integrator\",connector=\"chaos\"} 1")
                    || metrics.contains("integration_daemon_connector_refresh_overruns_total{service=\"chaos-integrator\",connector=\"chaos\"} 2"), "\(metrics)")
            #expect(metrics.contains("cause=\"refresh-timeout\""))
            #expect(try harness.elements().contains { $0.typeName == "IncidentReport" && $0.qualifiedName.contains("refresh-timeout") })
            #expect(harness.stop() == .exited(0))
        }

        @Test("a crash-looping service goes FAILED after its limit while the files service keeps producing reports")
        func crashLoopIsContained() throws {
            let restart = ServiceFixture.restart(maxRestarts: 3, withinSeconds: 60, initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2)
            let harness = try DaemonHarness(services: [
                DaemonHarness.filesService(folder: "watched", intervalSeconds: 0.2),
                DaemonHarness.chaosService(failure: "exit", afterRefreshes: 1, restart: restart),
            ])
            defer { harness.cleanUp() }
            let folder = try harness.makeFolder("watched")
            try harness.start()
            let (failed, status) = harness.waitForStatus(timeout: 20) { harness.service($0, "chaos-integrator")?.worker.state == "failed" }
            try #require(failed, "chaos service never FAILED: \(String(describing: status))")
            let chaos = try #require(harness.service(status!, "chaos-integrator"))
            #expect(chaos.worker.restartCount == 3)
            #expect(chaos.worker.failureReason?.contains("4 failures within 60 s, one more than maxRestarts 3 allows") == true)
            #expect(chaos.worker.lastExit?.exitCode == 3)
            #expect(chaos.integrationConnectorReports.first?.connectorStatus == .FAILED)
            #expect(chaos.integrationConnectorReports.first?.failingExceptionMessage?.contains("chaos-integrator failed") == true)
            #expect(harness.service(status!, "files-integrator")?.worker.state == "running")

            // The files service still catalogs new files after the other service failed.
            let reportsBefore = try harness.reports(connector: "files").count
            try "new".place(at: folder + "/after-failure.txt")
            let (reported, _) = harness.waitForStatus(timeout: 10) { status in
                (harness.connector(status, "files")?.statistics.reportsStored ?? 0) > reportsBefore
            }
            #expect(reported)
            let last = try #require(try harness.reports(connector: "files").last)
            let created = try harness.elements().filter { last.createdElements.contains($0.guid) }.map(\.qualifiedName)
            #expect(created == [folder + "/after-failure.txt"])
            #expect(harness.stop() == .exited(0))
        }

        @Test("garbage and over-long lines on a worker's stdout: logged, counted, supervisor unharmed")
        func garbageIsContained() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "garbage", afterRefreshes: 1, intervalSeconds: 0.2)])
            defer { harness.cleanUp() }
            let daemon = try harness.start()
            let (counted, status) = harness.waitForStatus(timeout: 10) { status in
                guard let service = harness.service(status, "chaos-integrator") else { return false }
                // garbage: a non-JSON line, invalid UTF-8, a bad method type and one over-long line.
                return service.worker.protocolViolations >= 4
                    && (harness.connector(status, "chaos")?.statistics.reportsStored ?? 0) >= 2
            }
            try #require(counted, "\(String(describing: status))")
            let service = try #require(harness.service(status!, "chaos-integrator"))
            #expect(service.worker.restartCount == 0, "garbage must not cost a restart")
            #expect(service.worker.state == "running")
            let log = daemon.stderrLines.joined(separator: "\n")
            #expect(log.contains("protocol violation: dropped a 1052672-byte line"))
            #expect(log.contains("protocol violation: Parse error: not valid JSON"))
            #expect(log.contains("service=chaos-integrator"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker that dies by a signal of its own (chaos abort) is restarted and the signal shown")
        func abortedWorkerIsRestarted() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "abort", afterRefreshes: 2)])
            defer { harness.cleanUp() }
            try harness.start()
            let (restarted, status) = harness.waitForStatus(timeout: 10) { (harness.service($0, "chaos-integrator")?.worker.restartCount ?? 0) >= 1 }
            try #require(restarted, "\(String(describing: status))")
            let exit = try #require(harness.service(status!, "chaos-integrator")?.worker.lastExit)
            #expect(exit.signal == SIGABRT && exit.signalName == "SIGABRT" && exit.cause == "crash")
            // Status answers while the service restarts: nothing in the loop waits on a worker.
            #expect((try? harness.status()) != nil)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a connector whose refresh throws is FAILED; its worker lives on")
        func throwingConnectorFailsAlone() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "throw", afterRefreshes: 2, intervalSeconds: 0.1)])
            defer { harness.cleanUp() }
            try harness.start()
            let (failed, status) = harness.waitForStatus(timeout: 10) { harness.connector($0, "chaos")?.connectorStatus == .FAILED }
            try #require(failed)
            let connector = try #require(harness.connector(status!, "chaos"))
            #expect(connector.failingExceptionMessage == "chaos: refresh 2 failed on purpose")
            #expect(harness.service(status!, "chaos-integrator")?.worker.restartCount == 0)
            #expect(harness.service(status!, "chaos-integrator")?.worker.state == "running")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a missing folder makes only that connector FAILED, with a clear message")
        func missingFolderFailsOneConnector() throws {
            let harness = try DaemonHarness(services: [
                DaemonHarness.filesService("files-integrator", connector: "missing", folder: "does-not-exist"),
                DaemonHarness.filesService("other-files", connector: "present", folder: "present"),
            ])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("present")
            try harness.start()
            let (settled, status) = harness.waitForStatus(timeout: 10) { status in
                harness.connector(status, "missing")?.connectorStatus == .FAILED && harness.connector(status, "present")?.lastRefreshTime != nil
            }
            try #require(settled, "\(String(describing: status))")
            #expect(harness.connector(status!, "missing")?.failingExceptionMessage == "endpoint.address folder \(harness.directory)/does-not-exist does not exist")
            #expect(harness.connector(status!, "present")?.connectorStatus == .WAITING)
            #expect(harness.connector(status!, "present")?.failingExceptionMessage == nil)
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Remote workers over real ssh to a real sshd in a network namespace: the two-host lab.
    @Suite("Remote workers in a network-namespace lab", .serialized)
    struct RemoteLabTests {
        static func service(_ lab: NetnsLab) -> String {
            """
            { "integrationServiceURLMarker": "remote-integrator",
              "worker": { "remote": \(lab.remoteBlock(workerPath: Binaries.worker)) },
              "integrationConnectorConfigs": [ { "connectorName": "far", "refreshIntervalSeconds": 0.2,
                "connection": { "connectorType": { "connectorProviderClassName": "chaos" }, "configurationProperties": { "failure": "none" } } } ] }
            """
        }

        static func worker(_ status: DaemonStatus?) -> DaemonStatus.WorkerSummary? { status?.integrationServiceSummaries.first?.worker }

        @Test("a remote worker runs and refreshes on its host; killed, it is ready again within 1 s; a partition never makes it FAILED, the old worker fences itself, and the service recovers after the heal")
        func remoteWorker() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let lab = try NetnsLab(directory: harness.directory + "/lab", index: 1, hostName: "remote-one")
            defer { lab.tearDown() }
            try DaemonHarness.config(services: [Self.service(lab)]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start()

            // Runs on the other host and refreshes there.
            let (up, status) = harness.waitForStatus(timeout: 15) { status in
                Self.worker(status)?.hostName == "remote-one" && (harness.connector(status, "far")?.statistics.refreshCount ?? 0) >= 2
            }
            #expect(up, "\(String(describing: Self.worker(status)))")
            let remotePid = try #require(Self.worker(status)?.workerPid)
            #expect(remotePid != Self.worker(status)?.pid, "the worker's own pid, not ssh's")

            // kill -9 of the remote worker: ssh reports it, and a new one is ready within 1 s.
            let killed = Date()
            kill(remotePid, SIGKILL)
            let (back, after) = harness.waitForStatus(timeout: 5) { status in
                guard let worker = Self.worker(status) else { return false }
                return worker.state == "running" && worker.workerPid != nil && worker.workerPid != remotePid
            }
            #expect(back)
            #expect(Date().timeIntervalSince(killed) < 1.5, "ready again in \(Date().timeIntervalSince(killed)) s")
            #expect(Self.worker(after)?.lastExit?.cause == "crash", "killed with heartbeats flowing: the worker crashed, the host is fine")
            let secondPid = try #require(Self.worker(after)?.workerPid)

            // Partition: the link goes down for 8 s.
            try lab.link(up: false)
            let cut = Date()
            // Heartbeat timeout 1 s here: by 3 s the old remote worker has fenced itself, with no network needed.
            #expect(ProcessTable.waitUntilGone([secondPid], timeout: 3), "the partitioned worker outlived heartbeat timeout + 2 s")
            var sawUnreachable = false
            var neverFailed = true
            while Date().timeIntervalSince(cut) < 8 {
                if let worker = Self.worker(try? harness.status()) {
                    sawUnreachable = sawUnreachable || worker.unreachableSince != nil
                    neverFailed = neverFailed && worker.failureReason == nil && worker.state != "failed"
                }
                usleep(200_000)
            }
            #expect(sawUnreachable)
            #expect(neverFailed)
            try lab.link(up: true)
            let healed = Date()
            let (recovered, _) = harness.waitForStatus(timeout: 10) { status in
                Self.worker(status)?.state == "running" && Self.worker(status)?.hostName == "remote-one"
            }
            #expect(recovered)
            #expect(Date().timeIntervalSince(healed) < 5, "recovered \(Date().timeIntervalSince(healed)) s after the heal")
            #expect(harness.stop() == .exited(0))
        }
    }
}

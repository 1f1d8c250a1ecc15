import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Remote workers over real ssh to a real sshd in a network namespace: the two-host lab.
    @Suite("Remote workers in a network-namespace lab", .serialized, .lab(.root, .sshd))
    struct RemoteLabTests {
        static func service(_ lab: NetnsLab, failure: [String: JSONValue] = ["failure": .string("none")], memoryLimitMegabytes: Int? = nil) -> ServiceFixture {
            ServiceFixture("remote-integrator", connectors: [ConnectorFixture("far", provider: "chaos", properties: failure, refreshIntervalSeconds: 0.2)],
                           memoryLimitMegabytes: memoryLimitMegabytes, remote: lab.remoteBlock(workerPath: Binaries.worker))
        }

        static func worker(_ status: DaemonStatus?) -> DaemonStatus.WorkerSummary? { status?.integrationServiceSummaries.first?.worker }

        @Test("a remote worker runs and refreshes on its host; killed, it is ready again within 1 s; its ssh killed, it is gone within 1 s; 20 s of partition never make it FAILED, the old worker fences itself, and the service recovers within 5 s of the heal")
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

            // kill -9 of the remote worker, four times (with the ssh kill below, five crashes: the budget's maxRestarts).
            var victim = remotePid
            var readyTimes: [Double] = []
            var after: DaemonStatus?
            for _ in 0..<4 {
                // A worker ready for healthyAfterSeconds (0.5 s here) is restarted at once, as in production.
                usleep(600_000)
                let killed = Date()
                kill(victim, SIGKILL)
                let (back, status) = harness.waitForStatus(timeout: 5) { status in
                    guard let worker = Self.worker(status) else { return false }
                    return worker.state == "running" && worker.workerPid != nil && worker.workerPid != victim
                }
                #expect(back)
                readyTimes.append(Date().timeIntervalSince(killed))
                #expect(Self.worker(status)?.lastExit?.cause == "crash", "killed with heartbeats flowing: the worker crashed, the host is fine")
                after = status
                victim = try #require(Self.worker(status)?.workerPid)
            }
            let median = readyTimes.sorted()[readyTimes.count / 2]
            print("lab figure: remote worker killed → replacement ready (status polled every 20 ms): median \(Int(median * 1000)) ms, max \(Int(readyTimes.max()! * 1000)) ms over \(readyTimes.count)")
            #expect(median < 1.0)
            // Killing the local ssh takes its remote worker with it: sshd closes the worker's stdin, and it ends at once.
            usleep(600_000)
            let sshPid = try #require(Self.worker(after)?.pid)
            kill(sshPid, SIGKILL)
            #expect(ProcessTable.waitUntilGone([victim], timeout: 1), "the remote worker outlived its ssh by more than 1 s")
            let (again, settled) = harness.waitForStatus(timeout: 5) { Self.worker($0)?.state == "running" && Self.worker($0)?.workerPid != victim }
            #expect(again)
            let secondPid = try #require(Self.worker(settled)?.workerPid)

            // Partition: the link goes down for 20 s.
            try lab.link(up: false)
            let cut = Date()
            // Heartbeat timeout 1 s here: by 3 s the old remote worker has fenced itself, with no network needed.
            #expect(ProcessTable.waitUntilGone([secondPid], timeout: 3), "the partitioned worker outlived heartbeat timeout + 2 s")
            var sawUnreachable = false
            var neverFailed = true
            while Date().timeIntervalSince(cut) < 20 {
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
            let recovery = Date().timeIntervalSince(healed)
            print("lab figure: link healed → service running again: \(Int(recovery * 1000)) ms (maxBackoffSeconds 0.5)")
            #expect(recovery < 5, "recovered \(recovery) s after the heal")
            #expect(harness.stop() == .exited(0))
        }

        @Test("two hosts, one path: each host's files are catalogued under its own host-qualified names, distinct and stable")
        func twoHostsOnePath() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let landing = try harness.makeFolder("landing")
            let one = try harness.makeFolder("files-one"), two = try harness.makeFolder("files-two")
            try "1\n".write(toFile: one + "/only-on-one.csv", atomically: true, encoding: .utf8)
            try "2\n".write(toFile: two + "/only-on-two.csv", atomically: true, encoding: .utf8)
            let labOne = try NetnsLab(directory: harness.directory + "/lab1", index: 1, hostName: "remote-one", bind: (one, landing))
            defer { labOne.tearDown() }
            let labTwo = try NetnsLab(directory: harness.directory + "/lab2", index: 2, hostName: "remote-two", bind: (two, landing))
            defer { labTwo.tearDown() }
            func service(_ marker: String, _ lab: NetnsLab) -> ServiceFixture {
                ServiceFixture(marker, connectors: [ConnectorFixture("\(marker)-files", provider: "data-files-monitor", address: landing, refreshIntervalSeconds: 0.3)],
                               remote: lab.remoteBlock(workerPath: Binaries.worker))
            }
            try DaemonHarness.config(services: [service("one", labOne), service("two", labTwo)]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start()
            let (refreshed, _) = harness.waitForStatus(timeout: 20) { status in
                ["one-files", "two-files"].allSatisfy { (harness.connector(status, $0)?.statistics.refreshCount ?? 0) >= 4 }
            }
            #expect(refreshed)
            let names = Set(try harness.elements().map(\.qualifiedName))
            #expect(names.contains("remote-one::\(landing)/only-on-one.csv"), "\(names)")
            #expect(names.contains("remote-two::\(landing)/only-on-two.csv"), "\(names)")
            #expect(!names.contains { $0.hasPrefix("remote-one::") && $0.hasSuffix("only-on-two.csv") })
            // Stable: after the first refresh, nothing is deleted or re-created.
            let later = try harness.reports().filter { $0.connectorName.hasSuffix("-files") }.dropFirst(2)
            #expect(later.allSatisfy { $0.deletedElements.isEmpty && $0.createdElements.isEmpty }, "the two hosts do not delete each other's elements")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a silent drop for 60 s: never FAILED, recovers after the heal; a daemon SIGKILL mid-partition: the remote worker is gone within timeout + 2 s; a leaking remote worker ends itself and is replaced")
        func dropKillAndLeak() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let lab = try NetnsLab(directory: harness.directory + "/lab", index: 1, hostName: "remote-one")
            defer { lab.tearDown() }
            try DaemonHarness.config(services: [Self.service(lab)]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            var daemon = try harness.start()
            let (up, status) = harness.waitForStatus(timeout: 15) { Self.worker($0)?.state == "running" && Self.worker($0)?.workerPid != nil }
            #expect(up)
            let first = try #require(Self.worker(status)?.workerPid)

            // Silent drop for 60 s: packets vanish, nothing fails fast.
            try lab.silentDrop(true)
            #expect(ProcessTable.waitUntilGone([first], timeout: 3), "the partitioned worker fenced itself")
            let dropped = Date()
            var neverFailed = true
            while Date().timeIntervalSince(dropped) < 57 {
                if let worker = Self.worker(try? harness.status()) { neverFailed = neverFailed && worker.state != "failed" && worker.failureReason == nil }
                usleep(200_000)
            }
            #expect(neverFailed)
            try lab.silentDrop(false)
            let healed = Date()
            // A connect stuck in a dropped network ends at ConnectTimeout (startTimeoutSeconds 5 here), then the retry connects.
            let (recovered, after) = harness.waitForStatus(timeout: 15) { Self.worker($0)?.state == "running" && Self.worker($0)?.workerPid != nil }
            #expect(recovered, "recovered \(Date().timeIntervalSince(healed)) s after the heal")
            let second = try #require(Self.worker(after)?.workerPid)

            // The daemon dies during a partition: the remote worker ends itself, no network needed.
            try lab.link(up: false)
            daemon.signal(SIGKILL)
            _ = daemon.waitForExit(timeout: 5)
            #expect(ProcessTable.waitUntilGone([second], timeout: 3), "the remote worker outlived its killed daemon by more than timeout + 2 s")
            try lab.link(up: true)

            // A leaking remote worker: it enforces its limit itself (exit 4 through ssh) and is replaced.
            let leaky = Self.service(lab, failure: ["failure": .string("leak"), "afterRefreshes": .int(2), "leakMegabytes": .int(96)], memoryLimitMegabytes: 64)
            try DaemonHarness.config(services: [leaky]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            daemon = try harness.start()
            let (replaced, leaked) = harness.waitForStatus(timeout: 20) { Self.worker($0)?.lastExit?.exitCode == WorkerExitCode.memoryLimit }
            #expect(replaced, "\(String(describing: Self.worker(leaked)?.lastExit))")
            // Two guards race, both right: the worker's own check (exit 4, counted a crash) and the daemon's, which
            // sees the RSS the heartbeat reports and asks the worker to shut down first (cause "memory").
            #expect(["crash", "memory"].contains(Self.worker(leaked)?.lastExit?.cause ?? ""), "\(String(describing: Self.worker(leaked)?.lastExit))")
            #expect(harness.stop() == .exited(0))
        }
    }
}

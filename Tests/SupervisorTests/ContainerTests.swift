import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The daemon where containers put it: as pid 1 of its own pid namespace, and in the shipped image.
    @Suite("Containers", .serialized)
    struct ContainerTests {
        @Test("as pid 1 of a pid namespace, as in a container, the daemon's workers start and stay up, and SIGTERM stops it with 0",
              .lab(.root, .unshare))
        func daemonAsPidOne() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)])
            defer { harness.cleanUp() }
            harness.recordsWorkerPids = false
            // --kill-child: should unshare die, the daemon (and with it the namespace) dies too.
            let unshare = try harness.start(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--kill-child"])
            let settled = harness.waitForStatus(timeout: 10) { status in
                status.integrationServiceSummaries.allSatisfy { $0.worker.state == "running" && $0.integrationConnectorReports.allSatisfy { $0.lastRefreshTime != nil } }
            }
            #expect(settled.status?.daemon.pid == 1, "the daemon is not pid 1 of its namespace: the test proves nothing")
            // A worker whose parent was pid 1 took itself for an orphan and exited 0 at once, over and over.
            #expect(settled.ok, "workers did not stay up: \(String(describing: settled.status?.integrationServiceSummaries.map { ($0.worker.state, $0.worker.restartCount) }))")
            #expect(settled.status?.integrationServiceSummaries.first?.worker.restartCount == 0)
            // SIGTERM to the daemon itself (unshare would only pass on SIGKILL); unshare exits with its status.
            let children = try String(contentsOfFile: "/proc/\(unshare.pid)/task/\(unshare.pid)/children", encoding: .utf8)
            let daemon = try #require(children.split(separator: " ").first.flatMap { Int32($0) })
            kill(daemon, SIGTERM)
            #expect(unshare.waitForExit(timeout: 15) == .exited(0))
        }

        @Test("the shipped image builds from deploy/container/Containerfile, runs the deploy config, stores a report, and stops with 0 on SIGTERM",
              .lab(.root, .podman), .timeLimit(.minutes(15)))
        func shippedImage() throws {
            let tag = try Self.image()
            let landing = try TemporaryDirectory(prefix: "idt-landing")
            defer { withExtendedLifetime(landing) {} }
            // The image runs as 65532, which must be able to list the watched folder.
            #expect(chmod(landing.path, 0o755) == 0)
            let name = "idt-test-\(getpid())"
            let podman = "/usr/bin/podman"
            defer { _ = try? DaemonHarness.run([podman, "rm", "-f", "-v", name], timeout: 60) }
            let started = try DaemonHarness.run([podman, "run", "-d", "--name", name, "--runtime", "runc",
                                                 "--ulimit", "nofile=\(Self.openFileLimit):\(Self.openFileLimit)", "--ulimit", "nproc=4096:4096",
                                                 "-v", "\(landing.path):/srv/landing-area:ro", tag], timeout: 60)
            try #require(started.code == 0, "podman run: \(started.stderr)")
            func cli(_ arguments: String...) throws -> (code: Int32, stdout: String, stderr: String) {
                try DaemonHarness.run([podman, "exec", name, "integration-daemon"] + arguments
                                      + ["--config", "/etc/integration-daemon/daemon.json"], timeout: 60)
            }
            let running = firstValue(within: 30, interval: 0.2) { () -> DaemonStatus? in
                guard let answer = try? cli("status", "--json"), answer.code == 0,
                      let status = try? JSONDecoder.daemon.decode(DaemonStatus.self, from: Data(answer.stdout.utf8)),
                      status.integrationServiceSummaries.allSatisfy({ $0.worker.state == "running" }) else { return nil }
                return status
            }
            let logs = { (try? DaemonHarness.run([podman, "logs", name], timeout: 30)).map { $0.stdout + $0.stderr } ?? "" }
            try #require(running != nil, "status never showed every worker running; the container's log:\n\(logs().suffix(3000))")
            #expect(running?.integrationServiceSummaries.first?.worker.restartCount == 0)
            // A file lands; a refresh catalogues it and its report is stored.
            #expect(FileManager.default.createFile(atPath: landing.path + "/orders.csv", contents: Data("id\n1\n".utf8)))
            let refreshed = try cli("refresh", "landing-area-monitor")
            #expect(refreshed.code == 0, "refresh: \(refreshed.stdout) \(refreshed.stderr)")
            let reports = try cli("reports", "--json")
            #expect(reports.code == 0, "reports: \(reports.stderr)")
            let stored = reports.stdout.split(separator: "\n").compactMap { try? JSONDecoder.daemon.decode(IntegrationReport.self, from: Data($0.utf8)) }
            #expect(stored.contains { $0.connectorName == "landing-area-monitor" && !$0.createdElements.isEmpty },
                    "no report with the new file's elements: \(reports.stdout.suffix(2000))")
            // podman stop sends SIGTERM (the image's default stop signal) and waits.
            let stopped = try DaemonHarness.run([podman, "stop", "-t", "30", name], timeout: 60)
            #expect(stopped.code == 0, "podman stop: \(stopped.stderr)")
            let exit = try DaemonHarness.run([podman, "inspect", name, "--format", "{{.State.ExitCode}}"], timeout: 30)
            #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "exit code \(exit.stdout); log:\n\(logs().suffix(2000))")
            #expect(logs().contains("integration-daemon exits"))
        }

        /// The image under test. scripts/test builds it before the suite (IDT_PREBUILT_IMAGE, with its exit status
        /// and log in IDT_PREBUILT_IMAGE_DIR); otherwise it is built here: debootstrap on a first run (cached
        /// after), the static release build, then the image.
        static func image() throws -> String {
            let environment = ProcessInfo.processInfo.environment
            if let tag = environment["IDT_PREBUILT_IMAGE"], let folder = environment["IDT_PREBUILT_IMAGE_DIR"] {
                let status = (try? String(contentsOfFile: folder + "/image.status", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                let log = (try? String(contentsOfFile: folder + "/image.log", encoding: .utf8)) ?? "(no log)"
                try #require(status == "0", "scripts/container-image (run by scripts/test) ended with \(status ?? "no status"):\n\(log.suffix(3000))")
                return tag
            }
            let tag = "localhost/integration-daemon:test"
            let built = try DaemonHarness.run([LabPart.repositoryRoot.path + "/scripts/container-image", tag], timeout: 900)
            try #require(built.code == 0, "scripts/container-image failed:\n\(built.stderr.suffix(3000))")
            return tag
        }

        /// The container's open-file limit: this process's hard limit, which a container cannot pass.
        static var openFileLimit: UInt64 {
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            return min(UInt64(limit.rlim_max), 1 << 20)
        }
    }
}

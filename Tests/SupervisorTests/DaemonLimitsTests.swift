import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// What the daemon's own resources survive: lingering grandchildren, control-socket abuse, a stalled
    /// stderr, a full disk, a server that echoes credentials.
    @Suite("Daemon limits", .serialized, .timeLimit(.minutes(3)))
    struct DaemonLimitsTests {
        static func openFDs(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        static func threads(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1 }

        /// Pids of live processes whose command line contains `marker`.
        static func processes(matching marker: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
                return state != "Z" && String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(marker)
            }
        }

        static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
            eventually(timeout: timeout, condition)
        }

        @Test("a connector whose elements fill more than one 1 MiB line reads them in pages: its second refresh of 8,000 files finds one change")
        func findInPages() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let folder = try harness.makeFolder("many")
            for index in 0..<8_000 {
                let fd = open(folder + "/a-fairly-long-file-name-so-the-elements-are-realistic-\(index).csv", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                #expect(fd >= 0)
                close(fd)
            }
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: folder, intervalSeconds: 3600)])
            try harness.start()
            let (first, _) = harness.waitForStatus(timeout: 60) { (harness.connector($0, "files")?.statistics.reportsStored ?? 0) >= 1 }
            #expect(first, "the first refresh did not report")
            try "changed".write(toFile: folder + "/a-fairly-long-file-name-so-the-elements-are-realistic-7.csv", atomically: false, encoding: .utf8)
            let answer = try ControlClient.send(RefreshCommand(connectorName: "files", waitSeconds: 60),
                                                socketPath: harness.directory + "/data/daemon.sock", waitSeconds: 70)
            let outcome = try #require(answer.refreshes.first)
            #expect(outcome.connectorStatus == .WAITING && outcome.failingExceptionMessage == nil, "\(outcome)")
            #expect(outcome.createdCount == 0 && outcome.updatedCount == 1 && outcome.deletedCount == 0, "\(outcome)")
        }

        @Test("40 crashes of a worker whose helper left its process group: no fd or thread leaks, no helper survives")
        func lingeringGrandchildren() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let marker = "7\(getpid() % 1000)7"
            let service = ServiceFixture(
                "leaky-integrator",
                connectors: [ConnectorFixture("leaky", provider: "chaos", properties: ["failure": .string("exit"), "afterRefreshes": .int(1)],
                                              refreshIntervalSeconds: 0.05)],
                command: ["/bin/sh", "-c", "setsid sleep \(marker) & exec \(Binaries.worker)"],
                restart: ServiceFixture.restart(maxRestarts: 40, withinSeconds: 600))
            try harness.writeConfig(services: [service])
            let daemon = try harness.start()
            // A worker here lives ~20 ms: wait for the first restart, which stays seen, not for "running", which a
            // 20 ms status poll can miss for as long as the whole crash loop lasts.
            let first = harness.waitForStatus(timeout: 10) { (harness.service($0, "leaky-integrator")?.worker.restartCount ?? 0) >= 1 }
            #expect(first.ok)
            let baseFDs = Self.openFDs(daemon.pid), baseThreads = Self.threads(daemon.pid)
            let failed = harness.waitForStatus(timeout: 90) { harness.service($0, "leaky-integrator")?.worker.state == "failed" }
            #expect(failed.ok, "the crash loop did not reach its restart limit: \(String(describing: failed.status.map { harness.service($0, "leaky-integrator")?.worker }))")
            // No worker is alive now, so one incarnation's fds and threads fewer than the baseline, ± 2.
            let settled = Self.waitUntil(timeout: 5) { Self.openFDs(daemon.pid) <= baseFDs + 2 && Self.threads(daemon.pid) <= baseThreads + 2 }
            #expect(settled, "fds \(baseFDs) → \(Self.openFDs(daemon.pid)), threads \(baseThreads) → \(Self.threads(daemon.pid))")
            #expect(Self.waitUntil(timeout: 5) { Self.processes(matching: "sleep \(marker)").isEmpty },
                    "helpers outlived their workers: \(Self.processes(matching: "sleep \(marker)"))")
            #expect(harness.stop() == .exited(0))
            #expect(Self.processes(matching: "sleep \(marker)").isEmpty)
        }

        @Test("2,000 abusive control connections: over the cap refused with a message, status answers after they leave")
        func controlSocketAbuse() throws {
            let folder = "landing"
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: folder)])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder(folder)
            try harness.start()
            let path = harness.directory + "/data/daemon.sock"
            var refusals = 0
            for _ in 0..<4 {
                var fds: [Int32] = []
                for index in 0..<500 {
                    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                    var address = try UnixAddress(path: path)
                    guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else { close(fd); continue }
                    // Half stay silent (slowloris), half send a partial line.
                    if index % 2 == 1 { _ = "{\"command\":".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
                    fds.append(fd)
                }
                // Those past the cap were answered with a refusal line at once.
                for fd in fds {
                    var timeout = timeval(tv_sec: 0, tv_usec: 1000)
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    var buffer = [UInt8](repeating: 0, count: 512)
                    let n = read(fd, &buffer, buffer.count)
                    // Refused, or (a silent one) closed to make room for a newcomer: either way answered with why.
                    let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
                    if text.contains("too many control connections") || text.contains("at its cap") { refusals += 1 }
                }
                // The CLI against the full socket says why, instead of dying of SIGPIPE with no output. (Should the
                // daemon have closed the silent ones at their deadline meanwhile, status simply answers.)
                for _ in 0..<3 {
                    let cli = try harness.cli("status")
                    let refused = cli.stderr.contains("too many control connections") || cli.stderr.contains("cannot send")
                    #expect((cli.code == 0 && cli.stdout.contains("running")) || ((cli.code == 1 || cli.code == 69) && refused),
                            "exit \(cli.code), stdout: \(cli.stdout.prefix(200)), stderr: \(cli.stderr)")
                }
                fds.forEach { close($0) }
            }
            #expect(refusals > 1000, "only \(refusals) refusals")
            let status = harness.waitForStatus(timeout: 10) { $0.daemon.controlConnections <= 1 }
            #expect(status.ok, "connections not released: \(String(describing: status.status.map { $0.daemon.controlConnections }))")
            #expect((status.status.map { $0.daemon.refusedControlConnections } ?? 0) >= refusals)
            #expect(harness.stop() == .exited(0))
        }

        @Test("200 silent control connections fill the cap: status still gets through at once, the silent one waiting longest is closed")
        func statusThroughSilentConnections() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)])
            defer { harness.cleanUp() }
            try harness.start()
            let path = harness.directory + "/data/daemon.sock"
            var fds: [Int32] = []
            defer { fds.forEach { close($0) } }
            for _ in 0..<200 {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                var address = try UnixAddress(path: path)
                if address.withSockaddr({ connect(fd, $0, $1) }) == 0 { fds.append(fd) } else { close(fd) }
            }
            let started = Date()
            for _ in 0..<5 { #expect((try? harness.status()) != nil, "status was refused") }
            // Well before the silent ones' 5 s deadline.
            #expect(Date().timeIntervalSince(started) < ControlServer.ioTimeoutSeconds)
            var buffer = [UInt8](repeating: 0, count: 512)
            let first = read(fds[0], &buffer, buffer.count)
            #expect(first > 0 && String(decoding: buffer[0..<max(0, first)], as: UTF8.self).contains("at its cap"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("out of fds (EMFILE): logged once, the daemon keeps supervising, and accepts again once fds are free")
        func outOfFileDescriptors() throws {
            let folder = "landing"
            let harness = try DaemonHarness(services: [DaemonHarness.filesService(folder: folder)])
            defer { harness.cleanUp() }
            _ = try harness.makeFolder(folder)
            let daemon = try ChildProcess(["/usr/bin/prlimit", "--nofile=64:64", Binaries.daemon, "run", "--config", harness.configPath])
            defer { daemon.killGroup() }
            let running = harness.waitForStatus(timeout: 10) { harness.service($0, "files-integrator")?.worker.state == "running" }
            #expect(running.ok)
            let path = harness.directory + "/data/daemon.sock"
            var fds: [Int32] = []
            for _ in 0..<120 {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var address = try UnixAddress(path: path)
                if address.withSockaddr({ connect(fd, $0, $1) }) == 0 { fds.append(fd) } else { close(fd) }
            }
            #expect(daemon.waitFor(timeout: 10) { _, stderr, _ in stderr.contains { $0.contains("cannot accept connections") } })
            // A worker that dies now cannot be respawned (no fds for its pipes): that is the daemon's shortage, retried
            // with backoff, never the service failing.
            let pid = try #require(running.status.flatMap { harness.service($0, "files-integrator")?.worker.pid })
            kill(pid, SIGKILL)
            #expect(daemon.waitFor(timeout: 10) { _, stderr, _ in stderr.contains { $0.contains("short of its own resources") } })
            fds.forEach { close($0) }
            let status = harness.waitForStatus(timeout: 15) { $0.daemon.controlConnections <= 1 }
            #expect(status.ok, "status did not answer after the connections left")
            let back = harness.waitForStatus(timeout: 10) { harness.service($0, "files-integrator")?.worker.state == "running" }
            let worker = back.status.flatMap { harness.service($0, "files-integrator")?.worker }
            #expect(back.ok && worker?.pid != pid && worker?.restartCount == 1, "\(String(describing: worker))")
            // The episode ends at the first accept a second after the last EMFILE.
            let resumed = Self.waitUntil(timeout: 5) {
                _ = try? harness.status()
                return daemon.stderrLines.contains { $0.contains("accepting connections again") }
            }
            #expect(resumed)
            #expect(daemon.stderrLines.filter { $0.contains("cannot accept connections") }.count == 1, "EMFILE must be logged once per episode")
            #expect(daemon.exitStatus == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == .exited(0))
        }

        /// The hard open-file limit of this process: the door test holds about 2,000 sockets itself.
        static let hardFileLimit: rlim_t = {
            var own = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
            return own.rlim_max
        }()

        @Test("2,000 idle door connections at a 1,024-fd limit: the door refuses past its share, a killed worker is back within its backoff",
              .lab(.prlimit), .enabled(if: hardFileLimit >= 4096 || LabPart.allTiersRequired, "needs a hard open-file limit of at least 4096"))
        func doorCannotStarveSupervision() throws {
            var own = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
            if own.rlim_cur < 4096 {
                own.rlim_cur = 4096
                setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
            }
            let harness = try DaemonHarness(config: DaemonHarness.config(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)],
                                                                         platform: DaemonHarness.platform()))
            defer { harness.cleanUp() }
            let port = try harness.startWithPlatform(wrapper: ["/usr/bin/prlimit", "--nofile=1024:1024"])
            let first = harness.waitForStatus(timeout: 10) { harness.service($0, "chaos-integrator")?.worker.state == "running" }
            let pid = try #require(first.status.flatMap { harness.service($0, "chaos-integrator")?.worker.pid })
            var sockets: [Int32] = []
            defer { sockets.forEach { close($0) } }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            for _ in 0..<2_000 {
                // Non-blocking: once the backlog is full a connect would otherwise wait for its SYN to be retried.
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                guard fd >= 0 else { break }
                _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                sockets.append(fd)
            }
            // The door holds what its share allows and refuses the rest.
            let lowered = harness.daemon?.stderrLines.contains { $0.contains("platform.maxConnections 1024 lowered to") } ?? false
            #expect(lowered, "the door's cap was not lowered to the fd budget")
            let full = harness.waitForStatus(timeout: 15) { ($0.daemon.platform?.refusedConnections ?? 0) > 0 }
            #expect(full.ok, "the door refused nothing: \(String(describing: full.status?.daemon.platform))")
            kill(pid, SIGKILL)
            let back = harness.waitForStatus(timeout: 10) { status in
                guard let worker = harness.service(status, "chaos-integrator")?.worker else { return false }
                return worker.state == "running" && worker.pid != pid
            }
            #expect(back.ok, "the worker was not back: \(String(describing: back.status.flatMap { harness.service($0, "chaos-integrator")?.worker }))")
            let worker = back.status.flatMap { harness.service($0, "chaos-integrator")?.worker }
            #expect(worker?.restartCount == 1, "spawn failures were counted as crashes: \(String(describing: worker))")
            #expect(harness.stop() == .exited(0))
        }

        @Test("a stderr nobody reads: status keeps answering, dropped log lines are counted, logging resumes when drained")
        func stalledStderr() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let service = ServiceFixture(
                "chatty-integrator",
                connectors: [ConnectorFixture("chatty", provider: "chaos", properties: ["failure": .string("none")], refreshIntervalSeconds: 0.2)],
                command: ["/bin/sh", "-c", "yes chatty-worker-line >&2 & exec \(Binaries.worker)"])
            try harness.writeConfig(services: [service])
            let fifo = harness.directory + "/stderr.fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            // Held open and never read: the pipe fills after 64 KiB and every write to it would block.
            let reader = open(fifo, O_RDONLY | O_NONBLOCK)
            defer { close(reader) }
            let daemon = try ChildProcess(["/bin/sh", "-c", "exec \(Binaries.daemon) run --config \(harness.configPath) 2>\(fifo)"])
            defer { daemon.killGroup() }
            let dropping = harness.waitForStatus(timeout: 15) { $0.daemon.droppedLogLines > 0 }
            #expect(dropping.ok, "no log lines were dropped")
            for _ in 0..<20 { #expect((try? harness.status()) != nil, "status failed while stderr was stalled") }
            // Drain: logging goes on, and says how much it dropped.
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var drained = Data()
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && String(decoding: drained.suffix(1 << 20), as: UTF8.self).range(of: "log line(s) dropped") == nil {
                let n = read(reader, &buffer, buffer.count)
                if n > 0 { drained.append(contentsOf: buffer[0..<n]) } else { usleep(5_000) }
                if drained.count > 64 << 20 { drained = drained.suffix(1 << 20) }
            }
            #expect(String(decoding: drained.suffix(1 << 20), as: UTF8.self).contains("log line(s) dropped"))
            daemon.signal(SIGTERM)
            // Keep draining so the shutdown lines can be written.
            let exit = Self.waitUntil(timeout: 15) {
                _ = read(reader, &buffer, buffer.count)
                return daemon.exitStatus != nil
            }
            #expect(exit && daemon.exitStatus == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

/// `worker.remote`: the ssh command line the daemon builds.
@Suite("Remote worker command line")
struct RemoteWorkerArgvTests {
    @Test("ssh with BatchMode, strict host keys from the given file, timeouts from the heartbeat, no ControlMaster, exec of the worker")
    func argv() {
        var supervision = SupervisionConfig()
        supervision.heartbeatIntervalSeconds = 2
        supervision.heartbeatTimeoutSeconds = 6
        supervision.startTimeoutSeconds = 10
        let remote = RemoteWorker(host: "10.0.0.2", user: "idaemon", port: 2222, identityFile: "/k/id", knownHostsFile: "/k/known",
                                  workerPath: "/opt/it's/integration-worker")
        let argv = remote.argv(supervision: supervision)
        #expect(argv.first == "ssh")
        #expect(argv.contains("-T"))
        for option in ["BatchMode=yes", "StrictHostKeyChecking=yes", "ConnectTimeout=6", "ServerAliveInterval=2", "ServerAliveCountMax=3",
                       "ControlMaster=no", "ControlPath=none", "UserKnownHostsFile=/k/known", "IdentitiesOnly=yes"] {
            #expect(argv.contains(option), "\(option)")
        }
        #expect(Array(argv.suffix(4)) == ["idaemon", "10.0.0.2", "--", "exec '/opt/it'\\''s/integration-worker'"])
        #expect(argv[argv.firstIndex(of: "-p")! + 1] == "2222")
    }
}

extension RealProcesses {
    /// A remote worker's host that cannot be reached is not a crash.
    @Suite("Unreachable remote workers", .serialized)
    struct UnreachableTests {
        @Test("ssh to a port nobody listens on: unreachable, retried past maxRestarts with capped backoff, never FAILED; connectors WAITING with the reason")
        func unreachableNeverFails() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            // A port with no listener: ssh exits 255 at once ("Connection refused").
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
            let port = UInt16(bigEndian: address.sin_port)
            close(probe)
            let knownHosts = harness.directory + "/known_hosts"
            try "".write(toFile: knownHosts, atomically: true, encoding: .utf8)
            let service = ServiceFixture(
                "remote-integrator", connectors: [ConnectorFixture("far", provider: "chaos")],
                restart: ServiceFixture.restart(maxRestarts: 2, withinSeconds: 60, initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.3),
                remote: ["host": .string("127.0.0.1"), "port": .int(Int(port)), "user": .string("nobody"), "knownHostsFile": .string(knownHosts)])
            try DaemonHarness.config(services: [service]).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
            try harness.start()
            let (retried, status) = harness.waitForStatus(timeout: 20) { ($0.integrationServiceSummaries.first?.worker.restartCount ?? 0) >= 8 }
            #expect(retried, "retried well past maxRestarts 2")
            let worker = try #require(status?.integrationServiceSummaries.first?.worker)
            #expect(worker.failureReason == nil)
            #expect(["unreachable", "starting"].contains(worker.state), "\(worker.state)")
            #expect(worker.unreachableSince != nil)
            #expect(worker.lastExit?.cause == "unreachable")
            #expect(worker.lastExit?.exitCode == 255)
            let connector = try #require(status?.integrationServiceSummaries.first?.integrationConnectorReports.first)
            #expect(connector.connectorStatus == .WAITING)
            #expect(connector.failingExceptionMessage?.contains("worker unreachable since") == true)
            #expect(try harness.cli("status").stdout.contains("unreachable since"))
            #expect(harness.stop() == .exited(0))
        }
    }
}

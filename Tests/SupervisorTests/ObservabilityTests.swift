import Foundation
import Glibc
import Protocol
import Testing
@testable import Supervisor

extension RealProcesses {
    /// Metrics, the memory guard with incident reports, systemd notifications and JSON logs.
    @Suite("Observability and resource guard", .serialized)
    struct ObservabilityTests {
        @Test("metrics is valid exposition format and counts restarts by cause; the textfile is written atomically")
        func metrics() throws {
            let textfile = "metrics/daemon.prom"
            let config = DaemonHarness.config(services: [
                DaemonHarness.filesService(folder: "in", intervalSeconds: 0.1),
                DaemonHarness.chaosService(failure: "none"),
            ], members: ["metrics": .object(["textfile": .string(textfile), "intervalSeconds": .double(0.2)])])
            let harness = try DaemonHarness(config: config)
            defer { harness.cleanUp() }
            _ = try harness.makeFolder("in")
            _ = try harness.makeFolder("metrics")
            try harness.start()
            let (_, before) = harness.waitForStatus(timeout: 10) { ($0.integrationServiceSummaries.first?.integrationConnectorReports.first?.statistics.refreshCount ?? 0) >= 3 }
            let pid = try #require(harness.service(before!, "chaos-integrator")?.worker.pid)
            kill(pid, SIGKILL)
            harness.waitForStatus(timeout: 10) { harness.service($0, "chaos-integrator")?.worker.restartCount == 1 && harness.service($0, "chaos-integrator")?.worker.state == "running" }

            let result = try harness.cli("metrics")
            #expect(result.code == 0)
            let (problems, samples) = ExpositionFormat.check(result.stdout + "\n")
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            func value(_ name: String, _ labels: [String: String]) -> Double? {
                samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
            }
            #expect(value("integration_daemon_worker_restarts_total", ["service": "chaos-integrator", "cause": "crash"]) == 1)
            #expect(value("integration_daemon_worker_restarts_total", ["service": "chaos-integrator", "cause": "hang"]) == 0)
            #expect(value("integration_daemon_worker_up", ["service": "files-integrator"]) == 1)
            #expect(value("integration_daemon_worker_state", ["service": "files-integrator", "state": "running"]) == 1)
            for state in WorkerState.allCases where state != .running {
                #expect(value("integration_daemon_worker_state", ["service": "files-integrator", "state": state.rawValue]) == 0, "\(state)")
            }
            for cause in ExitCause.allCases where cause.restarts {
                #expect(value("integration_daemon_worker_restarts_total", ["service": "files-integrator", "cause": cause.rawValue]) == 0, "\(cause)")
            }
            #expect(value("integration_daemon_connector_status", ["connector": "files", "status": "WAITING"]) != nil)
            #expect((value("integration_daemon_connector_refreshes_total", ["connector": "files"]) ?? 0) >= 3)
            #expect((value("integration_daemon_connector_refresh_duration_seconds_count", ["connector": "files"]) ?? 0) >= 1)
            #expect((value("integration_daemon_reports_accepted_total", ["connector": "chaos"]) ?? 0) >= 1)
            #expect(value("integration_daemon_reports_backlog", ["connector": "chaos"]) == 0)
            #expect(value("integration_daemon_protocol_violations_total", ["service": "chaos-integrator"]) == 0)
            #expect(value("integration_daemon_heartbeat_round_trip_seconds", ["service": "files-integrator"]) != nil)

            // The textfile: present, valid, and never seen half-written (written to a temporary name, then renamed).
            let path = harness.directory + "/" + textfile
            var reads = 0
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline && reads < 20 {
                if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                    #expect(ExpositionFormat.check(text).problems.isEmpty)
                    reads += 1
                }
                usleep(20_000)
            }
            #expect(reads >= 5)
            #expect(harness.stop() == .exited(0))
            #expect(try FileManager.default.contentsOfDirectory(atPath: harness.directory + "/metrics") == ["daemon.prom"])
        }

        @Test("status and metrics count the same reports at the access server; with the embedded one, every stored report")
        func forwardedCountsAgree() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)])
            defer { harness.cleanUp() }
            try harness.start()
            let (stored, status) = harness.waitForStatus(timeout: 10) { (harness.connector($0, "chaos")?.statistics.reportsStored ?? 0) >= 1 }
            try #require(stored)
            let statistics = try #require(harness.connector(status!, "chaos")?.statistics)
            let (_, samples) = ExpositionFormat.check(try harness.cli("metrics").stdout + "\n")
            let metric = samples.first { $0.name == "integration_daemon_reports_forwarded_total" && $0.labels["connector"] == "chaos" }?.value
            #expect(statistics.reportsForwarded == statistics.reportsStored)
            #expect(metric == Double(statistics.reportsForwarded))
            #expect(harness.stop() == .exited(0))
        }

        @Test("a worker over its memory limit is replaced with cause memory, and an incident report is raised")
        func memoryGuard() throws {
            let service = DaemonHarness.chaosService(failure: "leak", afterRefreshes: 1, intervalSeconds: 0.1, extraProperties: ["leakMegabytes": .int(48)],
                                                     memoryLimitMegabytes: 32)
            let harness = try DaemonHarness(services: [service])
            defer { harness.cleanUp() }
            try harness.start()
            let (replaced, status) = harness.waitForStatus(timeout: 15) { ($0.integrationServiceSummaries.first?.worker.restartCount ?? 0) >= 1 }
            try #require(replaced, "\(String(describing: status))")
            #expect(status?.integrationServiceSummaries.first?.worker.lastExit?.cause == "memory")
            let incidents = try harness.elements().filter { $0.typeName == "IncidentReport" }
            #expect(!incidents.isEmpty)
            #expect(incidents.first?.properties["incidentClassifiers"]?["memory-limit"] == .int(1))
            #expect(incidents.first?.properties["background"]?.stringValue?.contains("over its limit of 32 MiB") == true)
            let metrics = try harness.cli("metrics").stdout
            #expect(metrics.contains("integration_daemon_worker_restarts_total{service=\"chaos-integrator\",cause=\"memory\"} "))
            #expect(harness.stop() == .exited(0))
        }

        @Test("a service that goes FAILED raises an incident report")
        func failedServiceIncident() throws {
            let restart = ServiceFixture.restart(maxRestarts: 1, withinSeconds: 60, initialBackoffSeconds: 0.01, maxBackoffSeconds: 0.01)
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "exit", restart: restart)])
            defer { harness.cleanUp() }
            try harness.start()
            harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.worker.state == "failed" }
            #expect(harness.stop() == .exited(0))
            let incident = try #require(try harness.elements().first { $0.typeName == "IncidentReport" })
            #expect(incident.properties["incidentClassifiers"]?["service-failed"] == .int(1))
            #expect(incident.properties["impactedResources"] == .array([.string("chaos")]))
        }

        @Test("systemd: READY=1 once workers are up, STATUS lines, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING=1")
        func systemdNotify() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none"), DaemonHarness.chaosService("second", connector: "second", failure: "none")])
            defer { harness.cleanUp() }
            let socketPath = harness.directory + "/notify.sock"
            let listener = try DatagramListener(path: socketPath)
            try harness.start(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"])
            let ready = listener.waitFor(timeout: 10) { $0.contains { $0.contains("READY=1") } }
            #expect(ready.contains { $0.contains("READY=1") && $0.contains("STATUS=2 of 2 integration services running") })
            // Workers do not inherit the notify socket: only the main process may notify.
            let workerPid = try #require(try harness.status().integrationServiceSummaries.first?.worker.pid)
            let environment = try #require(FileManager.default.contents(atPath: "/proc/\(workerPid)/environ"))
            #expect(!String(decoding: environment, as: UTF8.self).contains("NOTIFY_SOCKET"))
            let watchdog = listener.waitFor(timeout: 5) { $0.filter { $0 == "WATCHDOG=1" }.count >= 4 }
            #expect(watchdog.filter { $0 == "WATCHDOG=1" }.count >= 4)
            #expect(harness.stop() == .exited(0))
            let all = listener.waitFor(timeout: 5) { $0.contains { $0.hasPrefix("STOPPING=1") } }
            #expect(all.contains { $0.hasPrefix("STOPPING=1") })
        }

        @Test("--log-format json: every line is a JSON object; worker lines carry their service")
        func jsonLogs() throws {
            let harness = try DaemonHarness(services: [DaemonHarness.chaosService(failure: "throw", afterRefreshes: 1)])
            defer { harness.cleanUp() }
            let daemon = try harness.start(arguments: ["--log-format", "json", "--log-level", "debug"])
            harness.waitForStatus(timeout: 10) { $0.integrationServiceSummaries.first?.integrationConnectorReports.first?.connectorStatus == .FAILED }
            #expect(harness.stop() == .exited(0))
            let lines = daemon.stderrLines
            #expect(lines.count >= 5)
            let objects = lines.compactMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) }
            #expect(objects.count == lines.count, "not JSON: \(lines.filter { (try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8))) == nil })")
            #expect(objects.allSatisfy { $0["level"] != nil && $0["time"] != nil && $0["message"] != nil })
            let failure = objects.first { $0["message"]?.stringValue?.contains("connector failed during refresh") == true }
            #expect(failure?["service"] == .string("chaos-integrator"))
            #expect(failure?["message"]?.stringValue?.contains("connector=chaos") == true)
            #expect(failure?["level"] == .string("error"), "the worker's own level is kept")
            // Numbers are JSON numbers, so a pipeline can compare them.
            let started = try #require(objects.first { $0["message"] == .string("worker started") })
            guard case .int(let pid)? = started["pid"], pid > 1 else { Issue.record("pid is not a number: \(started)"); return }
            #expect(started["generation"] == .int(1))
            let exited = try #require(objects.first { $0["message"]?.stringValue?.hasPrefix("worker exited") == true })
            #expect(exited["pid"] == .int(pid) && exited["restarts"] == .int(0), "\(exited)")
        }
    }
}

/// A Unix datagram socket the test owns, standing in for systemd's notify socket.
final class DatagramListener: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [String] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = try UnixAddress(path: path)
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw HarnessError("bind \(path): \(errno)") }
        let socketFD = fd
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(socketFD, &buffer, buffer.count, 0)
                if n <= 0 { return }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                lock.lock(); messages.append(text); lock.unlock()
            }
        }
    }

    /// Polls (every 10 ms, at most `timeout` s) until `condition` holds over the messages received; returns them.
    func waitFor(timeout: Double, _ condition: ([String]) -> Bool) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            lock.lock(); let current = messages; lock.unlock()
            if condition(current) || Date() >= deadline { return current }
            usleep(10_000)
        }
    }

    deinit { close(fd) }
}

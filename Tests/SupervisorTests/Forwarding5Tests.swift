import Foundation
import Glibc
import Protocol
import Testing
@testable import HTTPWire
@testable import Supervisor

extension RealProcesses {
    /// Forwarding to an Egeria 5 access server (a stand-in the tests own, Egeria 5 API paths): nothing acknowledged
    /// is ever lost.
    @Suite("Forwarding to Egeria 5", .serialized)
    struct Forwarding5Tests {
        static let chaos = DaemonHarness.chaosService(failure: "none", intervalSeconds: 0.05)

        func standIn(_ harness: DaemonHarness, token: String? = nil) throws -> EgeriaStandIn {
            try EgeriaStandIn(stateFile: harness.directory + "/standin-state.jsonl", token: token)
        }

        /// Checks, while connectors keep producing, that every report the daemon has acknowledged reaches the
        /// server, that the server has nothing the daemon did not accept, each once, and in per-connector order.
        func expectAllDelivered(_ harness: DaemonHarness, _ server: EgeriaStandIn, timeout: Double = 30) throws {
            let acknowledged = try harness.reports()
            let wanted = Set(acknowledged.map(\.reportId))
            var received = try server.received()
            try eventually(timeout: timeout, interval: 0.05) {
                received = try server.received()
                return wanted.isSubset(of: Set(received.reports.map(\.reportId)))
            }
            let arrived = received.reports.map(\.reportId)
            let missing = wanted.subtracting(arrived)
            #expect(missing.isEmpty, "\(missing.count) acknowledged report(s) never reached the server")
            let acceptedNow = try harness.reports()
            #expect(Set(arrived).isSubset(of: Set(acceptedNow.map(\.reportId))), "the server holds reports the daemon never accepted")
            #expect(arrived.count == Set(arrived).count, "a report was stored twice at the server")
            #expect(received.errors.isEmpty, "\(received.errors)")
            let arrivedSet = Set(arrived)
            for connector in Set(acceptedNow.map(\.connectorName)) {
                let accepted = acceptedNow.filter { $0.connectorName == connector && arrivedSet.contains($0.reportId) }.map(\.reportId)
                let order = received.reports.filter { $0.connectorName == connector }.map(\.reportId)
                #expect(order == accepted, "per-connector order differs for \(connector)")
            }
        }

        @Test("reports reach the server with Egeria's path and body, the bearer token from the environment, in order")
        func forwardsToEgeria() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness, token: "s3cret-token")
            let access = server.accessServer(extra: ["secretEnvironmentVariable": .string("EGERIA_TOKEN")])
            try harness.writeConfig(services: [Self.chaos], accessServer: access)
            try harness.start(environment: ["EGERIA_TOKEN": "s3cret-token"])
            harness.waitForStatus(timeout: 10) { ($0.integrationServiceSummaries.first?.integrationConnectorReports.first?.statistics.reportsForwarded ?? 0) >= 5 }
            let status = try harness.status()
            #expect(status.accessServer.kind == "egeria")
            #expect(status.accessServer.lastSuccessfulForward != nil)
            #expect(harness.stop() == .exited(0))
            try harness.start(environment: ["EGERIA_TOKEN": "s3cret-token"])
            try expectAllDelivered(harness, server)
            #expect(try harness.reportStates().filter { $0.state == "forwarded" }.count >= 5)
            // The secret never reaches a worker's environment, nor the log.
            let pid = try #require(try harness.status().integrationServiceSummaries.first?.worker.pid)
            let environment = String(decoding: FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data(), as: UTF8.self)
            #expect(!environment.contains("s3cret-token"))
            #expect(!harness.daemon!.stderrLines.joined().contains("s3cret-token"))
            #expect(harness.stop() == .exited(0))
        }

        @Test("the server starts late: the daemon runs anyway, spools, and forwards everything once it answers")
        func serverStartsLate() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            server.stop()
            try harness.writeConfig(services: [Self.chaos], accessServer: server.accessServer())
            try harness.start()
            let (spooled, status) = harness.waitForStatus(timeout: 10) { $0.accessServer.backlog >= 5 && $0.accessServer.lastError != nil }
            try #require(spooled, "\(String(describing: status?.accessServer))")
            #expect(status?.accessServer.lastError?.contains("unreachable") == true)
            let text = try harness.cli("status").stdout
            #expect(text.contains("access server: egeria \(server.rootURL); backlog"))
            #expect(text.contains("last error"))
            #expect(harness.connector(status!, "chaos")?.connectorStatus != .FAILED, "connectors keep running")
            try server.restart()
            try expectAllDelivered(harness, server)
            #expect(harness.stop() == .exited(0))
        }

        @Test("server down 30 s mid-stream: nothing lost, the backlog drains in order")
        func outage() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let files = DaemonHarness.filesService(folder: "in", intervalSeconds: 0.1)
            try harness.writeConfig(services: [Self.chaos, files], accessServer: server.accessServer())
            let root = try harness.makeFolder("in")
            try harness.start()
            harness.waitForStatus(timeout: 10) { ($0.accessServer.lastSuccessfulForward) != nil }
            server.stop()
            let downSince = Date()
            var written = 0
            // Keep both connectors producing while the server is gone: chaos every 50 ms, files on each change.
            while Date().timeIntervalSince(downSince) < 30 {
                try "\(written)".place(at: root + "/file-\(written % 20).txt")
                written += 1
                usleep(500_000)
            }
            let during = try harness.status().accessServer
            #expect(during.backlog > 100, "reports spooled during the outage: \(during.backlog)")
            #expect(during.lastError != nil)
            try server.restart()
            harness.waitForStatus(timeout: 10) { ($0.accessServer.lastSuccessfulForward ?? .distantPast) > downSince }
            try expectAllDelivered(harness, server, timeout: 60)
            #expect(harness.stop() == .exited(0))
        }

        @Test("dropped connections, stalls, HTTP 500 and FFDC 500 are retried, never dead-lettered; everything arrives")
        func transientFailures() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            try harness.writeConfig(services: [Self.chaos], accessServer: server.accessServer(extra: ["requestTimeoutSeconds": .double(0.5)]))
            try harness.start()
            harness.waitForStatus(timeout: 10) { $0.accessServer.lastSuccessfulForward != nil }
            for (mode, symptom) in [("drop", "unreachable"), ("stall", "unreachable"), ("500", "stand-in told to fail"), ("ffdc-500", "repository unavailable")] {
                let switched = Date()
                try server.setMode(mode)
                let (seen, status) = harness.waitForStatus(timeout: 10) { status in
                    (status.accessServer.lastErrorTime ?? .distantPast) > switched && (status.accessServer.lastError ?? "").contains(symptom)
                }
                #expect(seen, "\(mode): \(String(describing: status?.accessServer))")
            }
            try server.setMode("ok")
            try expectAllDelivered(harness, server)
            #expect(try harness.status().accessServer.deadLetters == 0)
            #expect(harness.stop() == .exited(0))
        }

        @Test("a poison report is dead-lettered with its reason while the rest flow")
        func poisonReport() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let poison = DaemonHarness.chaosService("poison-service", connector: "poison-connector", failure: "none", intervalSeconds: 0.2)
            try harness.writeConfig(services: [Self.chaos, poison], accessServer: server.accessServer())
            try harness.start()
            let (dead, status) = harness.waitForStatus(timeout: 15) { status in
                status.accessServer.deadLetters >= 3 && (harness.connector(status, "chaos")?.statistics.reportsForwarded ?? 0) >= 20
            }
            try #require(dead, "\(String(describing: status?.accessServer))")
            #expect(harness.connector(status!, "poison-connector")?.statistics.reportsDeadLettered ?? 0 >= 3)
            #expect(status?.accessServer.lastError?.contains("InvalidParameterException") == true)
            let letters = try String(contentsOfFile: harness.directory + "/data/dead-letters.jsonl", encoding: .utf8).split(separator: "\n")
            let first = try JSONDecoder().decode(JSONValue.self, from: Data(letters[0].utf8))
            #expect(first["connectorName"] == .string("poison-connector"))
            #expect(first["reason"]?.stringValue?.contains("connector poison-connector is not registered") == true)
            #expect(first["report"]?["reportId"] == first["reportId"])
            let states = try harness.reportStates()
            #expect(states.filter { $0.report.connectorName == "poison-connector" && $0.state == "dead-lettered" }.count >= 3)
            #expect(try server.received().reports.allSatisfy { $0.connectorName == "chaos" })
            #expect(harness.stop() == .exited(0))
        }

        @Test("spool at its bound: acknowledgements stop, then resume when the server is back; nothing is dropped")
        func spoolBound() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            try server.setMode("500")
            try harness.writeConfig(services: [Self.chaos], accessServer: server.accessServer(extra: ["spoolLimitMegabytes": .double(0.004)]))
            let daemon = try harness.start()
            let (full, status) = harness.waitForStatus(timeout: 10) { $0.accessServer.spoolState == .full }
            try #require(full, "\(String(describing: status?.accessServer))")
            #expect(daemon.waitFor(timeout: 5) { _, err, _ in err.contains { $0.contains("report spool full") } })
            #expect(daemon.waitFor(timeout: 5) { _, err, _ in err.contains { $0.contains("not accepted yet") && $0.contains("spool full") } },
                    "the worker holds its report and retries")
            let storedWhileFull = try harness.status().accessServer.backlog
            // The connector's refreshes wait on the unacknowledged report: nothing new is accepted.
            let stuck = harness.waitForStatus(timeout: 1) { $0.accessServer.backlog > storedWhileFull }.ok
            #expect(!stuck, "no report accepted beyond the bound")
            try server.setMode("ok")
            let (resumed, _) = harness.waitForStatus(timeout: 15) { status in
                (harness.connector(status, "chaos")?.statistics.reportsForwarded ?? 0) > storedWhileFull + 10
            }
            #expect(resumed, "acknowledgements resumed")
            try expectAllDelivered(harness, server)
            // Nothing dropped: every chaos element written is in some acknowledged report (the last refresh may
            // still be on its way, so compare after a stop, when every refresh has reported).
            #expect(harness.stop() == .exited(0))
            let elements = Set(try harness.elements().filter { $0.typeName == "ChaosEvent" }.map(\.guid))
            #expect(elements == Set(try harness.reports().flatMap(\.createdElements)))
        }

        @Test("element writes go to Egeria's generic element API; while it is down the connector waits and retries, not FAILED")
        func elementWrites() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let root = try harness.makeFolder("in")
            try "one".place(at: root + "/a.csv")
            try "two".place(at: root + "/b.csv")
            try harness.writeConfig(services: [DaemonHarness.filesService(folder: "in", intervalSeconds: 0.1)], accessServer: server.accessServer(elementWrites: "egeria"))
            try harness.start()
            func atServer() throws -> [String: (type: String, size: Int?)] {
                var byName: [String: (String, Int?)] = [:]
                for (_, element) in try server.elements() {
                    guard let name = element["properties"]?["qualifiedName"]?.stringValue else { continue }
                    byName[name.replacingOccurrences(of: root, with: "")] = (element["typeName"]?.stringValue ?? "", element["properties"]?["size"]?.intValue)
                }
                return byName
            }
            var deadline = Date().addingTimeInterval(10)
            while (try atServer()).count < 2 && Date() < deadline { usleep(50_000) }
            #expect(try atServer()["/a.csv"]?.type == "DataFile")
            // The local mirror carries Egeria's GUIDs, and so do the reports.
            let serverGuids = Set(try server.elements().keys)
            #expect(Set(try harness.elements().map(\.guid)) == serverGuids)
            #expect(Set(try harness.reports().flatMap(\.createdElements)) == serverGuids)

            try "changed content".write(toFile: root + "/a.csv", atomically: false, encoding: .utf8)
            try FileManager.default.removeItem(atPath: root + "/b.csv")
            deadline = Date().addingTimeInterval(10)
            while (try atServer()["/a.csv"]?.size != 15 || (try atServer())["/b.csv"] != nil) && Date() < deadline { usleep(50_000) }
            #expect(try atServer()["/a.csv"]?.size == 15, "update-properties reached the server")
            #expect(try atServer()["/b.csv"] == nil, "delete reached the server")

            server.stop()
            try "three".place(at: root + "/c.csv")
            #expect(harness.daemon!.waitFor(timeout: 10) { _, err, _ in err.contains { $0.contains("refresh incomplete") } })
            let status = try harness.status()
            #expect(harness.connector(status, "files")?.connectorStatus != .FAILED, "an unreachable server is not the connector's failure")
            try server.restart()
            deadline = Date().addingTimeInterval(10)
            while (try atServer())["/c.csv"] == nil && Date() < deadline { usleep(50_000) }
            #expect(try atServer()["/c.csv"]?.type == "DataFile", "catalogued once the server answers")
            #expect(try server.received().errors.isEmpty)
            #expect(harness.stop() == .exited(0))
        }

        @Test("https with a private CA file: verified and delivered; without it the handshake is refused and reports wait")
        func tlsWithPrivateCA() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let pki = try PrivateCA(directory: harness.directory)
            let server = try EgeriaStandIn(stateFile: harness.directory + "/standin-state.jsonl", tls: (pki.serverCert, pki.serverKey))
            func arrived() -> Int {
                ((try? String(contentsOfFile: server.stateFile, encoding: .utf8)) ?? "").split(separator: "\n").count
            }
            // Without the CA file: the system trust store does not know this CA, so nothing may be sent.
            try harness.writeConfig(services: [Self.chaos], accessServer: server.accessServer())
            try harness.start()
            let (refused, status) = harness.waitForStatus(timeout: 10) { ($0.accessServer.lastError ?? "").contains("certificate verify failed") }
            #expect(refused, "\(String(describing: status?.accessServer))")
            #expect(arrived() == 0)
            #expect(harness.stop() == .exited(0))
            // With it: the spooled reports and the new ones go through, verified.
            try harness.writeConfig(services: [Self.chaos], accessServer: server.accessServer(extra: ["caFile": .string(pki.caCert)]))
            try harness.start()
            let (delivered, _) = harness.waitForStatus(timeout: 15) { (harness.connector($0, "chaos")?.statistics.reportsForwarded ?? 0) >= 5 }
            #expect(delivered)
            #expect(arrived() >= 5)
            #expect(harness.stop() == .exited(0))
        }

        @Test("SIGTERM while TLS handshakes keep failing, 30 times: the daemon exits 0 every time (OpenSSL is not torn down under a handshake)")
        func stopDuringHandshakes() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let pki = try PrivateCA(directory: harness.directory)
            let server = try EgeriaStandIn(stateFile: harness.directory + "/standin-state.jsonl", tls: (pki.serverCert, pki.serverKey))
            // No CA file: every handshake fails verification, and the forwarder retries at once, so one is nearly
            // always under way when the daemon exits.
            let accessServer = server.accessServer(extra: ["initialRetrySeconds": .double(0.01), "maxRetrySeconds": .double(0.01)])
            try harness.writeConfig(services: [Self.chaos], accessServer: accessServer)
            for round in 0..<30 {
                let daemon = try harness.start()
                // Stop after a varying number of failed handshakes.
                let failures = round % 4 + 1
                #expect(daemon.waitFor(timeout: 10) { _, err, _ in err.count { $0.contains("certificate verify failed") } >= failures })
                let status = harness.stop()
                #expect(status == .exited(0), "round \(round): \(status)")
                if status != .exited(0) { break }
            }
        }

        @Test("kill -9 of the daemon 20 times while reports stream: every acknowledged report arrives exactly once")
        func killedRepeatedly() throws {
            let harness = try DaemonHarness(config: "{}")
            defer { harness.cleanUp() }
            let server = try standIn(harness)
            let second = DaemonHarness.chaosService("second", connector: "second", failure: "none", intervalSeconds: 0.03)
            try harness.writeConfig(services: [Self.chaos, second], accessServer: server.accessServer())
            var workers: [Int32] = []
            for round in 0..<20 {
                let daemon = try harness.start()
                // Let reports stream (and some be forwarded) for a varying moment, then kill at a random point.
                let (_, status) = harness.waitForStatus(timeout: 5) { status in
                    status.integrationServiceSummaries.allSatisfy { ($0.integrationConnectorReports.first?.statistics.reportsStored ?? 0) > round * 3 }
                }
                workers += status?.integrationServiceSummaries.compactMap(\.worker.pid) ?? []
                usleep(UInt32.random(in: 0...150_000))
                daemon.signal(SIGKILL)
                #expect(daemon.waitForExit(timeout: 5) == .signaled(SIGKILL))
            }
            #expect(ProcessTable.waitUntilGone(workers, timeout: 3), "no worker outlives a killed daemon")
            try harness.start()
            #expect(try harness.reports().count > 60)
            try expectAllDelivered(harness, server, timeout: 60)
            #expect(harness.stop() == .exited(0))
        }
    }
}

import Foundation
import Glibc
import Protocol

/// What the loop does for operators between events: systemd notifications, the metrics textfile,
/// the memory guard and incident reports.
extension SupervisionLoop {
    func runPeriodicTasks(now: Double) {
        checkSpool()
        if let next = periodic.nextMetrics, now >= next, let interval = periodic.metricsInterval {
            writeMetricsFile()
            periodic.nextMetrics = now + interval
        }
        guard let notifier else { return }
        if let next = periodic.nextWatchdog, now >= next, let interval = periodic.watchdogInterval {
            // Sent by the loop itself: if the loop ever wedges, systemd's watchdog notices.
            notifier.send("WATCHDOG=1")
            periodic.nextWatchdog = now + interval
        }
        guard !isShuttingDown else { return }
        let running = services.filter(\.lifecycle.isReady).count
        let failed = services.filter { if case .failed = $0.lifecycle.state { true } else { false } }.count
        var line = "\(running) of \(services.count) integration services running"
        if failed > 0 { line += ", \(failed) failed" }
        if !periodic.readyNotified && running + failed == services.count {
            periodic.readyNotified = true
            periodic.lastStatusLine = line
            notifier.send("READY=1\nSTATUS=\(line)")
        } else if periodic.readyNotified && line != periodic.lastStatusLine {
            periodic.lastStatusLine = line
            notifier.send("STATUS=\(line)")
        }
    }

    /// Logs when the spool crosses 80 % of its bound, fills, or drains again.
    func checkSpool() {
        guard let limit = store.spoolLimitBytes else { return }
        let state = store.spoolState
        guard state != periodic.spoolState else { return }
        let bytes = store.backlog.bytes
        periodic.spoolState = state
        switch state {
        case .full: logger.error("report spool full (\(bytes) of \(limit) bytes): workers are not acknowledged until the access server takes reports again")
        case .nearLimit: logger.warning("report spool above 80 % (\(bytes) of \(limit) bytes): the access server is not keeping up or is unreachable")
        case .ok: logger.notice("report spool back under 80 % (\(bytes) of \(limit) bytes)")
        }
    }

    /// Writes the metrics to the textfile atomically (temporary file, then rename), as node_exporter needs.
    func writeMetricsFile() {
        guard let path = config.metrics?.textfile else { return }
        let temporary = path + ".tmp.\(getpid())"
        do {
            try Data(metricsText().utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary)
            logger.warning("cannot write metrics.textfile \(path): \(error)")
        }
    }

    /// Replaces the worker when a connector's refresh has run past its `refreshTimeoutSeconds` (checked at each
    /// heartbeat, on the daemon's clock): a wedged connector cannot stay REFRESHING forever while its worker
    /// keeps answering heartbeats.
    func checkRefreshDeadlines(_ service: ServiceRuntime) {
        let now = MonotonicClock.now()
        for connector in service.config.connectors {
            guard let since = service.incarnation?.refreshingSince[connector.connectorName], now - since > connector.refreshDeadlineSeconds else { continue }
            let seconds = Int(now - since)
            service.refreshOverruns[connector.connectorName, default: 0] += 1
            service.lastRefreshOverrun[connector.connectorName] = Date()
            service.incarnation?.refreshingSince[connector.connectorName] = nil
            service.logger.warning("connector \(connector.connectorName) has been refreshing for \(seconds) s, past its refreshTimeoutSeconds \(ConfigReader.format(connector.refreshDeadlineSeconds)): replacing the worker",
                                   ["connector": .text(connector.connectorName)])
            raiseIncident(service, classifier: "refresh-timeout",
                          background: "The refresh of connector \(connector.connectorName) in integration service \(service.config.urlMarker) ran \(seconds) s, past its refreshTimeoutSeconds of \(ConfigReader.format(connector.refreshDeadlineSeconds)) s; its worker (pid \(service.process?.pid ?? 0)) was replaced.")
            perform(service.lifecycle.refreshOverran(now: now), on: service)
            return
        }
    }

    /// Reads the worker's resident memory and replaces it when over its limit.
    func checkMemory(_ service: ServiceRuntime) {
        guard let pid = service.process?.pid else { return }
        // The larger of what the daemon sees of the process it spawned and what the worker reports: a worker
        // behind ssh is only visible through its report, and a local one cannot hide by under-reporting.
        let seen = ResidentMemory.bytes(of: pid)
        let reported = service.incarnation?.workerFacts?.residentMemoryBytes
        service.incarnation?.memoryBytes = [seen, reported].compactMap { $0 }.max()
        guard let limit = service.config.memoryLimitMegabytes, let bytes = service.incarnation?.memoryBytes, bytes > limit << 20 else { return }
        let megabytes = bytes >> 20
        service.logger.warning("worker uses \(megabytes) MiB resident, over its memoryLimitMegabytes \(limit): replacing it",
                               ["pid": .int(Int(pid))])
        raiseIncident(service, classifier: "memory-limit",
                      background: "The worker of integration service \(service.config.urlMarker) (pid \(pid)) used \(megabytes) MiB of resident memory, over its limit of \(limit) MiB; it was replaced.")
        perform(service.lifecycle.memoryExceeded(now: MonotonicClock.now()), on: service)
    }

    /// Records an incident report (Egeria's StewardshipAction `createIncidentReport`) at the access server.
    func raiseIncident(_ service: ServiceRuntime, classifier: String, background: String) {
        let params = CreateElement.Params(
            connectorName: config.localServerName, typeName: "IncidentReport",
            qualifiedName: "IncidentReport::\(config.localServerName)::\(service.config.urlMarker)::\(classifier)::\(GUID.random())",
            properties: [
                "background": .string(background),
                "domainIdentifier": .int(0),
                "incidentClassifiers": .object([classifier: .int(1)]),
                "impactedResources": .array(service.config.connectors.map { .string($0.connectorName) }),
                "integrationServiceURLMarker": .string(service.config.urlMarker),
                "originator": .string(config.localServerName),
                "incidentStatus": .string("RAISED"),
            ],
            metadataSourceQualifiedName: config.localServerName)
        let logger = service.logger
        store.createElement(params, service: config.localServerName) { result in
            if case .failure(let error) = result { logger.error("incident report not stored: \(error)") }
        }
        service.logger.warning("incident report raised: \(classifier)")
    }
}

/// A process's resident memory, from /proc.
enum ResidentMemory {
    static func bytes(of pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

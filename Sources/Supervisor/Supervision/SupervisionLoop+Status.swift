import Foundation
import Glibc
import Protocol

/// `status`: answered by the loop from what it holds, so it never waits on a worker.
extension SupervisionLoop {
    func status() -> DaemonStatus {
        let kept = store.keptReports
        return DaemonStatus(
            serverName: config.localServerName,
            daemon: .init(pid: getpid(), state: isShuttingDown ? "stopping" : "running", startTime: startTime,
                          dataDirectory: config.dataDirectory, storeWritable: store.writeProblem == nil,
                          storeError: store.writeProblem?.reason, storeErrorSince: store.writeProblem?.since,
                          storeSizeBytes: store.sizeBytes, storeReports: kept.count, storeOldestReport: kept.oldest,
                          droppedLogLines: LogSink.droppedLines, controlConnections: control?.figures.open ?? 0,
                          refusedControlConnections: control?.figures.refused ?? 0),
            accessServer: access.summary(),
            integrationServiceSummaries: services.map(summary))
    }

    /// Seconds as milliseconds with microsecond resolution.
    static func millis(_ seconds: Double) -> Double { (seconds * 1_000_000).rounded() / 1000 }

    private func summary(_ service: ServiceRuntime) -> DaemonStatus.ServiceSummary {
        let exit = service.lifecycle.lastExit.map { record -> DaemonStatus.ExitSummary in
            var summary = DaemonStatus.ExitSummary(cause: record.cause, description: record.status.description,
                                                   uptimeSeconds: (record.uptimeSeconds * 1000).rounded() / 1000,
                                                   time: service.lastExitTime ?? Date())
            switch record.status {
            case .exited(let code): summary.exitCode = code
            case .signaled(let signal):
                summary.signal = signal
                summary.signalName = SignalName.of(signal)
            }
            return summary
        }
        let failure: String? = if case .failed(let reason) = service.lifecycle.state { reason } else { nil }
        let worker = DaemonStatus.WorkerSummary(
            pid: service.process?.pid, state: service.stateName, restartCount: service.lifecycle.restartCount,
            lastExit: exit, failureReason: failure, protocolViolations: service.protocolViolations,
            heartbeatRoundTripMillis: service.heartbeatRoundTrip.map(Self.millis),
            readySince: service.readySince,
            lastRestart: service.exitSeenAt == nil ? nil : DaemonStatus.RestartTiming(
                exitToSpawnMillis: service.lastRestart.spawnSeconds.map(Self.millis),
                exitToReadyMillis: service.lastRestart.readySeconds.map(Self.millis)),
            residentMemoryBytes: service.memoryBytes, memoryLimitMegabytes: service.config.memoryLimitMegabytes)
        let connectors = service.config.connectors.map { config -> DaemonStatus.ConnectorReport in
            let latest = service.connectorStatus[config.connectorName]
            let totals = store.totals(connectorName: config.connectorName)
            var statistics: [String: JSONValue] = [
                "refreshCount": .int(service.earlierRefreshes[config.connectorName, default: 0] + (latest?.refreshCount ?? 0)),
                "reportsStored": .int(totals.reports),
                "elementsCreated": .int(totals.created),
                "elementsUpdated": .int(totals.updated),
                "elementsDeleted": .int(totals.deleted),
            ]
            if let last = totals.lastReportId { statistics["lastReportId"] = .string(last) }
            statistics["refreshTimeoutSeconds"] = .double(config.refreshDeadlineSeconds)
            statistics["refreshOverruns"] = .int(service.refreshOverruns[config.connectorName] ?? 0)
            if let since = service.refreshingSince[config.connectorName] {
                statistics["refreshingForSeconds"] = .double((MonotonicClock.now() - since).rounded())
            }
            if let last = service.lastRefreshOverrun[config.connectorName] {
                statistics["lastRefreshOverrunTime"] = .int(Int(EpochMillis.int64(last)))
            }
            let forwarding = store.forwardTotals(connectorName: config.connectorName)
            statistics["reportsForwarded"] = .int(forwarding.forwarded)
            statistics["reportsBacklog"] = .int(forwarding.backlog)
            statistics["reportsDeadLettered"] = .int(forwarding.deadLettered)
            if let last = forwarding.lastForward { statistics["lastForwardTime"] = .int(Int(last.timeIntervalSince1970 * 1000)) }
            if forwarding.backlog > 0, let error = access.forwardError(connectorName: config.connectorName) {
                statistics["lastForwardError"] = .string(error)
            }
            return DaemonStatus.ConnectorReport(
                connectorId: config.connectorId, connectorName: config.connectorName, connectorStatus: latest?.connectorStatus,
                lastStatusChange: latest?.lastStatusChange, lastRefreshTime: latest?.lastRefreshTime,
                minMinutesBetweenRefresh: (config.refreshPeriodSeconds ?? 0) / 60,
                failingExceptionMessage: latest?.failingExceptionMessage, statistics: statistics)
        }
        return DaemonStatus.ServiceSummary(integrationServiceURLMarker: service.config.urlMarker,
                                           integrationServiceFullName: service.config.fullName, worker: worker,
                                           integrationConnectorReports: connectors)
    }
}

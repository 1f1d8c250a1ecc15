import Foundation
import Glibc
import Forwarding
import Protocol
import Store

/// `status`: answered by the loop from what it holds, so it never waits on a worker.
extension SupervisionLoop {
    func status() -> DaemonStatus {
        let kept = store.keptReports
        let allTotals = store.allTotals()
        return DaemonStatus(
            serverName: config.localServerName,
            daemon: .init(pid: getpid(), state: isShuttingDown ? "stopping" : "running", startTime: startTime,
                          dataDirectory: config.dataDirectory, storeWritable: store.writeProblem == nil,
                          storeError: store.writeProblem?.reason, storeErrorSince: store.writeProblem?.since,
                          storeSizeBytes: store.sizeBytes, storeReports: kept.count, storeOldestReport: kept.oldest,
                          droppedLogLines: LogSink.droppedLines, controlConnections: control?.figures.open ?? 0,
                          refusedControlConnections: control?.figures.refused ?? 0,
                          platform: platform.map { door in
                              let figures = door.figures
                              return .init(address: "\(config.platform?.host ?? ""):\(door.port)", tls: door.tls != nil,
                                           openConnections: figures.open, maxConnections: door.settings.maxConnections, refusedConnections: figures.refused, requests: figures.requests,
                                           lineage: lineageTally?.figures)
                          }),
            accessServer: access.reports.summary(),
            integrationServiceSummaries: services.map { summary($0, totals: allTotals) })
    }

    /// Seconds as milliseconds with microsecond resolution.
    static func millis(_ seconds: Double) -> Double { (seconds * 1_000_000).rounded() / 1000 }

    private func summary(_ service: ServiceRuntime, totals all: [String: (reports: EmbeddedStore.ConnectorTotals, forwarding: EmbeddedStore.ForwardTotals)])
        -> DaemonStatus.ServiceSummary {
        let exit = service.lifecycle.lastExit.map { record -> DaemonStatus.ExitSummary in
            // Through ssh, 255 is ssh's own code: the connection failed, or the remote worker died of a signal.
            let description = service.config.remote != nil && record.status == .exited(RemoteWorker.transportFailureExitCode)
                ? "ssh exit 255: " + (record.cause == .unreachable ? "the host could not be reached or the connection was lost" : "the remote worker was killed by a signal")
                : record.status.description
            var summary = DaemonStatus.ExitSummary(cause: record.cause.rawValue, description: description,
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
        let unreachableSince = service.lifecycle.unreachableSince.map { Date(timeIntervalSinceNow: -(MonotonicClock.now() - $0)) }
        let worker = DaemonStatus.WorkerSummary(
            pid: service.process?.pid, workerPid: service.incarnation?.workerFacts?.pid, hostName: service.incarnation?.workerFacts?.hostName, state: service.state.rawValue, restartCount: service.lifecycle.restartCount,
            lastExit: exit, failureReason: failure, unreachableSince: unreachableSince, protocolViolations: service.protocolViolations,
            heartbeatRoundTripMillis: service.incarnation?.heartbeatRoundTrip.map(Self.millis),
            readySince: service.incarnation?.readySince,
            lastRestart: service.exitSeenAt == nil ? nil : DaemonStatus.RestartTiming(
                exitToSpawnMillis: service.lastRestart.spawnSeconds.map(Self.millis),
                exitToReadyMillis: service.lastRestart.readySeconds.map(Self.millis)),
            residentMemoryBytes: service.incarnation?.memoryBytes, memoryLimitMegabytes: service.config.memoryLimitMegabytes)
        let connectors = service.config.connectors.map { config -> DaemonStatus.ConnectorReport in
            let latest = service.connectorStatus[config.connectorName]
            let totals = all[config.connectorName]?.reports ?? EmbeddedStore.ConnectorTotals()
            let forwarding = all[config.connectorName]?.forwarding ?? EmbeddedStore.ForwardTotals()
            let statistics = DaemonStatus.ConnectorStatistics(
                refreshCount: service.earlierRefreshes[config.connectorName, default: 0] + (latest?.refreshCount ?? 0),
                reportsStored: totals.reports, elementsCreated: totals.created, elementsUpdated: totals.updated,
                elementsDeleted: totals.deleted, lastReportId: totals.lastReportId, refreshTimeoutSeconds: config.refreshDeadlineSeconds,
                refreshOverruns: service.refreshOverruns[config.connectorName] ?? 0,
                refreshingForSeconds: service.incarnation?.refreshingSince[config.connectorName].map { (MonotonicClock.now() - $0).rounded() },
                lastRefreshOverrunTime: service.lastRefreshOverrun[config.connectorName],
                reportsForwarded: access.reports.delivered(stored: totals.reports, forwarded: forwarding.forwarded), reportsBacklog: forwarding.backlog, reportsDeadLettered: forwarding.deadLettered,
                lastForwardTime: forwarding.lastForward,
                lastForwardError: forwarding.backlog > 0 ? access.reports.forwardError(connectorName: config.connectorName) : nil)
            // An unreachable remote worker's connectors wait for the host; the reason says so.
            let waiting = unreachableSince.map { since in
                "worker unreachable since \(TextTable.time(since)): \(service.lifecycle.lastExit?.status.description ?? "no connection")"
            }
            return DaemonStatus.ConnectorReport(
                connectorId: config.connectorId, connectorName: config.connectorName,
                connectorStatus: waiting == nil ? latest?.connectorStatus : .WAITING,
                lastStatusChange: latest?.lastStatusChange, lastRefreshTime: latest?.lastRefreshTime,
                minMinutesBetweenRefresh: (config.refreshPeriodSeconds ?? 0) / 60,
                failingExceptionMessage: waiting ?? latest?.failingExceptionMessage, statistics: statistics, connection: Redaction.shown(config.connection),
                connectorGUID: config.connectorGUID,
                catalogTargets: config.catalogTargets.map { targets in
                    // Every configured target, with what its worker last said of it.
                    let seen = Dictionary((latest?.catalogTargets ?? []).map { ($0.catalogTargetName, $0) }) { first, _ in first }
                    return targets.map { seen[$0.catalogTargetName] ?? CatalogTargetStatus(catalogTargetName: $0.catalogTargetName, lastRefreshTime: nil, failingExceptionMessage: nil) }
                })
        }
        // From the handshake: a worker that is down shows none until its next one.
        let lineageNames = service.incarnation?.lineageConnectors ?? []
        let latest = lineageNames.isEmpty ? 0 : store.lineageLastSeq
        let lineage = lineageNames.map { name in
            let acknowledged = store.lineageCursor(of: name)
            return DaemonStatus.LineageConnector(connectorName: name, acknowledgedSeq: acknowledged, backlog: store.lineageBacklog(after: acknowledged, upTo: latest))
        }
        return DaemonStatus.ServiceSummary(integrationServiceURLMarker: service.config.urlMarker,
                                           integrationServiceFullName: service.config.fullName, worker: worker,
                                           integrationConnectorReports: connectors, lineageConnectors: lineage.isEmpty ? nil : lineage,
                                           integrationGroup: service.config.group.map { group in
                                               let state = service.groupState
                                               return DaemonStatus.GroupSummary(
                                                   integrationGroupQualifiedName: group.qualifiedName, integrationGroupGUID: state.guid,
                                                   metadataAccessServer: "\(group.server.omagserverPlatformRootURL) \(group.server.omagserverName)",
                                                   lastReadTime: state.lastReadTime, lastReadError: state.lastError, lastReadErrorTime: state.lastErrorTime,
                                                   skippedRegistrations: state.skipped.isEmpty ? nil : state.skipped)
                                           })
    }
}

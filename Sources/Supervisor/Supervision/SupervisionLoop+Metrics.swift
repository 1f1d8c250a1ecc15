import Foundation
import Protocol

/// `integration-daemon metrics` and `metrics.textfile`: the loop's state in Prometheus form.
extension SupervisionLoop {
    func metricsText() -> String {
        var out = PrometheusText()
        let p = "integration_daemon_"
        out.family(p + "worker_up", "gauge", "1 when the service's worker is running and has answered its handshake.")
        for s in services { out.sample(p + "worker_up", [("service", s.config.urlMarker)], s.lifecycle.isReady ? 1 : 0) }
        out.family(p + "worker_state", "gauge", "The worker's current state (1 for the current one).")
        for s in services {
            let current = s.state
            for state in WorkerState.allCases {
                out.sample(p + "worker_state", [("service", s.config.urlMarker), ("state", state.rawValue)], state == current ? 1 : 0)
            }
        }
        out.family(p + "worker_restarts_total", "counter", "Worker restarts by cause.")
        for s in services {
            for cause in ExitCause.allCases where cause.restarts {
                out.sample(p + "worker_restarts_total", [("service", s.config.urlMarker), ("cause", cause.rawValue)], Double(s.restartsByCause[cause] ?? 0))
            }
        }
        out.family(p + "worker_resident_memory_bytes", "gauge", "The worker's resident memory at the last heartbeat.")
        for s in services { if let bytes = s.incarnation?.memoryBytes { out.sample(p + "worker_resident_memory_bytes", [("service", s.config.urlMarker)], Double(bytes)) } }
        out.family(p + "protocol_violations_total", "counter", "Bad lines and unexpected messages from the worker.")
        for s in services { out.sample(p + "protocol_violations_total", [("service", s.config.urlMarker)], Double(s.protocolViolations)) }
        out.family(p + "heartbeat_round_trip_seconds", "gauge", "Round trip of the last answered heartbeat.")
        for s in services { if let rtt = s.incarnation?.heartbeatRoundTrip { out.sample(p + "heartbeat_round_trip_seconds", [("service", s.config.urlMarker)], rtt) } }

        let connectors = services.flatMap { s in s.config.connectors.map { (s, $0.connectorName) } }
        out.family(p + "connector_status", "gauge", "The connector's Egeria status (1 for the current one).")
        for (s, name) in connectors {
            let current = s.connectorStatus[name]?.connectorStatus
            for status in IntegrationConnectorStatus.allCases {
                out.sample(p + "connector_status", [("service", s.config.urlMarker), ("connector", name), ("status", status.rawValue)],
                           status == current ? 1 : 0)
            }
        }
        out.family(p + "connector_refreshes_total", "counter", "Completed refreshes, across worker restarts.")
        for (s, name) in connectors {
            let count = s.earlierRefreshes[name, default: 0] + (s.connectorStatus[name]?.refreshCount ?? 0)
            out.sample(p + "connector_refreshes_total", [("service", s.config.urlMarker), ("connector", name)], Double(count))
        }
        out.family(p + "connector_refresh_overruns_total", "counter", "Refreshes that ran past refreshTimeoutSeconds (their worker was replaced).")
        for (s, name) in connectors {
            out.sample(p + "connector_refresh_overruns_total", [("service", s.config.urlMarker), ("connector", name)], Double(s.refreshOverruns[name] ?? 0))
        }
        out.family(p + "connector_refresh_duration_seconds", "histogram", "How long refreshes took.")
        for (s, name) in connectors {
            out.histogram(p + "connector_refresh_duration_seconds", [("service", s.config.urlMarker), ("connector", name)],
                          s.refreshDurations[name] ?? Histogram())
        }
        let totals = store.allTotals()
        out.family(p + "reports_accepted_total", "counter", "Integration reports acknowledged to workers (durable).")
        for (s, name) in connectors {
            out.sample(p + "reports_accepted_total", [("service", s.config.urlMarker), ("connector", name)], Double(totals[name]?.reports.reports ?? 0))
        }
        out.family(p + "reports_forwarded_total", "counter", "Integration reports stored at the access server (the embedded one stores on accept).")
        for (s, name) in connectors {
            out.sample(p + "reports_forwarded_total", [("service", s.config.urlMarker), ("connector", name)], Double(access.reports.deliveredReports(connectorName: name)))
        }
        out.family(p + "reports_backlog", "gauge", "Accepted integration reports not yet at the access server.")
        for (s, name) in connectors {
            out.sample(p + "reports_backlog", [("service", s.config.urlMarker), ("connector", name)], Double(totals[name]?.forwarding.backlog ?? 0))
        }
        out.family(p + "reports_dead_lettered_total", "counter", "Integration reports the access server rejected (in dead-letters.jsonl).")
        for (s, name) in connectors {
            out.sample(p + "reports_dead_lettered_total", [("service", s.config.urlMarker), ("connector", name)], Double(totals[name]?.forwarding.deadLettered ?? 0))
        }
        out.family(p + "store_writable", "gauge", "1 while the embedded store can be written, 0 while writes fail (disk full).")
        out.sample(p + "store_writable", [], store.writeProblem == nil ? 1 : 0)
        let kept = store.keptReports
        out.family(p + "store_size_bytes", "gauge", "The embedded store's database and WAL on disk.")
        out.sample(p + "store_size_bytes", [], Double(store.sizeBytes))
        out.family(p + "store_reports", "gauge", "Integration reports the store keeps now (retention deletes older ones).")
        out.sample(p + "store_reports", [], Double(kept.count))
        out.family(p + "store_oldest_report_timestamp_seconds", "gauge", "When the oldest kept report was stored (0 when none).")
        out.sample(p + "store_oldest_report_timestamp_seconds", [], kept.oldest?.timeIntervalSince1970 ?? 0)
        out.family(p + "log_lines_dropped_total", "counter", "Log lines dropped because stderr did not drain.")
        out.sample(p + "log_lines_dropped_total", [], Double(LogSink.droppedLines))
        out.family(p + "control_connections_refused_total", "counter", "Control connections refused: over the cap, or out of fds.")
        out.sample(p + "control_connections_refused_total", [], Double(control?.figures.refused ?? 0))
        if let door = platform?.figures {
            out.family(p + "platform_connections", "gauge", "Connections open on the REST platform door.")
            out.sample(p + "platform_connections", [], Double(door.open))
            out.family(p + "platform_connections_refused_total", "counter", "Platform door connections refused: over maxConnections, or out of fds.")
            out.sample(p + "platform_connections_refused_total", [], Double(door.refused))
            out.family(p + "platform_requests_total", "counter", "Requests the platform door handed on (framing errors and refusals not counted).")
            out.sample(p + "platform_requests_total", [], Double(door.requests))
            if let tally = lineageTally {
                out.family(p + "lineage_events_total", "counter", "OpenLineage events posted to the door, by outcome: stored, duplicate, invalid (400/415), unavailable (503).")
                for outcome in LineageTally.Outcome.allCases {
                    out.sample(p + "lineage_events_total", [("outcome", outcome.rawValue)], Double(tally.value(outcome)))
                }
            }
        }
        out.family(p + "spool_bytes", "gauge", "Bytes of accepted reports waiting in the spool.")
        out.sample(p + "spool_bytes", [], Double(store.backlog.bytes))
        return out.text
    }
}

import Foundation
import Protocol
import Store

/// The read-only commands: validate, status, reports, elements.
enum InspectCommands {
    /// A valid file: a summary, and warnings, including what this host lacks to run it (``EnvironmentCheck``).
    static func validate(config: DaemonConfig, warnings fileWarnings: [ConfigError.Issue], json: Bool) -> Int32 {
        let warnings = fileWarnings + EnvironmentCheck.issues(config)
        if json {
            let summary: JSONValue = .object([
                "valid": .bool(true), "file": .string(config.file),
                "integrationServices": .array(config.integrationServices.map { .string($0.urlMarker) }),
                "errors": .array([]), "warnings": .array(warnings.map(ConfigError.json)),
            ])
            Output.json(summary)
        } else {
            for warning in warnings { Output.error(ConfigError.line(file: config.file, warning: warning)) }
            let connectors = config.integrationServices.reduce(0) { $0 + $1.connectors.count }
            Output.text("\(config.file): valid (\(config.integrationServices.count) integration service(s), \(connectors) connector(s)"
                        + (warnings.isEmpty ? ")\n" : ", \(warnings.count) warning(s))\n"))
        }
        return 0
    }

    /// An invalid file: every error (and warning), as lines on stderr or one JSON object on stdout; exit 64.
    static func invalid(_ error: ConfigError, json: Bool) -> Int32 {
        if json {
            Output.json(JSONValue.object([
                "valid": .bool(false), "file": .string(error.file),
                "errors": .array(error.issues.map(ConfigError.json)), "warnings": .array(error.warnings.map(ConfigError.json)),
            ]))
        } else {
            Output.error("\(error)")
            for warning in error.warnings { Output.error(ConfigError.line(file: error.file, warning: warning)) }
            Output.error("\(error.issues.count) configuration error(s)")
        }
        return 64
    }

    static func render(_ status: DaemonStatus) -> String {
        var text = "\(status.serverName): \(status.daemon.state), pid \(status.daemon.pid), since \(TextTable.time(status.daemon.startTime))\n"
        if !status.daemon.storeWritable {
            text += "STORE CANNOT BE WRITTEN since \(TextTable.time(status.daemon.storeErrorSince)): \(status.daemon.storeError ?? "unknown error"); reports are refused until it can\n"
        }
        text += "store: \(TextTable.bytes(status.daemon.storeSizeBytes)), \(status.daemon.storeReports) report(s) kept"
        text += status.daemon.storeOldestReport.map { ", the oldest stored \(TextTable.time($0))\n" } ?? "\n"
        if let door = status.daemon.platform {
            text += "platform door: \(door.tls ? "https" : "http")://\(door.address), \(door.openConnections) of \(door.maxConnections) connection(s) open, \(door.requests) request(s)"
            text += door.refusedConnections > 0 ? ", \(door.refusedConnections) refused\n" : "\n"
            if let lineage = door.lineage, lineage.stored + lineage.duplicates + lineage.invalid + lineage.unavailable > 0 {
                text += "lineage events: \(lineage.stored) stored, \(lineage.duplicates) duplicate(s), \(lineage.invalid) refused as malformed, \(lineage.unavailable) refused while the store could not take them\n"
            }
        }
        if status.daemon.droppedLogLines > 0 { text += "log lines dropped (stderr did not drain): \(status.daemon.droppedLogLines)\n" }
        let access = status.accessServer
        if access.kind == "embedded" {
            text += "access server: embedded\n\n"
        } else {
            text += "access server: egeria \(access.url ?? ""); backlog \(access.backlog) report(s), \(access.backlogBytes) bytes"
            if let limit = access.spoolLimitBytes { text += " of \(limit) (\(access.spoolState))" }
            text += "; last forward \(TextTable.time(access.lastSuccessfulForward)); dead letters \(access.deadLetters)\n"
            if let error = access.lastError { text += "  last error (\(TextTable.time(access.lastErrorTime))): \(error)\n" }
            text += "\n"
        }
        for service in status.integrationServiceSummaries {
            let worker = service.worker
            let exit = worker.lastExit.map { "\($0.description) (\($0.cause))" } ?? "-"
            text += "\(service.integrationServiceURLMarker): worker \(worker.state), pid \(worker.pid.map(String.init) ?? "-"), restarts \(worker.restartCount), last exit: \(exit)"
            if worker.protocolViolations > 0 { text += ", protocol violations \(worker.protocolViolations)" }
            text += "\n"
            if let reason = worker.failureReason { text += "  FAILED: \(reason)\n" }
            if let since = worker.unreachableSince { text += "  unreachable since \(TextTable.time(since)); retrying with backoff\n" }
            if let host = worker.hostName, worker.workerPid != worker.pid || worker.workerPid == nil {
                text += "  on host \(host)\(worker.workerPid.map { ", worker pid \($0)" } ?? "")\n"
            }
            var table = TextTable("CONNECTOR", "STATUS", "LAST REFRESH", "REFRESHES", "REPORTS", "BACKLOG", "FAILURE")
            for connector in service.integrationConnectorReports {
                table.add(connector.connectorName, connector.connectorStatus?.rawValue ?? "-", TextTable.time(connector.lastRefreshTime),
                          "\(connector.statistics.refreshCount)", "\(connector.statistics.reportsStored)",
                          "\(connector.statistics.reportsBacklog)",
                          connector.failingExceptionMessage ?? connector.statistics.lastForwardError.map { "forwarding: \($0)" } ?? "")
            }
            text += table.render(indent: "  ") + "\n"
            for connector in service.lineageConnectors ?? [] {
                text += "  \(connector.connectorName): OpenLineage events acknowledged up to \(connector.acknowledgedSeq), \(connector.backlog) waiting\n"
            }
        }
        return text
    }

    static func reports(config: DaemonConfig, query: EmbeddedStore.ReportQuery, json: Bool) -> Int32 {
        guard let store = openStore(config, command: "reports") else { return 1 }
        let reports = store.reports(query)
        if json {
            for report in reports {
                // The report's own fields plus where it is on its way to the access server.
                guard var object = (try? JSONEncoder.daemon.encode(report)).flatMap({ try? JSONDecoder().decode([String: JSONValue].self, from: $0) })
                else { continue }
                let state = store.forwardState(of: report.reportId)
                object["forwardState"] = .string(state?.name ?? "pending")
                if case .deadLettered(let reason)? = state { object["deadLetterReason"] = .string(reason) }
                Output.json(object)
            }
            return 0
        }
        var table = TextTable("COMPLETED", "CONNECTOR", "CREATED", "UPDATED", "DELETED", "FORWARD", "REPORT ID")
        for report in reports {
            table.add(TextTable.time(report.refreshCompletionDate ?? report.refreshStartDate), report.connectorName,
                      "\(report.createdElements.count)", "\(report.updatedElements.count)", "\(report.deletedElements.count)",
                      store.forwardState(of: report.reportId)?.name ?? "pending", report.reportId)
        }
        Output.text(table.render() + "\(reports.count) report(s)\n")
        return 0
    }

    static func elements(config: DaemonConfig, query: EmbeddedStore.ElementQuery, json: Bool) -> Int32 {
        guard let store = openStore(config, command: "elements") else { return 1 }
        var query = query
        query.withRelationships = json
        let elements = store.findElements(query)
        if json {
            elements.forEach { Output.json($0) }
            return 0
        }
        var table = TextTable("TYPE", "QUALIFIED NAME", "VERSION", "UPDATED", "GUID")
        for element in elements {
            table.add(element.typeName, element.qualifiedName, "\(element.version)", TextTable.time(element.updateTime), element.guid)
        }
        Output.text(table.render() + "\(elements.count) element(s)\n")
        return 0
    }

    static func lineage(config: DaemonConfig, limit: Int?, offset: Int, json: Bool) -> Int32 {
        guard let store = openStore(config, command: "lineage") else { return 1 }
        let events = store.lineageEvents(limit: limit, offset: offset)
        if json {
            // As the producer sent it, on one line: in JSON a raw line break can only be whitespace between tokens
            // (inside a string it must be escaped), so it becomes a space.
            for event in events {
                Output.text(String(decoding: event.body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }, as: UTF8.self) + "\n")
            }
            return 0
        }
        var table = TextTable("EVENT TIME", "KIND", "TYPE", "JOB", "RUN ID")
        for event in events {
            let job = event.jobName.map { "\(event.jobNamespace ?? "")/\($0)" } ?? "-"
            table.add(TextTable.time(event.eventTime), event.kind, event.eventType ?? "-", job, event.runId ?? "-")
        }
        Output.text(table.render() + "\(events.count) event(s)\n")
        return 0
    }

    private static func openStore(_ config: DaemonConfig, command: String) -> EmbeddedStore? {
        do { return try EmbeddedStore(directory: config.storeDirectory, readOnly: true, settings: config.store) } catch {
            Output.error("integration-daemon \(command): \(error)")
            return nil
        }
    }
}

/// Writes command output: results to stdout, problems to stderr.
enum Output {
    static func text(_ text: String) { try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }

    static func error(_ text: String) { try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8)) }

    static func json<T: Encodable>(_ value: T) {
        guard var line = try? JSONEncoder.daemon.encode(value) else { return }
        line.append(0x0A)
        try? FileHandle.standardOutput.write(contentsOf: line)
    }
}

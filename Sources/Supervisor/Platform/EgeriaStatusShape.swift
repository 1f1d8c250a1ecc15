import Foundation
import Protocol

/// The daemon's status in Egeria 6's shapes: `IntegrationDaemonStatus` (each integration service is one
/// integration group), `IntegrationGroupSummary` and `IntegrationConnectorReport`.
struct EgeriaStatusShape {
    let status: DaemonStatus

    var daemonStatus: JSONValue {
        .object(["integrationGroupSummaries": .array(status.integrationServiceSummaries.map { group($0) }),
                 "integrationConnectorReports": .array(status.integrationServiceSummaries.flatMap { service in
                     service.integrationConnectorReports.map { report($0, of: service, topLevel: true) }
                 })])
    }

    func group(named name: String) -> DaemonStatus.ServiceSummary? {
        status.integrationServiceSummaries.first { $0.integrationServiceURLMarker == name }
    }

    func connector(named name: String) -> DaemonStatus.ConnectorReport? {
        status.integrationServiceSummaries.lazy.flatMap(\.integrationConnectorReports).first { $0.connectorName == name }
    }

    func group(_ service: DaemonStatus.ServiceSummary) -> JSONValue {
        var object: [String: JSONValue] = [
            "integrationGroupName": .string(service.integrationServiceURLMarker),
            "integrationGroupGUID": .string(Self.groupGUID(server: status.serverName, group: service.integrationServiceURLMarker)),
            "integrationGroupDescription": .string(service.integrationServiceFullName),
            "integrationGroupStatus": .string(Self.groupStatus(service.worker.state)),
            "integrationConnectorReports": .array(service.integrationConnectorReports.map { report($0, of: service, topLevel: false) }),
        ]
        if let last = service.integrationConnectorReports.compactMap(\.lastRefreshTime).max() {
            object["lastRefreshTime"] = .string(EgeriaEnvelope.date(last))
        }
        return .object(object)
    }

    /// One connector; the top-level list also carries the group's GUID, as Egeria 6.1 does.
    func report(_ connector: DaemonStatus.ConnectorReport, of service: DaemonStatus.ServiceSummary, topLevel: Bool) -> JSONValue {
        let failed = service.worker.state == "failed"
        let connectorStatus = connector.connectorStatus?.rawValue ?? (failed ? "FAILED" : "INITIALIZED")
        var object: [String: JSONValue] = [
            "connectorId": .string(connector.connectorId), "connectorName": .string(connector.connectorName),
            "connectorInstanceId": .string(connector.connectorId), "connectorStatus": .string(connectorStatus),
            "minMinutesBetweenRefresh": .int(Self.minutes(connector.minMinutesBetweenRefresh)),
            "statistics": Self.statistics(connector.statistics, minutes: connector.minMinutesBetweenRefresh),
        ]
        if topLevel {
            object["integrationGroupGUID"] = .string(Self.groupGUID(server: status.serverName, group: service.integrationServiceURLMarker))
        }
        if let connection = connector.connection { object["connection"] = Self.connection(connection, name: connector.connectorName) }
        if let changed = connector.lastStatusChange { object["lastStatusChange"] = .string(EgeriaEnvelope.date(changed)) }
        if let refreshed = connector.lastRefreshTime { object["lastRefreshTime"] = .string(EgeriaEnvelope.date(refreshed)) }
        if let message = connector.failingExceptionMessage ?? (failed ? service.worker.failureReason : nil) {
            object["failingExceptionMessage"] = .string(message)
        }
        return .object(object)
    }

    /// An OCF `Connection` bean as Egeria writes it.
    static func connection(_ connection: Connection, name: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "class": .string("Connection"), "headerVersion": .int(0), "qualifiedName": .string("\(name) Connection"),
            "connectorType": .object(["class": .string("ConnectorType"),
                                      "connectorProviderClassName": .string(connection.connectorType.connectorProviderClassName)]),
        ]
        if let address = connection.endpoint?.address {
            object["endpoint"] = .object(["class": .string("Endpoint"), "networkAddress": .string(address)])
        }
        if let properties = connection.configurationProperties { object["configurationProperties"] = .object(properties) }
        return .object(object)
    }

    /// Egeria's `long` minutes: 0 means "at start and on request only", so a sub-minute period rounds up to 1
    /// (the exact period is in statistics.refreshIntervalSeconds).
    static func minutes(_ minutes: Double) -> Int {
        minutes <= 0 ? 0 : Int(min(minutes.rounded(.up), Double(Int32.max)))
    }

    static func statistics(_ s: DaemonStatus.ConnectorStatistics, minutes: Double) -> JSONValue {
        var object: [String: JSONValue] = [
            "refreshCount": .int(s.refreshCount), "reportsStored": .int(s.reportsStored), "elementsCreated": .int(s.elementsCreated),
            "elementsUpdated": .int(s.elementsUpdated), "elementsDeleted": .int(s.elementsDeleted),
            "refreshTimeoutSeconds": .double(s.refreshTimeoutSeconds), "refreshOverruns": .int(s.refreshOverruns),
            "refreshIntervalSeconds": .double(minutes * 60), "reportsForwarded": .int(s.reportsForwarded),
            "reportsBacklog": .int(s.reportsBacklog), "reportsDeadLettered": .int(s.reportsDeadLettered),
        ]
        if let id = s.lastReportId { object["lastReportId"] = .string(id) }
        if let seconds = s.refreshingForSeconds { object["refreshingForSeconds"] = .double(seconds) }
        if let time = s.lastForwardTime { object["lastForwardTime"] = .string(EgeriaEnvelope.date(time)) }
        if let error = s.lastForwardError { object["lastForwardError"] = .string(error) }
        return .object(object)
    }

    /// Egeria's `IntegrationGroupStatus` for a worker state.
    static func groupStatus(_ workerState: String) -> String {
        switch workerState {
        case "running": "RUNNING"
        case "starting", "backoff": "CONFIGURING"
        case "failed": "FAILED"
        default: "DISABLED"
        }
    }

    /// A stable GUID for a group: the same daemon and service always give the same one.
    static func groupGUID(server: String, group: String) -> String {
        var bytes = BearerTokens.sha256(Array("\(server)::IntegrationGroup::\(group)".utf8)).prefix(16).map { $0 }
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}

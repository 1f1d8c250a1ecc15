import Foundation
import Protocol
import Synchronization

/// The daemon's status in Egeria 6's shapes: `IntegrationDaemonStatus` (each integration service is one
/// integration group), `IntegrationGroupSummary` and `IntegrationConnectorReport`.
struct EgeriaStatusShape {
    let status: DaemonStatus

    /// The whole `IntegrationDaemonStatusResponse`, written straight to bytes: with 50 services a dictionary per
    /// connector costs more than everything else in a status request.
    func daemonStatusResponse() -> [UInt8] {
        var w = JSONWriter(capacity: 2048 + 1536 * status.integrationServiceSummaries.count)
        w.raw("{\"class\":\"IntegrationDaemonStatusResponse\",\"relatedHTTPCode\":200,\"integrationDaemonStatus\":{\"integrationGroupSummaries\":")
        writeGroups(to: &w)
        w.raw(",\"integrationConnectorReports\":[")
        var first = true
        for service in status.integrationServiceSummaries {
            for connector in service.integrationConnectorReports {
                if !first { w.raw(",") }
                first = false
                write(report: connector, of: service, topLevel: true, to: &w)
            }
        }
        w.raw("]}}")
        return w.bytes
    }

    /// `IntegrationGroupSummariesResponse`.
    func groupSummariesResponse() -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + 1024 * status.integrationServiceSummaries.count)
        w.raw("{\"class\":\"IntegrationGroupSummariesResponse\",\"relatedHTTPCode\":200,\"integrationGroupSummaries\":")
        writeGroups(to: &w)
        w.raw("}")
        return w.bytes
    }

    /// `IntegrationGroupSummaryResponse` for one service.
    func groupSummaryResponse(_ service: DaemonStatus.ServiceSummary) -> [UInt8] {
        var w = JSONWriter(capacity: 2048)
        w.raw("{\"class\":\"IntegrationGroupSummaryResponse\",\"relatedHTTPCode\":200,\"integrationGroupSummary\":")
        write(group: service, to: &w)
        w.raw("}")
        return w.bytes
    }

    func group(named name: String) -> DaemonStatus.ServiceSummary? {
        status.integrationServiceSummaries.first { $0.integrationServiceURLMarker == name || $0.integrationGroup?.integrationGroupQualifiedName == name }
    }

    func connector(named name: String) -> DaemonStatus.ConnectorReport? {
        status.integrationServiceSummaries.lazy.flatMap(\.integrationConnectorReports).first { $0.connectorName == name }
    }

    /// Every service's group summary, as a JSON array.
    private func writeGroups(to w: inout JSONWriter) {
        w.raw("[")
        for (index, service) in status.integrationServiceSummaries.enumerated() {
            if index > 0 { w.raw(",") }
            write(group: service, to: &w)
        }
        w.raw("]")
    }

    /// Egeria's `IntegrationGroupSummary`: each integration service is one group.
    private func write(group service: DaemonStatus.ServiceSummary, to w: inout JSONWriter) {
        // A group from the metadata access server is named and identified as there; an integration service of the
        // file by its name and a GUID made from it.
        w.raw("{\"integrationGroupName\":"); w.string(service.integrationGroup?.integrationGroupQualifiedName ?? service.integrationServiceURLMarker)
        w.raw(",\"integrationGroupGUID\":")
        w.string(service.integrationGroup?.integrationGroupGUID ?? Self.groupGUID(server: status.serverName, group: service.integrationServiceURLMarker))
        w.raw(",\"integrationGroupDescription\":"); w.string(service.integrationServiceFullName)
        w.raw(",\"integrationGroupStatus\":"); w.string(Self.groupStatus(service.worker.state))
        if let last = service.integrationConnectorReports.compactMap(\.lastRefreshTime).max() {
            w.raw(",\"lastRefreshTime\":"); w.string(EgeriaEnvelope.date(last))
        }
        w.raw(",\"integrationConnectorReports\":[")
        for (index, connector) in service.integrationConnectorReports.enumerated() {
            if index > 0 { w.raw(",") }
            write(report: connector, of: service, topLevel: false, to: &w)
        }
        w.raw("]}")
    }

    /// Egeria's `IntegrationConnectorReport`; the top-level list also carries the group's GUID, as Egeria 6.1 does.
    private func write(report connector: DaemonStatus.ConnectorReport, of service: DaemonStatus.ServiceSummary, topLevel: Bool,
                       to w: inout JSONWriter) {
        let failed = service.worker.state == "failed"
        w.raw("{\"connectorId\":"); w.string(connector.connectorId)
        w.raw(",\"connectorName\":"); w.string(connector.connectorName)
        w.raw(",\"connectorInstanceId\":"); w.string(connector.connectorId)
        if let guid = connector.connectorGUID { w.raw(",\"connectorGUID\":"); w.string(guid) }
        w.raw(",\"connectorStatus\":"); w.string(connector.connectorStatus?.rawValue ?? (failed ? "FAILED" : "INITIALIZED"))
        if topLevel {
            w.raw(",\"integrationGroupGUID\":")
            w.string(service.integrationGroup?.integrationGroupGUID ?? Self.groupGUID(server: status.serverName, group: service.integrationServiceURLMarker))
        }
        if let connection = connector.connection {
            w.raw(",\"connection\":")
            w.value(Self.connection(connection, name: connector.connectorName))
        }
        if let changed = connector.lastStatusChange { w.raw(",\"lastStatusChange\":"); w.string(EgeriaEnvelope.date(changed)) }
        if let refreshed = connector.lastRefreshTime { w.raw(",\"lastRefreshTime\":"); w.string(EgeriaEnvelope.date(refreshed)) }
        w.raw(",\"minMinutesBetweenRefresh\":"); w.int(Self.minutes(connector.minMinutesBetweenRefresh))
        if let message = connector.failingExceptionMessage ?? (failed ? service.worker.failureReason : nil) {
            w.raw(",\"failingExceptionMessage\":"); w.string(message)
        }
        w.raw(",\"statistics\":")
        Self.write(statistics: connector.statistics, minutes: connector.minMinutesBetweenRefresh, to: &w)
        w.raw("}")
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

    static func write(statistics s: DaemonStatus.ConnectorStatistics, minutes: Double, to w: inout JSONWriter) {
        w.raw("{\"refreshCount\":"); w.int(s.refreshCount)
        w.raw(",\"reportsStored\":"); w.int(s.reportsStored)
        w.raw(",\"elementsCreated\":"); w.int(s.elementsCreated)
        w.raw(",\"elementsUpdated\":"); w.int(s.elementsUpdated)
        w.raw(",\"elementsDeleted\":"); w.int(s.elementsDeleted)
        w.raw(",\"refreshTimeoutSeconds\":"); w.double(s.refreshTimeoutSeconds)
        w.raw(",\"refreshOverruns\":"); w.int(s.refreshOverruns)
        w.raw(",\"refreshIntervalSeconds\":"); w.double(minutes * 60)
        w.raw(",\"reportsForwarded\":"); w.int(s.reportsForwarded)
        w.raw(",\"reportsBacklog\":"); w.int(s.reportsBacklog)
        w.raw(",\"reportsDeadLettered\":"); w.int(s.reportsDeadLettered)
        if let id = s.lastReportId { w.raw(",\"lastReportId\":"); w.string(id) }
        if let seconds = s.refreshingForSeconds { w.raw(",\"refreshingForSeconds\":"); w.double(seconds) }
        if let time = s.lastForwardTime { w.raw(",\"lastForwardTime\":"); w.string(EgeriaEnvelope.date(time)) }
        if let error = s.lastForwardError { w.raw(",\"lastForwardError\":"); w.string(error) }
        w.raw("}")
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

    /// A stable GUID for a group: the same daemon and service always give the same one. Made once per group.
    static func groupGUID(server: String, group: String) -> String {
        let key = server + "\u{0}" + group
        if let known = guids.withLock({ $0[key] }) { return known }
        let guid = makeGroupGUID(server: server, group: group)
        guids.withLock { $0[key] = guid }
        return guid
    }

    private static let guids = Mutex<[String: String]>([:])

    private static func makeGroupGUID(server: String, group: String) -> String {
        var bytes = BearerTokens.sha256(Array("\(server)::IntegrationGroup::\(group)".utf8)).prefix(16).map { $0 }
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}

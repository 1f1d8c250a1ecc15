import Foundation
import Protocol
import Store

/// Egeria is where reports go: each is spooled in the store, answered once durable there, and forwarded by the
/// ``ReportForwarder`` in each connector's order.
struct EgeriaReports: ReportDestination {
    let store: EmbeddedStore
    let forwarder: ReportForwarder

    func submit(_ report: IntegrationReport, body: [UInt8]?, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        store.submitReport(report, body: body, completion: completion)
    }

    func summary() -> AccessServerSummary {
        let backlog = store.backlog
        let snapshot = forwarder.snapshot
        return .init(kind: "egeria", url: forwarder.client.config.omagserverPlatformRootURL, backlog: backlog.reports, backlogBytes: backlog.bytes,
                     spoolLimitBytes: store.spoolLimitBytes, spoolState: store.spoolState, lastSuccessfulForward: snapshot.lastSuccess,
                     lastError: snapshot.lastError, lastErrorTime: snapshot.lastErrorTime, deadLetters: store.deadLetteredTotal)
    }

    func delivered(stored: Int, forwarded: Int) -> Int { forwarded }

    func forwardError(connectorName: String) -> String? { forwarder.lastError(connectorName: connectorName) }

    func anchor(server: String, connectorName: String, to elementGUID: String) {
        forwarder.client.anchor(server: server, connectorName: connectorName, to: elementGUID)
    }

    func deliveredReports(connectorName: String) -> Int { store.forwardTotals(connectorName: connectorName).forwarded }
}

import Foundation
import Protocol
import Store

/// Where element writes and integration reports go: a pair, chosen once at start from `accessServer`, since
/// Egeria with `"elementWrites": "embedded"` keeps elements here and sends only reports. The proxy, status and
/// metrics ask it; nothing else branches on the configuration.
package struct AccessServer: Sendable {
    package let elements: any ElementDestination
    package let reports: any ReportDestination

    /// The daemon's own store is the access server.
    package static func embedded(_ store: EmbeddedStore) -> AccessServer {
        AccessServer(elements: EmbeddedElements(store: store), reports: EmbeddedReports(store: store))
    }

    /// Egeria: reports spooled in the store and forwarded; elements written to Egeria first and mirrored in the
    /// store, unless `elementWrites` keeps them here.
    package static func egeria(store: EmbeddedStore, forwarder: ReportForwarder) -> AccessServer {
        let client = forwarder.client
        return AccessServer(elements: client.config.elementWritesToEgeria ? EgeriaElements(store: store, client: client) : EmbeddedElements(store: store),
                            reports: EgeriaReports(store: store, forwarder: forwarder))
    }
}

/// Where a connector's element, relationship and classification writes go. The caller has checked that what it
/// names is the connector's own.
package protocol ElementDestination: Sendable {
    /// Whether a batch's writes must run one after another (each waits for a remote answer) rather than all
    /// queued at once.
    var writesInOrder: Bool { get }

    func createElement(_ params: CreateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    /// `current` is the element as stored.
    func updateElement(_ params: UpdateElement.Params, current: MetadataElement, service: String,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    func deleteElement(_ params: DeleteElement.Params, current: MetadataElement, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    func relate(typeName: String, end1: MetadataElement, end2: MetadataElement, properties: [String: JSONValue],
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void)
    func unrelate(_ relationship: MetadataRelationship, source: String?, completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void)
    func classify(_ element: MetadataElement, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    func declassify(_ element: MetadataElement, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
}

/// Where integration reports go, and what status and metrics say about them.
package protocol ReportDestination: Sendable {
    /// Takes one report, answering once it is durable: true when stored, false when a report with its id was.
    /// `body` is the report as its worker wrote it, stored as it is.
    func submit(_ report: IntegrationReport, body: [UInt8]?, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void)
    /// What status shows under `accessServer`.
    func summary() -> AccessServerSummary
    /// Of a connector's reports, those now at the access server: every stored one for the embedded server, the
    /// forwarded ones for Egeria. Status and metrics both count with this, so they cannot disagree.
    func delivered(stored: Int, forwarded: Int) -> Int
    /// The connector's reports now at the access server (see ``delivered(stored:forwarded:)``).
    func deliveredReports(connectorName: String) -> Int
    /// The last error forwarding the connector's reports met, while some still wait.
    func forwardError(connectorName: String) -> String?
    /// The connector's `IntegrationConnector` element at the access server already exists: its reports are anchored
    /// to it rather than to one the daemon makes.
    func anchor(server: String, connectorName: String, to elementGUID: String)
}

extension ReportDestination {
    package func anchor(server: String, connectorName: String, to elementGUID: String) {}
}

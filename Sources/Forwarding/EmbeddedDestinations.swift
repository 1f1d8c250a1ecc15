import Protocol
import Store

/// The daemon's own store holds the elements.
struct EmbeddedElements: ElementDestination {
    let store: EmbeddedStore
    var writesInOrder: Bool { false }

    func createElement(_ params: CreateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        store.createElement(params, service: service, completion: completion)
    }

    func updateElement(_ params: UpdateElement.Params, current: MetadataElement, service: String,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        store.updateElement(params, service: service, completion: completion)
    }

    func deleteElement(_ params: DeleteElement.Params, current: MetadataElement, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        store.deleteElement(params, completion: completion)
    }

    func relate(typeName: String, end1: MetadataElement, end2: MetadataElement, properties: [String: JSONValue],
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        store.relate(typeName: typeName, end1GUID: end1.guid, end2GUID: end2.guid, properties: properties, completion: completion)
    }

    func unrelate(_ relationship: MetadataRelationship, source: String?, completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        store.unrelate(relationshipGUID: relationship.guid, completion: completion)
    }

    func classify(_ element: MetadataElement, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        store.classify(guid: element.guid, name: name, properties: properties, completion: completion)
    }

    func declassify(_ element: MetadataElement, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        store.declassify(guid: element.guid, name: name, completion: completion)
    }
}

/// The daemon's own store is where reports go: a report is at the server once it is stored.
struct EmbeddedReports: ReportDestination {
    let store: EmbeddedStore

    func submit(_ report: IntegrationReport, body: [UInt8]?, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        store.submitReport(report, body: body, completion: completion)
    }

    func summary() -> AccessServerSummary {
        .init(kind: "embedded", url: nil, backlog: 0, backlogBytes: 0, spoolLimitBytes: nil, spoolState: .ok,
              lastSuccessfulForward: nil, lastError: nil, lastErrorTime: nil, deadLetters: 0)
    }

    func delivered(stored: Int, forwarded: Int) -> Int { stored }

    func forwardError(connectorName: String) -> String? { nil }

    func deliveredReports(connectorName: String) -> Int { store.totals(connectorName: connectorName).reports }
}

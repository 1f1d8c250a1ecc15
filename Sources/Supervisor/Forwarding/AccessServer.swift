import Foundation
import Protocol

/// Where element writes and integration reports go, chosen once at start from `accessServer`: the embedded
/// store itself, or Egeria with the store as its local mirror and spool. The proxy, status and metrics ask
/// this instead of branching on the configuration.
protocol AccessServer: Sendable {
    /// The local store: the server itself, or Egeria's mirror (finds read it) and report spool.
    var store: EmbeddedStore { get }
    /// Whether a batch's writes must run one after another (each waits for a remote answer) rather than all
    /// queued at once.
    var writesInOrder: Bool { get }

    func createElement(_ params: CreateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    /// `current` is the element as stored, already checked to be the caller's.
    func updateElement(_ params: UpdateElement.Params, current: MetadataElement, service: String,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    func deleteElement(_ params: DeleteElement.Params, current: MetadataElement, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    /// Relates two stored elements, already checked to be the caller's.
    func relate(typeName: String, end1: MetadataElement, end2: MetadataElement, properties: [String: JSONValue],
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void)
    func unrelate(_ relationship: MetadataRelationship, source: String?, completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void)
    func classify(_ element: MetadataElement, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)
    func declassify(_ element: MetadataElement, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void)

    /// What status shows under `accessServer`.
    func summary() -> DaemonStatus.AccessServerSummary
    /// Of a connector's reports, those now at the access server: every stored one for the embedded server, the
    /// forwarded ones for Egeria. Status and metrics both count with this, so they cannot disagree.
    func delivered(stored: Int, forwarded: Int) -> Int
    /// The last error forwarding the connector's reports met, while some still wait.
    func forwardError(connectorName: String) -> String?
}

extension AccessServer {
    /// The connector's reports now at the access server (see ``delivered(stored:forwarded:)``).
    func deliveredReports(connectorName: String) -> Int {
        delivered(stored: store.totals(connectorName: connectorName).reports,
                  forwarded: store.forwardTotals(connectorName: connectorName).forwarded)
    }
}

/// How full the report spool is.
enum SpoolState: String, Codable, Sendable {
    case ok
    /// Above 80 % of its bound.
    case nearLimit = "near-limit"
    /// A report was just refused for lack of room: workers are not acknowledged until it drains.
    case full
}

/// The daemon's own store is the access server: a report is at the server once it is stored.
struct EmbeddedAccessServer: AccessServer {
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

    func summary() -> DaemonStatus.AccessServerSummary {
        .init(kind: "embedded", url: nil, backlog: 0, backlogBytes: 0, spoolLimitBytes: nil, spoolState: .ok,
              lastSuccessfulForward: nil, lastError: nil, lastErrorTime: nil, deadLetters: 0)
    }

    func delivered(stored: Int, forwarded: Int) -> Int { stored }

    func forwardError(connectorName: String) -> String? { nil }
}

/// An Egeria metadata access server: reports are spooled in the store and forwarded; element writes go to
/// Egeria first (unless `elementWrites` is `embedded`) and are mirrored in the store once Egeria has them.
struct EgeriaAccessServer: AccessServer {
    let store: EmbeddedStore
    let forwarder: ReportForwarder
    var client: EgeriaClient { forwarder.client }
    var writesInOrder: Bool { client.config.elementWritesToEgeria }

    func createElement(_ params: CreateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.createElement(params, service: service, completion: completion) }
        if let existing = store.guid(qualifiedName: params.qualifiedName) {
            return completion(.failure(.invalidParams(CreateElement.name, "an element with qualifiedName \"\(params.qualifiedName)\" already exists (guid \(existing))")))
        }
        client.createElement(params) { [store] result in
            switch result {
            case .success(let guid): store.createElement(params, service: service, guid: guid, completion: completion)
            case .failure(let outcome): completion(.failure(Self.error(outcome, CreateElement.name)))
            }
        }
    }

    func updateElement(_ params: UpdateElement.Params, current: MetadataElement, service: String,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.updateElement(params, service: service, completion: completion) }
        client.updateElement(guid: params.guid, properties: params.properties, replace: params.replaceProperties == true,
                             externalSourceName: current.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.updateElement(params, service: service, completion: completion) }
            else { completion(.failure(Self.error(outcome, UpdateElement.name))) }
        }
    }

    func deleteElement(_ params: DeleteElement.Params, current: MetadataElement, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.deleteElement(params, completion: completion) }
        client.deleteElement(guid: params.guid, externalSourceName: current.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.deleteElement(params, completion: completion) }
            else { completion(.failure(Self.error(outcome, DeleteElement.name))) }
        }
    }

    func relate(typeName: String, end1: MetadataElement, end2: MetadataElement, properties: [String: JSONValue],
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else {
            return store.relate(typeName: typeName, end1GUID: end1.guid, end2GUID: end2.guid, properties: properties, completion: completion)
        }
        client.relate(typeName: typeName, end1GUID: end1.guid, end2GUID: end2.guid, properties: properties,
                      externalSourceName: end1.metadataSourceQualifiedName) { [store] result in
            switch result {
            case .success(let guid):
                store.relate(typeName: typeName, end1GUID: end1.guid, end2GUID: end2.guid, properties: properties, guid: guid, completion: completion)
            case .failure(let outcome): completion(.failure(Self.error(outcome, WriteElements.name)))
            }
        }
    }

    func unrelate(_ relationship: MetadataRelationship, source: String?, completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.unrelate(relationshipGUID: relationship.guid, completion: completion) }
        client.unrelate(relationshipGUID: relationship.guid, externalSourceName: source) { [store] outcome in
            if outcome == .delivered { store.unrelate(relationshipGUID: relationship.guid, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    func classify(_ element: MetadataElement, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.classify(guid: element.guid, name: name, properties: properties, completion: completion) }
        client.classify(guid: element.guid, name: name, properties: properties, existing: element.classifications?[name] != nil,
                        externalSourceName: element.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.classify(guid: element.guid, name: name, properties: properties, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    func declassify(_ element: MetadataElement, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        guard client.config.elementWritesToEgeria else { return store.declassify(guid: element.guid, name: name, completion: completion) }
        client.declassify(guid: element.guid, name: name, externalSourceName: element.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.declassify(guid: element.guid, name: name, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    func summary() -> DaemonStatus.AccessServerSummary {
        let backlog = store.backlog
        let snapshot = forwarder.snapshot
        return .init(kind: "egeria", url: client.config.omagserverPlatformRootURL, backlog: backlog.reports, backlogBytes: backlog.bytes,
                     spoolLimitBytes: store.spoolLimitBytes, spoolState: store.spoolState, lastSuccessfulForward: snapshot.lastSuccess,
                     lastError: snapshot.lastError, lastErrorTime: snapshot.lastErrorTime, deadLetters: store.deadLetteredTotal)
    }

    func delivered(stored: Int, forwarded: Int) -> Int { forwarded }

    func forwardError(connectorName: String) -> String? { forwarder.lastError(connectorName: connectorName) }

    /// A failed Egeria call as the connector sees it: retryable (-32001) when the server is unreachable or
    /// failing, invalid params when it rejected the request.
    private static func error(_ outcome: EgeriaClient.Outcome, _ method: String) -> RPCError {
        switch outcome {
        case .retry(let reason): .unavailable("metadata access server unavailable (\(reason)); retry later")
        case .reject(let reason): .invalidParams(method, "rejected by the metadata access server: \(reason)")
        case .delivered: .internalError("delivered reported as a failure")
        }
    }
}

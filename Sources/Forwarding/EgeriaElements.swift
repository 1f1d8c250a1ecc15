import Foundation
import Protocol
import Store

/// Egeria holds the elements: each write goes to Egeria first and is mirrored in the store once Egeria has it,
/// so the connectors' finds read the mirror.
struct EgeriaElements: ElementDestination {
    let store: EmbeddedStore
    let client: EgeriaClient
    var writesInOrder: Bool { true }

    func createElement(_ params: CreateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
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
        client.updateElement(guid: params.guid, properties: params.properties, replace: params.replaceProperties == true,
                             externalSourceName: current.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.updateElement(params, service: service, completion: completion) }
            else { completion(.failure(Self.error(outcome, UpdateElement.name))) }
        }
    }

    func deleteElement(_ params: DeleteElement.Params, current: MetadataElement, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        client.deleteElement(guid: params.guid, externalSourceName: current.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.deleteElement(params, completion: completion) }
            else { completion(.failure(Self.error(outcome, DeleteElement.name))) }
        }
    }

    func relate(typeName: String, end1: MetadataElement, end2: MetadataElement, properties: [String: JSONValue],
                completion: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
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
        client.unrelate(relationshipGUID: relationship.guid, externalSourceName: source) { [store] outcome in
            if outcome == .delivered { store.unrelate(relationshipGUID: relationship.guid, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    func classify(_ element: MetadataElement, name: String, properties: [String: JSONValue],
                  completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        client.classify(guid: element.guid, name: name, properties: properties, existing: element.classifications?[name] != nil,
                        externalSourceName: element.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.classify(guid: element.guid, name: name, properties: properties, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    func declassify(_ element: MetadataElement, name: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        client.declassify(guid: element.guid, name: name, externalSourceName: element.metadataSourceQualifiedName) { [store] outcome in
            if outcome == .delivered { store.declassify(guid: element.guid, name: name, completion: completion) }
            else { completion(.failure(Self.error(outcome, WriteElements.name))) }
        }
    }

    /// A failed Egeria call as the connector sees it: retryable (-32001) when the server is unreachable or
    /// failing, invalid params when it rejected the request.
    static func error(_ outcome: EgeriaClient.Outcome, _ method: String) -> RPCError {
        switch outcome {
        case .retry(let reason): .unavailable("metadata access server unavailable (\(reason)); retry later")
        case .reject(let reason): .invalidParams(method, "rejected by the metadata access server: \(reason)")
        case .delivered: .internalError("delivered reported as a failure")
        }
    }
}

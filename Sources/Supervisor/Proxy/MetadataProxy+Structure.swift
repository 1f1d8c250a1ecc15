import Protocol

extension MetadataProxy {
    /// Relates two elements that the calling connector's service may both touch.
    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue], connector: String,
                done: @escaping @Sendable (Result<String, RPCError>) -> Void) {
        let end1 = ownElement(end1GUID, connector: connector), end2 = ownElement(end2GUID, connector: connector)
        switch (end1, end2) {
        case (.success(let one), .success(let two)):
            access.elements.relate(typeName: typeName, end1: one, end2: two, properties: properties) { done($0.map(\.guid)) }
        case (.failure(let error), _), (_, .failure(let error)):
            done(.failure(error))
        }
    }

    /// Removes a relationship whose ends are both the calling service's (an end already gone does not count).
    func unrelate(relationshipGUID: String, connector: String, done: @escaping @Sendable (Result<MetadataRelationship, RPCError>) -> Void) {
        if let refused = scope.refusal(connector: connector) { return done(.failure(refuse(refused))) }
        guard let relationship = store.relationship(guid: relationshipGUID) else {
            return done(.failure(.notFound("no relationship with guid \(relationshipGUID)")))
        }
        var source: String?
        for guid in [relationship.end1GUID, relationship.end2GUID] {
            guard let element = store.element(guid: guid) else { continue }
            if let refused = scope.refusal(element: element) { return done(.failure(refuse(refused))) }
            source = source ?? element.metadataSourceQualifiedName
        }
        access.elements.unrelate(relationship, source: source, completion: done)
    }

    /// Classifies the element, or declassifies it when `properties` is nil; counted as an update of the element.
    func classify(guid: String, name: String, properties: [String: JSONValue]?, connector: String, done: @escaping ElementDone) {
        let tracker = tracker
        let finish: ElementDone = { result in
            if case .success(let element) = result { tracker.record(.updated, guid: element.guid, connectorName: connector) }
            done(result)
        }
        switch ownElement(guid, connector: connector) {
        case .success(let element):
            if let properties { access.elements.classify(element, name: name, properties: properties, completion: finish) }
            else { access.elements.declassify(element, name: name, completion: finish) }
        case .failure(let error): finish(.failure(error))
        }
    }
}

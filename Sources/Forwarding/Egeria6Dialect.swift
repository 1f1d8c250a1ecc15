import Foundation
import Protocol
import Synchronization

/// Egeria 6: everything through the open metadata store's element API under the user's path, with bearer tokens
/// from the token API. A report is a `ConnectorActivityReport` element anchored to its connector's
/// `IntegrationConnector` element, which is found by unique name, or made, once.
final class Egeria6Dialect: EgeriaDialect {
    let config: EgeriaServerConfig
    /// Each connector's `IntegrationConnector` element GUID, once found or made.
    private let connectorGUIDs = Mutex<[String: String]>([:])

    init(config: EgeriaServerConfig) { self.config = config }

    func servicePath(rootPath: String) -> String {
        "\(rootPath)/servers/\(escape(config.omagserverName))/open-metadata/access-services/open-metadata-store/users/\(escape(config.userId))/"
    }

    var usesTokenAPI: Bool { true }

    func submit(_ report: IntegrationReport, mayExist: Bool, post: @escaping EgeriaPost, completion: @escaping @Sendable (EgeriaClient.Outcome) -> Void) {
        connectorGUID(report, post: post) { [self] anchor in
            switch anchor {
            case .failure(let outcome): completion(outcome)
            case .success(let guid):
                let create: @Sendable () -> Void = {
                    let body = Egeria6Bodies.activityReport(report, anchorGUID: guid, externalSourceName: nil)
                    post("metadata-elements", body) { _, outcome in completion(outcome ?? .delivered) }
                }
                guard mayExist else { return create() }
                find(Egeria6Bodies.reportQualifiedName(report), typeName: "ConnectorActivityReport", post: post) { found in
                    switch found {
                    case .failure(let outcome): completion(outcome)
                    case .success(.some): completion(.delivered)
                    case .success(.none): create()
                    }
                }
            }
        }
    }

    func anchor(server: String, connectorName: String, to elementGUID: String) {
        let name = Egeria6Bodies.connectorQualifiedName(server: server, connectorName: connectorName)
        connectorGUIDs.withLock { $0[name] = elementGUID }
    }

    /// The connector's `IntegrationConnector` element: remembered, else found by unique name, else created.
    private func connectorGUID(_ report: IntegrationReport, post: @escaping EgeriaPost,
                               completion: @escaping @Sendable (Result<String, EgeriaClient.Outcome>) -> Void) {
        let name = Egeria6Bodies.connectorQualifiedName(server: report.serverName, connectorName: report.connectorName)
        if let known = connectorGUIDs.withLock({ $0[name] }) { return completion(.success(known)) }
        find(name, typeName: "IntegrationConnector", post: post) { [self] found in
            switch found {
            case .failure(let outcome): completion(.failure(outcome))
            case .success(.some(let guid)):
                connectorGUIDs.withLock { $0[name] = guid }
                completion(.success(guid))
            case .success(.none):
                let body = Egeria6Bodies.newElement(typeName: "IntegrationConnector", properties: [
                    "qualifiedName": .string(name), "displayName": .string(report.connectorName),
                    "description": .string("Integration connector \(report.connectorName) of integration daemon \(report.serverName)"),
                ], externalSourceName: nil)
                post("metadata-elements", body) { [self] data, outcome in
                    switch EgeriaClient.guid(data, outcome) {
                    case .success(let guid):
                        connectorGUIDs.withLock { $0[name] = guid }
                        completion(.success(guid))
                    case .failure(let outcome): completion(.failure(outcome))
                    }
                }
            }
        }
    }

    /// Egeria 6's getMetadataElementByUniqueName, done as its Java client does: a search on qualifiedName EQ.
    private func find(_ name: String, typeName: String, post: EgeriaPost,
                      completion: @escaping @Sendable (Result<String?, EgeriaClient.Outcome>) -> Void) {
        post("metadata-elements/by-search-conditions", Egeria6Bodies.findByQualifiedName(name, typeName: typeName)) { data, outcome in
            switch outcome ?? .delivered {
            case .delivered: completion(.success(data.flatMap { Egeria6Bodies.guid(in: $0, qualifiedName: name) }))
            case let failure: completion(.failure(failure))
            }
        }
    }

    func createElement(_ params: CreateElement.Params) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        var properties = params.properties
        properties["qualifiedName"] = .string(params.qualifiedName)
        return .success(.init(path: "metadata-elements", body: Egeria6Bodies.newElement(
            typeName: params.typeName, properties: properties, externalSourceName: params.metadataSourceQualifiedName,
            parent: params.parent, classifications: params.initialClassifications ?? [:])))
    }

    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .success(.init(path: "metadata-elements/\(escape(guid))/update-properties",
                       body: Egeria6Bodies.updateProperties(properties, replace: replace, externalSourceName: externalSourceName)))
    }

    func deleteElement(guid: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .success(.init(path: "metadata-elements/\(escape(guid))/delete", body: Egeria6Bodies.delete(externalSourceName: externalSourceName)))
    }

    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue],
                externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .success(.init(path: "related-elements", body: Egeria6Bodies.relate(typeName: typeName, end1GUID: end1GUID, end2GUID: end2GUID,
                                                                           properties: properties, externalSourceName: externalSourceName)))
    }

    func unrelate(relationshipGUID: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .success(.init(path: "related-elements/\(escape(relationshipGUID))/delete", body: Egeria6Bodies.delete(externalSourceName: externalSourceName)))
    }

    /// Classifies the element, or (`existing`) replaces the properties of the classification it has.
    func classify(guid: String, name: String, properties: [String: JSONValue], existing: Bool,
                  externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        let path = "metadata-elements/\(escape(guid))/classifications/\(escape(name))"
        return .success(existing
            ? .init(path: path + "/update-properties", body: Egeria6Bodies.updateProperties(properties, replace: true, externalSourceName: externalSourceName))
            : .init(path: path, body: Egeria6Bodies.classify(properties: properties, externalSourceName: externalSourceName)))
    }

    func declassify(guid: String, name: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .success(.init(path: "metadata-elements/\(escape(guid))/classifications/\(escape(name))/delete",
                       body: Egeria6Bodies.delete(externalSourceName: externalSourceName)))
    }

    private func escape(_ component: String) -> String { EgeriaDialects.escape(component) }
}

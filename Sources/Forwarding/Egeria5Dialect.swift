import Foundation
import Protocol

/// Egeria 5: reports through the integration service's framework services (`IntegrationReportProperties`),
/// elements through the open metadata store's element API under the user's path, a fixed bearer token if any.
/// It has no relationship or classification calls we use.
struct Egeria5Dialect: EgeriaDialect {
    let config: EgeriaServerConfig
    private let encoder = JSONEncoder.daemon

    static let structureNeeds6 = "relationships and classifications are forwarded through Egeria 6's element API only: set accessServer.egeria.apiVersion to \"6\""

    func servicePath(rootPath: String) -> String {
        "\(rootPath)/servers/\(escape(config.omagserverName))/open-metadata/framework-services/\(escape(config.serviceURLMarker))/"
    }

    var usesTokenAPI: Bool { false }

    func submit(_ report: IntegrationReport, mayExist: Bool, post: @escaping EgeriaPost, completion: @escaping @Sendable (EgeriaClient.Outcome) -> Void) {
        let path = "open-integration/users/\(escape(config.userId))/integration-reports/\(escape(report.connectorId))/IntegrationConnector/new"
        post(path, ReportBody(report).json) { _, outcome in completion(outcome ?? .delivered) }
    }

    private var storePath: String { "open-metadata-store/users/\(escape(config.userId))/metadata-elements/" }

    func createElement(_ params: CreateElement.Params) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        if params.parent != nil || params.initialClassifications?.isEmpty == false { return .failure(.reject(Self.structureNeeds6)) }
        var properties = params.properties
        properties["qualifiedName"] = .string(params.qualifiedName)
        return encode(storePath + "new", NewElementBody(externalSourceName: params.metadataSourceQualifiedName, typeName: params.typeName,
                                                        properties: ElementProperties(properties)), "element")
    }

    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        encode(storePath + "\(escape(guid))/update-properties",
               UpdatePropertiesBody(externalSourceName: externalSourceName, replaceProperties: replace, properties: ElementProperties(properties)), "update")
    }

    func deleteElement(guid: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        encode(storePath + "\(escape(guid))/delete", UpdateRequestBody(externalSourceName: externalSourceName), "delete")
    }

    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue],
                externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> { .failure(.reject(Self.structureNeeds6)) }

    func unrelate(relationshipGUID: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .failure(.reject(Self.structureNeeds6))
    }

    func classify(guid: String, name: String, properties: [String: JSONValue], existing: Bool,
                  externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> { .failure(.reject(Self.structureNeeds6)) }

    func declassify(guid: String, name: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        .failure(.reject(Self.structureNeeds6))
    }

    private func encode(_ path: String, _ body: some Encodable, _ what: String) -> Result<EgeriaRequest, EgeriaClient.Outcome> {
        guard let encoded = try? encoder.encode(body) else { return .failure(.reject("cannot encode the \(what)")) }
        return .success(EgeriaRequest(path: path, body: encoded))
    }

    private func escape(_ component: String) -> String { EgeriaDialects.escape(component) }
}

import Foundation
import Protocol

/// Egeria 6's answers about an integration group, read as its governance-configuration service writes them: the
/// group (`IntegrationGroupElementResponse`) and pages of `RegisteredIntegrationConnectorsResponse`. Each answer is a
/// stranger's bytes: every field is type- and range-checked, and a registration that cannot run is skipped with a
/// reason that names the field, while the others run.
enum GroupRegistrations {
    /// Registrations one group may have; past this the rest are not read.
    static let maxRegistrations = 10_000
    /// How many a page asks for.
    static let pageSize = 100

    /// The group's GUID, or why the answer has none. Egeria answers an unknown name with HTTP 200 and no `element`.
    static func groupGUID(from data: Data, name: String) -> Result<String, GroupProblem> {
        guard case .object(let body)? = try? JSONParser.parse(data) else { return .failure(GroupProblem("the answer for group \(name) is not a JSON object")) }
        guard let element = body["element"], element != .null else {
            return .failure(GroupProblem("the metadata access server has no IntegrationGroup with qualifiedName \"\(name)\""))
        }
        guard case .string(let guid)? = element["elementHeader"]?["guid"], !guid.isEmpty, guid.utf8.count <= 256 else {
            return .failure(GroupProblem("the IntegrationGroup \"\(name)\" came back without element.elementHeader.guid"))
        }
        return .success(guid)
    }

    /// One page: the connectors it registers (those whose dates allow them to run at `now`), the registrations
    /// skipped with why, and how many elements it held (0 ends the paging, as in Egeria's daemon: a page may come
    /// back short when the server's security filters some out).
    static func page(_ data: Data, startingFrom: Int, now: Date) -> Result<(connectors: [IntegrationConnectorConfig], skipped: [String], count: Int), GroupProblem> {
        guard case .object(let body)? = try? JSONParser.parse(data) else { return .failure(GroupProblem("a page of registered connectors is not a JSON object")) }
        // An empty list is left out of the answer altogether (the server's list is null, and Jackson skips nulls).
        guard let list = body["elements"], list != .null else { return .success(([], [], 0)) }
        guard case .array(let elements) = list else { return .failure(GroupProblem("elements: expected an array, got \(list.compactDescription)")) }
        var connectors: [IntegrationConnectorConfig] = [], skipped: [String] = []
        for (offset, element) in elements.enumerated() {
            var reader = ConfigReader()
            let path = "elements[\(startingFrom + offset)]"
            switch connector(element, path: path, now: now, reader: &reader) {
            case .some(let connector) where reader.issues.isEmpty: connectors.append(connector)
            case .some(let connector): skipped.append("\(connector.connectorName): " + reader.issues.map(\.description).joined(separator: "; "))
            case .none where !reader.issues.isEmpty: skipped.append(reader.issues.map(\.description).joined(separator: "; "))
            case .none: break
            }
        }
        return .success((connectors, skipped, elements.count))
    }

    /// A `RegisteredIntegrationConnectorElement` as our connector, or nil when it does not run now (before its
    /// `startDate`, from its `connectorShutdownDate`) or cannot (the reader holds why).
    private static func connector(_ element: JSONValue, path p: String, now: Date, reader: inout ConfigReader) -> IntegrationConnectorConfig? {
        guard let object = reader.object(element, p, required: true) else { return nil }
        let registration = reader.object(object["registrationProperties"], "\(p).registrationProperties", required: true)
        let properties = reader.object(object["properties"], "\(p).properties", required: true)
        let connectorId = reader.string(object["connectorId"], "\(p).connectorId", required: true)
        let elementGUID = reader.string(object["elementHeader"]?["guid"], "\(p).elementHeader.guid", required: true)
        let r = "\(p).registrationProperties"
        let name = registration.flatMap { reader.string($0["connectorName"], "\(r).connectorName", required: true) }
        let user = registration.flatMap { reader.string($0["connectorUserId"], "\(r).connectorUserId") }
        let minutes = registration.flatMap { reader.number($0["refreshTimeInterval"], "\(r).refreshTimeInterval", in: 0...525_600) }
        // Egeria's converter copies metadataSourceQualifiedName into the collection's name and then overwrites it
        // with metadataCollectionQualifiedName, so that is the one that reaches its connectors; ours do the same.
        let collection = registration.flatMap { reader.string($0["metadataCollectionQualifiedName"], "\(r).metadataCollectionQualifiedName") }
        let sync = registration.flatMap { reader.choice($0["permittedSynchronization"], "\(r).permittedSynchronization", PermittedSynchronization.self) }
        // A primitive boolean in Egeria's bean: absent only from a server that did not set it, which reads false.
        let reports = registration.flatMap { reader.bool($0["generateConnectorActivityReports"], "\(r).generateConnectorActivityReports") } ?? false
        let start = registration.flatMap { reader.number($0["startDate"], "\(r).startDate", in: 0...253_402_300_799_000) }
        let shutdown = registration.flatMap { reader.number($0["connectorShutdownDate"], "\(r).connectorShutdownDate", in: 0...253_402_300_799_000) }
        let c = "\(p).properties.connection"
        let connection = properties.flatMap { reader.object($0["connection"], c, required: true) }
        let type = connection.flatMap { reader.object($0["connectorType"], "\(c).connectorType", required: true) }
        let provider = type.flatMap { reader.string($0["connectorProviderClassName"], "\(c).connectorType.connectorProviderClassName", required: true) }
        let endpoint = connection.flatMap { reader.object($0["endpoint"], "\(c).endpoint") }
        // Egeria 6 calls it networkAddress; earlier documents, and ours, address.
        let address = endpoint.flatMap { reader.string($0["networkAddress"] ?? $0["address"], "\(c).endpoint.networkAddress") }
        let configuration = connection.flatMap { reader.object($0["configurationProperties"], "\(c).configurationProperties") }
        let userId = connection.flatMap { reader.string($0["userId"], "\(c).userId") }
        if let name, name.utf8.count > 256 { reader.fail("\(r).connectorName", "longer than 256 bytes") }
        let millisecondsNow = now.timeIntervalSince1970 * 1000
        if let start, millisecondsNow < start { return nil }
        if let shutdown, millisecondsNow >= shutdown { return nil }
        guard let connectorId, let name, let provider else { return nil }
        return IntegrationConnectorConfig(
            connectorId: connectorId, connectorName: name, connectorUserId: user,
            connection: Connection(connectorType: ConnectorType(connectorProviderClassName: provider),
                                   endpoint: endpoint == nil ? nil : Endpoint(address: address),
                                   configurationProperties: configuration, userId: userId),
            refreshTimeInterval: minutes ?? 0, metadataSourceQualifiedName: collection, permittedSynchronization: sync,
            generateIntegrationReports: reports, connectorGUID: elementGUID)
    }
}

/// Why an integration group could not be read, said for the operator.
struct GroupProblem: Error, CustomStringConvertible, Sendable, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}

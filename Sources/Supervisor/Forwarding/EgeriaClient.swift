import Foundation
import Protocol

/// Talks to an Egeria metadata access server over its REST API (paths and bodies in docs/egeria.md).
///
/// Egeria answers HTTP 200 with an FFDC body even for failures; `relatedHTTPCode` and `exceptionClassName`
/// in the body decide, not only the HTTP status.
final class EgeriaClient: Sendable {
    let config: EgeriaServerConfig
    private let secret: String?
    /// Keep-alive HTTP/1.1, TLS through OpenSSL for `https://`. Not URLSession: it costs ~5× the CPU per
    /// request on Linux, cannot trust a private CA, and would load libcurl into every daemon.
    private let transport: SocketHTTPTransport
    private let encoder = JSONEncoder.daemon

    /// What became of one request.
    enum Outcome: Error, Sendable, Equatable {
        case delivered
        /// The server is unreachable or failed (refused, timeout, 5xx, 401/403/429): try again later.
        case retry(String)
        /// The server rejected the request itself (4xx, FFDC parameter error): retrying cannot help.
        case reject(String)
    }

    init(config: EgeriaServerConfig, secret: String?) throws {
        secret.map(Redaction.register)
        self.config = config
        self.secret = secret
        guard let root = URL(string: config.omagserverPlatformRootURL),
              let transport = try SocketHTTPTransport(root: root, connections: config.maxInFlight,
                                                      timeoutSeconds: config.requestTimeoutSeconds, caFile: config.caFile) else {
            throw OpenSSL.TLSError(description: "\(config.omagserverPlatformRootURL) is not an http:// or https:// URL")
        }
        self.transport = transport
    }

    /// `POST …/open-integration/users/{userId}/integration-reports/{connectorId}/IntegrationConnector/new`.
    func submit(_ report: IntegrationReport, completion: @escaping @Sendable (Outcome) -> Void) {
        let path = "open-integration/users/\(encode(config.userId))/integration-reports/\(encode(report.connectorId))/IntegrationConnector/new"
        post(path, encoded: ReportBody(report).json) { _, outcome in completion(outcome ?? .delivered) }
    }

    /// `POST …/open-metadata-store/users/{userId}/metadata-elements/new`; the new element's GUID on success.
    func createElement(_ params: CreateElement.Params, completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        var properties = params.properties
        properties["qualifiedName"] = .string(params.qualifiedName)
        let body = NewElementBody(externalSourceName: params.metadataSourceQualifiedName, typeName: params.typeName,
                                  properties: ElementProperties(properties))
        post("open-metadata-store/users/\(encode(config.userId))/metadata-elements/new", body: body) { data, outcome in
            switch outcome ?? .delivered {
            case .delivered:
                guard let guid = data.flatMap({ try? JSONDecoder().decode(JSONValue.self, from: $0) })?["guid"]?.stringValue else {
                    return completion(.failure(.retry("GUIDResponse without a guid")))
                }
                completion(.success(guid))
            case let failure: completion(.failure(failure))
            }
        }
    }

    /// `POST …/metadata-elements/{guid}/update-properties`.
    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?,
                       completion: @escaping @Sendable (Outcome) -> Void) {
        let body = UpdatePropertiesBody(externalSourceName: externalSourceName, replaceProperties: replace, properties: ElementProperties(properties))
        post("open-metadata-store/users/\(encode(config.userId))/metadata-elements/\(encode(guid))/update-properties", body: body) { _, outcome in
            completion(outcome ?? .delivered)
        }
    }

    /// `POST …/metadata-elements/{guid}/delete`.
    func deleteElement(guid: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        post("open-metadata-store/users/\(encode(config.userId))/metadata-elements/\(encode(guid))/delete",
             body: UpdateRequestBody(externalSourceName: externalSourceName)) { _, outcome in completion(outcome ?? .delivered) }
    }

    /// The base of the framework services: `{root}/servers/{server}/open-metadata/framework-services/{marker}/`.
    var baseURL: String {
        var root = config.omagserverPlatformRootURL
        while root.hasSuffix("/") { root.removeLast() }
        return "\(root)/servers/\(encode(config.omagserverName))/open-metadata/framework-services/\(encode(config.serviceURLMarker))/"
    }

    private func post<T: Encodable>(_ path: String, body: T, completion: @escaping @Sendable (Data?, Outcome?) -> Void) {
        do { post(path, encoded: try encoder.encode(body), completion: completion) } catch {
            completion(nil, .reject("cannot encode the request: \(error)"))
        }
    }

    private func post(_ path: String, encoded data: Data, completion: @escaping @Sendable (Data?, Outcome?) -> Void) {
        let full = baseURL + path
        guard let start = full.range(of: "://").flatMap({ full[$0.upperBound...].firstIndex(of: "/") }) else {
            return completion(nil, .reject("bad URL \(full)"))
        }
        var headers: [(String, String)] = []
        if let secret { headers.append(("Authorization", "Bearer \(secret)")) }
        transport.post(path: String(full[start...]), body: data, headers: headers) { result in
            switch result {
            // A server may echo the request's headers in its error text: scrub before anyone records it.
            case .success(let response): completion(response.body, Self.classify(status: response.status, body: response.body).redacted)
            case .failure(let error): completion(nil, .retry(Redaction.scrub("unreachable: \(error)")))
            }
        }
    }

    private func encode(_ component: String) -> String {
        // UUIDs and plain names need no escaping; CharacterSet-based escaping is costly per report.
        if component.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) {
            return component
        }
        return component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }

    private static let exceptionMarker = Data("exceptionClassName".utf8)
    private static let relatedMarker = Data("relatedHTTPCode".utf8)
    private static let related200 = Data("\"relatedHTTPCode\":200".utf8)

    /// Delivered, retry or reject, from the HTTP status and Egeria's FFDC fields in the body.
    static func classify(status: Int, body data: Data?) -> Outcome {
        // The common answer, a plain VoidResponse, is recognised without decoding JSON.
        if (200..<300).contains(status), let data, data.range(of: Self.exceptionMarker) == nil,
           data.range(of: Self.relatedMarker) == nil || data.range(of: Self.related200) != nil {
            return .delivered
        }
        let body = data.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        let related = body?["relatedHTTPCode"]?.intValue ?? status
        let exception = body?["exceptionClassName"]?.stringValue
        let message = body?["exceptionErrorMessage"]?.stringValue
        let detail = [exception, message].compactMap { $0 }.joined(separator: ": ")
        let code = status >= 300 ? status : related
        switch code {
        case 200..<300:
            return exception == nil ? .delivered : .retry("HTTP \(status) with \(detail)")
        case 401, 403, 408, 429:
            return .retry("HTTP \(code)\(detail.isEmpty ? "" : " \(detail)")")
        case 400..<500:
            return .reject("HTTP \(code)\(detail.isEmpty ? "" : " \(detail)")")
        default:
            return .retry("HTTP \(code)\(detail.isEmpty ? "" : " \(detail)")")
        }
    }
}

/// Egeria's `IntegrationReportProperties`, with our report id in `additionalProperties.reportId` as the
/// idempotency key for replays after a crash.
struct ReportBody: Encodable {
    let `class` = "IntegrationReportProperties"
    let serverName: String
    let connectorId: String
    let connectorName: String
    let refreshStartDate: Date
    let refreshCompletionDate: Date?
    let createdElements: [String]
    let updatedElements: [String]
    let deletedElements: [String]
    let additionalProperties: [String: String]

    init(_ report: IntegrationReport) {
        serverName = report.serverName
        connectorId = report.connectorId
        connectorName = report.connectorName
        refreshStartDate = report.refreshStartDate
        refreshCompletionDate = report.refreshCompletionDate
        createdElements = report.createdElements
        updatedElements = report.updatedElements
        deletedElements = report.deletedElements
        additionalProperties = report.additionalProperties.merging(["reportId": report.reportId]) { _, ours in ours }
    }

    /// The same JSON as `JSONEncoder.daemon` would write, built directly: it is made once per forwarded report.
    var json: Data {
        func list(_ values: [String]) -> String { "[" + values.map(JSONText.quoted).joined(separator: ",") + "]" }
        func millis(_ date: Date) -> String { String(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }
        let properties = additionalProperties.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(additionalProperties[$0]!))" }
        var text = "{\"additionalProperties\":{\(properties.joined(separator: ","))},\"class\":\"IntegrationReportProperties\""
        text += ",\"connectorId\":\(JSONText.quoted(connectorId)),\"connectorName\":\(JSONText.quoted(connectorName))"
        text += ",\"createdElements\":\(list(createdElements)),\"deletedElements\":\(list(deletedElements))"
        if let refreshCompletionDate { text += ",\"refreshCompletionDate\":\(millis(refreshCompletionDate))" }
        text += ",\"refreshStartDate\":\(millis(refreshStartDate)),\"serverName\":\(JSONText.quoted(serverName))"
        text += ",\"updatedElements\":\(list(updatedElements))}"
        return Data(text.utf8)
    }
}

/// Egeria's `NewMetadataElementRequestBody` (the fields we set).
struct NewElementBody: Encodable {
    let `class` = "NewMetadataElementRequestBody"
    let externalSourceName: String?
    let typeName: String
    let initialStatus = "ACTIVE"
    let properties: ElementProperties
}

/// Egeria's `UpdatePropertiesRequestBody`.
struct UpdatePropertiesBody: Encodable {
    let `class` = "UpdatePropertiesRequestBody"
    let externalSourceName: String?
    let replaceProperties: Bool
    let forLineage = false
    let forDuplicateProcessing = false
    let properties: ElementProperties
}

/// Egeria's `UpdateRequestBody` (the delete call's body).
struct UpdateRequestBody: Encodable {
    let `class` = "UpdateRequestBody"
    let externalSourceName: String?
    let forLineage = false
    let forDuplicateProcessing = false
}

/// Egeria's `ElementProperties`: each value a `PrimitiveTypePropertyValue` with its open metadata type.
struct ElementProperties: Encodable {
    let `class` = "ElementProperties"
    let propertyValueMap: [String: PrimitiveValue]

    init(_ properties: [String: JSONValue]) {
        propertyValueMap = properties.mapValues(PrimitiveValue.init)
    }

    /// One `PrimitiveTypePropertyValue`; structured JSON values are sent as their JSON text.
    struct PrimitiveValue: Encodable {
        let `class` = "PrimitiveTypePropertyValue"
        let typeName: String
        let primitiveTypeCategory: String
        let primitiveValue: JSONValue

        init(_ value: JSONValue) {
            switch value {
            case .bool: (typeName, primitiveTypeCategory, primitiveValue) = ("boolean", "OM_PRIMITIVE_TYPE_BOOLEAN", value)
            case .int: (typeName, primitiveTypeCategory, primitiveValue) = ("long", "OM_PRIMITIVE_TYPE_LONG", value)
            case .double: (typeName, primitiveTypeCategory, primitiveValue) = ("double", "OM_PRIMITIVE_TYPE_DOUBLE", value)
            case .string: (typeName, primitiveTypeCategory, primitiveValue) = ("string", "OM_PRIMITIVE_TYPE_STRING", value)
            default: (typeName, primitiveTypeCategory, primitiveValue) = ("string", "OM_PRIMITIVE_TYPE_STRING", .string(value.compactDescription))
            }
        }
    }
}

extension EgeriaClient.Outcome {
    /// The outcome with secrets scrubbed from its reason.
    var redacted: Self {
        switch self {
        case .delivered: .delivered
        case .retry(let reason): .retry(Redaction.scrub(reason))
        case .reject(let reason): .reject(Redaction.scrub(reason))
        }
    }
}

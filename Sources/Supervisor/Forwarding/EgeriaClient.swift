import Foundation
import HTTPWire
import Protocol
import Synchronization
import SystemShims

/// Talks to an Egeria metadata access server over its REST API: Egeria 6's open-metadata-store element API
/// (reports as `ConnectorActivityReport` elements, a bearer token from the token API) or Egeria 5's framework
/// services. Paths and bodies are in docs/egeria.md.
///
/// Egeria answers HTTP 200 with an FFDC body even for failures; `relatedHTTPCode` and `exceptionClassName`
/// in the body decide, not only the HTTP status.
final class EgeriaClient: Sendable {
    let config: EgeriaServerConfig
    /// Egeria 5, or Egeria 6 without a password: a fixed bearer token.
    private let secret: String?
    /// Egeria 6 with a password: tokens from the token API.
    let tokens: EgeriaTokens?
    /// Keep-alive HTTP/1.1, TLS through OpenSSL for `https://`. Not URLSession: it costs ~5× the CPU per
    /// request on Linux, cannot trust a private CA, and would load libcurl into every daemon.
    private let transport: SocketHTTPTransport
    private let encoder = JSONEncoder.daemon
    /// The path of the platform root URL (usually empty), and the service base under it.
    private let rootPath: String
    private let servicePath: String
    /// Each connector's `IntegrationConnector` element GUID, once found or made (Egeria 6).
    private let connectorGUIDs = Mutex<[String: String]>([:])

    /// What became of one request.
    enum Outcome: Error, Sendable, Equatable {
        case delivered
        /// The server is unreachable or failed (refused, timeout, 5xx, 401/403/429): try again later.
        case retry(String)
        /// The server rejected the request itself (4xx, FFDC parameter error): retrying cannot help.
        case reject(String)
    }

    init(config: EgeriaServerConfig, secret: String?, password: String? = nil) throws {
        secret.map(Redaction.register)
        self.config = config
        self.secret = secret
        guard let root = URL(string: config.omagserverPlatformRootURL),
              let transport = try SocketHTTPTransport(root: root, connections: config.maxInFlight,
                                                      timeoutSeconds: config.requestTimeoutSeconds, caFile: config.caFile) else {
            throw OpenSSL.TLSError(description: "\(config.omagserverPlatformRootURL) is not an http:// or https:// URL")
        }
        self.transport = transport
        var path = root.path
        while path.hasSuffix("/") { path.removeLast() }
        rootPath = path
        let server = Self.escape(config.omagserverName)
        switch config.apiVersion {
        case .v6: servicePath = "\(path)/servers/\(server)/open-metadata/access-services/open-metadata-store/users/\(Self.escape(config.userId))/"
        case .v5: servicePath = "\(path)/servers/\(server)/open-metadata/framework-services/\(Self.escape(config.serviceURLMarker))/"
        }
        if config.apiVersion == .v6, let password {
            let tokenPath = path + "/api/token"
            tokens = EgeriaTokens(userId: config.userId, password: password, renewSeconds: config.tokenRenewSeconds) { body, completion in
                transport.post(path: tokenPath, body: body, headers: [], completion: completion)
            }
        } else {
            tokens = nil
        }
    }

    /// Where reports go, for logs and status.
    var baseURL: String {
        var root = config.omagserverPlatformRootURL
        while root.hasSuffix("/") { root.removeLast() }
        if let range = root.range(of: "://"), let slash = root[range.upperBound...].firstIndex(of: "/") { root = String(root[..<slash]) }
        return root + servicePath
    }

    // MARK: - Reports

    /// Forwards one report. `mayExist`: an earlier attempt may have reached the server (it was sent before a crash,
    /// or its answer was lost), so Egeria 6 is asked first; stock Egeria does not de-duplicate.
    func submit(_ report: IntegrationReport, mayExist: Bool = false, completion: @escaping @Sendable (Outcome) -> Void) {
        switch config.apiVersion {
        case .v5:
            let path = "open-integration/users/\(Self.escape(config.userId))/integration-reports/\(Self.escape(report.connectorId))/IntegrationConnector/new"
            post(servicePath + path, body: ReportBody(report).json) { _, _, outcome in completion(outcome ?? .delivered) }
        case .v6:
            connectorGUID(report) { [self] anchor in
                switch anchor {
                case .failure(let outcome): completion(outcome)
                case .success(let guid):
                    let create: @Sendable () -> Void = { [self] in
                        let body = Egeria6Bodies.activityReport(report, anchorGUID: guid, externalSourceName: nil)
                        post(servicePath + "metadata-elements", body: body) { _, _, outcome in completion(outcome ?? .delivered) }
                    }
                    guard mayExist else { return create() }
                    let name = Egeria6Bodies.reportQualifiedName(report)
                    find(name, typeName: "ConnectorActivityReport") { found in
                        switch found {
                        case .failure(let outcome): completion(outcome)
                        case .success(.some): completion(.delivered)
                        case .success(.none): create()
                        }
                    }
                }
            }
        }
    }

    /// The connector's `IntegrationConnector` element: remembered, else found by unique name, else created.
    private func connectorGUID(_ report: IntegrationReport, completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        let name = Egeria6Bodies.connectorQualifiedName(server: report.serverName, connectorName: report.connectorName)
        if let known = connectorGUIDs.withLock({ $0[name] }) { return completion(.success(known)) }
        find(name, typeName: "IntegrationConnector") { [self] found in
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
                post(servicePath + "metadata-elements", body: body) { [self] _, data, outcome in
                    switch Self.guid(data, outcome) {
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
    private func find(_ name: String, typeName: String, completion: @escaping @Sendable (Result<String?, Outcome>) -> Void) {
        post(servicePath + "metadata-elements/by-search-conditions", body: Egeria6Bodies.findByQualifiedName(name, typeName: typeName)) { _, data, outcome in
            switch outcome ?? .delivered {
            case .delivered: completion(.success(data.flatMap { Egeria6Bodies.guid(in: $0, qualifiedName: name) }))
            case let failure: completion(.failure(failure))
            }
        }
    }

    // MARK: - Elements

    /// Creates an element; the new element's GUID on success.
    func createElement(_ params: CreateElement.Params, completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        var properties = params.properties
        properties["qualifiedName"] = .string(params.qualifiedName)
        let path: String
        let body: Data
        switch config.apiVersion {
        case .v6:
            path = servicePath + "metadata-elements"
            body = Egeria6Bodies.newElement(typeName: params.typeName, properties: properties, externalSourceName: params.metadataSourceQualifiedName,
                                            parent: params.parent, classifications: params.initialClassifications ?? [:])
        case .v5:
            if params.parent != nil || params.initialClassifications?.isEmpty == false {
                return completion(.failure(.reject(Self.structureNeeds6)))
            }
            path = servicePath + "open-metadata-store/users/\(Self.escape(config.userId))/metadata-elements/new"
            guard let encoded = try? encoder.encode(NewElementBody(externalSourceName: params.metadataSourceQualifiedName, typeName: params.typeName,
                                                                   properties: ElementProperties(properties))) else {
                return completion(.failure(.reject("cannot encode the element")))
            }
            body = encoded
        }
        post(path, body: body) { _, data, outcome in completion(Self.guid(data, outcome)) }
    }

    /// Updates an element's properties (all of them with `replace`).
    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?,
                       completion: @escaping @Sendable (Outcome) -> Void) {
        switch config.apiVersion {
        case .v6:
            post(servicePath + "metadata-elements/\(Self.escape(guid))/update-properties",
                 body: Egeria6Bodies.updateProperties(properties, replace: replace, externalSourceName: externalSourceName)) { _, _, outcome in
                completion(outcome ?? .delivered)
            }
        case .v5:
            let body = UpdatePropertiesBody(externalSourceName: externalSourceName, replaceProperties: replace, properties: ElementProperties(properties))
            guard let encoded = try? encoder.encode(body) else { return completion(.reject("cannot encode the update")) }
            post(servicePath + "open-metadata-store/users/\(Self.escape(config.userId))/metadata-elements/\(Self.escape(guid))/update-properties",
                 body: encoded) { _, _, outcome in completion(outcome ?? .delivered) }
        }
    }

    /// Deletes an element.
    func deleteElement(guid: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        let path: String
        let body: Data
        switch config.apiVersion {
        case .v6:
            path = servicePath + "metadata-elements/\(Self.escape(guid))/delete"
            body = Egeria6Bodies.delete(externalSourceName: externalSourceName)
        case .v5:
            path = servicePath + "open-metadata-store/users/\(Self.escape(config.userId))/metadata-elements/\(Self.escape(guid))/delete"
            guard let encoded = try? encoder.encode(UpdateRequestBody(externalSourceName: externalSourceName)) else {
                return completion(.reject("cannot encode the delete"))
            }
            body = encoded
        }
        post(path, body: body) { _, _, outcome in completion(outcome ?? .delivered) }
    }

    // MARK: - Relationships and classifications (Egeria 6's element API)

    static let structureNeeds6 = "relationships and classifications are forwarded through Egeria 6's element API only: set accessServer.egeria.apiVersion to \"6\""

    /// Relates two elements; the new relationship's GUID on success.
    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue], externalSourceName: String?,
                completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        guard config.apiVersion == .v6 else { return completion(.failure(.reject(Self.structureNeeds6))) }
        post(servicePath + "related-elements", body: Egeria6Bodies.relate(typeName: typeName, end1GUID: end1GUID, end2GUID: end2GUID,
                                                                          properties: properties, externalSourceName: externalSourceName)) { _, data, outcome in
            completion(Self.guid(data, outcome))
        }
    }

    func unrelate(relationshipGUID: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        guard config.apiVersion == .v6 else { return completion(.reject(Self.structureNeeds6)) }
        post(servicePath + "related-elements/\(Self.escape(relationshipGUID))/delete",
             body: Egeria6Bodies.delete(externalSourceName: externalSourceName)) { _, _, outcome in completion(outcome ?? .delivered) }
    }

    /// Classifies the element, or (`existing`) replaces the properties of the classification it has.
    func classify(guid: String, name: String, properties: [String: JSONValue], existing: Bool, externalSourceName: String?,
                  completion: @escaping @Sendable (Outcome) -> Void) {
        guard config.apiVersion == .v6 else { return completion(.reject(Self.structureNeeds6)) }
        let path = servicePath + "metadata-elements/\(Self.escape(guid))/classifications/\(Self.escape(name))"
        let body = existing ? Egeria6Bodies.updateProperties(properties, replace: true, externalSourceName: externalSourceName)
                            : Egeria6Bodies.classify(properties: properties, externalSourceName: externalSourceName)
        post(existing ? path + "/update-properties" : path, body: body) { _, _, outcome in completion(outcome ?? .delivered) }
    }

    func declassify(guid: String, name: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        guard config.apiVersion == .v6 else { return completion(.reject(Self.structureNeeds6)) }
        post(servicePath + "metadata-elements/\(Self.escape(guid))/classifications/\(Self.escape(name))/delete",
             body: Egeria6Bodies.delete(externalSourceName: externalSourceName)) { _, _, outcome in completion(outcome ?? .delivered) }
    }

    // MARK: - HTTP

    /// POSTs `body` to `path` with the bearer token; a 401 with a token from the token API gets one more try with
    /// a new token. The completion has the HTTP status (0 when unreachable), the body and the outcome.
    private func post(_ path: String, body: Data, renewed: Bool = false, completion: @escaping @Sendable (Int, Data?, Outcome?) -> Void) {
        guard let tokens else {
            let headers = secret.map { [("Authorization", "Bearer \($0)")] } ?? []
            return send(path, body: body, headers: headers, completion: completion)
        }
        tokens.withToken { [self] result in
            switch result {
            case .failure(let outcome): completion(0, nil, outcome)
            case .success(let token):
                send(path, body: body, headers: [("Authorization", "Bearer \(token)")]) { [self] status, data, outcome in
                    if status == 401 && !renewed {
                        tokens.invalidate(token)
                        return post(path, body: body, renewed: true, completion: completion)
                    }
                    completion(status, data, outcome)
                }
            }
        }
    }

    private func send(_ path: String, body: Data, headers: [(String, String)], completion: @escaping @Sendable (Int, Data?, Outcome?) -> Void) {
        transport.post(path: path, body: body, headers: headers) { result in
            switch result {
            // A server may echo the request's headers in its error text: scrub before anyone records it.
            case .success(let response):
                completion(response.status, response.body, Self.classify(status: response.status, body: response.body).redacted)
            case .failure(let error): completion(0, nil, .retry(Redaction.scrub("unreachable: \(error)")))
            }
        }
    }

    /// The `guid` of a `GUIDResponse`, or why there is none.
    private static func guid(_ data: Data?, _ outcome: Outcome?) -> Result<String, Outcome> {
        switch outcome ?? .delivered {
        case .delivered:
            guard let data, case .object(let body)? = try? JSONParser.parse(data), case .string(let guid)? = body["guid"], !guid.isEmpty else {
                return .failure(.retry("GUIDResponse without a guid"))
            }
            return .success(guid)
        case let failure: return .failure(failure)
        }
    }

    private static func escape(_ component: String) -> String {
        // UUIDs and plain names need no escaping; CharacterSet-based escaping is costly per report.
        if component.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) {
            return component
        }
        return component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }

    private static let exceptionMarker = Data("exceptionClassName".utf8)
    private static let relatedMarker = Data("relatedHTTPCode".utf8)
    private static let related200 = Data("\"relatedHTTPCode\":200".utf8)

    /// Whether `needle` occurs in `data`, by glibc's memmem (through SystemShims): Foundation's `range(of:)` is a generic search that
    /// cost more than the rest of classifying an answer.
    private static func contains(_ data: Data, _ needle: Data) -> Bool {
        data.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, let wanted = pattern.baseAddress else { return false }
                return shim_contains(base, haystack.count, wanted, pattern.count) != 0
            }
        }
    }

    /// Delivered, retry or reject, from the HTTP status and Egeria's FFDC fields in the body.
    static func classify(status: Int, body data: Data?) -> Outcome {
        // The common answer, a plain VoidResponse, is recognised without decoding JSON.
        if (200..<300).contains(status), let data, !contains(data, Self.exceptionMarker),
           !contains(data, Self.relatedMarker) || contains(data, Self.related200) {
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


import Foundation
import HTTPWire
import Protocol
import Synchronization
import SystemShims

/// Talks to an Egeria metadata access server over its REST API: the HTTP, the bearer token and the reading of
/// answers. Where each call goes and what it sends is the ``EgeriaDialect`` of the configured API version (Egeria 6's
/// open-metadata-store element API, or Egeria 5's framework services); paths and bodies are in docs/egeria.md.
///
/// Egeria answers HTTP 200 with an FFDC body even for failures; `relatedHTTPCode` and `exceptionClassName`
/// in the body decide, not only the HTTP status.
package final class EgeriaClient: Sendable {
    let config: EgeriaServerConfig
    /// Egeria 5, or Egeria 6 without a password: a fixed bearer token.
    private let secret: String?
    /// Egeria 6 with a password: tokens from the token API.
    let tokens: EgeriaTokens?
    /// Keep-alive HTTP/1.1, TLS through OpenSSL for `https://`. Not URLSession: it costs ~5× the CPU per
    /// request on Linux, cannot trust a private CA, and would load libcurl into every daemon.
    private let transport: SocketHTTPTransport
    private let dialect: any EgeriaDialect
    /// The service base under the platform root URL's path.
    private let servicePath: String
    /// The platform root URL's path, without a trailing slash: other services' paths hang under it.
    private let rootPath: String

    /// What became of one request.
    package enum Outcome: Error, Sendable, Equatable {
        case delivered
        /// The server is unreachable or failed (refused, timeout, 5xx, 401/403/429): try again later.
        case retry(String)
        /// The server rejected the request itself (4xx, FFDC parameter error): retrying cannot help.
        case reject(String)
    }

    package init(config: EgeriaServerConfig, secret: String?, password: String? = nil) throws {
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
        dialect = EgeriaDialects.make(config)
        servicePath = dialect.servicePath(rootPath: path)
        if dialect.usesTokenAPI, let password {
            let tokenPath = path + "/api/token"
            tokens = EgeriaTokens(userId: config.userId, password: password, renewSeconds: config.tokenRenewSeconds) { body, completion in
                transport.post(path: tokenPath, body: body, headers: [], completion: completion)
            }
        } else {
            tokens = nil
        }
    }

    /// A connector's reports are anchored to this existing element (Egeria 6); see ``ReportDestination/anchor(server:connectorName:to:)``.
    func anchor(server: String, connectorName: String, to elementGUID: String) {
        dialect.anchor(server: server, connectorName: connectorName, to: elementGUID)
    }

    /// Where reports go, for logs and status.
    package var baseURL: String {
        var root = config.omagserverPlatformRootURL
        while root.hasSuffix("/") { root.removeLast() }
        if let range = root.range(of: "://"), let slash = root[range.upperBound...].firstIndex(of: "/") { root = String(root[..<slash]) }
        return root + servicePath
    }

    // MARK: - Reports

    /// Forwards one report. `mayExist`: an earlier attempt may have reached the server (it was sent before a crash,
    /// or its answer was lost), so the dialect checks first where it can; stock Egeria does not de-duplicate.
    func submit(_ report: IntegrationReport, mayExist: Bool = false, completion: @escaping @Sendable (Outcome) -> Void) {
        dialect.submit(report, mayExist: mayExist, post: { [self] path, body, done in
            post(servicePath + path, body: body) { _, data, outcome in done(data, outcome) }
        }, completion: completion)
    }

    // MARK: - Elements, relationships and classifications

    /// Creates an element; the new element's GUID on success.
    func createElement(_ params: CreateElement.Params, completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        perform(dialect.createElement(params)) { data, outcome in completion(Self.guid(data, outcome)) }
    }

    /// Updates an element's properties (all of them with `replace`).
    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?,
                       completion: @escaping @Sendable (Outcome) -> Void) {
        perform(dialect.updateElement(guid: guid, properties: properties, replace: replace, externalSourceName: externalSourceName)) { completion($1 ?? .delivered) }
    }

    func deleteElement(guid: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        perform(dialect.deleteElement(guid: guid, externalSourceName: externalSourceName)) { completion($1 ?? .delivered) }
    }

    /// Relates two elements; the new relationship's GUID on success.
    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue], externalSourceName: String?,
                completion: @escaping @Sendable (Result<String, Outcome>) -> Void) {
        perform(dialect.relate(typeName: typeName, end1GUID: end1GUID, end2GUID: end2GUID, properties: properties,
                            externalSourceName: externalSourceName)) { data, outcome in completion(Self.guid(data, outcome)) }
    }

    func unrelate(relationshipGUID: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        perform(dialect.unrelate(relationshipGUID: relationshipGUID, externalSourceName: externalSourceName)) { completion($1 ?? .delivered) }
    }

    /// Classifies the element, or (`existing`) replaces the properties of the classification it has.
    func classify(guid: String, name: String, properties: [String: JSONValue], existing: Bool, externalSourceName: String?,
                  completion: @escaping @Sendable (Outcome) -> Void) {
        perform(dialect.classify(guid: guid, name: name, properties: properties, existing: existing,
                              externalSourceName: externalSourceName)) { completion($1 ?? .delivered) }
    }

    func declassify(guid: String, name: String, externalSourceName: String?, completion: @escaping @Sendable (Outcome) -> Void) {
        perform(dialect.declassify(guid: guid, name: name, externalSourceName: externalSourceName)) { completion($1 ?? .delivered) }
    }

    /// Sends a request the dialect made, or reports why it could not make one (a call this version lacks).
    private func perform(_ request: Result<EgeriaRequest, Outcome>, completion: @escaping @Sendable (Data?, Outcome?) -> Void) {
        switch request {
        case .failure(let outcome): completion(nil, outcome)
        case .success(let request): post(servicePath + request.path, body: request.body) { _, data, outcome in completion(data, outcome) }
        }
    }

    // MARK: - HTTP

    /// GETs `path` (under the platform root URL's path) with the bearer token, waiting on the caller's thread:
    /// the reads that are not reports, such as an integration group's registrations. The answer's body, or why
    /// there is none.
    package func get(platformPath path: String) -> Result<Data, Outcome> {
        exchange(platformPath: path, body: nil)
    }

    /// POSTs `body` to `path` under the platform root URL's path, as ``get(platformPath:)`` GETs.
    package func post(platformPath path: String, body: Data) -> Result<Data, Outcome> {
        exchange(platformPath: path, body: body)
    }

    private func exchange(platformPath path: String, body: Data?) -> Result<Data, Outcome> {
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<Data, Outcome>?>(nil)
        request(get: body == nil, rootPath + path, body: body ?? Data()) { _, data, outcome in
            let outcome = outcome ?? .delivered
            answer.withLock { $0 = outcome == .delivered ? .success(data ?? Data()) : .failure(outcome) }
            done.signal()
        }
        // The transport bounds each exchange; this bounds a token fetch and an exchange together.
        guard done.wait(timeout: .now() + 4 * config.requestTimeoutSeconds + 5) == .success, let result = answer.withLock({ $0 }) else {
            return .failure(.retry("no answer from \(config.omagserverPlatformRootURL) within \(Int(4 * config.requestTimeoutSeconds + 5)) s"))
        }
        return result
    }

    private func post(_ path: String, body: Data, completion: @escaping @Sendable (Int, Data?, Outcome?) -> Void) {
        request(get: false, path, body: body, completion: completion)
    }

    /// Sends a request with the bearer token; a 401 with a token from the token API gets one more try with a new
    /// token. The completion has the HTTP status (0 when unreachable), the body and the outcome.
    private func request(get: Bool, _ path: String, body: Data, renewed: Bool = false, completion: @escaping @Sendable (Int, Data?, Outcome?) -> Void) {
        guard let tokens else {
            let headers = secret.map { [("Authorization", "Bearer \($0)")] } ?? []
            return send(get: get, path, body: body, headers: headers, completion: completion)
        }
        tokens.withToken { [self] result in
            switch result {
            case .failure(let outcome): completion(0, nil, outcome)
            case .success(let token):
                send(get: get, path, body: body, headers: [("Authorization", "Bearer \(token)")]) { [self] status, data, outcome in
                    if status == 401 && !renewed {
                        tokens.invalidate(token)
                        return request(get: get, path, body: body, renewed: true, completion: completion)
                    }
                    completion(status, data, outcome)
                }
            }
        }
    }

    private func send(get: Bool, _ path: String, body: Data, headers: [(String, String)], completion: @escaping @Sendable (Int, Data?, Outcome?) -> Void) {
        let handle: @Sendable (Result<(status: Int, body: Data), SocketHTTPTransport.TransportError>) -> Void = { result in
            switch result {
            // A server may echo the request's headers in its error text: scrub before anyone records it.
            case .success(let response):
                completion(response.status, response.body, Self.classify(status: response.status, body: response.body).redacted)
            case .failure(let error): completion(0, nil, .retry(Redaction.scrub("unreachable: \(error)")))
            }
        }
        if get { transport.get(path: path, headers: headers, completion: handle) } else { transport.post(path: path, body: body, headers: headers, completion: handle) }
    }

    /// The `guid` of a `GUIDResponse`, or why there is none.
    static func guid(_ data: Data?, _ outcome: Outcome?) -> Result<String, Outcome> {
        switch outcome ?? .delivered {
        case .delivered:
            guard let data, case .object(let body)? = try? JSONParser.parse(data), case .string(let guid)? = body["guid"], !guid.isEmpty else {
                return .failure(.retry("GUIDResponse without a guid"))
            }
            return .success(guid)
        case let failure: return .failure(failure)
        }
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


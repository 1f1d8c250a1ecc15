import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Protocol

/// Talks to an Egeria metadata access server over its REST API (paths and bodies in docs/egeria.md).
///
/// Egeria answers HTTP 200 with an FFDC body even for failures; `relatedHTTPCode` and `exceptionClassName`
/// in the body decide, not only the HTTP status.
final class EgeriaClient: Sendable {
    let config: EgeriaServerConfig
    private let secret: String?
    private let session: URLSession

    /// What became of one request.
    enum Outcome: Sendable, Equatable {
        case delivered
        /// The server is unreachable or failed (refused, timeout, 5xx, 401/403/429): try again later.
        case retry(String)
        /// The server rejected the request itself (4xx, FFDC parameter error): retrying cannot help.
        case reject(String)
    }

    init(config: EgeriaServerConfig, secret: String?) {
        self.config = config
        self.secret = secret
        let configuration = URLSessionConfiguration.default
        configuration.timeoutIntervalForRequest = config.requestTimeoutSeconds
        configuration.timeoutIntervalForResource = config.requestTimeoutSeconds
        configuration.httpMaximumConnectionsPerHost = config.maxInFlight
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
    }

    /// `POST …/open-integration/users/{userId}/integration-reports/{connectorId}/IntegrationConnector/new`.
    func submit(_ report: IntegrationReport, completion: @escaping @Sendable (Outcome) -> Void) {
        let path = "open-integration/users/\(encode(config.userId))/integration-reports/\(encode(report.connectorId))/IntegrationConnector/new"
        post(path, body: ReportBody(report)) { completion(Self.classify($0, $1, $2)) }
    }

    /// The base of the framework services: `{root}/servers/{server}/open-metadata/framework-services/{marker}/`.
    var baseURL: String {
        var root = config.omagserverPlatformRootURL
        while root.hasSuffix("/") { root.removeLast() }
        return "\(root)/servers/\(encode(config.omagserverName))/open-metadata/framework-services/\(encode(config.serviceURLMarker))/"
    }

    private func post<T: Encodable>(_ path: String, body: T, completion: @escaping @Sendable (Data?, URLResponse?, Error?) -> Void) {
        guard let url = URL(string: baseURL + path) else { return completion(nil, nil, URLError(.badURL)) }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let secret { request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization") }
        do { request.httpBody = try JSONEncoder.daemon.encode(body) } catch { return completion(nil, nil, error) }
        session.dataTask(with: request, completionHandler: completion).resume()
    }

    private func encode(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }

    static func classify(_ data: Data?, _ response: URLResponse?, _ error: Error?) -> Outcome {
        if let error { return .retry("unreachable: \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse else { return .retry("no HTTP response") }
        let body = data.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        let related = body?["relatedHTTPCode"]?.intValue ?? http.statusCode
        let exception = body?["exceptionClassName"]?.stringValue
        let message = body?["exceptionErrorMessage"]?.stringValue
        let detail = [exception, message].compactMap { $0 }.joined(separator: ": ")
        let code = http.statusCode >= 300 ? http.statusCode : related
        switch code {
        case 200..<300:
            return exception == nil ? .delivered : .retry("HTTP \(http.statusCode) with \(detail)")
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
}

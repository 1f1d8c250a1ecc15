import Foundation
import Protocol

/// One version of Egeria's REST API: where each call goes and what it sends. ``EgeriaClient`` does the HTTP,
/// the tokens and the reading of answers, the same for every version; Egeria 7 is one more conforming type.
protocol EgeriaDialect: Sendable {
    /// The service base under the platform root's path (`rootPath`, without a trailing `/`), ending in `/`.
    func servicePath(rootPath: String) -> String
    /// Whether a password is traded for bearer tokens at the platform's token API (else a fixed token is sent).
    var usesTokenAPI: Bool { get }

    /// Stores one integration report, in as many calls as this version needs. `mayExist`: an earlier attempt
    /// may have reached the server, which does not de-duplicate.
    func submit(_ report: IntegrationReport, mayExist: Bool, post: @escaping EgeriaPost, completion: @escaping @Sendable (EgeriaClient.Outcome) -> Void)

    func createElement(_ params: CreateElement.Params) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func updateElement(guid: String, properties: [String: JSONValue], replace: Bool, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func deleteElement(guid: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func relate(typeName: String, end1GUID: String, end2GUID: String, properties: [String: JSONValue],
                externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func unrelate(relationshipGUID: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func classify(guid: String, name: String, properties: [String: JSONValue], existing: Bool,
                  externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    func declassify(guid: String, name: String, externalSourceName: String?) -> Result<EgeriaRequest, EgeriaClient.Outcome>
    /// The connector's reports go under this existing `IntegrationConnector` element.
    func anchor(server: String, connectorName: String, to elementGUID: String)
}

extension EgeriaDialect {
    /// Egeria 5's reports are not anchored to an element.
    func anchor(server: String, connectorName: String, to elementGUID: String) {}
}

/// One call: a path under the service base and its JSON body.
struct EgeriaRequest: Sendable {
    let path: String
    let body: Data
}

/// POSTs a body to a path under the service base; answers the response body and the outcome (nil: delivered).
typealias EgeriaPost = @Sendable (_ path: String, _ body: Data, _ completion: @escaping @Sendable (Data?, EgeriaClient.Outcome?) -> Void) -> Void

package enum EgeriaDialects {
    /// The one place an API version is chosen.
    static func make(_ config: EgeriaServerConfig) -> any EgeriaDialect {
        switch config.apiVersion {
        case .v5: Egeria5Dialect(config: config)
        case .v6: Egeria6Dialect(config: config)
        }
    }

    /// A path component as Egeria's clients send it.
    package static func escape(_ component: String) -> String {
        // UUIDs and plain names need no escaping; CharacterSet-based escaping is costly per report.
        if component.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) {
            return component
        }
        return component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }
}

import Foundation
import Glibc
import Protocol

/// Egeria's REST answers: every body carries `class` and `relatedHTTPCode`; an error is HTTP 200 with
/// `relatedHTTPCode` 400, 404 or 500 and the exception fields of `FFDCResponseBase`.
enum EgeriaEnvelope {
    static func ok(_ responseClass: String, _ fields: [String: JSONValue] = [:]) -> HTTPServer.Response {
        var object = fields
        object["class"] = .string(responseClass)
        object["relatedHTTPCode"] = .int(200)
        return json(object)
    }

    static func void() -> HTTPServer.Response { ok("VoidResponse") }

    static func json(_ object: [String: JSONValue]) -> HTTPServer.Response {
        var writer = JSONWriter(capacity: 1024)
        writer.object(object)
        return HTTPServer.Response(status: 200, body: writer.bytes)
    }

    /// An Egeria exception as its REST answer.
    struct Failure: Sendable {
        var httpCode: Int
        var exceptionClass: String
        var messageId: String
        var message: String
        var parameters: [String]
        var systemAction: String
        var userAction: String
        var properties: [String: String] = [:]

        func response(_ responseClass: String, action: String) -> HTTPServer.Response {
            var object: [String: JSONValue] = [
                "class": .string(responseClass), "relatedHTTPCode": .int(httpCode),
                "exceptionClassName": .string(exceptionClass), "exceptionSubclassName": .string(exceptionClass),
                "actionDescription": .string(action), "exceptionErrorMessage": .string("\(messageId) \(message)"),
                "exceptionErrorMessageId": .string(messageId),
                "exceptionErrorMessageParameters": .array(parameters.map(JSONValue.string)),
                "exceptionSystemAction": .string(systemAction), "exceptionUserAction": .string(userAction),
            ]
            if !properties.isEmpty { object["exceptionProperties"] = .object(properties.mapValues(JSONValue.string)) }
            return EgeriaEnvelope.json(object)
        }
    }

    static let invalidParameter = "org.odpi.openmetadata.frameworks.openmetadata.ffdc.InvalidParameterException"
    static let propertyServer = "org.odpi.openmetadata.frameworks.openmetadata.ffdc.PropertyServerException"
    static let userNotAuthorized = "org.odpi.openmetadata.frameworks.openmetadata.ffdc.UserNotAuthorizedException"

    /// A door user whose role does not allow the request (Egeria's OMAG-COMMON-403 shape).
    static func notAuthorized(_ user: String, action: String) -> Failure {
        Failure(httpCode: 403, exceptionClass: userNotAuthorized, messageId: "INTEGRATION-DAEMON-SERVICES-403-001",
                message: "User \(user) is not authorized to issue the \(action) request: the role observer may only read", parameters: [user, action],
                systemAction: "The request was refused; nothing was changed.",
                userAction: "Use a user whose role is operator in the daemon's configuration (platform.users[].role).",
                properties: ["userId": user])
    }

    /// Egeria's `IntegrationDaemonServicesErrorCode.UNKNOWN_CONNECTOR_NAME`.
    static func unknownConnector(_ name: String, server: String) -> Failure {
        Failure(httpCode: 400, exceptionClass: invalidParameter, messageId: "INTEGRATION-DAEMON-SERVICES-400-031",
                message: "Integration connector named \(name) is not running in the integration daemon \(server)", parameters: [name, server],
                systemAction: "The integration connector specified on a request is not known to the integration daemon.",
                userAction: "This may be a configuration error in the integration daemon or an error in the caller. Check the connector names in the daemon's configuration and the name passed on the request.",
                properties: ["parameterName": "connectorName"])
    }

    /// Egeria's multi-tenant "server not available" (a request for another server name on this platform).
    static func unknownServer(_ name: String, user: String) -> Failure {
        Failure(httpCode: 404, exceptionClass: invalidParameter, messageId: "OMAG-MULTI-TENANT-404-001",
                message: "The OMAG Server \(name) is not available to service a request from user \(user)", parameters: [name, user],
                systemAction: "The system is unable to process the request because the server is not running on the called platform.",
                userAction: "Verify that the correct server is being called on the correct platform and that this server is running.",
                properties: ["parameterName": "serverName"])
    }

    /// A missing or malformed request field: Egeria's null-name check, and a body that does not parse.
    static func badParameter(_ parameter: String, _ reason: String, action: String) -> Failure {
        Failure(httpCode: 400, exceptionClass: invalidParameter, messageId: "OMAG-COMMON-400-009",
                message: "The \(parameter) passed on the \(action) operation is not valid: \(reason)", parameters: [parameter, action],
                systemAction: "The system is unable to process the request.", userAction: "Correct the request and retry.",
                properties: ["parameterName": parameter])
    }

    /// The daemon or a worker could not carry the request out (worker restarting, failed service, no answer).
    static func unavailable(_ reason: String, action: String) -> Failure {
        Failure(httpCode: 500, exceptionClass: propertyServer, messageId: "INTEGRATION-DAEMON-SERVICES-500-901",
                message: "The integration daemon could not complete \(action): \(reason)", parameters: [action, reason],
                systemAction: "The request was not carried out; the daemon goes on supervising its workers.",
                userAction: "Check the daemon's status and log, then retry.")
    }

    static func failure(for error: OperatorError, server: String, action: String) -> Failure {
        switch error.kind {
        case .unknownConnector(let name): unknownConnector(name, server: server)
        case .badArgument(let parameter): badParameter(parameter, error.message, action: action)
        case .unavailable: unavailable(error.message, action: action)
        }
    }

    /// Egeria's (Spring Boot Jackson's) date format: `2026-08-05T17:13:09.612+00:00`, always UTC.
    static func date(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let fraction = Int(((millis % 1000) + 1000) % 1000)
        let ms = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)+00:00"
    }
}

import Foundation
import Forwarding
import Protocol

/// The REST door: Egeria 6's integration-daemon API under `/servers/{localServerName}/open-metadata/integration-daemon`,
/// the platform's token, origin and about endpoints, and the server-status endpoints Runtime Manager reads.
///
/// It runs on the HTTP server's I/O thread and never blocks there: a request becomes one of the typed
/// commands the control socket also carries, posted to the supervision loop; the loop's typed answer becomes
/// Egeria's envelope. Every answer is HTTP 200 with `relatedHTTPCode`, except 401 for a missing, bad or
/// expired token (as Spring Security answers) and 404 for a path Egeria does not have.
struct PlatformDoor: Sendable {
    let serverName: String
    let serverUserId: String
    let settings: PlatformConfig
    let tokens: BearerTokens
    /// userId → password, read at start.
    let passwords: [String: String]
    /// userId → role, from the configuration.
    let roles: [String: PlatformConfig.Role]
    /// Provider class names the built-in worker knows, for validate-connector.
    let providers: [String]
    /// Each integration service's metadata access server (for configuration/resolved), if it forwards.
    let accessServer: EgeriaServerConfig?
    let startTime: Date
    let logger: Logger
    let post: @Sendable (CommandCall) -> Void
    /// OpenLineage events in; nil only where no store is open.
    var lineage: LineageDoor?

    static let origin = "Egeria OMAG Server Platform (integration-daemon \(SupervisorCommand.version), Egeria 6 API)"

    func handle(_ request: HTTPServer.Request, reply: @escaping @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        let now = HTTPServer.Wait(seconds: 0, fallback: PlatformErrorPage.response(500, "no answer"))
        guard let segments = request.pathSegments else {
            reply(PlatformErrorPage.response(400, "the path does not percent-decode"))
            return now
        }
        // Public endpoints: no token.
        let route = Route(method: request.method, segments: segments)
        if route.is("POST", "api/token") || route.is("POST", "servers/*/api/token") {
            reply(token(request))
            return now
        }
        if route.is("GET", "open-metadata/platform-services/server-platform/origin") {
            reply(HTTPServer.Response(status: 200, contentType: "text/plain", body: Array(Self.origin.utf8)))
            return now
        }
        if route.is("GET", "api/about") {
            reply(EgeriaEnvelope.json(["name": .string("integration-daemon"), "version": .string(SupervisorCommand.version),
                                       "egeriaApi": .string("6"), "group": .string("org.odpi.egeria")]))
            return now
        }
        let egeriaLineage = route.is("POST", "servers/*/open-metadata/integration-daemon/" + LineageDoor.egeriaAction)
        if let lineage, egeriaLineage || route.is("POST", "api/v1/lineage") {
            // A token or an API key: producers hold a key, since they cannot renew a token.
            guard let caller = authenticatedUser(request) ?? lineage.keyName(authorization: request.header("authorization")).map({ "key " + $0 }) else {
                reply(HTTPServer.Response(status: 401, body: [], headers: [("WWW-Authenticate", "Bearer")]))
                return now
            }
            guard !egeriaLineage || segments[1] == serverName else {
                var response = EgeriaEnvelope.unknownServer(segments[1], user: caller).response("VoidResponse", action: LineageDoor.egeriaAction)
                response.status = 404
                reply(response)
                return now
            }
            return lineage.publish(request.body, contentEncoding: request.header("content-encoding"), egeria: egeriaLineage, caller: caller, reply: reply)
        }
        guard let user = authenticatedUser(request) else {
            reply(HTTPServer.Response(status: 401, body: [], headers: [("WWW-Authenticate", "Bearer")]))
            return now
        }
        let s = segments
        switch s {
        case _ where s.count >= 4 && s[0] == "servers" && s[2] == "open-metadata" && (s[3] == "integration-daemon" || s[3] == "integration-daemon-services"):
            guard s[1] == serverName else {
                reply(EgeriaEnvelope.unknownServer(s[1], user: user).response("VoidResponse", action: "request"))
                return now
            }
            let path = Array(s.dropFirst(4))
            if roles[user] != .operator, Self.changes(method: request.method, path: path) {
                let action = path.joined(separator: "/")
                logger.warning("platform door: \(request.method) \(action) refused to observer \(String(user.prefix(64)))")
                reply(EgeriaEnvelope.notAuthorized(user, action: action).response("VoidResponse", action: action))
                return now
            }
            return daemon(request, path, reply: reply)
        case _ where s.count == 6 && s.starts(with: ["open-metadata", "admin-services", "servers"]) && Array(s[4...]) == ["configuration", "resolved"]:
            guard request.method == "GET" else { return methodNotAllowed(reply) }
            reply(s[3] == serverName ? resolvedConfiguration() : EgeriaEnvelope.unknownServer(s[3], user: user).response("OMAGServerConfigResponse", action: "getResolvedServerConfig"))
            return now
        case _ where s.count >= 6 && s.starts(with: ["open-metadata", "platform-services", "server-platform", "servers"]):
            guard request.method == "GET" else { return methodNotAllowed(reply) }
            return serverStatus(name: s[4], rest: Array(s[5...]), user: user, reply: reply)
        default:
            reply(PlatformErrorPage.response(404, "no such endpoint: \(request.method) \(request.path)"))
            return now
        }
    }

    /// Whether a request changes something (refresh, restart, configure, reload), which only an operator may ask.
    /// Every such endpoint is a POST but refresh-config, which Egeria serves on GET.
    static func changes(method: String, path: [String]) -> Bool {
        method != "GET" || path.last == "refresh-config"
    }

    // MARK: - Tokens

    private func token(_ request: HTTPServer.Request) -> HTTPServer.Response {
        guard case .object(let body)? = try? JSONParser.parse(Data(request.body)), case .string(let userId)? = body["userId"],
              case .string(let password)? = body["password"] else {
            return PlatformErrorPage.response(400, "expected {\"userId\": \"…\", \"password\": \"…\"}")
        }
        // Every user is checked the same way, known or not, so timing does not tell which user ids exist.
        let expected = passwords[userId] ?? "\u{0}no such user\u{0}"
        guard BearerTokens.passwordMatches(password, expected), passwords[userId] != nil else {
            logger.warning("platform door: token refused", ["userId": .text(String(userId.prefix(64)))])
            return HTTPServer.Response(status: 401, body: [], headers: [("WWW-Authenticate", "Bearer")])
        }
        return HTTPServer.Response(status: 200, contentType: "text/plain", body: Array(tokens.issue(userId: userId).utf8))
    }

    private func authenticatedUser(_ request: HTTPServer.Request) -> String? {
        guard let credential = BearerTokens.credential(authorization: request.header("authorization")) else { return nil }
        return tokens.verify(credential)
    }

    // MARK: - The integration daemon's API

    private func daemon(_ request: HTTPServer.Request, _ path: [String], reply: @escaping @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        let server = serverName
        let body = request.body
        let route = Route(method: request.method, segments: path)
        switch route {
        case _ where route.is("GET", "status"):
            return withStatus("getIntegrationDaemonStatus", "IntegrationDaemonStatusResponse", reply) { shape in
                HTTPServer.Response(status: 200, body: shape.daemonStatusResponse())
            }
        case _ where route.is("GET", "integration-connectors/*/configuration-properties"):
            let name = route.captures[0]
            return withStatus("getConfigurationProperties", "PropertiesResponse", reply) { shape in
                guard let connector = shape.connector(named: name) else {
                    return EgeriaEnvelope.unknownConnector(name, server: server).response("PropertiesResponse", action: "getConfigurationProperties")
                }
                let properties = connector.connection?.configurationProperties
                return EgeriaEnvelope.ok("PropertiesResponse", properties.map { ["properties": .object($0)] } ?? [:])
            }
        case _ where route.is("POST", "integration-connectors/configuration-properties"):
            let action = "updateConfigurationProperties"
            guard case .object(let fields)? = try? JSONParser.parse(Data(body)) else { return refuse("requestBody", "expected a ConnectorConfigPropertiesRequestBody", action, reply) }
            guard case .string(let name)? = fields["connectorName"], !name.isEmpty else { return refuse("connectorName", "it is null", action, reply) }
            var properties: [String: JSONValue] = [:]
            switch fields["configurationProperties"] {
            case .object(let given)?: properties = given
            case .null?, nil: break
            default: return refuse("configurationProperties", "expected an object", action, reply)
            }
            let merge = fields["mergeUpdate"] == .bool(true)
            return call(action, reply) { .configure(ConfigureCommand(connectorName: name, properties: properties, replace: !merge), $0) }
        case _ where route.is("POST", "integration-connectors/*/endpoint-network-address"):
            let name = route.captures[0]
            let action = "updateEndpointNetworkAddress"
            guard case .object(let fields)? = try? JSONParser.parse(Data(body)), case .string(let address)? = fields["string"] else {
                return refuse("networkAddress", "expected a StringRequestBody {\"string\": \"…\"}", action, reply)
            }
            return call(action, reply) { .setEndpoint(SetEndpointCommand(connectorName: name, address: address), $0) }
        case _ where route.is("POST", "integration-connectors/*/connection"):
            let name = route.captures[0]
            let action = "updateConnectorConnection"
            guard case .object(let fields)? = try? JSONParser.parse(Data(body)) else { return refuse("connection", "expected a Connection", action, reply) }
            guard case .object(let type)? = fields["connectorType"], case .string(let provider)? = type["connectorProviderClassName"], !provider.isEmpty else {
                return refuse("connection.connectorType.connectorProviderClassName", "it is missing", action, reply)
            }
            var connection = Connection(connectorType: ConnectorType(connectorProviderClassName: provider))
            if case .object(let endpoint)? = fields["endpoint"], case .string(let address)? = endpoint["networkAddress"] ?? endpoint["address"] {
                connection.endpoint = Endpoint(address: address)
            }
            if case .object(let properties)? = fields["configurationProperties"] { connection.configurationProperties = properties }
            return call(action, reply) { .setConnection(SetConnectionCommand(connectorName: name, connection: connection), $0) }
        case _ where route.is("POST", "integration-connectors/refresh"):
            let name: String?
            switch Self.optionalName(body) {
            case .success(let given): name = given
            case .failure: return refuse("requestBody", "expected no body or a NameRequestBody", "refreshConnectors", reply)
            }
            let wait = settings.refreshWaitSeconds
            let command = RefreshCommand(connectorName: name, waitSeconds: wait)
            post(.refresh(command) { result in reply(Self.void(result, server: server, action: "refreshConnectors")) })
            // Past the bound the refresh goes on; the caller gets Egeria's success, as for a refresh already running.
            return HTTPServer.Wait(seconds: wait, fallback: EgeriaEnvelope.void())
        case _ where route.is("POST", "integration-connectors/restart"):
            let name: String?
            switch Self.optionalName(body) {
            case .success(let given): name = given
            case .failure: return refuse("requestBody", "expected no body or a NameRequestBody", "restartConnectors", reply)
            }
            return call("restartConnectors", reply) { .restart(RestartCommand(connectorName: name), $0) }
        case _ where route.is("GET", "integration-groups/summary"):
            return withStatus("getIntegrationGroupSummaries", "IntegrationGroupSummariesResponse", reply) { shape in
                HTTPServer.Response(status: 200, body: shape.groupSummariesResponse())
            }
        case _ where route.is("GET", "integration-groups/*/summary"):
            let group = route.captures[0]
            return withStatus("getIntegrationGroupSummary", "IntegrationGroupSummaryResponse", reply) { shape in
                guard let service = shape.group(named: group) else {
                    return Self.unknownGroup(group).response("IntegrationGroupSummaryResponse", action: "getIntegrationGroupSummary")
                }
                return HTTPServer.Response(status: 200, body: shape.groupSummaryResponse(service))
            }
        case _ where route.is("GET", "integration-groups/*/refresh-config"):
            return refreshConfig(group: route.captures[0], reply)
        case _ where route.is("GET", "validate-connector/*"):
            let provider = route.captures[0]
            guard providers.contains(provider) else {
                let failure = EgeriaEnvelope.Failure(
                    httpCode: 400, exceptionClass: EgeriaEnvelope.invalidParameter, messageId: "OMAG-ADMIN-400-029",
                    message: "The connector provider class name \(provider) is not known to the integration worker; known: \(providers.joined(separator: ", "))",
                    parameters: [provider], systemAction: "The connector cannot be created.",
                    userAction: "Use one of the provider class names that `integration-worker --list-connectors` prints.",
                    properties: ["parameterName": "connectorProviderClassName"])
                reply(failure.response("ConnectorReportResponse", action: "validateConnector"))
                return HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
            }
            reply(EgeriaEnvelope.ok("ConnectorReportResponse", ["connectorReport": .object([
                "class": .string("ConnectorReport"), "componentDescription": .object(["componentName": .string(provider)]),
                "connectorType": .object(["class": .string("ConnectorType"), "connectorProviderClassName": .string(provider)]),
                "usesBlockingCalls": .bool(false),
            ])]))
            return HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
        default:
            let known = ["status", "integration-connectors", "integration-groups", "validate-connector"]
            if let first = path.first, known.contains(first) { return methodNotAllowed(reply) }
            reply(PlatformErrorPage.response(404, "no such endpoint: \(request.method) \(request.path)"))
            return HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
        }
    }

    // MARK: - Platform server status (what Runtime Manager reads)

    private func resolvedConfiguration() -> HTTPServer.Response {
        let groups = JSONValue.array([])
        var config: [String: JSONValue] = [
            "class": .string("OMAGServerConfig"), "versionId": .string("V6.0"), "localServerName": .string(serverName),
            "localServerUserId": .string(serverUserId), "maxPageSize": .int(1000), "dynamicIntegrationGroupsConfig": groups,
        ]
        if let access = accessServer {
            config["dynamicIntegrationGroupsConfig"] = .array([.object([
                "class": .string("IntegrationGroupConfig"), "integrationGroupQualifiedName": .string("\(serverName):IntegrationGroup:Default"),
                "omagserverName": .string(access.omagserverName), "omagserverPlatformRootURL": .string(access.omagserverPlatformRootURL),
            ])])
        }
        return EgeriaEnvelope.ok("OMAGServerConfigResponse", ["omagserverConfig": .object(config)])
    }

    private func serverStatus(name: String, rest: [String], user: String, reply: @escaping @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        let immediate = HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
        switch rest {
        case _ where rest == ["instance", "status"]:
            guard name == serverName else {
                reply(EgeriaEnvelope.unknownServer(name, user: user).response("OMAGServerStatusResponse", action: "getServerStatus"))
                return immediate
            }
            reply(EgeriaEnvelope.ok("OMAGServerStatusResponse", ["serverStatus": .object([
                "serverName": .string(serverName), "serverType": .string("Integration Daemon"), "serverActiveStatus": .string("RUNNING"),
            ])]))
        case _ where rest == ["status"]:
            guard name == serverName else {
                reply(EgeriaEnvelope.unknownServer(name, user: user).response("ServerStatusResponse", action: "getServerStatus"))
                return immediate
            }
            reply(EgeriaEnvelope.ok("ServerStatusResponse", [
                "serverName": .string(serverName), "serverType": .string("Integration Daemon"), "isActive": .bool(true),
                "serverStartTime": .string(EgeriaEnvelope.date(startTime)),
                "serverHistory": .array([.object(["startTime": .string(EgeriaEnvelope.date(startTime))])]),
            ]))
        default:
            reply(PlatformErrorPage.response(404, "no such endpoint"))
        }
        return immediate
    }

    // MARK: - Plumbing

    /// Posts a command whose answer is Egeria's VoidResponse.
    private func call<Answer: Sendable>(_ action: String, _ reply: @escaping @Sendable (HTTPServer.Response) -> Void,
                                        _ make: (@escaping Reply<Answer>) -> CommandCall) -> HTTPServer.Wait {
        let server = serverName
        post(make { result in reply(Self.void(result, server: server, action: action)) })
        return HTTPServer.Wait(seconds: 60, fallback: EgeriaEnvelope.unavailable("no answer within 60 s", action: action).response("VoidResponse", action: action))
    }

    private func withStatus(_ action: String, _ responseClass: String, _ reply: @escaping @Sendable (HTTPServer.Response) -> Void,
                            _ answer: @escaping @Sendable (EgeriaStatusShape) -> HTTPServer.Response) -> HTTPServer.Wait {
        let server = serverName
        post(.status(StatusCommand()) { result in
            switch result {
            case .failure(let error): reply(EgeriaEnvelope.failure(for: error, server: server, action: action).response(responseClass, action: action))
            case .success(let status):
                // The loop only gathers the facts; Egeria's shape is written off its thread.
                DispatchQueue.global().async { reply(answer(EgeriaStatusShape(status: status))) }
            }
        })
        return HTTPServer.Wait(seconds: 10, fallback: EgeriaEnvelope.unavailable("no answer within 10 s", action: action).response(responseClass, action: action))
    }

    /// Egeria's refresh-config: a group from the metadata access server is read again at once (no 10-minute
    /// debounce); an integration service of the file is re-read with the file. A group that cannot be read is a
    /// 503 naming why.
    private func refreshConfig(group: String, _ reply: @escaping @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        let server = serverName, post = self.post, action = "refreshIntegrationGroupConfig"
        post(.status(StatusCommand()) { result in
            switch result {
            case .failure(let error): reply(EgeriaEnvelope.failure(for: error, server: server, action: action).response("VoidResponse", action: action))
            case .success(let status):
                guard let service = EgeriaStatusShape(status: status).group(named: group) else {
                    return reply(Self.unknownGroup(group).response("VoidResponse", action: action))
                }
                guard let dynamic = service.integrationGroup else {
                    return post(.reload(ReloadCommand()) { reply(Self.void($0, server: server, action: action)) })
                }
                post(.refreshConfig(RefreshConfigCommand(groupName: dynamic.integrationGroupQualifiedName)) { result in
                    if case .success(let answer) = result, let error = answer.groups.first?.error {
                        return reply(EgeriaEnvelope.unavailable("integration group \(dynamic.integrationGroupQualifiedName) cannot be read: \(error)", action: action)
                            .response("VoidResponse", action: action))
                    }
                    reply(Self.void(result, server: server, action: action))
                })
            }
        })
        return HTTPServer.Wait(seconds: 60, fallback: EgeriaEnvelope.unavailable("no answer within 60 s", action: action).response("VoidResponse", action: action))
    }

    private static func void<Answer>(_ result: Result<Answer, OperatorError>, server: String, action: String) -> HTTPServer.Response {
        switch result {
        case .success: EgeriaEnvelope.void()
        case .failure(let error): EgeriaEnvelope.failure(for: error, server: server, action: action).response("VoidResponse", action: action)
        }
    }

    private func refuse(_ parameter: String, _ reason: String, _ action: String, _ reply: @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        reply(EgeriaEnvelope.badParameter(parameter, reason, action: action).response("VoidResponse", action: action))
        return HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
    }

    private func methodNotAllowed(_ reply: @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        reply(PlatformErrorPage.response(405, "method not allowed"))
        return HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())
    }

    private static func unknownGroup(_ name: String) -> EgeriaEnvelope.Failure {
        EgeriaEnvelope.Failure(httpCode: 400, exceptionClass: EgeriaEnvelope.invalidParameter, messageId: "INTEGRATION-DAEMON-SERVICES-400-032",
                               message: "Integration group named \(name) is not running in the integration daemon", parameters: [name],
                               systemAction: "Each integration service of this daemon is one integration group; none has this name.",
                               userAction: "Use an integrationGroupName from the group summaries.", properties: ["parameterName": "integrationGroupName"])
    }

    /// A refresh or restart body: absent, empty, `{"name": null}` (all connectors) or `{"name": "X"}`.
    static func optionalName(_ body: [UInt8]) -> Result<String?, OperatorError> {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .success(nil) }
        guard case .object(let fields)? = try? JSONParser.parse(Data(body)) else {
            return .failure(OperatorError(.badArgument(parameter: "requestBody"), message: "not a JSON object"))
        }
        switch fields["name"] {
        case .string(let name)? where !name.isEmpty: return .success(name)
        case .string?, .null?, nil: return .success(nil)
        default: return .failure(OperatorError(.badArgument(parameter: "name"), message: "expected a string"))
        }
    }
}

/// A request's method and path segments, matched against patterns like `integration-connectors/*/connection`
/// (`*` is one segment, captured in order).
final class Route {
    let method: String
    let segments: [String]
    private(set) var captures: [String] = []

    init(method: String, segments: [String]) {
        self.method = method
        self.segments = segments
    }

    /// Whether the route is `method pattern`; on a match ``captures`` holds the `*` segments.
    func `is`(_ method: String, _ pattern: String) -> Bool {
        // Every request meets a dozen patterns: those of another method or length are passed over without
        // splitting them (splitting each was 7 % of an OpenLineage event's CPU).
        guard method == self.method else { return false }
        var slashes = 0
        for byte in pattern.utf8 where byte == 0x2F { slashes += 1 }
        guard slashes + 1 == segments.count else { return false }
        let parts = pattern.split(separator: "/")
        var found: [String] = []
        for (part, segment) in zip(parts, segments) {
            if part == "*" { found.append(segment) } else if part != segment { return false }
        }
        captures = found
        return true
    }
}

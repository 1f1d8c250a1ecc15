import Protocol

/// The `initialize` a service's worker gets, built in one place: the loop sends it, and validation and live
/// changes check that it fits the worker's line limit, because a worker cannot read a longer line and the
/// service would then never start.
enum InitializeMessage {
    /// What the worker reads per line (``LineFramer/defaultMaxLineLength``).
    static let lineLimit = LineFramer.defaultMaxLineLength
    /// Room validation leaves for what only the running daemon adds: connector secrets, the host name.
    static let validationHeadroom = 64 * 1024

    static func params(_ service: ServiceConfig, daemon: DaemonConfig, logLevel: String?, hostName: String?,
                       secrets: [String: String]?) -> Initialize.Params {
        Initialize.Params(
            protocolVersion: ProtocolVersion.current, integrationServiceURLMarker: service.urlMarker,
            serverName: daemon.localServerName, userId: daemon.localServerUserId,
            heartbeatIntervalSeconds: daemon.supervision.heartbeatIntervalSeconds, connectors: service.connectors,
            logLevel: logLevel, heartbeatTimeoutSeconds: daemon.supervision.heartbeatTimeoutSeconds,
            memoryLimitMegabytes: service.memoryLimitMegabytes, daemonHostName: hostName, connectorSecrets: secrets,
            integrationGroupName: service.group?.qualifiedName)
    }

    /// The encoded line's length in bytes, with its newline.
    static func byteCount(_ params: Initialize.Params) -> Int {
        (try? MessageEncoder().request(Initialize.self, id: .number(Int.max), params: params).count) ?? Int.max
    }

    /// Why `service` cannot start in a worker, or nil when its `initialize` fits with validation's headroom.
    static func problem(_ service: ServiceConfig, daemon: DaemonConfig) -> String? {
        let count = byteCount(params(service, daemon: daemon, logLevel: "info", hostName: nil, secrets: nil))
        guard count > lineLimit - validationHeadroom else { return nil }
        return "its \(service.connectors.count) connector(s) make an initialize message of \(count) bytes; a worker reads at most \(lineLimit - validationHeadroom) (1 MiB less room for secrets): split the connectors into more integration services"
    }
}

import Protocol

/// An integration connector: compares a third party with open metadata and corrects the difference.
///
/// Egeria's lifecycle: created from its config (a bad config is CONFIG_FAILED), `start`, then `refresh` each
/// period and on request, `disconnect` at the end. Any error thrown makes the connector FAILED until restarted.
/// Calls for one connector never overlap; different connectors run concurrently.
protocol IntegrationConnector: AnyObject, Sendable {
    func start(context: ConnectorContext) throws
    func refresh(context: ConnectorContext) throws
    func disconnect()
}

extension IntegrationConnector {
    func start(context: ConnectorContext) throws {}
    func disconnect() {}
}

/// A connector's failure, with the message Egeria would put in `failingExceptionMessage`.
struct ConnectorError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

import Protocol

/// An integration connector: compares a third party with open metadata and corrects the difference.
///
/// Egeria's lifecycle: created from its config (a bad config is CONFIG_FAILED), `start`, then `refresh` each
/// period and on request, `disconnect` at the end. Any error thrown makes the connector FAILED until restarted.
/// Calls for one connector never overlap; different connectors run concurrently.
protocol IntegrationConnector: AnyObject, Sendable {
    func start(context: ConnectorContext) throws
    func refresh(context: ConnectorContext) throws
    /// Called from another thread as the worker stops, before `disconnect` is queued behind the work in
    /// progress: a connector that waits (a backoff, a retry loop) ends that work early.
    func stopping()
    func disconnect()
}

extension IntegrationConnector {
    func start(context: ConnectorContext) throws {}
    func stopping() {}
    func disconnect() {}
}

/// A connector's failure, with the message Egeria would put in `failingExceptionMessage`, and what it means.
struct ConnectorError: Error, CustomStringConvertible {
    /// What the connector's status becomes.
    enum Kind: Sendable {
        /// FAILED until restarted.
        case failed
        /// CONFIG_FAILED: the configuration cannot work (wrong password, bad address); restart after fixing it.
        case configFailed
        /// WAITING, with the message: the third party is unreachable now; the next refresh tries again.
        case waiting
    }

    let message: String
    let kind: Kind
    init(_ message: String, kind: Kind = .failed) {
        self.message = message
        self.kind = kind
    }
    var description: String { message }
}

import Protocol

/// A connector that takes OpenLineage events (``DeliverLineage``), besides being refreshed.
///
/// `publish` runs on the connector's queue, never beside its refresh, with its writes recorded for an integration
/// report as a refresh's are. It returns once every event is handled durably: the daemon then moves the
/// connector's cursor past them, and a worker killed before that gets the same events again, so handling one
/// twice must change nothing.
protocol LineageConsumer: IntegrationConnector {
    func publish(_ events: [DeliverLineage.Event], context: ConnectorContext) throws
}

/// Every request the daemon sends a worker, its params decoded. Decoding is the one place a method name is
/// matched; the worker's one switch over the cases is exhaustive, so a new method does not compile until the
/// worker handles it.
public enum DaemonToWorker: Sendable {
    case initialize(Initialize.Params)
    case heartbeat(Heartbeat.Params)
    case refresh(RefreshConnectors.Params)
    case restartConnector(RestartConnector.Params)
    case configureConnector(ConfigureConnector.Params)
    case removeConnector(RemoveConnector.Params)
    case deliverLineage(DeliverLineage.Params)
    case shutdown

    /// The request `method` with its params from `line` (the whole request line); an unknown method, or params
    /// that do not read, is the error to answer, naming the field.
    public static func decode(method: String, line: Data, decoder: PayloadDecoder) -> Result<Self, RPCError> {
        switch method {
        case Initialize.name: decoder.params(Initialize.self, from: line).map(Self.initialize)
        case Heartbeat.name: decoder.params(Heartbeat.self, from: line).map(Self.heartbeat)
        case RefreshConnectors.name: decoder.params(RefreshConnectors.self, from: line).map(Self.refresh)
        case RestartConnector.name: decoder.params(RestartConnector.self, from: line).map(Self.restartConnector)
        case ConfigureConnector.name: decoder.params(ConfigureConnector.self, from: line).map(Self.configureConnector)
        case RemoveConnector.name: decoder.params(RemoveConnector.self, from: line).map(Self.removeConnector)
        // Hundreds of events a line: read in one pass, not through Codable.
        case DeliverLineage.name: DeliverLineage.Params.read(line: line).map(Self.deliverLineage)
        case Shutdown.name: .success(.shutdown)
        default: .failure(.methodNotFound(method))
        }
    }
}

/// Every request and notification a worker sends the daemon, its params decoded. The metadata proxy serves the
/// requests on the worker's reader thread and the supervision loop takes the notifications; each has one
/// exhaustive switch over all the cases, so a new method does not compile until both sides say what they do
/// with it. (`reports/submit` lines are read first by ``SubmitReport/pull(_:)``, which keeps the report's bytes
/// for the store; a line it does not take comes here.)
public enum WorkerToDaemon: Sendable {
    case submitReport(SubmitReport.Params)
    case createElement(CreateElement.Params)
    case updateElement(UpdateElement.Params)
    case deleteElement(DeleteElement.Params)
    case writeElements(WriteElements.Params)
    case findElements(FindElements.Params)
    case connectorStatus(ConnectorStatusChanged.Params)
    case lineageProgress(LineageProgress.Params)

    /// The message `method` with its params from `line`; an unknown method, or params that do not read, is the
    /// error, naming the field.
    public static func decode(method: String, line: Data, decoder: PayloadDecoder) -> Result<Self, RPCError> {
        switch method {
        case SubmitReport.name: decoder.params(SubmitReport.self, from: line).map(Self.submitReport)
        case CreateElement.name: decoder.params(CreateElement.self, from: line).map(Self.createElement)
        case UpdateElement.name: decoder.params(UpdateElement.self, from: line).map(Self.updateElement)
        case DeleteElement.name: decoder.params(DeleteElement.self, from: line).map(Self.deleteElement)
        case WriteElements.name: decoder.params(WriteElements.self, from: line).map(Self.writeElements)
        case FindElements.name: decoder.params(FindElements.self, from: line).map(Self.findElements)
        case ConnectorStatusChanged.name: decoder.params(ConnectorStatusChanged.self, from: line).map(Self.connectorStatus)
        case LineageProgress.name: decoder.params(LineageProgress.self, from: line).map(Self.lineageProgress)
        default: .failure(.methodNotFound(method))
        }
    }
}

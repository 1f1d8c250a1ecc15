/// The wire's parsers of untrusted bytes, each as one function of arbitrary input: what `scripts/fuzz` drives
/// under libFuzzer, and what the tests replay over the committed corpora (`Fuzz/Corpus/<rawValue>/`).
///
/// A target returns normally for any input: a parser may refuse bytes, never trap on them.
enum ProtocolFuzzTarget: String, CaseIterable, Sendable {
    /// Bytes on a worker's stdout or the daemon's stdin, split into lines at a point the input chooses.
    case lineFramer = "line-framer"
    /// The strict JSON parser and the one-pass report reader.
    case jsonParser = "json-parser"
    /// One line a worker sends the daemon, through every decoder the daemon applies to it.
    case workerToDaemon = "worker-to-daemon"
    /// One line the daemon sends a worker, through every decoder the worker applies to it.
    case daemonToWorker = "daemon-to-worker"

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .lineFramer: Self.frame(bytes)
        case .jsonParser: Self.json(Data(bytes))
        case .workerToDaemon: Self.fromWorker(Data(bytes))
        case .daemonToWorker: Self.fromDaemon(Data(bytes))
        }
    }

    private static func frame(_ bytes: UnsafeRawBufferPointer) {
        // A small limit, so oversized lines are reached; the first byte picks where the stream is split.
        var framer = LineFramer(maxLineLength: 64)
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        var lines = 0
        for piece in [UnsafeRawBufferPointer(rebasing: bytes[..<split]), UnsafeRawBufferPointer(rebasing: bytes[split...])] {
            framer.feed(piece) { event in
                if case .oversized(_, let prefix) = event { _ = RequestID.peek(in: prefix) }
                lines += 1
            }
        }
        _ = framer.pendingByteCount
    }

    private static func json(_ data: Data) {
        _ = try? JSONParser.parse(data)
        _ = SubmitReport.pull(data)
        // A stored report's body, as the store reads it back from disk.
        _ = IntegrationReport.pull(data)
        if let value = try? JSONParser.parse(data) { _ = try? IntegrationReport(json: value, path: "report") }
        _ = RequestID.peek(in: data.prefix(LineFramer.keptPrefix))
    }

    private static let decoder = PayloadDecoder()

    private static func fromWorker(_ line: Data) {
        _ = SubmitReport.pull(line)
        guard case .success(let message) = IncomingMessage.decode(line) else { return }
        switch message {
        case .request(_, let method, let raw), .notification(let method, let raw):
            _ = WorkerToDaemon.decode(method: method, line: raw, decoder: decoder)
            _ = decoder.params(SubmitReport.self, from: raw)
            _ = decoder.params(CreateElement.self, from: raw)
            _ = decoder.params(UpdateElement.self, from: raw)
            _ = decoder.params(DeleteElement.self, from: raw)
            _ = decoder.params(WriteElements.self, from: raw)
            _ = decoder.params(FindElements.self, from: raw)
            _ = decoder.params(ConnectorStatusChanged.self, from: raw)
            _ = decoder.params(LineageProgress.self, from: raw)
        case .response(_, .result(let raw)):
            _ = decoder.result(Initialize.self, from: raw)
            _ = decoder.result(Heartbeat.self, from: raw)
            _ = decoder.result(RefreshConnectors.self, from: raw)
            _ = decoder.result(Shutdown.self, from: raw)
            _ = decoder.result(RestartConnector.self, from: raw)
            _ = decoder.result(ConfigureConnector.self, from: raw)
            _ = decoder.result(RemoveConnector.self, from: raw)
            _ = decoder.result(DeliverLineage.self, from: raw)
        case .response(_, .error):
            break
        }
    }

    private static func fromDaemon(_ line: Data) {
        guard case .success(let message) = IncomingMessage.decode(line) else { return }
        switch message {
        case .request(_, let method, let raw), .notification(let method, let raw):
            _ = DaemonToWorker.decode(method: method, line: raw, decoder: decoder)
            _ = decoder.params(Initialize.self, from: raw)
            _ = decoder.params(Heartbeat.self, from: raw)
            _ = decoder.params(RefreshConnectors.self, from: raw)
            _ = DeliverLineage.Params.read(line: raw)
            _ = decoder.params(Shutdown.self, from: raw)
            _ = decoder.params(RestartConnector.self, from: raw)
            _ = decoder.params(ConfigureConnector.self, from: raw)
            _ = decoder.params(RemoveConnector.self, from: raw)
        case .response(_, .result(let raw)):
            _ = decoder.result(SubmitReport.self, from: raw)
            _ = decoder.result(CreateElement.self, from: raw)
            _ = decoder.result(UpdateElement.self, from: raw)
            _ = decoder.result(DeleteElement.self, from: raw)
            _ = decoder.result(WriteElements.self, from: raw)
            _ = decoder.result(FindElements.self, from: raw)
        case .response(_, .error):
            break
        }
    }
}

import Dispatch
import Glibc
import HTTPWire
import Protocol
import Synchronization

/// Egeria's OpenLineage API publisher (`APIBasedOpenLineageLogStoreProvider`): POSTs each event, as its producer
/// sent it, to another OpenLineage endpoint (Marquez's `…/api/v1/lineage`, or another daemon's door), in store
/// order, over one keep-alive connection.
///
/// Unlike Egeria's, it never drops an event. An answer that blames the event itself (400, 413, 415, 422) sends
/// it to the dead-letter file; any other failure (no connection, a timeout, 5xx, 401, 404) is retried with
/// capped exponential backoff and jitter until the receiver takes it, while the connector falls behind and
/// status shows its backlog. After each event the receiver took, the daemon is told (`lineage/progress`), so a
/// restarted worker does not send it again.
final class OpenLineageAPIPublisher: LineageConsumer {
    static let providerNames = ["open-lineage-api-publisher",
                                "org.odpi.openmetadata.adapters.connectors.integration.openlineage.APIBasedOpenLineageLogStoreProvider"]
    static let defaultDeadLetterFile = "logs/openlineage-dead-letters.jsonl"
    /// Answers that say the event can never be taken: sending it again would get the same.
    static let refusalStatuses: Set<Int> = [400, 413, 415, 422]
    static let firstBackoffSeconds = 0.5
    /// Only the status and the start of a refusal's reason matter, but a receiver may echo the event (at most a
    /// line, 1 MiB): past this the answer is a failure, never held in memory.
    static let maxAnswerBytes = 4 << 20

    private let target: String
    private let path: String
    private let transport: SocketHTTPTransport
    private let maxBackoffSeconds: Double
    private let deadLetterFile: String
    /// Set once the worker stops; `wake` cuts a backoff short.
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    init(config: IntegrationConnectorConfig) throws {
        let address = config.connection.endpoint?.address ?? ""
        let properties = config.connection.configurationProperties ?? [:]
        guard let url = URL(string: address), let scheme = url.scheme, scheme == "http" || scheme == "https", url.host != nil else {
            throw ConnectorError("connection.endpoint.address must be the http:// or https:// URL of an OpenLineage endpoint (Marquez: http://host:5000/api/v1/lineage), not \"\(address)\"",
                                 kind: .configFailed)
        }
        let timeout = try Self.seconds(properties, "timeoutSeconds", default: 10, range: 0.1...600)
        maxBackoffSeconds = try Self.seconds(properties, "maxBackoffSeconds", default: 30, range: 0.1...3600)
        deadLetterFile = try Self.text(properties, "deadLetterFile") ?? Self.defaultDeadLetterFile
        let caFile = try Self.text(properties, "caFile")
        target = address
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        self.path = path
        let root = URL(string: "\(scheme)://\(address.dropFirst(scheme.count + 3).prefix { $0 != "/" && $0 != "?" })")
        do {
            guard let root, let transport = try SocketHTTPTransport(root: root, connections: 1, timeoutSeconds: timeout, caFile: caFile,
                                                                         maxResponseBytes: Self.maxAnswerBytes) else {
                throw ConnectorError("cannot use \(address) as an endpoint", kind: .configFailed)
            }
            self.transport = transport
        } catch let error as ConnectorError {
            throw error
        } catch {
            throw ConnectorError("cannot set up TLS for \(address): \(error)", kind: .configFailed)
        }
    }

    /// Nothing to compare: events arrive through ``publish(_:context:)``.
    func refresh(context: ConnectorContext) throws {}

    func stopping() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    func disconnect() { transport.shutDown() }

    /// What became of one event.
    private enum Outcome {
        case taken
        case refused(status: Int, answer: String)
        case retry(String)
    }

    func publish(_ events: [DeliverLineage.Event], context: ConnectorContext) throws {
        var waiting = false
        defer { if waiting { context.waiting(nil) } }
        var headers: [(String, String)] = []
        if let key = context.secret { headers.append(("Authorization", "Bearer " + key)) }
        for item in events {
            var writer = JSONWriter()
            writer.value(item.event)
            let body = Data(writer.bytes)
            var delay = Self.firstBackoffSeconds
            var attempts = 0
            sending: while true {
                if stopped.load(ordering: .sequentiallyConsistent) {
                    throw ConnectorError("the worker is stopping; event \(item.seq) and after go to the next worker", kind: .waiting)
                }
                attempts += 1
                switch send(body, headers: headers) {
                case .taken:
                    context.count("openLineageEventsForwarded")
                    if waiting {
                        waiting = false
                        context.waiting(nil)
                    }
                    break sending
                case .refused(let status, let answer):
                    try deadLetter(item, status: status, answer: answer)
                    context.logger.warning("\(target) refused OpenLineage event \(item.seq) with \(status); it is in \(deadLetterFile)")
                    context.count("openLineageEventsDeadLettered")
                    break sending
                case .retry(let reason):
                    waiting = true
                    context.waiting("cannot forward OpenLineage events to \(target): \(reason); retrying")
                    context.logger.warning("cannot forward OpenLineage event \(item.seq) to \(target) (attempt \(attempts)): \(reason); retrying in \((delay * 10).rounded() / 10) s")
                    _ = wake.wait(timeout: .now() + delay * Double.random(in: 0.8...1.0))
                    delay = min(delay * 2, maxBackoffSeconds)
                }
            }
            context.lineageHandled(upTo: item.seq)
        }
    }

    private func send(_ body: Data, headers: [(String, String)]) -> Outcome {
        switch transport.post(path: path, body: body, headers: headers) {
        case .failure(let error):
            return .retry(error.description)
        case .success(let answer) where (200..<300).contains(answer.status):
            return .taken
        case .success(let answer):
            let text = String(decoding: answer.body.prefix(1024), as: UTF8.self)
            if Self.refusalStatuses.contains(answer.status) { return .refused(status: answer.status, answer: text) }
            return .retry("HTTP \(answer.status) \(text.prefix(200))")
        }
    }

    /// Appends the event, with why it was refused, to the dead-letter file and syncs it: only then does the
    /// daemon hear that it was handled.
    private func deadLetter(_ item: DeliverLineage.Event, status: Int, answer: String) throws {
        var writer = JSONWriter()
        writer.value(.object(["seq": .int(item.seq), "target": .string(target), "status": .int(status),
                              "answer": .string(answer), "deadLetteredAt": .string(Date().formatted(.iso8601)),
                              "event": item.event]))
        let line = writer.bytes + [0x0A]
        if let slash = deadLetterFile.lastIndex(of: "/"), slash != deadLetterFile.startIndex {
            try OpenLineageFilePublisher.makeFolders(String(deadLetterFile[..<slash]))
        }
        let fd = open(deadLetterFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ConnectorError("cannot open \(deadLetterFile): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do { try LineWriter.writeAll(fd: fd, Data(line)) } catch {
            throw ConnectorError("cannot write \(deadLetterFile): \(error)")
        }
        guard fdatasync(fd) == 0 else { throw ConnectorError("cannot sync \(deadLetterFile): \(String(cString: strerror(errno)))") }
    }

    private static func seconds(_ properties: [String: JSONValue], _ name: String, default value: Double,
                                range: ClosedRange<Double>) throws -> Double {
        guard let given = properties[name] else { return value }
        guard let number = given.doubleValue, range.contains(number) else {
            throw ConnectorError("configurationProperties.\(name) must be a number of seconds in \(range.lowerBound)…\(range.upperBound)", kind: .configFailed)
        }
        return number
    }

    private static func text(_ properties: [String: JSONValue], _ name: String) throws -> String? {
        guard let given = properties[name] else { return nil }
        guard let text = given.stringValue, !text.isEmpty else {
            throw ConnectorError("configurationProperties.\(name) must be a non-empty string", kind: .configFailed)
        }
        return text
    }
}

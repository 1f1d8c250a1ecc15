import Foundation
import Forwarding
import Protocol
import Store
import Synchronization

/// Report intake and the metadata proxy for one worker incarnation: its requests are served on that worker's
/// stdout reader thread, straight against the store, and answered once their writes are durable.
///
/// They need no supervision state, so they bypass the loop: a worker flooding reports cannot delay heartbeats
/// or restarts, and workers' requests are served in parallel. Every call is held to the worker's
/// ``ServiceScope``; a call outside it is refused and reported through `onViolation`.
final class MetadataProxy: Sendable {
    /// Where writes and reports go.
    let access: AccessServer
    /// What finds read: the access server itself, or its mirror of Egeria.
    let store: EmbeddedStore
    let connection: WorkerConnection
    let tracker: RefreshTracker
    let scope: ServiceScope
    /// Told (on the reader thread) of each refused call, so the loop counts and logs it.
    private let onViolation: @Sendable (String) -> Void
    private let assembly = Mutex(ReportAssembly())
    let encoder = MessageEncoder()
    private let decoder = PayloadDecoder()

    init(access: AccessServer, store: EmbeddedStore, connection: WorkerConnection, tracker: RefreshTracker, scope: ServiceScope,
         onViolation: @escaping @Sendable (String) -> Void) {
        self.access = access
        self.store = store
        self.connection = connection
        self.tracker = tracker
        self.scope = scope
        self.onViolation = onViolation
    }

    /// The methods served here; any other request goes to the supervision loop.
    static let methods: Set<String> = [SubmitReport.name, CreateElement.name, UpdateElement.name, DeleteElement.name, WriteElements.name,
                                       FindElements.name]

    /// Serves a `reports/submit` line read in one pass straight into the report (``SubmitReport/pull(_:)``); a
    /// line that pass does not take goes through ``fastPath``, and then the general path, for their exact errors.
    func handleReportFastPath(_ line: Data) -> Bool {
        guard Self.names(Self.submitMarker, in: line) else { return false }
        if let (id, params, report) = SubmitReport.pull(line), params.outOfRange == nil {
            // The report is stored as the worker wrote it, which reads back as `params.report` (see `pull`):
            // writing it out again was a fifth of this thread's time.
            let body = params.part == nil ? line.withUnsafeBytes { Array($0[report]) } : nil
            submit(params, body: body, reply: Replier(connection: connection, id: id, encoder: encoder))
            return true
        }
        return fastPath(SubmitReport.self, marker: Self.submitMarker, line: line) { params, reply in submit(params, reply: reply) }
    }

    private static let submitMarker = Data("\"\(SubmitReport.name)\"".utf8)

    func handle(id: RequestID, method: String, line: Data) {
        let reply = Replier(connection: connection, id: id, encoder: encoder)
        switch WorkerToDaemon.decode(method: method, line: line, decoder: decoder) {
        case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
        case .success(let request): handle(request, method: method, reply: reply)
        }
    }

    private func handle(_ request: WorkerToDaemon, method: String, reply: Replier) {
        switch request {
        case .submitReport(let params):
            submit(params, reply: reply)
        case .createElement(let params):
            create(params) { reply.send($0.map(ElementResult.init)) }
        case .updateElement(let params):
            update(params) { reply.send($0.map(ElementResult.init)) }
        case .deleteElement(let params):
            delete(params) { reply.send($0.map(ElementResult.init)) }
        case .writeElements(let params):
            write(params, done: { reply.send($0) })
        case .findElements(let params):
            reply.sendFindResult(params, store: store, scope: scope)
        case .connectorStatus, .lineageProgress:
            // Notifications have no id to answer; sent as a request, they are answered as unknown.
            reply.send(Result<Empty, RPCError>.failure(.invalidRequest("\(method) is a notification; it takes no id")))
        }
    }

    typealias ElementDone = @Sendable (Result<MetadataElement, RPCError>) -> Void

    /// Creates an element at the access server (see ``AccessServer``), within the worker's scope.
    func create(_ params: CreateElement.Params, done: @escaping ElementDone) {
        if let refused = scope.refusal(connector: params.connectorName, creatingIn: params.metadataSourceQualifiedName) {
            return done(.failure(refuse(refused)))
        }
        if let parent = params.parent, case .failure(let error) = ownElement(parent.parentGUID, connector: params.connectorName) {
            return done(.failure(error))
        }
        let tracker = tracker
        access.elements.createElement(params, service: scope.serviceName) { done(Self.track($0, .created, params.connectorName, tracker)) }
    }

    func update(_ params: UpdateElement.Params, done: @escaping ElementDone) {
        let tracker = tracker
        let finish: ElementDone = { done(Self.track($0, .updated, params.connectorName, tracker)) }
        switch ownElement(params.guid, connector: params.connectorName) {
        case .success(let own): access.elements.updateElement(params, current: own, service: scope.serviceName, completion: finish)
        case .failure(let error): finish(.failure(error))
        }
    }

    func delete(_ params: DeleteElement.Params, done: @escaping ElementDone) {
        let tracker = tracker
        let finish: ElementDone = { done(Self.track($0, .deleted, params.connectorName, tracker)) }
        switch ownElement(params.guid, connector: params.connectorName) {
        case .success(let own): access.elements.deleteElement(params, current: own, completion: finish)
        case .failure(let error): finish(.failure(error))
        }
    }

    /// Takes a whole report or one part of it; stores it (answering once durable) when it is complete.
    /// `body`, when given, is the report's JSON as received (a whole report, not a part).
    private func submit(_ params: SubmitReport.Params, body: [UInt8]? = nil, reply: Replier) {
        var report = params.report
        if let refused = scope.refusal(connector: report.connectorName) {
            return reply.send(Result<Empty, RPCError>.failure(refuse(refused)))
        }
        if let part = params.part {
            switch assembly.withLock({ $0.add(report, part: part) }) {
            case .failure(let error):
                return reply.send(Result<Empty, RPCError>.failure(error))
            case .success(.held(let received)):
                return reply.send(Result<SubmitReport.Result, RPCError>.success(.init(reportId: report.reportId, stored: false, partsReceived: received)))
            case .success(.complete(let whole)):
                report = whole
            }
        }
        let reportId = report.reportId, connector = report.connectorName, tracker = tracker
        access.reports.submit(report, body: body) { result in
            switch result {
            case .success(let stored):
                tracker.reported(connectorName: connector)
                reply.sendSubmitResult(reportId: reportId, stored: stored)
            case .failure(let error):
                reply.send(Result<Empty, RPCError>.failure(error))
            }
        }
    }

    /// The element, if it exists and the calling connector's service may touch it.
    func ownElement(_ guid: String, connector: String) -> Result<MetadataElement, RPCError> {
        if let refused = scope.refusal(connector: connector) { return .failure(refuse(refused)) }
        guard let element = store.element(guid: guid) else { return .failure(.notFound("no element with guid \(guid)")) }
        if let refused = scope.refusal(element: element) { return .failure(refuse(refused)) }
        return .success(element)
    }

    func refuse(_ reason: String) -> RPCError {
        onViolation(reason)
        return .outsideService(reason)
    }

    private static func track(_ result: Result<MetadataElement, RPCError>, _ kind: RefreshTracker.Kind, _ connector: String,
                              _ tracker: RefreshTracker) -> Result<MetadataElement, RPCError> {
        if case .success(let element) = result { tracker.record(kind, guid: element.guid, connectorName: connector) }
        return result
    }

    /// Decodes `M`'s params (answering -32602 if they are malformed) and lets `body` answer, now or later.
}

/// Answers one worker request from whichever thread finishes it (reader or journal commit thread).
struct Replier: Sendable {
    let connection: WorkerConnection
    let id: RequestID
    let encoder: MessageEncoder

    /// The `reports/submit` answer, written by hand straight into the connection's queue: it is sent once per
    /// report, and JSONEncoder costs more than the rest of the reply path together.
    func sendSubmitResult(reportId: String, stored: Bool) {
        connection.send(reserving: 96 + reportId.utf8.count) { writer in
            writer.raw("{\"id\":")
            switch id {
            case .number(let n): writer.int(n)
            case .string(let s): writer.string(s)
            }
            writer.raw(",\"jsonrpc\":\"2.0\",\"result\":{\"reportId\":")
            writer.string(reportId)
            writer.raw(stored ? ",\"stored\":true}}\n" : ",\"stored\":false}}\n")
        }
    }

    /// One page of a `metadata/findElements` answer, written by hand and kept under
    /// ``FindElements/pageTargetBytes``: `nextAfter` names where the next page starts when this one is not the last.
    /// The store is read in chunks until the page is full, so no element is loaded for a page it does not go in.
    func sendFindResult(_ params: FindElements.Params, store: EmbeddedStore, scope: ServiceScope) {
        var writer = JSONWriter(capacity: 64 << 10)
        writer.raw("{\"id\":")
        switch id {
        case .number(let n): writer.int(n)
        case .string(let s): writer.string(s)
        }
        writer.raw(",\"jsonrpc\":\"2.0\",\"result\":{\"elements\":[")
        var query = EmbeddedStore.ElementQuery(params)
        var nextAfter: String?
        var scanned = 0, first = true
        while true {
            var full = false
            let read = store.writeFindPage(query, limit: Self.findChunk, into: &writer, first: &first,
                                           mayTouch: { source, service in scope.mayTouch(source: source, service: service) },
                                           stop: { chunkScanned, bytes in
                full = bytes > FindElements.pageTargetBytes || scanned + chunkScanned >= FindElements.pageLimit
                return full
            })
            guard case .success(let progress) = read else {
                // Retryable: the connector's refresh stays WAITING and tries again, rather than act on part of it.
                return send(Result<Empty, RPCError>.failure(.unavailable("the store could not be read; retry later")))
            }
            scanned += progress.scanned
            if let last = progress.last { query.after = last }
            if full { nextAfter = query.after; break }
            if progress.scanned < Self.findChunk { break }
        }
        writer.raw("]")
        if let nextAfter {
            writer.raw(",\"nextAfter\":")
            writer.string(nextAfter)
        }
        writer.raw("}}\n")
        connection.send(Data(writer.bytes))
    }

    /// Elements read from the store at a time while a page fills.
    static let findChunk = 256

    func send<R: Encodable>(_ result: Result<R, RPCError>) {
        switch result {
        case .success(let value):
            do { connection.send(try encoder.response(id: id, result: value)) } catch {
                connection.send(encoder.errorResponse(id: id, error: .internalError("cannot encode the answer: \(error)")))
            }
        case .failure(let error):
            connection.send(encoder.errorResponse(id: id, error: error))
        }
    }
}

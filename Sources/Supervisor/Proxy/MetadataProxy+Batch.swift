import Foundation
import Protocol
import Synchronization

extension MetadataProxy {
    /// Serves a `metadata/writeElements` line with one parse and no `Decodable` machinery (see ``fastPath``).
    func handleWriteFastPath(_ line: Data) -> Bool {
        fastPath(WriteElements.self, marker: Self.writeMarker, line: line) { params, reply in
            write(params) { result in
                switch result {
                case .success(let outcomes): reply.sendWriteResult(outcomes)
                case .failure(let error): reply.send(Result<Empty, RPCError>.failure(error))
                }
            }
        }
    }

    private static let writeMarker = Data("\"\(WriteElements.name)\"".utf8)

    /// Serves `metadata/writeElements`: each write goes through the same checks and store calls as its single
    /// method, in order, and the answer goes once every write has its outcome.
    ///
    /// Against the embedded store all writes are queued at once: the store's writer runs them in order, each in
    /// its savepoint, so a later write sees an earlier one, and commits them together. Against Egeria they run
    /// one after another, because a write may depend on the previous one (a delete, then a create of the name).
    /// A batch in another service's connector's name is refused whole.
    func write(_ params: WriteElements.Params, done: @escaping @Sendable (Result<WriteElements.Result, RPCError>) -> Void) {
        if let refused = scope.refusal(connector: params.connectorName) { return done(.failure(refuse(refused))) }
        guard !params.writes.isEmpty else { return done(.success(.init(outcomes: []))) }
        let batch = BatchOutcomes(count: params.writes.count) { done(.success($0)) }
        // Once the access server is unavailable, the rest are not tried: each would wait out its own timeout.
        let unavailable = Mutex<RPCError?>(nil)
        let calls = params.writes.enumerated().map { index, write in
            { @Sendable (next: @escaping @Sendable () -> Void) in
                if let error = unavailable.withLock({ $0 }) {
                    batch.set(index, .failure(.unavailable("not tried: \(error.message)")))
                    return next()
                }
                self.apply(write, of: params) { result in
                    if case .failure(let error) = result, error.code == RPCError.unavailableCode {
                        unavailable.withLock { $0 = $0 ?? error }
                    }
                    batch.set(index, result)
                    next()
                }
            }
        }
        if !access.elements.writesInOrder {
            calls.forEach { $0({}) }
        } else {
            InOrder(calls).run()
        }
    }

    /// `finish` gets the GUID the write's outcome names: the element's, or a new relationship's.
    private func apply(_ write: ElementWrite, of params: WriteElements.Params, finish: @escaping @Sendable (Result<String, RPCError>) -> Void) {
        let done: ElementDone = { finish($0.map(\.guid)) }
        switch write {
        case .create(let typeName, let qualifiedName, let properties, let parent, let classifications):
            create(.init(connectorName: params.connectorName, typeName: typeName, qualifiedName: qualifiedName,
                         properties: properties, metadataSourceQualifiedName: params.metadataSourceQualifiedName,
                         parent: parent, initialClassifications: classifications.isEmpty ? nil : classifications), done: done)
        case .update(let guid, let properties, let replace):
            update(.init(connectorName: params.connectorName, guid: guid, properties: properties, replaceProperties: replace), done: done)
        case .delete(let guid):
            delete(.init(connectorName: params.connectorName, guid: guid), done: done)
        case .relate(let typeName, let end1, let end2, let properties):
            relate(typeName: typeName, end1GUID: end1, end2GUID: end2, properties: properties, connector: params.connectorName, done: finish)
        case .unrelate(let guid):
            unrelate(relationshipGUID: guid, connector: params.connectorName, done: { finish($0.map(\.guid)) })
        case .classify(let guid, let name, let properties):
            classify(guid: guid, name: name, properties: properties, connector: params.connectorName, done: done)
        case .declassify(let guid, let name):
            classify(guid: guid, name: name, properties: nil, connector: params.connectorName, done: done)
        }
    }
}

/// Runs asynchronous calls one after another. A call that finishes at once does not nest the next one in
/// its stack (a batch of 1,000 refusals would otherwise recurse 1,000 deep on a reader thread): the loop
/// goes on instead, and only a call that finishes later starts the next one from its own thread.
private final class InOrder: Sendable {
    typealias Call = @Sendable (@escaping @Sendable () -> Void) -> Void
    private let calls: [Call]

    /// Which side of one call got there first: its completion, or its return to the loop.
    private enum Race { case inCall, finishedInCall, returnedFirst }

    init(_ calls: [Call]) { self.calls = calls }

    func run(from first: Int = 0) {
        var index = first
        while index < calls.count {
            let race = Mutex(Race.inCall)
            let current = index
            let call = calls[current]
            call { [self] in
                let late = race.withLock { race -> Bool in
                    guard race == .returnedFirst else { race = .finishedInCall; return false }
                    return true
                }
                if late { run(from: current + 1) }
            }
            let finished = race.withLock { race -> Bool in
                guard race == .finishedInCall else { race = .returnedFirst; return false }
                return true
            }
            guard finished else { return }
            index += 1
        }
    }
}

/// The outcomes of one batch as they arrive, from whichever threads finish its writes; the last one answers.
private final class BatchOutcomes: Sendable {
    private let state: Mutex<(outcomes: [WriteOutcome?], remaining: Int)>
    private let done: @Sendable (WriteElements.Result) -> Void

    init(count: Int, done: @escaping @Sendable (WriteElements.Result) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.done = done
    }

    func set(_ index: Int, _ result: Result<String, RPCError>) {
        let finished = state.withLock { state -> [WriteOutcome]? in
            guard state.outcomes[index] == nil else { return nil }
            switch result {
            case .success(let guid): state.outcomes[index] = .written(guid: guid)
            case .failure(let error): state.outcomes[index] = .failed(error)
            }
            state.remaining -= 1
            return state.remaining == 0 ? state.outcomes.compactMap { $0 } : nil
        }
        if let finished { done(WriteElements.Result(outcomes: finished)) }
    }
}

extension Replier {
    /// The `metadata/writeElements` answer, written by hand: up to 1,000 outcomes per request.
    func sendWriteResult(_ result: WriteElements.Result) {
        var writer = JSONWriter(capacity: 64 + result.outcomes.count * 48)
        writer.raw("{\"id\":")
        switch id {
        case .number(let n): writer.int(n)
        case .string(let s): writer.string(s)
        }
        writer.raw(",\"jsonrpc\":\"2.0\",\"result\":{\"outcomes\":[")
        for (index, outcome) in result.outcomes.enumerated() {
            if index > 0 { writer.raw(",") }
            switch outcome {
            case .written(let guid):
                writer.raw("{\"guid\":")
                writer.string(guid)
                writer.raw("}")
            case .failed(let error):
                writer.raw("{\"error\":{\"code\":")
                writer.int(error.code)
                writer.raw(",\"message\":")
                writer.string(error.message)
                writer.raw("}}")
            }
        }
        writer.raw("]}}\n")
        connection.send(Data(writer.bytes))
    }
}

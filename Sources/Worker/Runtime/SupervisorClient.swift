import Dispatch
import Protocol
import Synchronization

/// Calls the supervisor (metadata, reports) from connector threads and waits for the answer.
///
/// Many calls may be in flight at once; responses are matched by id whatever their order.
final class SupervisorClient: Sendable {
    private let wire: LineWriter
    private let encoder = MessageEncoder()
    private let decoder = PayloadDecoder()
    private let state = Mutex(State())
    /// How long a call waits before giving up; the supervisor answers or replaces this worker well before.
    private let timeoutSeconds: Double

    private struct State {
        var nextID = 1
        var pending: [RequestID: Waiter] = [:]
        var closed = false
    }

    /// One pending call: the I/O thread stores the outcome, the caller's thread waits on the semaphore.
    private final class Waiter: Sendable {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<IncomingMessage.Outcome?>(nil)
    }

    init(wire: LineWriter, timeoutSeconds: Double = 120) {
        self.wire = wire
        self.timeoutSeconds = timeoutSeconds
    }

    func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(RPCError) -> M.Result {
        let line = try exchange(method, params)
        switch decoder.result(M.self, from: line) {
        case .success(let result): return result
        case .failure(let error): throw error
        }
    }

    /// As ``call(_:_:)``, with the answer's `result` read by `read` from the parsed line rather than by Codable.
    func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params,
                            read: (JSONValue) throws(FieldError) -> M.Result) throws(RPCError) -> M.Result {
        let line = try exchange(method, params)
        do {
            guard let result = try JSONParser.parse(line)["result"] else { throw FieldError(field: "result", problem: "missing") }
            return try read(result)
        } catch let error as FieldError {
            throw .invalidParams(M.name, "the answer: \(error)")
        } catch {
            throw .invalidParams(M.name, "the answer is not JSON: \(error)")
        }
    }

    /// Sends the request and waits for the answer's line; an error answer is thrown.
    private func exchange<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(RPCError) -> Data {
        let waiter = Waiter()
        let id: RequestID? = state.withLock { state in
            guard !state.closed else { return nil }
            let id = RequestID.number(state.nextID)
            state.nextID += 1
            state.pending[id] = waiter
            return id
        }
        guard let id else { throw .unavailable("the supervisor connection is closed") }
        do {
            try wire.write(try encoder.request(M.self, id: id, params: params))
        } catch {
            _ = state.withLock { $0.pending.removeValue(forKey: id) }
            throw .unavailable("cannot send \(M.name): \(error)")
        }
        if waiter.done.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            _ = state.withLock { $0.pending.removeValue(forKey: id) }
            throw .unavailable("\(M.name) got no answer within \(Int(timeoutSeconds)) s")
        }
        switch waiter.outcome.withLock({ $0 }) {
        case .result(let line)?: return line
        case .error(let error)?: throw error
        case nil: throw .unavailable("the supervisor connection closed during \(M.name)")
        }
    }

    /// Sends a notification, which has no answer; throws when stdout is gone.
    func notify<N: RPCNotification>(_ method: N.Type, _ params: N.Params) throws(RPCError) {
        do { try wire.write(try encoder.notification(N.self, params: params)) } catch {
            throw .unavailable("cannot send \(N.name): \(error)")
        }
    }

    /// Delivers a response from the supervisor; false if no call was waiting for that id.
    func complete(id: RequestID, outcome: IncomingMessage.Outcome) -> Bool {
        guard let waiter = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        waiter.outcome.withLock { $0 = outcome }
        waiter.done.signal()
        return true
    }

    /// Fails every pending and future call (stdin reached EOF).
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        waiters.forEach { $0.done.signal() }
    }
}

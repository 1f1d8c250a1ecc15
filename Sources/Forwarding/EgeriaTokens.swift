import Foundation
import HTTPWire
import Protocol
import Synchronization

/// Egeria 6's bearer token for the forwarder: got from the platform's token API (`POST /api/token` with the
/// user's password), renewed before it expires, and once more after a 401. Callers never block: they queue
/// until the one request in flight returns.
final class EgeriaTokens: Sendable {
    typealias Waiter = @Sendable (Result<String, EgeriaClient.Outcome>) -> Void

    private let userId: String
    private let password: String
    private let renewSeconds: Double
    private let fetch: @Sendable (Data, @escaping @Sendable (Result<(status: Int, body: Data), SocketHTTPTransport.TransportError>) -> Void) -> Void
    private let state = Mutex(State())

    private struct State {
        var token: String?
        var renewAt = 0.0
        var fetching = false
        var waiters: [Waiter] = []
        var fetched = 0
    }

    /// `fetch` posts a body to the token API and hands back the HTTP answer.
    init(userId: String, password: String, renewSeconds: Double,
         fetch: @escaping @Sendable (Data, @escaping @Sendable (Result<(status: Int, body: Data), SocketHTTPTransport.TransportError>) -> Void) -> Void) {
        Redaction.register(password)
        self.userId = userId
        self.password = password
        self.renewSeconds = renewSeconds
        self.fetch = fetch
    }

    /// How many tokens were fetched (status and tests).
    var fetchedCount: Int { state.withLock { $0.fetched } }

    /// Calls `body` with a valid token, at once when one is held.
    func withToken(_ body: @escaping Waiter) {
        let now = MonotonicClock.now()
        let (token, start) = state.withLock { state -> (String?, Bool) in
            if let token = state.token, now < state.renewAt { return (token, false) }
            state.waiters.append(body)
            defer { state.fetching = true }
            return (nil, !state.fetching)
        }
        if let token { return body(.success(token)) }
        if start { request() }
    }

    /// The server refused `token` (401): the next caller gets a new one.
    func invalidate(_ token: String) {
        state.withLock { state in
            if state.token == token { state.token = nil }
        }
    }

    private func request() {
        var writer = JSONWriter()
        writer.value(.object(["userId": .string(userId), "password": .string(password)]))
        fetch(Data(writer.bytes)) { [self] result in
            let outcome: Result<String, EgeriaClient.Outcome>
            switch result {
            case .failure(let error): outcome = .failure(.retry(Redaction.scrub("token API unreachable: \(error)")))
            case .success(let response) where response.status == 200:
                let token = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                outcome = token.isEmpty || token.utf8.count > 16_384 || token.contains(where: { $0.isNewline || $0 == " " })
                    ? .failure(.retry("the token API answered no usable token")) : .success(token)
            case .success(let response):
                outcome = .failure(.retry("the token API refused user \(userId): HTTP \(response.status)"))
            }
            let now = MonotonicClock.now()
            let waiters = state.withLock { state -> [Waiter] in
                if case .success(let token) = outcome {
                    state.token = token
                    state.renewAt = now + Self.lifetime(of: token, default: renewSeconds)
                    state.fetched += 1
                }
                state.fetching = false
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            waiters.forEach { $0(outcome) }
        }
    }

    /// How long to use a token: 80 % of a JWT's remaining life (its `exp`), else the configured renewal period.
    static func lifetime(of token: String, default fallback: Double, now: Double = Date().timeIntervalSince1970) -> Double {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]),
              case .object(let claims)? = try? JSONParser.parse(Data(payload)), let expiry = claims["exp"]?.doubleValue else { return fallback }
        return min(fallback, max(0, (expiry - now) * 0.8))
    }
}

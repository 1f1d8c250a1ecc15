import Foundation
import HTTPWire
import Forwarding
import Protocol

/// The daemon's parsers of bytes from clients, servers and the disk, each as one function of arbitrary input:
/// what `scripts/fuzz` drives under libFuzzer, and what the tests replay over the committed corpora
/// (`Fuzz/Corpus/<rawValue>/`). The wire's own parsers are ``Protocol``'s `ProtocolFuzzTarget`.
///
/// A target returns normally for any input: a parser may refuse bytes, never trap on them.
enum DaemonFuzzTarget: String, CaseIterable, Sendable {
    /// What a client sends the REST door, split where the input's first byte says.
    case httpRequest = "http-request"
    /// What an access server answers the forwarder, then the Egeria bodies read from it.
    case httpResponse = "http-response"
    /// An Egeria response body as the forwarder classifies and reads it (FFDC fields, GUIDs, found elements), and
    /// as an integration group's registrations are read from it.
    case egeriaResponse = "egeria-response"
    /// A control-socket request line, decoded into its command.
    case controlCommand = "control-command"
    /// A bearer token presented at the door, and a token the access server issued.
    case bearerToken = "bearer-token"
    /// A configuration file's bytes, loaded and validated.
    case configuration = "configuration"
    /// An OpenLineage event posted to the door, checked against the spec (its date-time, UUID and URI readers too).
    case openLineageEvent = "openlineage-event"

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .httpRequest: Self.http(bytes, kind: .request)
        case .httpResponse: Self.http(bytes, kind: .response)
        case .egeriaResponse: Self.egeria(Data(bytes))
        case .controlCommand: _ = try? CommandCall.decode(Data(bytes), answer: DiscardedAnswer())
        case .bearerToken: Self.token(String(decoding: bytes, as: UTF8.self))
        case .configuration: _ = try? ConfigLoader.load(Data(bytes), path: "/nonexistent/fuzz/daemon.json", workerDirectory: "/nonexistent", checkProviders: false)
        case .openLineageEvent: _ = try? OpenLineageEvent(body: Array(bytes))
        }
    }

    private static func http(_ bytes: UnsafeRawBufferPointer, kind: HTTPMessageParser.Kind) {
        var parser = HTTPMessageParser(kind: kind, limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 2048))
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for piece in [bytes[..<split], bytes[split...]] {
            parser.feed(piece)
            do {
                while let message = try parser.next() {
                    _ = message.head.keepAlive
                    if kind == .response { egeria(Data(message.body), status: message.head.status) }
                }
            } catch { return }
        }
        _ = try? parser.finish()
    }

    private static func egeria(_ body: Data, status: Int = 200) {
        ForwardingFuzzTarget.egeria(body, status: status)
        _ = PlatformDoor.optionalName(Array(body))
        _ = GroupRegistrations.groupGUID(from: body, name: "fuzz")
        _ = GroupRegistrations.page(body, startingFrom: 0, now: Date(timeIntervalSince1970: 1_800_000_000))
        _ = GroupCatalogTargets.page(body, connector: "fuzz")
        _ = GroupCatalogTargets.endpoint(body)
    }

    private static let tokens = try? BearerTokens(lifetimeSeconds: 3600)

    private static func token(_ text: String) {
        _ = tokens?.verify(text)
        ForwardingFuzzTarget.token(text)
    }

    /// Answers nobody: the target only decodes.
    private struct DiscardedAnswer: AnswerSink {
        func take<Answer: Codable & Sendable>(_ result: Result<Answer, OperatorError>) {}
    }
}

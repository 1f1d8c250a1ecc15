import Foundation
import Protocol
import Store

/// OpenLineage events at the platform door: the standard `POST /api/v1/lineage` and Egeria 6's
/// `POST …/integration-daemon/publish-open-lineage-event`.
///
/// Egeria answers 200 before anything is kept and hides a refusal in `relatedHTTPCode`, so standard clients,
/// which read only the HTTP status, count a refused event as delivered. Here an event is checked, committed to
/// the store (group-committed and synced like reports), and only then answered 200. A malformed event gets 400
/// with the field at fault, a store that cannot take it 503 with `Retry-After`; Egeria's path keeps Egeria's
/// envelope with the same code in `relatedHTTPCode` and in the HTTP status.
struct LineageDoor: Sendable {
    /// Where Egeria's path is, under `servers/{name}/open-metadata/integration-daemon/`.
    static let egeriaAction = "publish-open-lineage-event"
    /// What a 503 asks the client to wait: the store probes for space once a second.
    static let retryAfterSeconds = 1
    /// The shortest API key the daemon starts with: 128 bits as hex.
    static let minimumKeyBytes = 32

    let store: EmbeddedStore
    /// API key → its name, read at start.
    let keys: [(name: String, key: String)]
    let tally: LineageTally
    let kick: LineageKick
    let logger: Logger

    /// The name of the API key `header` carries, if it carries one; every key is compared, in constant time.
    func keyName(authorization header: String?) -> String? {
        guard let given = BearerTokens.credential(authorization: header) else { return nil }
        var found: String?
        for (name, key) in keys where BearerTokens.passwordMatches(given, key) && found == nil { found = name }
        return found
    }

    /// Validates, stores and answers one event; `egeria` picks Egeria's envelope.
    func publish(_ body: [UInt8], contentEncoding: String?, egeria: Bool, caller: String,
                 reply: @escaping @Sendable (HTTPServer.Response) -> Void) -> HTTPServer.Wait {
        // openlineage-python can gzip its bodies (`compression: gzip`); say so plainly rather than "not JSON".
        if let encoding = contentEncoding?.trimmingCharacters(in: .whitespaces).lowercased(), !encoding.isEmpty, encoding != "identity" {
            tally.count(.invalid)
            let reason = "Content-Encoding \(encoding.prefix(32)) is not taken: send the event uncompressed (the client's default)"
            reply(egeria ? Self.egeriaFailure(EgeriaEnvelope.badParameter("Content-Encoding", reason, action: Self.egeriaAction))
                  : Self.plain(415, ["error": .string(reason), "field": .string("Content-Encoding")]))
            return Self.wait
        }
        let event: OpenLineageEvent
        do { event = try OpenLineageEvent(body: body) } catch {
            tally.count(.invalid)
            logger.info("lineage event refused", ["caller": .text(String(caller.prefix(64))), "field": .text(error.field)])
            reply(egeria ? Self.egeriaFailure(EgeriaEnvelope.badParameter(error.field, error.reason, action: Self.egeriaAction))
                  : Self.plain(400, ["error": .string(error.description), "field": .string(error.field)]))
            return Self.wait
        }
        store.submitLineageEvent(event.record, body: body) { [tally, kick] result in
            switch result {
            case .success(let new):
                tally.count(new ? .stored : .duplicate)
                if new { kick.kick() }
                reply(egeria ? EgeriaEnvelope.void() : Self.plain(200, ["stored": .bool(true), "duplicate": .bool(!new)]))
            case .failure(let error):
                tally.count(.unavailable)
                let reason = (error as? RPCError)?.message ?? "\(error)"
                var response = egeria ? Self.egeriaFailure(Self.unavailable(reason)) : Self.plain(503, ["error": .string(reason)])
                response.headers.append(("Retry-After", String(Self.retryAfterSeconds)))
                reply(response)
            }
        }
        // The store answers within a commit and a sync; past this the client hears 503 and retries.
        var fallback = Self.plain(503, ["error": .string("the store did not answer in time; the event may be stored, and a retry is safe")])
        fallback.headers.append(("Retry-After", String(Self.retryAfterSeconds)))
        return HTTPServer.Wait(seconds: 30, fallback: fallback)
    }

    private static let wait = HTTPServer.Wait(seconds: 0, fallback: EgeriaEnvelope.void())

    private static func plain(_ status: Int, _ fields: [String: JSONValue]) -> HTTPServer.Response {
        var writer = JSONWriter()
        writer.value(.object(fields))
        return HTTPServer.Response(status: status, body: writer.bytes)
    }

    /// Egeria's envelope, with its code as the HTTP status too.
    private static func egeriaFailure(_ failure: EgeriaEnvelope.Failure) -> HTTPServer.Response {
        var response = failure.response("VoidResponse", action: egeriaAction)
        response.status = failure.httpCode
        return response
    }

    private static func unavailable(_ reason: String) -> EgeriaEnvelope.Failure {
        EgeriaEnvelope.Failure(httpCode: 503, exceptionClass: EgeriaEnvelope.propertyServer, messageId: "INTEGRATION-DAEMON-SERVICES-503-001",
                               message: "The OpenLineage event was not stored: \(reason)", parameters: [reason],
                               systemAction: "Nothing was stored.", userAction: "Retry after the time in Retry-After.")
    }
}

import Foundation
import Protocol

/// Params that can be read by hand from a parsed request, naming the offending field.
protocol HandParsed: RangeChecked {
    init(json: JSONValue) throws(FieldError)
}

extension SubmitReport.Params: HandParsed {}
extension WriteElements.Params: HandParsed {}

extension MetadataProxy {
    /// The hot methods' path: one ``JSONParser`` parse of the line, params read by hand. Returns false (nothing
    /// done) for a line that is not a well-formed request of `M`, which then takes the general path with its
    /// exact errors; malformed or out-of-range params are answered here, -32602 naming the field.
    func fastPath<M: RPCMethod>(_ method: M.Type, marker: Data, line: Data, serve: (M.Params, Replier) -> Void) -> Bool
    where M.Params: HandParsed {
        guard Self.names(marker, in: line), case .object(let message)? = try? JSONParser.parse(line),
              message["jsonrpc"] == .string("2.0"), message["method"] == .string(M.name),
              let id = RequestID(json: message["id"]), let paramsValue = message["params"] else { return false }
        let reply = Replier(connection: connection, id: id, encoder: encoder)
        let params: M.Params
        do throws(FieldError) { params = try M.Params(json: paramsValue) } catch {
            reply.send(Result<Empty, RPCError>.failure(.invalidParams(M.name, error.description)))
            return true
        }
        if let problem = params.outOfRange {
            reply.send(Result<Empty, RPCError>.failure(.invalidParams(M.name, problem)))
            return true
        }
        serve(params, reply)
        return true
    }

    /// Whether the method name is in the line's first bytes, where a sender that writes the envelope before
    /// `params` puts it (ours sort keys). Searching a whole 256 KiB line for it cost more than parsing it.
    static func names(_ marker: Data, in line: Data) -> Bool {
        line.containsBytes(marker, inFirst: markerWindow)
    }

    static let markerWindow = 256
}

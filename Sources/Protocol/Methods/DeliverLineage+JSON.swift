/// `lineage/deliver` written and read by hand: the events are JSON the door validated and stored, spliced into
/// the line as they are; `Codable` over their ``JSONValue`` trees cost more than the fan-out's writing the files.
extension DeliverLineage {
    /// The request line for `events`, each `(seq, body)` with `body` the event's stored JSON.
    public static func requestLine(id: Int, connectorName: String, events: [(seq: Int, body: [UInt8])]) -> Data {
        var writer = JSONWriter(capacity: 128 + connectorName.utf8.count + events.reduce(0) { $0 + $1.body.count + 32 })
        writer.raw(#"{"id":"#)
        writer.int(id)
        writer.raw(#","jsonrpc":"2.0","method":"lineage/deliver","params":{"connectorName":"#)
        writer.string(connectorName)
        writer.raw(#","events":["#)
        for (index, event) in events.enumerated() {
            writer.raw(index == 0 ? #"{"event":"# : #",{"event":"#)
            // A line break in valid JSON is whitespace between tokens (a string holds it escaped): a space keeps
            // the event's meaning and the line whole.
            if event.body.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                writer.verbatim(event.body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
            } else {
                event.body.withUnsafeBytes { writer.verbatim($0) }
            }
            writer.raw(#","seq":"#)
            writer.int(event.seq)
            writer.raw("}")
        }
        writer.raw("]}}\n")
        return Data(writer.bytes)
    }
}

extension DeliverLineage.Params {
    /// The params of a request line, read in one pass; an error names the field.
    public static func read(line: Data) -> Result<Self, RPCError> {
        do {
            let message = try JSONParser.parse(line)
            return .success(try Self(json: message["params"] ?? .null))
        } catch let error as FieldError {
            return .failure(.invalidParams(DeliverLineage.name, error.description))
        } catch {
            return .failure(.invalidParams(DeliverLineage.name, "not JSON: \(error)"))
        }
    }

    public init(json: JSONValue) throws(FieldError) {
        guard case .object(let object) = json else { throw FieldError(field: "params", problem: "expected an object, got \(json.typeName)") }
        connectorName = try FieldError.string(object, "connectorName", in: "params")
        guard case .array(let items)? = object["events"] else {
            throw FieldError(field: "params.events", problem: "expected an array, got \(object["events"]?.typeName ?? "nothing")")
        }
        events = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let path = "params.events[\(index)]"
            guard case .object(let fields) = item else { throw FieldError(field: path, problem: "expected an object, got \(item.typeName)") }
            let seq = try FieldError.whole(fields, "seq", in: path, 1...Int(Int64.max))
            guard let event = fields["event"], case .object = event else {
                throw FieldError(field: "\(path).event", problem: "expected an object, got \(fields["event"]?.typeName ?? "nothing")")
            }
            events.append(.init(seq: seq, event: event))
        }
    }
}

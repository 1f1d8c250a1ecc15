import Foundation
import Glibc
import Protocol
@testable import Worker

/// The daemon's side of a worker's wire, in this process: it answers a connector's metadata and report calls from
/// an in-memory store, so the worker's own code (a connector, its host, the refresh scheduler) runs with no daemon
/// and no child process. Only what the built-in connectors call is answered (elements, their relationships and
/// classifications, reports); anything else is -32601.
final class InProcessSupervisor: @unchecked Sendable {
    let client: SupervisorClient
    let wire: LineWriter
    private let readFD: Int32
    private let writeFD: Int32
    private let lock = NSLock()
    private var elementsByGUID: [String: MetadataElement] = [:]
    private var relationshipsByGUID: [String: MetadataRelationship] = [:]
    private var storedReports: [IntegrationReport] = []
    private let encoder = MessageEncoder()
    private let decoder = PayloadDecoder()

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
        (readFD, writeFD) = (fds[0], fds[1])
        wire = LineWriter(fd: writeFD)
        client = SupervisorClient(wire: wire, timeoutSeconds: 10)
        let thread = Thread { [self] in serve() }
        thread.name = "in-process-supervisor"
        thread.start()
    }

    /// Closes the wire: the serving thread ends, and every pending or later call fails.
    func close() {
        client.close()
        Glibc.close(writeFD)
    }

    var elements: [MetadataElement] { lock.withLock { Array(elementsByGUID.values) } }
    var relationships: [MetadataRelationship] { lock.withLock { Array(relationshipsByGUID.values) } }
    var reports: [IntegrationReport] { lock.withLock { storedReports } }

    /// The worker's services, as `integration-worker` builds them, over this wire.
    var services: WorkerServices { WorkerServices(wire: wire, hostQualifier: nil) }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var pending = Data()
        while true {
            let n = read(readFD, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = Data(pending[pending.startIndex..<newline])
                pending.removeSubrange(pending.startIndex...newline)
                answer(line)
            }
        }
        Glibc.close(readFD)
    }

    private func answer(_ line: Data) {
        guard case .success(.request(let id, let method, _)) = IncomingMessage.decode(line) else { return }
        let response: Data
        do {
            switch method {
            case FindElements.name: response = try reply(id, find(try params(FindElements.self, line)))
            case WriteElements.name: response = try reply(id, write(try params(WriteElements.self, line)))
            case CreateElement.name:
                let create = try params(CreateElement.self, line)
                let outcome = write(.init(connectorName: create.connectorName, metadataSourceQualifiedName: create.metadataSourceQualifiedName,
                                          writes: [.create(typeName: create.typeName, qualifiedName: create.qualifiedName, properties: create.properties)]))
                guard case .written(let guid)? = outcome.outcomes.first, let element = lock.withLock({ elementsByGUID[guid] }) else {
                    throw RPCError.invalidParams(method, "not created")
                }
                response = try reply(id, CreateElement.Result(element: element))
            case SubmitReport.name:
                let report = try params(SubmitReport.self, line).report
                let stored = lock.withLock { () -> Bool in
                    guard !storedReports.contains(where: { $0.reportId == report.reportId }) else { return false }
                    storedReports.append(report)
                    return true
                }
                response = try reply(id, SubmitReport.Result(reportId: report.reportId, stored: stored))
            default:
                throw RPCError.methodNotFound(method)
            }
        } catch let error as RPCError {
            _ = client.complete(id: id, outcome: .error(error))
            return
        } catch {
            _ = client.complete(id: id, outcome: .error(.internalError("\(error)")))
            return
        }
        _ = client.complete(id: id, outcome: .result(line: response))
    }

    private func params<M: RPCMethod>(_ method: M.Type, _ line: Data) throws -> M.Params {
        try decoder.params(M.self, from: line).get()
    }

    private func reply<R: Encodable>(_ id: RequestID, _ result: R) throws -> Data {
        try encoder.response(id: id, result: result)
    }

    private func find(_ query: FindElements.Params) -> FindElements.Result {
        lock.withLock {
            var found = elementsByGUID.values.filter { element in
                (query.typeName.map { $0 == element.typeName } ?? true)
                    && (query.qualifiedNamePrefix.map { element.qualifiedName.hasPrefix($0) } ?? true)
                    && (query.metadataSourceQualifiedName.map { $0 == element.metadataSourceQualifiedName } ?? true)
            }
            if query.withRelationships == true {
                found = found.map { element in
                    var element = element
                    element.relationships = relationshipsByGUID.values.filter { relationship in
                        (relationship.end1GUID == element.guid || relationship.end2GUID == element.guid)
                            && (query.relationshipTypeName.map { $0 == relationship.typeName } ?? true)
                    }.sorted { $0.guid < $1.guid }
                    return element
                }
            }
            return FindElements.Result(elements: found.sorted { $0.qualifiedName < $1.qualifiedName })
        }
    }

    private func relate(_ typeName: String, _ end1: String, _ end2: String, _ properties: [String: JSONValue]) -> WriteOutcome {
        guard elementsByGUID[end1] != nil, elementsByGUID[end2] != nil else {
            return .failed(.invalidParams(WriteElements.name, "an end of the \(typeName) is not stored"))
        }
        let guid = UUID().uuidString.lowercased()
        relationshipsByGUID[guid] = MetadataRelationship(guid: guid, typeName: typeName, end1GUID: end1, end2GUID: end2, properties: properties)
        return .written(guid: guid)
    }

    private func write(_ batch: WriteElements.Params) -> WriteElements.Result {
        lock.withLock {
            let now = Date()
            var outcomes: [WriteOutcome] = []
            for write in batch.writes {
                switch write {
                case .create(let typeName, let qualifiedName, let properties, let parent, let classifications):
                    guard !elementsByGUID.values.contains(where: { $0.qualifiedName == qualifiedName }) else {
                        outcomes.append(.failed(.invalidParams(WriteElements.name, "\(qualifiedName) exists")))
                        continue
                    }
                    let guid = UUID().uuidString.lowercased()
                    elementsByGUID[guid] = MetadataElement(guid: guid, typeName: typeName, qualifiedName: qualifiedName, properties: properties,
                                                           metadataSourceQualifiedName: batch.metadataSourceQualifiedName, createTime: now,
                                                           updateTime: now, version: 1, classifications: classifications.isEmpty ? nil : classifications)
                    if let parent {
                        let ends = parent.parentAtEnd1 ? (parent.parentGUID, guid) : (guid, parent.parentGUID)
                        if case .failed(let error) = relate(parent.relationshipTypeName, ends.0, ends.1, [:]) {
                            elementsByGUID[guid] = nil
                            outcomes.append(.failed(error))
                            continue
                        }
                    }
                    outcomes.append(.written(guid: guid))
                case .update(let guid, let properties, let replace):
                    guard var element = elementsByGUID[guid] else {
                        outcomes.append(.failed(.invalidParams(WriteElements.name, "no element \(guid)")))
                        continue
                    }
                    element.properties = replace ? properties : element.properties.merging(properties) { _, new in new }
                    element.version += 1
                    element.updateTime = now
                    elementsByGUID[guid] = element
                    outcomes.append(.written(guid: guid))
                case .delete(let guid):
                    // An element's relationships go with it, as in the daemon's store.
                    relationshipsByGUID = relationshipsByGUID.filter { $0.value.end1GUID != guid && $0.value.end2GUID != guid }
                    outcomes.append(elementsByGUID.removeValue(forKey: guid) == nil
                                    ? .failed(.invalidParams(WriteElements.name, "no element \(guid)")) : .written(guid: guid))
                case .relate(let typeName, let end1, let end2, let properties):
                    outcomes.append(relate(typeName, end1, end2, properties))
                case .unrelate(let guid):
                    outcomes.append(relationshipsByGUID.removeValue(forKey: guid) == nil
                                    ? .failed(.invalidParams(WriteElements.name, "no relationship \(guid)")) : .written(guid: guid))
                case .classify(let guid, let name, let properties):
                    guard elementsByGUID[guid] != nil else {
                        outcomes.append(.failed(.invalidParams(WriteElements.name, "no element \(guid)")))
                        continue
                    }
                    elementsByGUID[guid]!.classifications = (elementsByGUID[guid]!.classifications ?? [:]).merging([name: properties]) { _, new in new }
                    outcomes.append(.written(guid: guid))
                case .declassify(let guid, let name):
                    guard elementsByGUID[guid] != nil else {
                        outcomes.append(.failed(.invalidParams(WriteElements.name, "no element \(guid)")))
                        continue
                    }
                    elementsByGUID[guid]!.classifications?[name] = nil
                    outcomes.append(.written(guid: guid))
                }
            }
            return WriteElements.Result(outcomes: outcomes)
        }
    }
}

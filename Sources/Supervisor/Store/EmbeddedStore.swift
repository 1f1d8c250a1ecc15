import Foundation
import Glibc
import Protocol
import Synchronization

/// The embedded metadata access server: elements and integration reports in an append-only journal under
/// the data directory, with an in-memory index rebuilt at start. Writes are visible at once and acknowledged
/// (completion called) only once durable.
final class EmbeddedStore: Sendable {
    private let journal: Journal?
    private let index = Mutex(Index())
    private let encoder = MessageEncoder()

    /// Per-connector totals over every stored report, for status.
    struct ConnectorTotals: Sendable, Equatable {
        var reports = 0
        var created = 0
        var updated = 0
        var deleted = 0
        var lastReportId: String?
    }

    private struct Index {
        var elements: [String: MetadataElement] = [:]
        var guidByQualifiedName: [String: String] = [:]
        var reports: [IntegrationReport] = []
        var reportIDs: Set<String> = []
        var totals: [String: ConnectorTotals] = [:]

        mutating func apply(_ record: StoreRecord) {
            switch record {
            case .report(let report):
                guard reportIDs.insert(report.reportId).inserted else { return }
                reports.append(report)
                var t = totals[report.connectorName, default: ConnectorTotals()]
                t.reports += 1
                t.created += report.createdElements.count
                t.updated += report.updatedElements.count
                t.deleted += report.deletedElements.count
                t.lastReportId = report.reportId
                totals[report.connectorName] = t
            case .element(let element):
                if let old = elements[element.guid], old.qualifiedName != element.qualifiedName {
                    guidByQualifiedName[old.qualifiedName] = nil
                }
                elements[element.guid] = element
                guidByQualifiedName[element.qualifiedName] = element.guid
            case .deleted(let guid, _):
                if let old = elements.removeValue(forKey: guid) { guidByQualifiedName[old.qualifiedName] = nil }
            }
        }
    }

    /// A journal that cannot be read back, naming the line.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens the store in `directory` (created 0700 if needed); `readOnly` reads without opening for append.
    init(directory: String, readOnly: Bool = false) throws {
        let path = directory + "/journal.jsonl"
        if !readOnly {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        var loaded = Index()
        if let data = FileManager.default.contents(atPath: path) {
            let decoder = PayloadDecoder()
            var lineNumber = 0
            var start = data.startIndex
            while start < data.endIndex {
                lineNumber += 1
                guard let newline = data[start...].firstIndex(of: 0x0A) else {
                    // A torn last line from a crash mid-append: never acknowledged, so dropped.
                    break
                }
                let line = data[start..<newline]
                start = newline + 1
                if line.isEmpty { continue }
                do { loaded.apply(try decoder.value(StoreRecord.self, from: Data(line))) } catch {
                    throw LoadError(description: "\(path) line \(lineNumber) is corrupt: \(error)")
                }
            }
        } else if readOnly {
            throw LoadError(description: "no store at \(path) (has the daemon run with this dataDirectory?)")
        }
        index.withLock { $0 = loaded }
        journal = readOnly ? nil : try Journal(path: path)
    }

    // MARK: - Reports

    /// Stores a report; `completion(true)` once durable, `completion(false)` for a replay of a stored id.
    func submitReport(_ report: IntegrationReport, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        let isNew = index.withLock { index -> Bool in
            guard !index.reportIDs.contains(report.reportId) else { return false }
            index.apply(.report(report))
            return true
        }
        // A duplicate waits for the same durability barrier, in case the first copy is still being synced.
        write(isNew ? .report(report) : nil) { error in
            completion(error.map { .failure(.unavailable("report not stored: \($0)")) } ?? .success(isNew))
        }
    }

    func reports(connectorName: String? = nil) -> [IntegrationReport] {
        index.withLock { index in
            connectorName.map { name in index.reports.filter { $0.connectorName == name } } ?? index.reports
        }
    }

    func totals(connectorName: String) -> ConnectorTotals {
        index.withLock { $0.totals[connectorName] ?? ConnectorTotals() }
    }

    // MARK: - Elements

    func createElement(_ params: CreateElement.Params, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        let now = Date()
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            if let existing = index.guidByQualifiedName[params.qualifiedName] {
                return .failure(.invalidParams(CreateElement.name, "an element with qualifiedName \"\(params.qualifiedName)\" already exists (guid \(existing))"))
            }
            let element = MetadataElement(guid: UUID().uuidString.lowercased(), typeName: params.typeName,
                                          qualifiedName: params.qualifiedName, properties: params.properties,
                                          metadataSourceQualifiedName: params.metadataSourceQualifiedName,
                                          createTime: now, updateTime: now, version: 1)
            index.apply(.element(element))
            return .success(element)
        }
        commit(result, record: { .element($0) }, completion: completion)
    }

    func updateElement(_ params: UpdateElement.Params, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            guard var element = index.elements[params.guid] else {
                return .failure(.notFound("no element with guid \(params.guid)"))
            }
            if params.replaceProperties == true { element.properties = params.properties }
            else { element.properties.merge(params.properties) { _, new in new } }
            element.updateTime = Date()
            element.version += 1
            index.apply(.element(element))
            return .success(element)
        }
        commit(result, record: { .element($0) }, completion: completion)
    }

    func deleteElement(_ params: DeleteElement.Params, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        let now = Date()
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            guard let element = index.elements[params.guid] else {
                return .failure(.notFound("no element with guid \(params.guid)"))
            }
            index.apply(.deleted(guid: params.guid, time: now))
            return .success(element)
        }
        commit(result, record: { .deleted(guid: $0.guid, time: now) }, completion: completion)
    }

    func findElements(_ params: FindElements.Params) -> [MetadataElement] {
        index.withLock { index in
            index.elements.values.filter { element in
                (params.typeName == nil || element.typeName == params.typeName)
                    && (params.metadataSourceQualifiedName == nil || element.metadataSourceQualifiedName == params.metadataSourceQualifiedName)
                    && (params.qualifiedNamePrefix.map { element.qualifiedName.hasPrefix($0) } ?? true)
            }.sorted { $0.qualifiedName < $1.qualifiedName }
        }
    }

    func elements() -> [MetadataElement] { findElements(FindElements.Params()) }

    /// Blocks until every acknowledged-or-pending write is durable.
    func flush() { journal?.drain() }

    var commitCount: Int { journal?.commitCount ?? 0 }

    // MARK: - Private

    private func commit(_ result: Result<MetadataElement, RPCError>, record: (MetadataElement) -> StoreRecord,
                        completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        switch result {
        case .failure(let error):
            completion(.failure(error))
        case .success(let element):
            write(record(element)) { error in
                completion(error.map { .failure(.unavailable("element write not stored: \($0)")) } ?? .success(element))
            }
        }
    }

    private func write(_ record: StoreRecord?, completion: @escaping @Sendable (Error?) -> Void) {
        guard let journal else { return completion(LoadError(description: "the store is open read-only")) }
        var line = Data()
        if let record {
            do { line = try encoder.line(record) } catch { return completion(error) }
        }
        journal.append(line, completion: completion)
    }
}

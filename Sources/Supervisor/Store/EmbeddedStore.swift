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
    /// Accepted reports not yet forwarded may take this many bytes (forwarding mode only).
    let spoolLimitBytes: Int?
    /// Called (on the committing thread) after a report is accepted, so a forwarder can wake.
    private let onAccepted = Mutex<Callback?>(nil)
    private let path: String
    private let forwarding: Bool
    private let logger: Logger?
    /// Set while writes fail (disk full, I/O error): one episode, logged once at each end.
    private let writeFailure = Mutex<WriteFailure?>(nil)

    /// Why the store cannot be written, since when; status shows it.
    struct WriteFailure: Sendable, Equatable {
        var since: Date
        var reason: String
        /// Monotonic time of the last write tried; while failing, one write a second probes for space.
        var lastAttempt: Double
    }

    /// While writes fail, how often one is let through to find out whether space is back.
    static let probeIntervalSeconds = 1.0

    /// A closure in a box: a bare closure in a `Mutex` is re-abstracted, and its thunk chain grows, on every
    /// access through the `inout` (seen as ever deeper stacks and 1 ms per report in a profile).
    private final class Callback: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Per-connector totals over every stored report, for status.
    struct ConnectorTotals: Sendable, Equatable {
        var reports = 0
        var created = 0
        var updated = 0
        var deleted = 0
        var lastReportId: String?
    }

    /// Where a report is on its way to the access server.
    enum ForwardState: Sendable, Equatable {
        case pending
        case forwarded(Date)
        case deadLettered(String)

        var name: String {
            switch self {
            case .pending: "pending"
            case .forwarded: "forwarded"
            case .deadLettered: "dead-lettered"
            }
        }
    }

    /// Per-connector forwarding figures; the backlog is read off the connector's pending queue.
    struct ForwardTotals: Sendable, Equatable {
        var backlog = 0
        var backlogBytes = 0
        var forwarded = 0
        var deadLettered = 0
        var lastForward: Date?
    }

    private struct Index {
        /// Whether reports wait in the spool for a forwarder (Egeria) or are at the access server on accept.
        var forwarding = false
        var forwardStates: [String: ForwardState] = [:]
        var connectorOfReport: [String: String] = [:]
        /// Per connector, the reports not yet forwarded, oldest first, with their journal size.
        var pending: [String: PendingQueue] = [:]
        /// Forwarded and dead-lettered counts per connector (the backlog comes from `pending`).
        var forwardTotals: [String: ForwardTotals] = [:]
        /// The last report offered was refused for lack of room (cleared by the next one accepted).
        var spoolFull = false
        var journalBytes = 0
        var elements: [String: MetadataElement] = [:]
        var guidByQualifiedName: [String: String] = [:]
        var reports: [IntegrationReport] = []
        var reportIDs: Set<String> = []
        var totals: [String: ConnectorTotals] = [:]

        var pendingBytes: Int { pending.values.reduce(0) { $0 + $1.bytes } }

        /// What compaction needs: current elements, and every report with where it is.
        var snapshot: JournalCompaction.Snapshot {
            .init(elements: Array(elements.values), reports: reports.map { ($0, forwardStates[$0.reportId] ?? .pending) }, forwarding: forwarding)
        }

        mutating func apply(_ record: StoreRecord, bytes: Int = 0) {
            switch record {
            case .report(let report):
                guard reportIDs.insert(report.reportId).inserted else { return }
                reports.append(report)
                connectorOfReport[report.reportId] = report.connectorName
                if forwarding {
                    forwardStates[report.reportId] = .pending
                    pending[report.connectorName, default: PendingQueue()].append(report, bytes: bytes)
                } else {
                    forwardStates[report.reportId] = .forwarded(report.refreshCompletionDate ?? report.refreshStartDate)
                }
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
            case .forwarded(let reportId, let time):
                leaveSpool(reportId, as: .forwarded(time))
            case .deadLettered(let reportId, let reason, _):
                leaveSpool(reportId, as: .deadLettered(reason))
            }
        }

        private mutating func leaveSpool(_ reportId: String, as state: ForwardState) {
            guard forwardStates[reportId] == .pending, let connector = connectorOfReport[reportId],
                  pending[connector]?.remove(reportId: reportId) == true else { return }
            forwardStates[reportId] = state
            var totals = forwardTotals[connector, default: ForwardTotals()]
            switch state {
            case .forwarded(let time):
                totals.forwarded += 1
                totals.lastForward = time
            case .deadLettered: totals.deadLettered += 1
            case .pending: break
            }
            forwardTotals[connector] = totals
        }
    }

    /// A journal that cannot be read back, naming the line.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens the store in `directory` (created 0700 if needed); `readOnly` reads without opening for append.
    init(directory: String, readOnly: Bool = false, forwarding: Bool = false, spoolLimitBytes: Int? = nil, logger: Logger? = nil) throws {
        let path = directory + "/journal.jsonl"
        self.path = path
        self.forwarding = forwarding
        self.logger = logger
        self.spoolLimitBytes = spoolLimitBytes
        if !readOnly {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        guard FileManager.default.fileExists(atPath: path) || !readOnly else {
            throw LoadError(description: "no store at \(path) (has the daemon run with this dataDirectory?)")
        }
        var loaded = try Self.load(path: path, forwarding: forwarding)
        if !readOnly, let records = JournalCompaction.plan(loaded.snapshot, journalBytes: loaded.journalBytes) {
            try JournalCompaction.rewrite(path: path, records: records, encoder: encoder)
            loaded = try Self.load(path: path, forwarding: forwarding)
        }
        index.withLock { $0 = loaded }
        journal = readOnly ? nil : try Journal(path: path)
        journal?.onFailedWrite { [self] in recoverAfterFailedWrite() }
    }

    /// After a write was cut off the journal: the index held what that write (and anything queued behind it)
    /// would have stored, so it is rebuilt from the file as it now is, and the queued lines are failed too.
    /// Appends happen under the index lock, so none can slip in between.
    private func recoverAfterFailedWrite() -> [@Sendable (Error?) -> Void] {
        index.withLock { index in
            let discarded = journal?.discardPending() ?? []
            do {
                let reloaded = try Self.load(path: path, forwarding: forwarding)
                let spoolFull = index.spoolFull
                index = reloaded
                index.spoolFull = spoolFull
            } catch {
                logger?.error("cannot re-read the embedded store after a failed write: \(error)")
            }
            return discarded
        }
    }

    /// The current write failure, if the store cannot be written.
    var writeProblem: WriteFailure? { writeFailure.withLock { $0 } }

    /// nil when a write may go ahead; while writes fail, a retryable refusal except for one probe a second.
    private func refusalWhileFailing() -> RPCError? {
        writeFailure.withLock { failure -> RPCError? in
            guard var current = failure else { return nil }
            let now = MonotonicClock.now()
            if now - current.lastAttempt >= Self.probeIntervalSeconds {
                current.lastAttempt = now
                failure = current
                return nil
            }
            return .unavailable("the embedded store cannot be written (\(current.reason)); nothing was stored, retry later")
        }
    }

    /// Records how a durable write ended: the first failure and the first success after failures are logged.
    private func noteWrite(_ error: Error?) {
        let change = writeFailure.withLock { failure -> (started: WriteFailure?, endedAfter: Double?) in
            switch (failure, error) {
            case (nil, nil): return (nil, nil)
            case (nil, let error?):
                failure = WriteFailure(since: Date(), reason: "\(error)", lastAttempt: MonotonicClock.now())
                return (failure, nil)
            case (let current?, nil):
                failure = nil
                return (nil, Date().timeIntervalSince(current.since))
            case (var current?, let error?):
                current.reason = "\(error)"
                failure = current
                return (nil, nil)
            }
        }
        if let started = change.started {
            logger?.error("the embedded store cannot be written: \(started.reason); reports are refused and workers keep them until it can (\(path))")
        }
        if let seconds = change.endedAfter {
            logger?.notice("the embedded store is writable again after \(String(format: "%.1f", seconds)) s; accepting reports")
        }
    }

    /// Reads the journal into an index; a torn last line (a crash mid-append, never acknowledged) is ignored.
    private static func load(path: String, forwarding: Bool) throws -> Index {
        var loaded = Index()
        loaded.forwarding = forwarding
        guard let data = FileManager.default.contents(atPath: path) else { return loaded }
        loaded.journalBytes = data.count
        let decoder = PayloadDecoder()
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            guard let newline = data[start...].firstIndex(of: 0x0A) else { break }
            let line = data[start..<newline]
            start = newline + 1
            if line.isEmpty { continue }
            do {
                let record = try decoder.value(StoreRecord.self, from: Data(line))
                loaded.apply(record, bytes: line.count + 1)
            } catch {
                throw LoadError(description: "\(path) line \(lineNumber) is corrupt: \(error)")
            }
        }
        return loaded
    }

    // MARK: - Reports

    /// Stores a report; `completion(true)` once durable, `completion(false)` for a replay of a stored id.
    /// In forwarding mode a full spool refuses it with a retryable error: the worker keeps it and retries.
    func submitReport(_ report: IntegrationReport, completion: @escaping @Sendable (Result<Bool, RPCError>) -> Void) {
        let line: Data
        do { line = try encoder.line(StoreRecord.report(report)) } catch {
            return completion(.failure(.internalError("cannot encode report \(report.reportId): \(error)")))
        }
        if let refusal = refusalWhileFailing() { return completion(.failure(refusal)) }
        let limit = spoolLimitBytes
        let wake = onAccepted.withLock { $0 }
        let outcome = index.withLock { index -> Result<Bool, RPCError> in
            // A duplicate waits for the same durability barrier, in case the first copy is still being synced.
            guard !index.reportIDs.contains(report.reportId) else {
                append(Data(), completion: { error in completion(error.map { .failure(.unavailable("report not stored: \($0)")) } ?? .success(false)) })
                return .success(false)
            }
            if index.forwarding, let limit, index.pendingBytes + line.count > limit {
                index.spoolFull = true
                return .failure(.unavailable("spool full: \(index.pendingBytes) bytes of reports wait for the access server (limit \(limit)); report not accepted, retry later"))
            }
            index.apply(.report(report), bytes: line.count)
            index.spoolFull = false
            append(line) { error in
                completion(error.map { .failure(.unavailable("report not stored: \($0)")) } ?? .success(true))
                if error == nil { wake?.run() }
            }
            return .success(true)
        }
        if case .failure(let error) = outcome { completion(.failure(error)) }
    }

    // MARK: - Forwarding

    /// Runs `callback` after each accepted report is durable (the forwarder's wake-up).
    func setOnAccepted(_ callback: @escaping @Sendable () -> Void) { onAccepted.withLock { $0 = Callback(callback) } }

    /// The oldest unforwarded report of each connector, except those in `busy`.
    func pendingHeads(excluding busy: Set<String>) -> [IntegrationReport] {
        index.withLock { index in
            index.pending.compactMap { connector, queue in busy.contains(connector) ? nil : queue.first }
        }
    }

    /// Records durably that the report reached the access server.
    func markForwarded(_ reportId: String, completion: @escaping @Sendable (Error?) -> Void) {
        let time = Date()
        index.withLock {
            $0.apply(.forwarded(reportId: reportId, time: time))
            write(.forwarded(reportId: reportId, time: time), completion: completion)
        }
    }

    /// Records durably that the report was rejected and dead-lettered.
    func markDeadLettered(_ reportId: String, reason: String, completion: @escaping @Sendable (Error?) -> Void) {
        let time = Date()
        index.withLock {
            $0.apply(.deadLettered(reportId: reportId, reason: reason, time: time))
            write(.deadLettered(reportId: reportId, reason: reason, time: time), completion: completion)
        }
    }

    func forwardState(of reportId: String) -> ForwardState? { index.withLock { $0.forwardStates[reportId] } }

    func forwardTotals(connectorName: String) -> ForwardTotals {
        index.withLock { index in
            var totals = index.forwardTotals[connectorName] ?? ForwardTotals()
            totals.backlog = index.pending[connectorName]?.count ?? 0
            totals.backlogBytes = index.pending[connectorName]?.bytes ?? 0
            return totals
        }
    }

    /// Reports dead-lettered over all connectors, configured now or not.
    var deadLetteredTotal: Int { index.withLock { $0.forwardTotals.values.reduce(0) { $0 + $1.deadLettered } } }

    /// ok, near-limit (80 %) or full (a report was just refused for lack of room).
    var spoolState: String {
        index.withLock { index in
            guard let limit = spoolLimitBytes else { return "ok" }
            if index.spoolFull && index.pendingBytes > 0 { return "full" }
            return index.pendingBytes * 10 >= limit * 8 ? "near-limit" : "ok"
        }
    }

    /// Reports and bytes waiting in the spool, over all connectors.
    var backlog: (reports: Int, bytes: Int) {
        index.withLock { index in (index.pending.values.reduce(0) { $0 + $1.count }, index.pendingBytes) }
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

    /// Creates an element; `guid` is the access server's when the store mirrors Egeria, otherwise a new one.
    func createElement(_ params: CreateElement.Params, service: String, guid: String? = nil,
                       completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        if let refusal = refusalWhileFailing() { return completion(.failure(refusal)) }
        let now = Date()
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            if let existing = index.guidByQualifiedName[params.qualifiedName] {
                return .failure(.invalidParams(CreateElement.name, "an element with qualifiedName \"\(params.qualifiedName)\" already exists (guid \(existing))"))
            }
            let element = MetadataElement(guid: guid ?? GUID.random(), typeName: params.typeName,
                                          qualifiedName: params.qualifiedName, properties: params.properties,
                                          metadataSourceQualifiedName: params.metadataSourceQualifiedName,
                                          createTime: now, updateTime: now, version: 1, integrationService: service)
            index.apply(.element(element))
            commit(.element(element), element, completion: completion)
            return .success(element)
        }
        if case .failure(let error) = result { completion(.failure(error)) }
    }

    /// Updates an element; one written before services were kept apart is claimed by `service`.
    func updateElement(_ params: UpdateElement.Params, service: String, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        if let refusal = refusalWhileFailing() { return completion(.failure(refusal)) }
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            guard var element = index.elements[params.guid] else {
                return .failure(.notFound("no element with guid \(params.guid)"))
            }
            if params.replaceProperties == true { element.properties = params.properties }
            else { element.properties.merge(params.properties) { _, new in new } }
            element.updateTime = Date()
            element.version += 1
            if element.integrationService == nil { element.integrationService = service }
            index.apply(.element(element))
            commit(.element(element), element, completion: completion)
            return .success(element)
        }
        if case .failure(let error) = result { completion(.failure(error)) }
    }

    func deleteElement(_ params: DeleteElement.Params, completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        if let refusal = refusalWhileFailing() { return completion(.failure(refusal)) }
        let now = Date()
        let result = index.withLock { index -> Result<MetadataElement, RPCError> in
            guard let element = index.elements[params.guid] else {
                return .failure(.notFound("no element with guid \(params.guid)"))
            }
            index.apply(.deleted(guid: params.guid, time: now))
            commit(.deleted(guid: params.guid, time: now), element, completion: completion)
            return .success(element)
        }
        if case .failure(let error) = result { completion(.failure(error)) }
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

    func element(guid: String) -> MetadataElement? { index.withLock { $0.elements[guid] } }

    /// The GUID of the element with this qualifiedName, if any.
    func guid(qualifiedName: String) -> String? { index.withLock { $0.guidByQualifiedName[qualifiedName] } }

    /// Blocks until every acknowledged-or-pending write is durable.
    func flush() { journal?.drain() }

    // MARK: - Private

    /// Queues an element's record; called under the index lock, right after the index took it.
    private func commit(_ record: StoreRecord, _ element: MetadataElement,
                        completion: @escaping @Sendable (Result<MetadataElement, RPCError>) -> Void) {
        write(record) { error in
            completion(error.map { .failure(.unavailable("element write not stored: \($0)")) } ?? .success(element))
        }
    }

    private func write(_ record: StoreRecord, completion: @escaping @Sendable (Error?) -> Void) {
        do { append(try record.line(encoder), completion: completion) } catch { completion(error) }
    }

    /// Every durable write goes through here, so each one's outcome is seen for the failure episode.
    private func append(_ line: Data, completion: @escaping @Sendable (Error?) -> Void) {
        guard let journal else { return completion(LoadError(description: "the store is open read-only")) }
        journal.append(line) { [self] error in
            if !line.isEmpty { noteWrite(error) }
            completion(error)
        }
    }
}

import Protocol

/// The parts of reports that one worker incarnation is sending in parts (``SubmitReport/ReportPart``), joined
/// in order. Bounded: a worker cannot make the daemon hold more than ``maxHeldGUIDs`` element GUIDs or more
/// than ``maxOpenReports`` unfinished reports. Dies with the incarnation, so a crash mid-report frees it.
struct ReportAssembly: Sendable {
    static let maxOpenReports = 4
    /// 20 million GUIDs, about 1 GB: far beyond any folder or database, well short of exhausting the daemon.
    static let maxHeldGUIDs = 20_000_000

    private var open: [String: (report: IntegrationReport, received: Int, count: Int)] = [:]
    private var heldGUIDs = 0

    /// What a part led to.
    enum Step: Equatable {
        /// More parts are awaited; this many are held.
        case held(partsReceived: Int)
        /// The last part arrived: the whole report, ready to store.
        case complete(IntegrationReport)
    }

    /// Adds one part, or says exactly why it cannot be taken (the worker then hears a -32602).
    mutating func add(_ report: IntegrationReport, part: SubmitReport.ReportPart) -> Result<Step, RPCError> {
        let id = report.reportId
        if part.index == 0 { discard(id) }
        guard var entry = open[id] ?? (part.index == 0 ? (Self.header(of: report), 0, part.count) : nil) else {
            return .failure(.invalidParams(SubmitReport.name, "part.index: part \(part.index) of report \(id) arrived, but no part 0 is held; send the report again from part 0"))
        }
        guard part.index == entry.received, part.count == entry.count else {
            discard(id)
            return .failure(.invalidParams(SubmitReport.name, "part.index: part \(part.index)/\(part.count) of report \(id) arrived, expected part \(entry.received)/\(entry.count); its parts were dropped, send it again from part 0"))
        }
        guard report.connectorName == entry.report.connectorName, report.connectorId == entry.report.connectorId else {
            discard(id)
            return .failure(.invalidParams(SubmitReport.name, "report.connectorName: part \(part.index) of report \(id) names another connector than part 0"))
        }
        if open[id] == nil && open.count >= Self.maxOpenReports {
            return .failure(.invalidParams(SubmitReport.name, "part: \(Self.maxOpenReports) reports in parts are already unfinished; finish one before starting report \(id)"))
        }
        let added = report.createdElements.count + report.updatedElements.count + report.deletedElements.count
        guard heldGUIDs + added <= Self.maxHeldGUIDs else {
            discard(id)
            return .failure(.invalidParams(SubmitReport.name, "report \(id) is too large: over \(Self.maxHeldGUIDs) element GUIDs in unfinished reports; it cannot be accepted"))
        }
        heldGUIDs += added
        entry.report.createdElements += report.createdElements
        entry.report.updatedElements += report.updatedElements
        entry.report.deletedElements += report.deletedElements
        entry.received += 1
        if entry.received == entry.count {
            discard(id)
            return .success(.complete(entry.report))
        }
        open[id] = entry
        return .success(.held(partsReceived: entry.received))
    }

    private mutating func discard(_ id: String) {
        guard let entry = open.removeValue(forKey: id) else { return }
        heldGUIDs -= entry.report.createdElements.count + entry.report.updatedElements.count + entry.report.deletedElements.count
    }

    private static func header(of report: IntegrationReport) -> IntegrationReport {
        var header = report
        header.createdElements = []
        header.updatedElements = []
        header.deletedElements = []
        return header
    }
}

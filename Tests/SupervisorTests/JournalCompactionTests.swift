import Foundation
import Protocol
import Testing
@testable import Supervisor

/// Reclaiming journal space keeps everything that is not yet at the access server.
@Suite("Journal compaction")
struct JournalCompactionTests {
    func report(_ n: Int, _ connector: String = "c") -> IntegrationReport {
        IntegrationReport(reportId: "r\(n)", serverName: "s", connectorId: connector, connectorName: connector,
                          refreshStartDate: Date(timeIntervalSince1970: Double(n)), refreshCompletionDate: nil,
                          createdElements: ["g\(n)"], updatedElements: [], deletedElements: [], additionalProperties: [:])
    }

    @Test func forwarding_keepsPendingDeadLetteredAndTheNewestForwarded() throws {
        var reports: [(IntegrationReport, EmbeddedStore.ForwardState)] = (0..<2500).map { (report($0), .forwarded(Date())) }
        reports.append((report(2500), .deadLettered("bad")))
        reports += (2501..<2504).map { (report($0), .pending) }
        let element = MetadataElement(guid: "e", typeName: "DataFile", qualifiedName: "/a", properties: [:], metadataSourceQualifiedName: nil,
                                      createTime: Date(), updateTime: Date(), version: 3)
        let records = try #require(JournalCompaction.plan(.init(elements: [element], reports: reports, forwarding: true), journalBytes: 10_000_000))
        let kept = records.compactMap { if case .report(let r) = $0 { r.reportId } else { nil } }
        #expect(kept.count == JournalCompaction.forwardedReportsKept + 1 + 3)
        #expect(kept.first == "r1500", "the newest 1000 forwarded, in acceptance order")
        #expect(kept.suffix(4) == ["r2500", "r2501", "r2502", "r2503"])
        #expect(records.contains { if case .deadLettered("r2500", "bad", _) = $0 { true } else { false } })
        #expect(records.contains { if case .element(let e) = $0 { e.version == 3 } else { false } })
    }

    @Test func embedded_keepsEveryReport_andSmallJournalsAreLeftAlone() {
        let reports: [(IntegrationReport, EmbeddedStore.ForwardState)] = (0..<3000).map { (report($0), .forwarded(Date())) }
        let snapshot = JournalCompaction.Snapshot(elements: [], reports: reports, forwarding: false)
        #expect(JournalCompaction.plan(snapshot, journalBytes: 100) == nil)
        #expect(JournalCompaction.plan(snapshot, journalBytes: 20_000_000, minimumBytes: 0)?.count == 3000)
    }

    @Test func rewrittenJournal_loadsWithTheSameSpool() throws {
        var template = Array("/tmp/idj-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.jsonl"
        var records: [StoreRecord] = []
        for n in 0..<50 {
            records.append(.report(report(n)))
            if n < 45 { records.append(.forwarded(reportId: "r\(n)", time: Date())) }
        }
        try JournalCompaction.rewrite(path: path, records: records, encoder: MessageEncoder())
        let store = try EmbeddedStore(directory: directory, readOnly: true, forwarding: true)
        #expect(store.backlog.reports == 5)
        #expect(store.pendingHeads(excluding: []).map(\.reportId) == ["r45"])
        #expect(!FileManager.default.fileExists(atPath: path + ".compact"))
    }
}

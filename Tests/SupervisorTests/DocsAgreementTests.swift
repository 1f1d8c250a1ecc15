import Foundation
import Testing
@testable import Supervisor

/// The docs' lists of worker states and exit causes are the enums', written out: a case added, renamed or
/// re-explained in code fails here until docs/operations.md says the same.
@Suite("Docs agree with the code")
struct DocsAgreementTests {
    static let operations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/operations.md")

    static func table(_ heading: String, _ rows: [(String, String)]) -> String {
        "| \(heading) | meaning |\n|---|---|\n" + rows.map { "| `\($0.0)` | \($0.1) |\n" }.joined()
    }

    @Test("docs/operations.md's worker-state table is WorkerState's cases and meanings")
    func workerStates() throws {
        let text = try String(contentsOf: Self.operations, encoding: .utf8)
        let expected = Self.table("state", WorkerState.allCases.map { ($0.rawValue, $0.meaning) })
        #expect(text.contains(expected), "put this table in docs/operations.md:\n\(expected)")
    }

    @Test("docs/operations.md's exit-cause table is ExitCause's cases and meanings")
    func exitCauses() throws {
        let text = try String(contentsOf: Self.operations, encoding: .utf8)
        let expected = Self.table("cause", ExitCause.allCases.map { ($0.rawValue, $0.meaning) })
        #expect(text.contains(expected), "put this table in docs/operations.md:\n\(expected)")
    }
}

import Foundation
import Testing
@testable import Protocol
@testable import Supervisor
@testable import Worker

/// Every committed fuzz input (`Fuzz/Corpus/`) replayed through its daemon or worker target: each crash a fuzzer
/// found stays fixed, and a target whose corpus went missing fails instead of passing on nothing.
@Suite("Fuzz corpora: the daemon and the worker")
struct FuzzCorpusTests {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func inputs(_ target: String) throws -> [[UInt8]] {
        let folder = corpora.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    @Test("each input of each daemon target's corpus runs to completion", arguments: DaemonFuzzTarget.allCases)
    func daemon(target: DaemonFuzzTarget) throws {
        let inputs = try Self.inputs(target.rawValue)
        #expect(inputs.count >= 2, "the \(target.rawValue) corpus has \(inputs.count) inputs")
        for input in inputs { input.withUnsafeBytes { target.run($0) } }
    }

    @Test("each input of each worker target's corpus runs to completion", arguments: WorkerFuzzTarget.allCases)
    func worker(target: WorkerFuzzTarget) throws {
        let inputs = try Self.inputs(target.rawValue)
        #expect(inputs.count >= 2, "the \(target.rawValue) corpus has \(inputs.count) inputs")
        for input in inputs { input.withUnsafeBytes { target.run($0) } }
    }

    @Test("scripts/fuzz lists exactly the targets the code has")
    func listed() throws {
        let script = try String(contentsOf: Self.corpora.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/fuzz"), encoding: .utf8)
        let names = ProtocolFuzzTarget.allCases.map(\.rawValue) + DaemonFuzzTarget.allCases.map(\.rawValue) + WorkerFuzzTarget.allCases.map(\.rawValue)
        for name in names { #expect(script.contains("[\(name)]="), "scripts/fuzz has no binary for \(name)") }
    }
}

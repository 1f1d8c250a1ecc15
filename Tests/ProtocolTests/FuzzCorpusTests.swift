import Foundation
import Testing
@testable import Protocol

/// Every committed fuzz input (`Fuzz/Corpus/`) replayed through its target: each crash a fuzzer found stays
/// fixed, and a target whose corpus went missing fails instead of passing on nothing.
@Suite("Fuzz corpora: the wire")
struct FuzzCorpusTests {
    static let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    /// The inputs in one target's corpus, read whole.
    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = corpora.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    @Test("each input of each wire target's corpus runs to completion", arguments: ProtocolFuzzTarget.allCases)
    func replay(target: ProtocolFuzzTarget) throws {
        let inputs = try Self.inputs(target.rawValue)
        #expect(inputs.count >= 3, "the \(target.rawValue) corpus has \(inputs.count) inputs")
        for input in inputs { input.bytes.withUnsafeBytes { target.run($0) } }
    }
}

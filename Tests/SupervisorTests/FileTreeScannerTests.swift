import Foundation
import Glibc
import Testing
@testable import Worker

/// The files monitor's folder walk, in process: every name of every length, sorted, sizes and folders right.
@Suite("File tree scanner")
struct FileTreeScannerTests {
    @Test("names from 1 to 255 bytes, nested folders and a symbolic link: each listed once, in order, not followed")
    func walk() throws {
        let folder = try TemporaryDirectory(prefix: "idt-scan")
        let root = folder.path
        defer { withExtendedLifetime(folder) {} }
        var expected: [String: Int] = [:]
        // Names of every length end readdir's records at every offset in its buffer.
        for length in 1...255 {
            let name = String(repeating: Character(UnicodeScalar(UInt8(97 + length % 26))), count: length)
            try Data(count: length).write(to: URL(fileURLWithPath: root + "/" + name))
            expected[root + "/" + name] = length
        }
        try FileManager.default.createDirectory(atPath: root + "/sub/deeper", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/sub/deeper/file.csv"))
        #expect(symlink("/etc", root + "/link") == 0)
        let entries = try FileTreeScanner.scan(root: root)
        let files = entries.filter { !$0.isDirectory && !$0.path.hasSuffix("/link") && !$0.path.contains("/sub") }
        #expect(Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.size) }) == expected)
        #expect(entries.filter(\.isDirectory).map(\.path) == [root + "/sub", root + "/sub/deeper"])
        #expect(entries.contains { $0.path == root + "/sub/deeper/file.csv" && $0.size == 1 })
        #expect(!entries.contains { $0.path.hasPrefix(root + "/link/") }, "the link was followed")
        #expect(Set(entries.map(\.path)).count == entries.count)
    }
}

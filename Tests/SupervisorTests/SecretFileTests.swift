import Foundation
import Glibc
import Testing
@testable import Supervisor

/// Secret files as the daemon reads them: one line ending dropped, spaces kept, size bounded.
@Suite("Secret files")
struct SecretFileTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/idt-secret-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw HarnessError("mkstemp failed") }
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func read(_ path: String) throws(AccessSecret.SecretError) -> String? {
        try AccessSecret.read(variable: nil, variableField: "passwordEnvironmentVariable", file: path, fileField: "passwordFile", path: "test")
    }

    @Test("one trailing line ending is dropped; spaces and tabs are the password's own", arguments: [
        ("  pass word \t\n", "  pass word \t"), ("secret\r\n", "secret"), ("secret", "secret"), ("two\n\n", "two\n"), (" ", " "),
    ])
    func lineEnding(contents: String, expected: String) throws {
        let path = try Self.file(Array(contents.utf8))
        defer { unlink(path) }
        #expect(try Self.read(path) == expected)
    }

    @Test("an empty file, or one with only a line ending, is an error naming the field")
    func empty() throws {
        for contents in ["", "\n", "\r\n"] {
            let path = try Self.file(Array(contents.utf8))
            defer { unlink(path) }
            #expect { try Self.read(path) } throws: { "\($0)".contains("test.passwordFile") && "\($0)".contains("is empty") }
        }
    }

    @Test("a 1 GiB file is refused without being read whole")
    func huge() throws {
        let path = try Self.file([])
        defer { unlink(path) }
        #expect(truncate(path, 1 << 30) == 0)
        #expect { try Self.read(path) } throws: { "\($0)".contains("is over 64 KiB") }
        let limit = try Self.file([UInt8](repeating: 0x61, count: AccessSecret.maxFileBytes))
        defer { unlink(limit) }
        #expect(try Self.read(limit)?.utf8.count == AccessSecret.maxFileBytes)
    }
}

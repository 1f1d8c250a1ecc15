import Foundation
import Glibc

/// A fresh folder under /tmp, removed with everything in it when the value goes away, so a test that fails
/// midway leaves nothing behind. A test that goes on using only its path keeps it alive to the end of its scope
/// with `defer { withExtendedLifetime(folder) {} }`: the optimizer may end a value's life at its last use.
final class TemporaryDirectory {
    let path: String

    /// `prefix` names the folder (`/tmp/PREFIX-XXXXXX`) so a leftover can be traced to its test.
    init(prefix: String = "idt") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

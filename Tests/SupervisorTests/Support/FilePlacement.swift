import Foundation
import Glibc

extension String {
    /// Writes the text to `path` in one step, as a watched folder should see it: written beside the watched tree
    /// (under /tmp, the harness's file system) and renamed into place. `write(toFile:atomically: true)` puts its
    /// temporary file next to the target, where a files monitor's refresh can catalogue it before the rename.
    func place(at path: String) throws {
        let temporary = "/tmp/.idt-place-\(getpid())-\(UUID().uuidString)"
        try write(toFile: temporary, atomically: false, encoding: .utf8)
        if rename(temporary, path) != 0 {
            unlink(temporary)
            // Another file system: a plain write (the file appears, then fills; fine outside a watched folder).
            try write(toFile: path, atomically: false, encoding: .utf8)
        }
    }
}

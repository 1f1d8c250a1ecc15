import Foundation
import Protocol
import Synchronization
import Testing

/// Threads carry their role's name for `top -H`, `ps -L` and profiles.
@Suite("Threads")
struct OSThreadTests {
    /// The kernel's name of the thread that runs `body`, read from inside it.
    private func kernelName(startedAs name: String) throws -> String? {
        let seen = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        try OSThread.start(name: name) {
            let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
            seen.withLock { $0 = comm?.trimmingCharacters(in: .newlines) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        return seen.withLock { $0 }
    }

    @Test("a thread is named after its role")
    func named() throws {
        #expect(try kernelName(startedAs: "store-writer") == "store-writer")
    }

    @Test("a long name keeps its first 15 bytes, the kernel's limit")
    func truncated() throws {
        #expect(try kernelName(startedAs: "store-checkpoint") == "store-checkpoin")
    }
}

import Foundation
import Glibc
import Testing
@testable import Supervisor

extension RealProcesses {
    /// The daemon's own files cannot be redirected by another user: links are not followed and a data directory
    /// others can write to is refused.
    @Suite("Data directory", .serialized, .timeLimit(.minutes(2)))
    struct DataDirectoryTests {
        static func refusedStart(_ harness: DaemonHarness) throws -> String {
            let daemon = try harness.start(waitForSocket: false)
            let status = daemon.waitForExit(timeout: 15)
            daemon.waitForOutputEnd(timeout: 5)
            #expect(status == .exited(1), "the daemon started: \(String(describing: status))")
            return daemon.stderrLines.joined(separator: "\n")
        }

        static func harness() throws -> DaemonHarness {
            try DaemonHarness(services: [DaemonHarness.chaosService(failure: "none", intervalSeconds: 3600)])
        }

        @Test("a data directory every user can write to is refused, and says how to fix it")
        func worldWritable() throws {
            let harness = try Self.harness()
            defer { harness.cleanUp() }
            let data = harness.directory + "/data"
            #expect(mkdir(data, 0o700) == 0 && chmod(data, 0o777) == 0)
            let stderr = try Self.refusedStart(harness)
            #expect(stderr.contains("dataDirectory \(data) is writable by every user (mode 777)"), "\(stderr)")
            #expect(stderr.contains("chmod go-w"))
            #expect(!FileManager.default.fileExists(atPath: data + "/daemon.lock"))
            // Fixed as it says, the daemon starts.
            #expect(chmod(data, 0o700) == 0)
            try harness.start()
            #expect(harness.stop() == .exited(0))
        }

        @Test("a planted daemon.lock link is not followed: its target keeps its contents")
        func plantedLock() throws {
            let harness = try Self.harness()
            defer { harness.cleanUp() }
            let data = harness.directory + "/data", victim = harness.directory + "/victim"
            try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
            #expect(mkdir(data, 0o700) == 0 && symlink(victim, data + "/daemon.lock") == 0)
            let stderr = try Self.refusedStart(harness)
            #expect(stderr.contains("daemon.lock: it is a symbolic link"), "\(stderr)")
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        }

        @Test("a planted store.sqlite link is not followed: an empty victim file stays empty")
        func plantedStore() throws {
            let harness = try Self.harness()
            defer { harness.cleanUp() }
            let store = harness.directory + "/data/store", victim = harness.directory + "/victim"
            #expect(FileManager.default.createFile(atPath: victim, contents: Data()))
            try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            #expect(chmod(harness.directory + "/data", 0o700) == 0)
            #expect(symlink(victim, store + "/store.sqlite") == 0)
            let stderr = try Self.refusedStart(harness)
            #expect(stderr.contains("store.sqlite"), "\(stderr)")
            let size = (try FileManager.default.attributesOfItem(atPath: victim)[.size] as? Int) ?? -1
            #expect(size == 0, "the victim became a \(size)-byte file")
        }
    }
}

import Foundation
import Glibc
import Protocol
import Synchronization

/// The connector provider names a worker binary knows, asked of the binary itself (`integration-worker
/// --list-connectors`), so the list lives in one place: the worker's registry. Asked once per binary (path and
/// modification time) and remembered, so a reload does not spawn it again.
enum ConnectorCatalog {
    /// How long the worker may take to answer.
    static let timeoutSeconds = 5.0

    private struct Key: Hashable {
        let path: String
        let modified: Int
    }

    private static let cache = Mutex<[Key: Result<[String], Failure>]>([:])

    /// Why the list could not be had; validation then warns and skips the check.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func providers(of worker: String) -> Result<[String], Failure> {
        var info = stat()
        guard stat(worker, &info) == 0 else { return .failure(Failure(description: "cannot stat \(worker)")) }
        let key = Key(path: worker, modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
        if let known = cache.withLock({ $0[key] }) { return known }
        let result = ask(worker)
        cache.withLock { $0[key] = result }
        return result
    }

    private static func ask(_ worker: String) -> Result<[String], Failure> {
        let process: WorkerProcess
        do { process = try WorkerProcess.spawn(argv: [worker, "--list-connectors"]) } catch {
            return .failure(Failure(description: "\(error)"))
        }
        close(process.stdinFD)
        close(process.stderrFD)
        defer {
            close(process.stdoutFD)
            process.abandon()
        }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = MonotonicClock.now() + timeoutSeconds
        while true {
            let left = deadline - MonotonicClock.now()
            guard left > 0 else { return .failure(Failure(description: "\(worker) --list-connectors did not answer within \(Int(timeoutSeconds)) s")) }
            var ready = pollfd(fd: process.stdoutFD, events: Int16(POLLIN), revents: 0)
            let n = poll(&ready, 1, Int32(left * 1000))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { continue }
            let count = read(process.stdoutFD, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output.append(contentsOf: buffer[0..<count])
            guard output.count < 1 << 20 else { return .failure(Failure(description: "\(worker) --list-connectors printed over 1 MiB")) }
        }
        let names = String(decoding: output, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.isEmpty ? .failure(Failure(description: "\(worker) --list-connectors printed no names")) : .success(names)
    }
}

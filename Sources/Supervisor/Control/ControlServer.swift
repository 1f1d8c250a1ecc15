import Dispatch
import Foundation
import Glibc
import Protocol

/// Serves live commands on a Unix socket (owner-only) in the data directory: one JSON request line in, one
/// JSON answer line out. Each connection gets its own thread; the loop answers through `handle`.
final class ControlServer: Sendable {
    let path: String
    private let listenFD: Int32
    private let logger: Logger

    /// A socket that could not be set up, with the reason.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = try UnixAddress(path: path)
        let previous = umask(0o177)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        umask(previous)
        guard bound == 0 else {
            close(fd)
            throw SetupError(description: "cannot bind control socket \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o600)
        guard listen(fd, 64) == 0 else {
            close(fd)
            throw SetupError(description: "listen \(path): \(String(cString: strerror(errno)))")
        }
        listenFD = fd
    }

    /// Accepts connections until the process exits; `handle` must call its reply closure exactly once.
    func start(handle: @escaping @Sendable (ControlRequest, @escaping @Sendable (ControlResponse) -> Void) -> Void) {
        let fd = listenFD, logger = logger
        OSThread.start(name: "control-accept") {
            while true {
                // accept4 is not exported by the Glibc module; spawns close fds ≥ 3 in the child anyway.
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                OSThread.start(name: "control-conn") {
                    Self.serve(client: client, logger: logger, handle: handle)
                }
            }
        }
    }

    func remove() { unlink(path) }

    private static func serve(client: Int32, logger: Logger,
                              handle: @Sendable (ControlRequest, @escaping @Sendable (ControlResponse) -> Void) -> Void) {
        defer { close(client) }
        // A client that never sends a full line must not pin this thread forever.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = readFirstLine(client, limit: 64 * 1024)
        let response: ControlResponse
        if let request, let decoded = try? JSONDecoder.daemon.decode(ControlRequest.self, from: request) {
            let done = DispatchSemaphore(value: 0)
            let box = ResponseBox()
            handle(decoded) { box.set($0); done.signal() }
            // A refresh answers when the connector's refresh has run, which can take as long as it needs.
            let limit: Double = decoded.command == ControlRequest.refresh ? 3600 : 30
            if done.wait(timeout: .now() + limit) == .timedOut {
                response = .failure("the daemon did not answer within \(Int(limit)) s")
            } else {
                response = box.get() ?? .failure("no answer")
            }
        } else {
            response = .failure("expected one JSON line like {\"command\":\"status\"}")
        }
        if var line = try? JSONEncoder.daemon.encode(response) {
            line.append(0x0A)
            try? LineWriter.writeAll(fd: client, line)
        }
    }
}

/// The first line a client sends (without waiting for it to close its side), or nil.
private func readFirstLine(_ fd: Int32, limit: Int) -> Data? {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.count < limit {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return nil }
        data.append(contentsOf: buffer[0..<n])
        if let newline = data.firstIndex(of: 0x0A) { return data[data.startIndex..<newline] }
    }
    return nil
}

/// Carries one answer from the loop thread to the connection thread.
private final class ResponseBox: @unchecked Sendable {
    // Guarded by the semaphore handoff: written before signal(), read after wait().
    private var value: ControlResponse?
    func set(_ response: ControlResponse) { value = response }
    func get() -> ControlResponse? { value }
}

/// A `sockaddr_un` for a filesystem path.
struct UnixAddress {
    private var storage = sockaddr_un()

    init(path: String) throws {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw ControlServer.SetupError(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

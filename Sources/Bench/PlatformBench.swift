import Foundation
import Glibc
import Protocol

/// The platform door under load: `GET /status` latency over one keep-alive connection with N workers while one
/// worker is stopped (SIGSTOP), then with 1,000 idle connections held open, and the daemon's memory for them.
enum PlatformBench {
    static func run(workers: Int, idle: Int = 1_000, requests: Int = 2_000) throws {
        print("\nplatform: GET /status over keep-alive, \(workers) workers, one of them SIGSTOPped; then \(idle) idle connections")
        let passwordFile = "/tmp/idb-platform-password-\(getpid())"
        try "bench-password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { unlink(passwordFile) }
        let platform = """
        "platform": { "address": "127.0.0.1:0", "maxConnections": \(idle + 100), "idleTimeoutSeconds": 600,
                      "users": [ { "userId": "bench", "passwordFile": "\(passwordFile)" } ] }
        """
        let daemon = try DaemonUnderTest(services: (0..<workers).map(DaemonUnderTest.chaosService), supervision: "{}", extra: platform)
        defer { daemon.stop() }
        let pids = try daemon.waitUntilAllRunning(timeout: 60)
        let port = try doorPort(daemon)
        let token = try Client(port: port).exchange(post: "/api/token", body: #"{"userId":"bench","password":"bench-password"}"#).body
        kill(pids[0], SIGSTOP)
        defer { kill(pids[0], SIGCONT) }
        let client = try Client(port: port)
        let path = "/servers/bench/open-metadata/integration-daemon/status"
        func sample(_ count: Int) throws -> [Double] {
            try (0..<count).map { _ in
                let start = Clock.now()
                let answer = try client.exchange(get: path, token: token)
                guard answer.status == 200, answer.body.contains("IntegrationDaemonStatusResponse") else {
                    throw DaemonUnderTest.BenchError(description: "status answered \(answer.status)")
                }
                return (Clock.now() - start) * 1000
            }
        }
        _ = try sample(100)
        let latencies = try sample(requests)
        print(Figures.line("GET /status, one worker stopped, p50", latencies, unit: "ms", target: "p50 ≤ 2 ms"))
        print("  p99 \(Figures.format(Figures.percentile(latencies, 0.99))) ms   [target ≤ 10 ms]")

        let rssBefore = ProcStats.rssKiB(daemon.pid) ?? 0
        var held: [Client] = []
        for _ in 0..<idle {
            let connection = try Client(port: port)
            _ = try connection.exchange(get: "/api/about", token: nil)
            held.append(connection)
        }
        let withIdle = try sample(requests / 2)
        let rssAfter = ProcStats.rssKiB(daemon.pid) ?? 0
        print(Figures.line("GET /status with \(idle) idle connections open, p50", withIdle, unit: "ms"))
        print("  p99 \(Figures.format(Figures.percentile(withIdle, 0.99))) ms; daemon RSS +\(Figures.format((rssAfter - rssBefore) / 1024)) MiB for \(idle) connections   [target ≤ 20 MiB]")
        withExtendedLifetime(held) {}
    }

    /// The port from the daemon's "platform door listening" line.
    static func doorPort(_ daemon: DaemonUnderTest) throws -> UInt16 {
        let deadline = Clock.now() + 10
        while Clock.now() < deadline {
            let log = (try? String(contentsOfFile: daemon.directory + "/daemon.log", encoding: .utf8)) ?? ""
            if let range = log.range(of: #"127\.0\.0\.1:[0-9]+/servers"#, options: .regularExpression) {
                let text = log[range].dropFirst("127.0.0.1:".count).prefix { $0.isNumber }
                if let port = UInt16(text) { return port }
            }
            usleep(20_000)
        }
        throw DaemonUnderTest.BenchError(description: "the platform door did not announce its port")
    }

    /// A blocking keep-alive HTTP/1.1 client for Content-Length answers.
    final class Client {
        let fd: Int32
        private var buffer: [UInt8] = []

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, connected == 0 else { throw DaemonUnderTest.BenchError(description: "connect: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }

        deinit { close(fd) }

        func exchange(get path: String, token: String?) throws -> (status: Int, body: String) {
            try exchange("GET \(path) HTTP/1.1\r\nHost: bench\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\r\n")
        }

        func exchange(post path: String, body: String, token: String? = nil) throws -> (status: Int, body: String) {
            try exchange("POST \(path) HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }

        private func exchange(_ request: String) throws -> (status: Int, body: String) {
            let bytes = Array(request.utf8)
            guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                throw DaemonUnderTest.BenchError(description: "send failed")
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                if let end = headEnd(), let length = contentLength(end) , buffer.count >= end + 4 + length {
                    let head = String(decoding: buffer[..<end], as: UTF8.self)
                    let body = String(decoding: buffer[(end + 4)..<(end + 4 + length)], as: UTF8.self)
                    buffer.removeFirst(end + 4 + length)
                    return (Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0, body)
                }
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { throw DaemonUnderTest.BenchError(description: "connection closed") }
                buffer.append(contentsOf: chunk[0..<n])
            }
        }

        private func headEnd() -> Int? {
            guard buffer.count >= 4 else { return nil }
            for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                return index
            }
            return nil
        }

        private func contentLength(_ end: Int) -> Int? {
            let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
            guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) else { return nil }
            return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }
    }
}

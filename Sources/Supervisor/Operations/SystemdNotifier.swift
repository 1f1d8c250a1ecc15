import Foundation
import Glibc

/// systemd's notify protocol (`Type=notify`): datagrams like `READY=1` to the socket in `$NOTIFY_SOCKET`,
/// and the watchdog interval from `$WATCHDOG_USEC`.
final class SystemdNotifier: Sendable {
    let socketPath: String
    /// Half the watchdog timeout, as systemd recommends; nil without a watchdog.
    let watchdogInterval: Double?
    private let fd: Int32

    /// nil unless `NOTIFY_SOCKET` is set. Removes the variables from the environment so workers do not
    /// inherit them (only the main process may notify).
    init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.fd = fd
        socketPath = path
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = usec / 1_000_000 / 2
        } else {
            watchdogInterval = nil
        }
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
    }

    /// Sends one notification (newline-separated assignments); failures are ignored, as sd_notify does.
    func send(_ message: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        // "@name" is an abstract socket: a leading NUL byte, and the length counts only the bytes used.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, payload, payload.count, Int32(MSG_NOSIGNAL), $0, length) }
        }
    }

    deinit { close(fd) }
}

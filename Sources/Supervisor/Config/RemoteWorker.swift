import Foundation
import Protocol

/// `worker.remote`: a worker on another host, reached over ssh. The daemon builds the ssh command line itself, with
/// the settings the job needs: no prompts (BatchMode), the host key checked against the given file, connect and
/// keep-alive timeouts tied to the heartbeat, no ControlMaster (a master would outlive the worker's process group),
/// `-T`, and `exec` so the remote shell is replaced by the worker instead of waiting on it.
struct RemoteWorker: Sendable, Equatable {
    var host: String
    var user: String?
    var port = 22
    var identityFile: String?
    var knownHostsFile: String?
    var workerPath = "/usr/local/bin/integration-worker"

    /// ssh exits 255 when it cannot connect or loses the connection; a worker's own exit is passed through.
    static let transportFailureExitCode: Int32 = 255

    /// The argv that runs the worker on `host`, with timeouts derived from the supervision settings.
    func argv(supervision: SupervisionConfig) -> [String] {
        // A connect begun while the network was down holds until this; it is the heartbeat timeout (at least 2 s,
        // at most the start timeout), so after a heal the next attempt comes within it plus the backoff cap.
        let connectTimeout = max(2, Int(min(supervision.heartbeatTimeoutSeconds, supervision.startTimeoutSeconds, 30).rounded(.up)))
        let aliveInterval = max(1, Int(supervision.heartbeatIntervalSeconds.rounded(.up)))
        let aliveCount = max(1, Int((supervision.heartbeatTimeoutSeconds / Double(aliveInterval)).rounded(.up)))
        var argv = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=\(connectTimeout)",
                    "-o", "ServerAliveInterval=\(aliveInterval)", "-o", "ServerAliveCountMax=\(aliveCount)",
                    "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR", "-p", String(port)]
        if let knownHostsFile { argv += ["-o", "UserKnownHostsFile=\(knownHostsFile)", "-o", "GlobalKnownHostsFile=/dev/null"] }
        if let identityFile { argv += ["-o", "IdentitiesOnly=yes", "-i", identityFile] }
        if let user { argv += ["-l", user] }
        argv += [host, "--", "exec \(Self.shellQuoted(workerPath))"]
        return argv
    }

    /// One word for the remote shell, whatever it contains.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension ConfigLoader {
    /// `worker.remote`, every field checked; nil (with errors recorded) when it cannot be used.
    static func parseRemote(_ object: ConfigObject, path p: String, baseDirectory: String, supervision: SupervisionConfig,
                            reader: inout ConfigReader) -> RemoteWorker? {
        defer { reader.finish(object) }
        // Without a host every other field is still read, so all the problems are reported at once.
        let host = reader.string(object, "host", required: true)
        if let host, host.hasPrefix("-") || host.contains(where: { $0.isWhitespace }) {
            reader.fail("\(p).host", "expected a host name or address, got \"\(host)\"")
        }
        var remote = RemoteWorker(host: host ?? "")
        remote.user = reader.string(object, "user")
        if let user = remote.user, user.hasPrefix("-") || user.contains(where: { $0.isWhitespace }) {
            reader.fail("\(p).user", "expected a user name, got \"\(user)\"")
        }
        if let port = reader.integer(object, "port", in: 1...65_535) { remote.port = port }
        for (key, keyPath) in [("identityFile", \RemoteWorker.identityFile), ("knownHostsFile", \RemoteWorker.knownHostsFile)] {
            guard let file = reader.string(object[key], "\(p).\(key)") else { continue }
            let resolved = resolve(file, against: baseDirectory)
            if FileManager.default.isReadableFile(atPath: resolved) { remote[keyPath: keyPath] = resolved }
            else { reader.fail("\(p).\(key)", "\"\(resolved)\" cannot be read") }
        }
        if remote.knownHostsFile == nil {
            reader.warn("\(p).knownHostsFile", "not given: the host key is checked against ~/.ssh/known_hosts of the daemon's user, and BatchMode refuses an unknown host")
        }
        if let path = reader.string(object, "workerPath") {
            if path.hasPrefix("/") { remote.workerPath = path } else { reader.fail("\(p).workerPath", "expected an absolute path on the remote host, got \"\(path)\"") }
        }
        guard let host else { return nil }
        if supervision.startTimeoutSeconds < 3 {
            reader.warn("supervision.startTimeoutSeconds", "\(ConfigReader.format(supervision.startTimeoutSeconds)) s may be shorter than an ssh handshake to \(host); 5 or more is safer for remote workers")
        }
        return remote
    }
}

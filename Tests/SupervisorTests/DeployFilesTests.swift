import Foundation
import Testing

/// The shipped deployment files are valid as their tools read them.
@Suite("Deployment files")
struct DeployFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the Kubernetes manifest passes kubernetes-validate (installed by the README's test command)", .lab(.kubernetesValidate))
    func kubernetesManifest() throws {
        let validator = Self.root.appendingPathComponent(".build/pyegeria-venv/bin/kubernetes-validate").path
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            throw HarnessError("kubernetes-validate is not installed at \(validator): run scripts/test (the README's test command), which installs it")
        }
        let manifest = Self.root.appendingPathComponent("deploy/kubernetes/integration-daemon.yaml").path
        let result = try DaemonHarness.run([validator, "--strict", manifest], timeout: 60)
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
        for kind in ["configmap/integration-daemon-config", "persistentvolumeclaim/landing-area", "service/integration-daemon",
                     "statefulset/integration-daemon"] {
            #expect((result.stdout + result.stderr).contains("passed for resource \(kind)"), "\(kind)")
        }
    }

    @Test("the manifest's daemon configuration is one the daemon accepts")
    func manifestConfig() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/kubernetes/integration-daemon.yaml"), encoding: .utf8)
        // The ConfigMap's daemon.json is the indented block after "daemon.json: |".
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.contains("daemon.json: |") }) + 1
        let block = lines[start...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
        let harness = try DaemonHarness(config: block.replacingOccurrences(of: "/var/lib/integration-daemon/data", with: "data")
            .replacingOccurrences(of: "/srv/landing-area", with: "landing"))
        defer { harness.cleanUp() }
        _ = try harness.makeFolder("landing")
        let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", harness.configPath])
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
    }

    /// A tool the README's test command installs; its absence is an error that says so, never a skip.
    static func tool(_ path: String, package: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) is missing: run scripts/test (the README's test command), which installs Debian's \(package)")
        }
        return path
    }

    @Test("the systemd unit passes systemd-analyze verify, and its sysusers file systemd-sysusers --dry-run", .lab(.systemd))
    func systemdFiles() throws {
        let analyze = try Self.tool("/usr/bin/systemd-analyze", package: "systemd")
        let sysusers = try Self.tool("/usr/bin/systemd-sysusers", package: "systemd")
        // verify checks that ExecStart's binary exists: the unit is checked as installed, with the built binary
        // where the install steps put it.
        let unit = try String(contentsOf: Self.root.appendingPathComponent("deploy/systemd/integration-daemon.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/integration-daemon/bin/integration-daemon run --config /etc/integration-daemon/daemon.json"))
        #expect(unit.contains("StateDirectory=integration-daemon") && unit.contains("User=integration-daemon"))
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        let installed = directory.path + "/integration-daemon.service"
        try unit.replacingOccurrences(of: "/opt/integration-daemon/bin/integration-daemon", with: Binaries.daemon)
            .write(toFile: installed, atomically: true, encoding: .utf8)
        let verify = try DaemonHarness.run([analyze, "verify", installed], timeout: 60)
        #expect(verify.code == 0 && verify.stderr.isEmpty, "\(verify.stdout)\n\(verify.stderr)")
        // Against an empty root, so the user is created whether or not this host already has it.
        let users = try DaemonHarness.run([sysusers, "--dry-run", "--root=\(directory.path)",
                                           Self.root.appendingPathComponent("deploy/systemd/integration-daemon.sysusers").path])
        #expect(users.code == 0, "\(users.stderr)")
        #expect(users.stderr.contains("Creating user 'integration-daemon'"), "\(users.stderr)")
    }

    @Test("deploy/daemon.json, which the unit and the image run, is valid and keeps its data under /var/lib/integration-daemon")
    func deployConfig() throws {
        let path = Self.root.appendingPathComponent("deploy/daemon.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"dataDirectory\": \"/var/lib/integration-daemon/data\""))
        let result = try DaemonHarness.run([Binaries.daemon, "validate", "--json", "--config", path])
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
    }
}

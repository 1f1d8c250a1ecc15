import Foundation
import Testing

/// The shipped deployment files are valid as their tools read them.
@Suite("Deployment files")
struct DeployFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the Kubernetes manifest passes kubernetes-validate (installed by the README's test command)")
    func kubernetesManifest() throws {
        let validator = Self.root.appendingPathComponent(".build/pyegeria-venv/bin/kubernetes-validate").path
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            throw HarnessError("kubernetes-validate is not installed at \(validator): run scripts/test (the README's test command), which installs it")
        }
        let manifest = Self.root.appendingPathComponent("deploy/kubernetes/integration-daemon.yaml").path
        let result = try DaemonHarness.run([validator, "--strict", manifest], timeout: 60)
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
        for kind in ["configmap/integration-daemon-config", "service/integration-daemon", "statefulset/integration-daemon"] {
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
            .replacingOccurrences(of: "/data/landing", with: "landing"))
        defer { harness.cleanUp() }
        _ = try harness.makeFolder("landing")
        let result = try DaemonHarness.run([Binaries.daemon, "validate", "--config", harness.configPath])
        #expect(result.code == 0, "\(result.stdout)\n\(result.stderr)")
    }
}

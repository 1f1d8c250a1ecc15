import Foundation
import Glibc
import Testing

/// What a test needs beyond Swift and a POSIX system, and whether this machine has it.
///
/// `swift test` on a laptop skips a test whose part is missing, and says which part and how to get it. The README's
/// test command (`scripts/test`, which CI runs) installs every part and sets `IDT_ALL_TIERS=1`: then no test is
/// skipped, and a part that is still missing fails its test with the same reason, so CI never skips a tier silently.
enum LabPart: String, CaseIterable, Sendable {
    case root, postgres, sshd, pyegeria, kubernetesValidate, openlineage, systemd, loopDevices, prlimit, unshare, podman

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Set by scripts/test: every tier must run.
    static let allTiersRequired = ProcessInfo.processInfo.environment["IDT_ALL_TIERS"] == "1"

    var isAvailable: Bool {
        let files = FileManager.default
        switch self {
        case .root: return geteuid() == 0
        case .postgres: return PostgresServer.binaries != nil && getpwnam("postgres") != nil
        case .sshd: return files.isExecutableFile(atPath: "/usr/sbin/sshd") && files.isExecutableFile(atPath: "/usr/bin/ssh")
            && files.isExecutableFile(atPath: "/usr/sbin/ip")
        case .pyegeria: return files.isExecutableFile(atPath: Self.repositoryRoot.appendingPathComponent(".build/pyegeria-venv/bin/python").path)
        case .kubernetesValidate:
            // The script runs under the venv's python, which must be runnable by this user too.
            return Self.pyegeria.isAvailable
                && files.isExecutableFile(atPath: Self.repositoryRoot.appendingPathComponent(".build/pyegeria-venv/bin/kubernetes-validate").path)
        case .openlineage:
            return Self.pyegeria.isAvailable
                && files.fileExists(atPath: Self.repositoryRoot.appendingPathComponent(".build/pyegeria-venv/.installed-openlineage-python==1.54.0").path)
        case .systemd: return files.isExecutableFile(atPath: "/usr/bin/systemd-analyze") && files.isExecutableFile(atPath: "/usr/bin/systemd-sysusers")
        case .loopDevices: return files.fileExists(atPath: "/dev/loop-control") && files.isExecutableFile(atPath: "/usr/sbin/mkfs.ext4")
        case .prlimit: return files.isExecutableFile(atPath: "/usr/bin/prlimit")
        case .unshare: return files.isExecutableFile(atPath: "/usr/bin/unshare")
        case .podman: return ["/usr/bin/podman", "/usr/sbin/runc", "/usr/sbin/debootstrap"].allSatisfy(files.isExecutableFile(atPath:))
        }
    }

    /// What the part is and how a machine gets it.
    var need: String {
        switch self {
        case .root: "root (it mounts filesystems, makes network namespaces or runs a server as another user)"
        case .postgres: "PostgreSQL's server (Debian's postgresql)"
        case .sshd: "OpenSSH's sshd and ssh, and iproute2 (Debian's openssh-server, openssh-client, iproute2)"
        case .pyegeria: "pyegeria in .build/pyegeria-venv"
        case .kubernetesValidate: "kubernetes-validate in .build/pyegeria-venv"
        case .openlineage: "openlineage-python in .build/pyegeria-venv"
        case .systemd: "systemd-analyze and systemd-sysusers (Debian's systemd)"
        case .loopDevices: "loop devices and mkfs.ext4 (/dev/loop-control, Debian's e2fsprogs)"
        case .prlimit: "prlimit (Debian's util-linux)"
        case .unshare: "unshare (Debian's util-linux)"
        case .podman: "podman, runc and debootstrap (Debian's podman, runc, debootstrap) and Debian's package mirror"
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only where `parts` are all here, or wherever every tier is required (scripts/test, CI).
    static func lab(_ parts: LabPart...) -> Self {
        let missing = parts.filter { !$0.isAvailable }
        let comment = Comment(rawValue: "needs " + (missing.isEmpty ? parts : missing).map(\.need).joined(separator: "; ")
            + ": scripts/test (the README's test command) installs it and runs every tier")
        return .enabled(if: LabPart.allTiersRequired || missing.isEmpty, comment)
    }
}

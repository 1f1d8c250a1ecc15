import Foundation
import Glibc
import Protocol

/// A remote host for tests: a network namespace joined to this one by a veth pair, with its own host name (UTS
/// namespace) and a real OpenSSH sshd (key-only, its own host key) on 10.201.N.2. The worker binary is reached at
/// the same path, since namespaces share the file system. Needs root and Debian's openssh-server, which the README's
/// test command installs.
final class NetnsLab {
    let name: String
    let address: String
    let hostName: String
    let directory: String
    let identityFile: String
    let knownHostsFile: String
    private let hostSide: String
    private let remoteSide: String
    private var sshd: ChildProcess?

    /// `bind` mounts a folder over another inside the host's own mount namespace: the same path, other files.
    init(directory: String, index: Int, hostName: String, bind: (source: String, target: String)? = nil) throws {
        let id = Int(getpid()) % 10_000
        name = "idt\(id)h\(index)"
        hostSide = "vh\(id)x\(index)"
        remoteSide = "vr\(id)x\(index)"
        let subnet = 200 + index
        address = "10.\(subnet).\(id % 250).2"
        let local = "10.\(subnet).\(id % 250).1"
        self.hostName = hostName
        self.directory = directory
        identityFile = directory + "/client_key"
        knownHostsFile = directory + "/known_hosts"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.sh("""
        ip netns del \(name) 2>/dev/null || true; ip link del \(hostSide) 2>/dev/null || true
        ip netns add \(name)
        ip link add \(hostSide) type veth peer name \(remoteSide)
        ip link set \(remoteSide) netns \(name)
        ip addr add \(local)/24 dev \(hostSide)
        ip link set \(hostSide) up
        ip netns exec \(name) ip addr add \(address)/24 dev \(remoteSide)
        ip netns exec \(name) ip link set \(remoteSide) up
        ip netns exec \(name) ip link set lo up
        cd '\(directory)'
        ssh-keygen -q -t ed25519 -N '' -f host_key
        ssh-keygen -q -t ed25519 -N '' -f client_key
        cp client_key.pub authorized_keys
        printf '%s %s\\n' '\(address)' "$(cut -d' ' -f1,2 host_key.pub)" > known_hosts
        mkdir -p /run/sshd
        cat > sshd_config <<EOF
        ListenAddress \(address)
        Port 22
        HostKey \(directory)/host_key
        AuthorizedKeysFile \(directory)/authorized_keys
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        UsePAM no
        StrictModes no
        PidFile none
        ClientAliveInterval 1
        ClientAliveCountMax 3
        EOF
        """)
        let mount = bind.map { "mount --bind '\($0.source)' '\($0.target)' && " } ?? ""
        let child = try ChildProcess(["/usr/sbin/ip", "netns", "exec", name, "/usr/bin/unshare", "--uts", "--mount", "/bin/sh", "-c",
                                      "\(mount)hostname \(hostName) && exec /usr/sbin/sshd -D -e -f \(directory)/sshd_config"])
        sshd = child
        // Ready once sshd accepts on port 22.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? Self.sh("ip netns exec \(name) bash -c 'exec 3<>/dev/tcp/\(address)/22' 2>/dev/null")) != nil { return }
            if child.exitStatus != nil { break }
            usleep(50_000)
        }
        throw HarnessError("sshd in \(name) did not start: \(child.stderrLines.joined(separator: "\n"))")
    }

    /// The `worker.remote` block for this host.
    func remoteBlock(workerPath: String) -> [String: JSONValue] {
        ["host": .string(address), "user": .string("root"), "identityFile": .string(identityFile), "knownHostsFile": .string(knownHostsFile),
         "workerPath": .string(workerPath)]
    }

    /// Takes the link down (the route goes with it: "Network is unreachable") or brings it back.
    func link(up: Bool) throws {
        try Self.sh("ip link set \(hostSide) \(up ? "up" : "down")")
    }

    /// A silent drop: the remote end of the link goes down, so packets vanish with no error on this side (the
    /// route stays).
    func silentDrop(_ on: Bool) throws {
        try Self.sh("ip netns exec \(name) ip link set \(remoteSide) \(on ? "down" : "up")")
    }

    func tearDown() {
        sshd?.killGroup()
        _ = sshd?.waitForExit(timeout: 5)
        sshd = nil
        _ = try? Self.sh("ip netns pids \(name) | xargs -r kill -9; ip netns del \(name); ip link del \(hostSide) 2>/dev/null; true")
    }

    deinit { tearDown() }

    @discardableResult
    static func sh(_ script: String) throws -> String {
        let result = try DaemonHarness.run(["/bin/bash", "-c", "set -e\n" + script], timeout: 30)
        guard result.code == 0 else { throw HarnessError("lab command failed (\(result.code)): \(script.prefix(200))\n\(result.stderr)") }
        return result.stdout
    }
}

import Foundation
import Glibc
import Protocol
import SystemShims

/// Kills what workers leave behind. The daemon is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so a helper
/// that a connector started and that left the worker's process group (setsid, daemonize) is re-parented to
/// the daemon when its worker dies, instead of to PID 1. Any child of the daemon that is not a live worker
/// is such an orphan: it and all its descendants are killed and reaped.
enum OrphanSweep {
    /// Makes this process the subreaper of its descendants; false (logged by the caller) if the kernel refused.
    static func becomeSubreaper() -> Bool { shim_set_child_subreaper() == 0 }

    /// Kills every descendant of this process that does not descend from one of `workers`, and reaps the
    /// ones that are its direct children. Returns how many processes it killed.
    @discardableResult
    static func run(keeping workers: Set<Int32>) -> Int {
        var killed = 0
        // Killing an orphan re-parents its own children to us; a few rounds catch those too.
        for _ in 0..<8 {
            let table = ProcessTree.read()
            let me = getpid()
            let orphans = (table.children[me] ?? []).filter { !workers.contains($0) }
            guard !orphans.isEmpty else { break }
            // Stop the whole tree first, so nothing in it can fork while it is being walked.
            let tree = orphans.flatMap { table.descendants(of: $0) } + orphans
            for pid in tree { kill(pid, SIGSTOP) }
            for pid in tree { kill(pid, SIGKILL) }
            killed += tree.count
            for pid in orphans { reap(pid) }
        }
        return killed
    }

    /// A SIGKILLed child exits at once (unless stuck in the kernel); wait for it so no zombie is left.
    private static func reap(_ pid: Int32) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}

/// Parent → children, read from /proc once.
struct ProcessTree {
    var children: [Int32: [Int32]] = [:]

    static func read() -> ProcessTree {
        var table = ProcessTree()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return table }
        for entry in entries {
            guard let pid = Int32(entry), let parent = parentPID(of: pid) else { continue }
            table.children[parent, default: []].append(pid)
        }
        return table
    }

    func descendants(of pid: Int32) -> [Int32] {
        var found: [Int32] = []
        var queue = children[pid] ?? []
        var seen = Set<Int32>()
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }

    /// Field 4 of /proc/PID/stat, read after the last ")" since the command name may hold spaces or ")".
    private static func parentPID(of pid: Int32) -> Int32? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let close = data.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = data[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        return Int32(String(decoding: fields[fields.startIndex + 1], as: UTF8.self))
    }
}

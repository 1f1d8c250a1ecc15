import Dispatch
import Protocol
import Synchronization

/// One deadline queue for all of a worker's connectors: fires each connector's refresh when due and
/// schedules the next one a period after the refresh ends (as Egeria measures from the last refresh).
final class RefreshScheduler: Sendable {
    private struct Entry {
        var due: DispatchTime
        var host: ConnectorHost
    }

    private let entries = Mutex<[Entry]>([])
    private let wake = DispatchSemaphore(value: 0)

    init() {}

    /// Starts the scheduler thread.
    func start() throws(OSThread.StartError) {
        try OSThread.start(name: "refresh-scheduler") { [self] in run() }
    }

    /// Refreshes `host` at `due`, then every period after that if it has one. A host has at most one next refresh:
    /// scheduling it again replaces the one it had, so a period changed while a refresh runs cannot start a second
    /// chain of refreshes.
    func schedule(_ host: ConnectorHost, at due: DispatchTime) {
        reschedule(host, at: due)
    }

    /// The host's next refresh moved to `due` (none when nil): its refresh period changed.
    func reschedule(_ host: ConnectorHost, at due: DispatchTime?) {
        entries.withLock { entries in
            entries.removeAll { $0.host === host }
            if let due { entries.append(Entry(due: due, host: host)) }
        }
        wake.signal()
    }

    private func run() {
        while true {
            let now = DispatchTime.now()
            let (dueHosts, next) = entries.withLock { entries -> ([ConnectorHost], DispatchTime?) in
                let due = entries.filter { $0.due <= now }.map(\.host)
                entries.removeAll { $0.due <= now }
                return (due, entries.map(\.due).min())
            }
            for host in dueHosts {
                host.refresh { [self] _ in
                    if let period = host.config.refreshPeriodSeconds, !host.status.isFailure, host.status != .SHUTDOWN {
                        schedule(host, at: .now() + period)
                    }
                }
            }
            if let next { _ = wake.wait(timeout: next) } else { wake.wait() }
        }
    }
}

import Glibc

/// The daemon's file descriptors, shared so that no number of door clients can starve supervision.
///
/// At start the soft `RLIMIT_NOFILE` is raised to the hard limit (the daemon polls, so no `FD_SETSIZE` bound
/// applies). Supervision keeps a reserve (the store, the log, the control socket and its clients, and each
/// worker's pipes, threads' eventfds and reaper) and the REST door gets at most what is left, whatever its
/// configured `maxConnections`. A door at its cap answers 503; a worker is still respawned.
struct DescriptorBudget: Sendable, Equatable {
    /// The soft limit after raising it.
    let limit: Int
    /// The soft limit found at start, when it was raised.
    let raisedFrom: Int?
    /// What supervision keeps for itself.
    let reserved: Int

    /// Base fds the daemon holds whatever it supervises: store files and their WAL sync, lock, log, listeners,
    /// forwarder sockets, /proc reads, metrics textfile.
    static let baseReserve = 64
    /// Per worker: three pipes, an eventfd, a connection's reader and writer, with room for a respawn that
    /// overlaps the old incarnation's drain.
    static let perWorker = 12
    /// Services a reload may add after start, provided for up front.
    static let spareServices = 16
    /// Connections a door accepts past its cap only to answer them 503 and close (see ``HTTPServer``).
    static let doorRefusalSlots = HTTPServer.refusalSlots + 1

    /// Raises the soft limit to the hard one and sizes the reserve for `services` workers.
    static func claim(services: Int) -> DescriptorBudget {
        var limits = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0 else {
            return DescriptorBudget(limit: 1024, raisedFrom: nil, reserved: reserve(services: services))
        }
        let found = limits.rlim_cur
        var raised: rlim_t?
        if limits.rlim_cur < limits.rlim_max {
            var wanted = limits
            wanted.rlim_cur = limits.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &wanted) == 0 { raised = found; limits = wanted }
        }
        // An fd is an Int32, so no limit means more than that (RLIM_INFINITY included) is Int32.max.
        let limit = Int(min(limits.rlim_cur, rlim_t(Int32.max)))
        return DescriptorBudget(limit: limit, raisedFrom: raised.map { Int(clamping: $0) }, reserved: reserve(services: services))
    }

    static func reserve(services: Int) -> Int {
        baseReserve + ControlServer.maxConnections + ControlServer.refusalSlots + perWorker * (max(0, services) + spareServices)
    }

    /// The REST door's connection cap: the configured one, lowered to what the reserve leaves (at least 1).
    func doorConnections(configured: Int) -> Int {
        max(1, min(configured, limit - reserved - Self.doorRefusalSlots))
    }
}

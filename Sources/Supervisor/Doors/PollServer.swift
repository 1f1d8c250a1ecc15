import Glibc
import Protocol
import Synchronization
import SystemShims

/// What one door does with its connections. ``PollServer`` owns the sockets, the one `poll` thread, accepting, the
/// connection cap and who is closed to make room at it, the fd reserve for when the daemon is out of descriptors,
/// the inbox of answers from other threads, and deadlines; a door only says what its bytes mean.
///
/// Every method runs on the door's I/O thread and must not block.
protocol PollDoor: Sendable {
    /// One connection's state.
    associatedtype Connection
    /// An answer handed to a connection from another thread, through ``PollServer/deliver(_:to:)``.
    associatedtype Reply: Sendable

    /// How the door names itself in log lines ("control socket", "platform door").
    var name: String { get }
    /// The metadata key its log lines count open connections under.
    var openConnectionsKey: String { get }

    /// A socket just accepted: its state, or nil to close it at once.
    mutating func opened(fd: Int32, id: Int, now: Double) -> Connection?
    /// The poll events the connection waits for now; 0 while it waits for an answer (hang-ups are still reported).
    func events(of connection: Connection) -> Int16
    /// When the connection's current step must be done; ``expired(_:id:now:)`` is called once it passes.
    func deadline(of connection: Connection) -> Double
    /// Whether the connection is idle and may be closed to make room at the cap, and its rank: the lowest goes
    /// first (ties go to the connection accepted first). nil while it is mid-exchange.
    func idleRank(of connection: Connection) -> Double?

    mutating func ready(_ connection: inout Connection, id: Int, revents: Int16) -> PollStep
    mutating func deliver(_ reply: Reply, to connection: inout Connection, id: Int) -> PollStep
    mutating func expired(_ connection: inout Connection, id: Int, now: Double) -> PollStep
    /// The connection is closed to make room for a new one; a last word may be sent (best effort, not waited for).
    func evicted(_ connection: Connection)
    /// A socket turned away: the door may send it a last word before it is closed.
    func refuse(fd: Int32, _ refusal: PollRefusal)
    /// The connection is about to be closed; `graceful` after a complete exchange (TLS says goodbye then).
    func closing(_ connection: Connection, graceful: Bool)
}

/// What happens to a connection after a door handled it.
enum PollStep {
    case keep
    case close
    /// Closed after a complete exchange.
    case closeGracefully
}

/// Why a socket was turned away at accept.
enum PollRefusal {
    /// The cap is reached and no open connection is idle.
    case atCap(Int)
    /// The daemon has no file descriptors to spare.
    case outOfDescriptors
}

/// One `poll` thread behind a door (the control socket, the REST door): a connection costs an fd and a few hundred
/// bytes, never a thread, so thousands of clients or a `pids` cgroup limit cannot take the daemon down.
final class PollServer<Door: PollDoor>: Sendable {
    /// Figures for status and metrics.
    struct Counters: Sendable {
        var open = 0
        var refused = 0
    }

    let listenFD: Int32
    let maxConnections: Int
    /// Connections accepted past the cap only to be refused with a last word and closed.
    let refusalSlots: Int
    private let wake: IOCancellation
    private let inbox = Mutex<[(id: Int, reply: Door.Reply)]>([])
    private let counters = Mutex(Counters())
    private let logger: Logger

    /// `listenFD` is a bound, listening, non-blocking socket, owned from here on.
    init(listenFD: Int32, maxConnections: Int, refusalSlots: Int, logger: Logger) throws(IOCancellation.CreateError) {
        wake = try IOCancellation()
        self.listenFD = listenFD
        self.maxConnections = maxConnections
        self.refusalSlots = refusalSlots
        self.logger = logger
    }

    var figures: Counters { counters.withLock { $0 } }

    /// Serves `door` on a thread of its own until the process exits.
    func start(_ door: Door, threadName: String) throws(OSThread.StartError) {
        try OSThread.start(name: threadName) { [self] in
            var reactor = PollReactor(server: self, door: door)
            reactor.run()
        }
    }

    /// Hands an answer to connection `id` (any thread may call it); an answer for a closed connection is dropped.
    func deliver(_ reply: Door.Reply, to id: Int) {
        inbox.withLock { $0.append((id, reply)) }
        wake.cancel()
    }

    fileprivate var wakeFD: Int32 { wake.fd }
    fileprivate var log: Logger { logger }

    fileprivate func takeInbox() -> [(id: Int, reply: Door.Reply)] {
        var drained: UInt64 = 0
        _ = read(wake.fd, &drained, MemoryLayout<UInt64>.size)
        return inbox.withLock { inbox in defer { inbox.removeAll() }; return inbox }
    }

    fileprivate func count(open: Int, refused: Int = 0) {
        counters.withLock {
            $0.open = open
            $0.refused += refused
        }
    }
}

/// The poll thread's state: every open connection, the door, and the out-of-descriptors episode.
private struct PollReactor<Door: PollDoor> {
    let server: PollServer<Door>
    var door: Door
    var connections: [Int: (fd: Int32, state: Door.Connection)] = [:]
    var nextID = 1
    /// An fd kept in reserve: closed to take one waiting client off the backlog when the daemon is out of fds,
    /// then reopened.
    var reserveFD: Int32 = open("/dev/null", O_RDONLY | O_CLOEXEC)
    var outOfFDs = false
    /// An out-of-fds episode was logged; it ends (logged too) at the first accept a second after the last EMFILE.
    var episodeLogged = false
    var lastEMFILE = 0.0

    init(server: PollServer<Door>, door: Door) {
        self.server = server
        self.door = door
    }

    mutating func run() {
        while true {
            var fds = [pollfd(fd: server.wakeFD, events: Int16(POLLIN), revents: 0)]
            let accepting = connections.count < server.maxConnections + server.refusalSlots
            if accepting { fds.append(pollfd(fd: server.listenFD, events: Int16(POLLIN), revents: 0)) }
            let ids = Array(connections.keys)
            for id in ids {
                let connection = connections[id]!
                fds.append(pollfd(fd: connection.fd, events: door.events(of: connection.state), revents: 0))
            }
            let now = MonotonicClock.now()
            let nearest = connections.values.map { door.deadline(of: $0.state) }.min()
            // Out of fds, the listener stays readable; look again in 100 ms rather than spin.
            let timeout = outOfFDs ? 100 : nearest.map { Int32(max(0, min(60_000, ($0 - now) * 1000 + 1))) } ?? -1
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { usleep(10_000) }
            deliverInbox()
            // Open connections' bytes first: at the cap, whether one is idle (and may make room) is decided on
            // what it has sent.
            let offset = accepting ? 2 : 1
            for (index, id) in ids.enumerated() where fds[offset + index].revents != 0 {
                apply(id) { door, state in door.ready(&state, id: id, revents: fds[offset + index].revents) }
            }
            if accepting, fds[1].revents != 0 || outOfFDs { acceptAll() }
            // Answers given while this pass served (synchronous ones included) go before any deadline's fallback.
            deliverInbox()
            expire(now: MonotonicClock.now())
            server.count(open: connections.count)
        }
    }

    /// Until the inbox is empty: delivering an answer can start a connection's next pipelined request, whose answer
    /// may be given at once, and that one too must come before any deadline's fallback (left for the next pass,
    /// its request's zero deadline expired first and the answer went to the request after it).
    private mutating func deliverInbox() {
        while true {
            let batch = server.takeInbox()
            if batch.isEmpty { return }
            for (id, reply) in batch {
                apply(id) { door, state in door.deliver(reply, to: &state, id: id) }
            }
        }
    }

    /// Runs a door step on connection `id` (if it is still open) and closes it when the door says so.
    private mutating func apply(_ id: Int, _ step: (inout Door, inout Door.Connection) -> PollStep) {
        guard var connection = connections[id] else { return }
        let result = step(&door, &connection.state)
        switch result {
        case .keep: connections[id] = connection
        case .close: close(connection, graceful: false, id: id)
        case .closeGracefully: close(connection, graceful: true, id: id)
        }
    }

    private mutating func close(_ connection: (fd: Int32, state: Door.Connection), graceful: Bool, id: Int) {
        connections[id] = nil
        door.closing(connection.state, graceful: graceful)
        Glibc.close(connection.fd)
    }

    private mutating func expire(now: Double) {
        for (id, connection) in connections where door.deadline(of: connection.state) <= now {
            apply(id) { door, state in door.expired(&state, id: id, now: now) }
        }
    }

    // MARK: - Accepting

    private mutating func acceptAll() {
        while true {
            let fd = shim_accept_cloexec_nonblock(server.listenFD)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE:
                    outOfFDs = true
                    lastEMFILE = MonotonicClock.now()
                    if !episodeLogged {
                        episodeLogged = true
                        server.log.error("\(door.name): cannot accept connections: \(String(cString: strerror(errno))); turning them away until fds are free",
                                         [door.openConnectionsKey: .int(connections.count)])
                    }
                    refuseWithReserve()
                    return
                default:
                    // EAGAIN: the backlog is empty. Out of fds or not is learnt from the next accept.
                    return
                }
            }
            outOfFDs = false
            if episodeLogged && MonotonicClock.now() - lastEMFILE >= 1 {
                episodeLogged = false
                server.log.notice("\(door.name): accepting connections again")
            }
            if connections.count >= server.maxConnections && !evictIdlest() {
                door.refuse(fd: fd, .atCap(server.maxConnections))
                Glibc.close(fd)
                server.count(open: connections.count, refused: 1)
                continue
            }
            let id = nextID
            nextID += 1
            guard let state = door.opened(fd: fd, id: id, now: MonotonicClock.now()) else {
                Glibc.close(fd)
                continue
            }
            connections[id] = (fd, state)
            // What it sent before it was accepted is read now: at the cap, a client that has sent something is
            // not idle, even one accepted in the same pass as the next.
            apply(id) { door, state in door.ready(&state, id: id, revents: Int16(POLLIN)) }
        }
    }

    /// At the cap, the idle connection ranked first makes room for a new one, so silent clients cannot keep an
    /// operator out until their deadlines pass. False when every connection is mid-exchange.
    private mutating func evictIdlest() -> Bool {
        // Ids grow with each accept: among equal ranks the smallest waited longest.
        let candidates = connections.compactMap { id, connection in door.idleRank(of: connection.state).map { (rank: $0, id: id) } }
        guard let victim = candidates.min(by: { ($0.rank, $0.id) < ($1.rank, $1.id) }), let connection = connections[victim.id] else { return false }
        door.evicted(connection.state)
        close(connection, graceful: false, id: victim.id)
        server.count(open: connections.count, refused: 1)
        return true
    }

    /// Out of fds: spend the reserve fd on taking one waiting client off the backlog, so the backlog does not stall.
    private mutating func refuseWithReserve() {
        guard reserveFD >= 0 else {
            reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
            return
        }
        Glibc.close(reserveFD)
        let fd = shim_accept_cloexec_nonblock(server.listenFD)
        if fd >= 0 {
            door.refuse(fd: fd, .outOfDescriptors)
            Glibc.close(fd)
            server.count(open: connections.count, refused: 1)
        }
        reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }
}

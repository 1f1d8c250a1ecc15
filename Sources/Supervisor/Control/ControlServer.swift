import Foundation
import Glibc
import Protocol
import Synchronization
import SystemShims

/// Serves live commands on a Unix socket (owner-only) in the data directory: one JSON request line in, one
/// JSON answer line out.
///
/// One thread does all the socket I/O with `poll`: it accepts, reads each client's first line, and writes
/// the answer that the loop hands back through ``handle``. A connection costs an fd and a few hundred bytes,
/// never a thread, so 10,000 clients or a `pids` cgroup limit cannot take the daemon down. At most
/// ``maxConnections`` are open at once; past that, and when the daemon is out of fds (EMFILE), a client gets
/// a one-line refusal and the event is logged once per episode. Every connection has a deadline.
final class ControlServer: Sendable {
    let path: String
    private let listenFD: Int32
    private let logger: Logger
    private let wake: IOCancellation
    private let inbox = Mutex<[(id: Int, line: Data)]>([])
    private let counters = Mutex(Counters())

    static let maxConnections = 128
    /// Connections accepted past the cap only to be refused with a line and closed.
    static let refusalSlots = 16
    static let maxRequestBytes = 64 * 1024
    /// A client must send its request line, and read its answer, within this.
    static let ioTimeoutSeconds = 5.0

    /// Figures for status and metrics.
    struct Counters: Sendable {
        var open = 0
        var refused = 0
    }

    /// A socket that could not be set up, with the reason.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = try UnixAddress(path: path)
        let previous = umask(0o177)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        umask(previous)
        guard bound == 0 else {
            close(fd)
            throw SetupError(description: "cannot bind control socket \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o600)
        guard listen(fd, 256) == 0 else {
            close(fd)
            throw SetupError(description: "listen \(path): \(String(cString: strerror(errno)))")
        }
        do { wake = try IOCancellation() } catch {
            close(fd)
            throw SetupError(description: "control socket: \(error)")
        }
        listenFD = fd
    }

    var figures: Counters { counters.withLock { $0 } }

    /// Serves until the process exits; each decoded command goes to `handle`, whose reply may come from any
    /// thread (late or repeated replies are ignored).
    func start(handle: @escaping @Sendable (CommandCall) -> Void) throws(OSThread.StartError) {
        try OSThread.start(name: "control-io") { [self] in
            var io = ControlIO(server: self, handle: handle)
            io.run()
        }
    }

    func remove() { unlink(path) }

    /// Hands an answer line to the I/O thread (any thread may call it).
    fileprivate func deliver(_ id: Int, _ line: Data) {
        inbox.withLock { $0.append((id, line)) }
        wake.cancel()
    }

    fileprivate var listeningFD: Int32 { listenFD }
    fileprivate var wakeFD: Int32 { wake.fd }
    fileprivate var log: Logger { logger }
    fileprivate func takeInbox() -> [(id: Int, line: Data)] {
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

/// The state of the control socket's I/O thread: every open client and where it is in its exchange.
private struct ControlIO {
    let server: ControlServer
    let handle: @Sendable (CommandCall) -> Void
    var clients: [Int: Client] = [:]
    var nextID = 1
    /// An fd kept in reserve: closed to accept-and-refuse when the daemon is out of fds, then reopened.
    var reserveFD: Int32 = open("/dev/null", O_RDONLY | O_CLOEXEC)
    var outOfFDs = false
    /// An out-of-fds episode was logged; it ends (logged too) at the first accept a second after the last EMFILE.
    var episodeLogged = false
    var lastEMFILE = 0.0

    struct Client {
        let fd: Int32
        var phase: Phase
        var deadline: Double
        var input = Data()
        var output = Data()
        var timeoutAnswer = Data()
    }

    enum Phase { case reading, waiting, writing }

    init(server: ControlServer, handle: @escaping @Sendable (CommandCall) -> Void) {
        self.server = server
        self.handle = handle
    }

    mutating func run() {
        while true {
            var fds = [pollfd(fd: server.wakeFD, events: Int16(POLLIN), revents: 0)]
            let accepting = clients.count < ControlServer.maxConnections + ControlServer.refusalSlots
            if accepting { fds.append(pollfd(fd: server.listeningFD, events: Int16(POLLIN), revents: 0)) }
            let ids = Array(clients.keys)
            for id in ids {
                let client = clients[id]!
                let events: Int32 = switch client.phase { case .reading: POLLIN; case .waiting: 0; case .writing: POLLOUT }
                fds.append(pollfd(fd: client.fd, events: Int16(events), revents: 0))
            }
            let now = MonotonicClock.now()
            let nearest = clients.values.map(\.deadline).min()
            // Out of fds, the listener stays readable; look again in 100 ms rather than spin.
            let timeout = outOfFDs ? 100 : nearest.map { Int32(max(0, min(60_000, ($0 - now) * 1000 + 1))) } ?? -1
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { usleep(10_000) }
            for (id, line) in server.takeInbox() { answer(id, line) }
            // Open clients' bytes first: at the cap, whether one is idle (and may make room) is decided on what
            // it has sent.
            let offset = accepting ? 2 : 1
            for (index, id) in ids.enumerated() where fds[offset + index].revents != 0 {
                service(id, revents: fds[offset + index].revents)
            }
            if accepting, fds[1].revents != 0 || outOfFDs { acceptAll() }
            expire(now: MonotonicClock.now())
            server.count(open: clients.count)
        }
    }

    private mutating func acceptAll() {
        while true {
            let fd = shim_accept_cloexec_nonblock(server.listeningFD)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE:
                    outOfFDs = true
                    lastEMFILE = MonotonicClock.now()
                    if !episodeLogged {
                        episodeLogged = true
                        server.log.error("control socket: cannot accept connections: \(String(cString: strerror(errno))); refusing them until fds are free",
                                         ["openControlConnections": .int(clients.count)])
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
                server.log.notice("control socket: accepting connections again")
            }
            if clients.count >= ControlServer.maxConnections && !evictIdlest() {
                refuse(fd, "too many control connections (\(ControlServer.maxConnections) open); try again")
                continue
            }
            clients[nextID] = Client(fd: fd, phase: .reading, deadline: MonotonicClock.now() + ControlServer.ioTimeoutSeconds)
            // What it sent before it was accepted is read now: at the cap, a client that has sent something is
            // not idle, even one accepted in the same pass as the next.
            service(nextID, revents: Int16(POLLIN))
            nextID += 1
        }
    }

    /// At the cap, the connection that has sent nothing for longest makes room for a new one, so silent clients
    /// cannot keep an operator's `status` out until their deadlines pass. False when every client is mid-exchange.
    private mutating func evictIdlest() -> Bool {
        // Ids grow with each accept: the smallest idle one has waited longest.
        guard let id = clients.filter({ $0.value.phase == .reading && $0.value.input.isEmpty }).keys.min() else { return false }
        answer(id, ControlLine.failure("closed: the control socket is at its cap of \(ControlServer.maxConnections) connections and this one sent nothing"))
        if clients[id] != nil { drop(id) }
        server.count(open: clients.count, refused: 1)
        return true
    }

    /// Out of fds: spend the reserve fd on taking one waiting client off the backlog with a refusal.
    private mutating func refuseWithReserve() {
        guard reserveFD >= 0 else {
            reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
            return
        }
        close(reserveFD)
        let fd = shim_accept_cloexec_nonblock(server.listeningFD)
        if fd >= 0 { refuse(fd, "the daemon is out of file descriptors; try again") }
        reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    private func refuse(_ fd: Int32, _ message: String) {
        let line = ControlLine.failure(message)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
        server.count(open: clients.count, refused: 1)
    }

    private mutating func service(_ id: Int, revents: Int16) {
        guard var client = clients[id] else { return }
        switch client.phase {
        case .reading:
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(client.fd, &buffer, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            guard n > 0 else { return drop(id) }
            client.input.append(contentsOf: buffer[0..<n])
            if let newline = client.input.firstIndex(of: 0x0A) {
                let line = client.input[client.input.startIndex..<newline]
                client.input = Data()
                client.phase = .waiting
                clients[id] = client
                dispatch(id, line: Data(line))
            } else if client.input.count > ControlServer.maxRequestBytes {
                clients[id] = client
                answer(id, ControlLine.failure("request line over \(ControlServer.maxRequestBytes) bytes"))
            } else {
                clients[id] = client
            }
        case .writing:
            flush(id)
        case .waiting:
            // Only a hang-up is reported while the answer is pending; the answer is dropped when it comes.
            if revents & Int16(POLLHUP | POLLERR) != 0 { drop(id) }
        }
    }

    private mutating func dispatch(_ id: Int, line: Data) {
        let call: CommandCall
        do { call = try CommandCall.decode(line, answer: ControlSink(server: server, id: id)) } catch {
            return answer(id, ControlLine.failure(error.message))
        }
        // The command's own bound (a refresh's is long), after which this door answers for the loop.
        clients[id]?.deadline = MonotonicClock.now() + call.waitSeconds
        clients[id]?.timeoutAnswer = ControlLine.failure(call.timeoutMessage)
        handle(call)
    }

    private mutating func answer(_ id: Int, _ line: Data) {
        guard var client = clients[id], client.phase != .writing else { return }
        client.phase = .writing
        client.output = line
        client.deadline = MonotonicClock.now() + ControlServer.ioTimeoutSeconds
        clients[id] = client
        flush(id)
    }

    private mutating func flush(_ id: Int) {
        guard var client = clients[id] else { return }
        while !client.output.isEmpty {
            let n = client.output.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                client.output.removeFirst(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                clients[id] = client
                return
            } else {
                return drop(id)
            }
        }
        drop(id)
    }

    private mutating func expire(now: Double) {
        for (id, client) in clients where client.deadline <= now {
            switch client.phase {
            case .reading, .writing: drop(id)
            case .waiting:
                answer(id, client.timeoutAnswer)
            }
        }
    }

    private mutating func drop(_ id: Int) {
        guard let client = clients.removeValue(forKey: id) else { return }
        close(client.fd)
    }

}

/// The control socket's answer for one client: encodes whatever answer type its command has.
private struct ControlSink: AnswerSink {
    let server: ControlServer
    let id: Int

    func take<Answer: Codable & Sendable>(_ result: Result<Answer, OperatorError>) {
        switch result {
        case .success(let answer): server.deliver(id, ControlLine.encode(ControlAnswer(result: answer)))
        case .failure(let error): server.deliver(id, ControlLine.failure(error.message))
        }
    }
}

/// Answer lines of the control socket.
enum ControlLine {
    static func encode<Answer>(_ answer: ControlAnswer<Answer>) -> Data {
        var line = (try? JSONEncoder.daemon.encode(answer)) ?? Data("{\"error\":\"the answer could not be encoded\"}".utf8)
        line.append(0x0A)
        return line
    }

    static func failure(_ message: String) -> Data { encode(ControlAnswer<String>(error: message)) }
}

/// A `sockaddr_un` for a filesystem path.
struct UnixAddress {
    private var storage = sockaddr_un()

    init(path: String) throws {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw ControlServer.SetupError(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

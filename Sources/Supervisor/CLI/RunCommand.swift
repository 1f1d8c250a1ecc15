import Dispatch
import Foundation
import Glibc
import Forwarding
import Protocol
import Store
import Synchronization

/// Dispatch signal sources must stay alive or their signal is swallowed; they live here for the process's life.
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []

/// `integration-daemon run`: sets up the data directory, store, signals and control socket, then hands the
/// main thread to the supervision loop.
enum RunCommand {
    static func run(config: DaemonConfig, logger: Logger) -> Int32 {
        // A stalled stderr reader (journald, a log shipper) must never stall supervision: lines go through a
        // bounded buffer, and every line is scrubbed of secrets on its way.
        do { try LogSink.installBuffered(filter: Redaction.scrub) } catch {
            logger.warning("\(error); logging straight to stderr")
        }
        defer { LogSink.flush() }
        // Read before anything is created or locked (their variables leave the environment here): a secret the
        // configuration names that cannot be read is a configuration error (64).
        let unreadable = ConnectorSecret.problems(in: config)
        guard unreadable.isEmpty else {
            unreadable.forEach { logger.error("\($0)") }
            return 64
        }
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            logger.error("cannot create dataDirectory \(config.dataDirectory): \(error.localizedDescription)")
            return 1
        }
        if let problem = DataDirectoryCheck.problem(config.dataDirectory, field: "dataDirectory", mayBeLink: true) {
            logger.error("\(problem); not starting")
            return 1
        }
        let lock: DataDirectoryLock
        switch DataDirectoryLock.take(directory: config.dataDirectory) {
        case .success(let taken): lock = taken
        case .failure(let error):
            logger.error("\(error)")
            return 1
        }
        let store: EmbeddedStore
        do {
            store = try EmbeddedStore(directory: config.storeDirectory, keeping: config.accessServer.reportKeeping, settings: config.store, logger: logger)
        } catch {
            logger.error("cannot open the embedded store: \(error)")
            return 1
        }
        StoreRetention(store: store).start()
        // Whoever started us may have left signals blocked (Foundation's Process does, from a non-main
        // thread); SIGTERM must reach the handler below.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        // Writes to a dead worker must fail with EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        // Helpers that leave a worker's process group come back to us when the worker dies, to be killed.
        if !OrphanSweep.becomeSubreaper() { logger.warning("cannot become a child subreaper: \(String(cString: strerror(errno))); helpers of crashed workers may outlive them") }
        // Before any door opens: the doors' share of fds is what the raised limit leaves after supervision's reserve.
        let budget = DescriptorBudget.claim(services: config.integrationServices.count)
        if let from = budget.raisedFrom { logger.info("open-file limit raised from \(from) to \(budget.limit)") }
        let events = EventQueue()
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { events.post(.signal(sig)) }
            source.resume()
            signalSources.append(source)
        }
        let control: ControlServer
        do { control = try ControlServer(path: config.controlSocketPath, logger: logger) } catch {
            logger.error("\(error)")
            return 1
        }
        do { try control.start { events.post(.command($0)) } } catch {
            logger.error("\(error)")
            return 1
        }
        var platform: HTTPServer?
        let lineageTally = LineageTally()
        let lineageKick = LineageKick { events.post(.lineageStored) }
        if let settings = config.platform {
            let cap = budget.doorConnections(configured: settings.maxConnections)
            if cap < settings.maxConnections {
                logger.warning("platform.maxConnections \(settings.maxConnections) lowered to \(cap): the daemon may open \(budget.limit) files and keeps \(budget.reserved) for supervision; raise the hard limit (LimitNOFILE=, ulimit -Hn) to allow more")
            }
            do { platform = try PlatformStart.start(settings, maxConnections: cap, config: config, store: store, lineageTally: lineageTally, lineageKick: lineageKick,
                                                          events: events, logger: logger) } catch {
                logger.error("\(error)")
                return error.isConfiguration ? 64 : 1
            }
        }
        let access: AccessServer
        switch config.accessServer {
        case .embedded:
            access = .embedded(store)
        case .egeria(let egeria):
            let secret: String?
            let password: String?
            do { (secret, password) = (try AccessSecret.read(egeria), try AccessSecret.readPassword(egeria)) } catch {
                logger.error("\(error)")
                return 64
            }
            secret.map(Redaction.register)
            let client: EgeriaClient
            do { client = try EgeriaClient(config: egeria, secret: secret, password: password) } catch {
                logger.error("cannot set up TLS for \(egeria.omagserverPlatformRootURL): \(error)")
                return 1
            }
            let forwarder = ReportForwarder(store: store, client: client, deadLetters: DeadLetterFile(path: config.dataDirectory + "/dead-letters.jsonl"),
                                            logger: logger)
            do { try forwarder.start() } catch {
                logger.error("\(error)")
                return 1
            }
            access = .egeria(store: store, forwarder: forwarder)
            logger.notice("forwarding integration reports to \(client.baseURL)", ["backlog": .int(store.backlog.reports)])
        }
        let notifier = SystemdNotifier()
        let loop = SupervisionLoop(config: config, access: access, store: store, events: events, logger: logger, notifier: notifier)
        loop.control = control
        loop.platform = platform
        if platform != nil { loop.lineageTally = lineageTally }
        loop.lineageKick = lineageKick
        switch GroupStart.start(config, events: events, logger: logger) {
        case .success(let follower): loop.groupFollower = follower
        case .failure(let failure):
            logger.error("\(failure.message)")
            return failure.exitCode
        }
        logger.notice("integration-daemon started", ["config": .text(config.file), "dataDirectory": .text(config.dataDirectory),
                                                     "services": .int(config.integrationServices.count), "pid": .int(Int(getpid()))])
        let code = loop.run()
        loop.groupFollower?.stop()
        control.remove()
        withExtendedLifetime(lock) {}
        return code
    }
}

/// An exclusive `flock` on `<dataDirectory>/daemon.lock`: one daemon per data directory. The kernel drops it
/// when the process dies, however it dies.
final class DataDirectoryLock {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Why the lock could not be taken.
    struct LockError: Error, CustomStringConvertible {
        let description: String
    }

    /// The lock, opened without following a link (a planted `daemon.lock` link would have its target overwritten
    /// with the pid) and only if it is a regular file.
    static func take(directory: String) -> Result<DataDirectoryLock, LockError> {
        let path = directory + "/daemon.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link; remove it" : String(cString: strerror(errno))
            return .failure(LockError(description: "cannot open \(path): \(reason)"))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(LockError(description: "\(path) is not a regular file; remove it"))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return .failure(LockError(description: "another integration-daemon is already running with dataDirectory \(directory)"))
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return .success(DataDirectoryLock(fd: fd))
    }

    deinit { close(fd) }
}

/// A secret named in the configuration: read from an environment variable (removed from the environment at once,
/// so no worker inherits it) or a file; never from the config file itself, never logged.
enum AccessSecret {
    /// Why the secret could not be read.
    struct SecretError: Error, CustomStringConvertible {
        let description: String
    }

    /// Variables already read and removed from the environment, by name.
    private static let taken = Mutex<[String: String]>([:])

    /// The secret from `variable` or `file`, nil when neither is given; `path` names the config object in errors
    /// (`accessServer.egeria`, `platform.users[0]`).
    static func read(variable: String?, variableField: String, file: String?, fileField: String, path: String) throws(SecretError) -> String? {
        if let name = variable {
            if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty {
                taken.withLock { $0[name] = value }
                unsetenv(name)
                return value
            }
            // Read (and removed) at start: a reload that names it again gets the value then read.
            if let value = taken.withLock({ $0[name] }) { return value }
            throw SecretError(description: "\(path).\(variableField) names \(name), which is not set")
        }
        guard let file else { return nil }
        let data: [UInt8]
        switch readBounded(file, limit: maxFileBytes) {
        case .success(let bytes): data = bytes
        case .failure(let problem): throw SecretError(description: "\(path).\(fileField) \(file) \(problem.description)")
        }
        // One line ending is what editors and `echo` add; spaces are the password's own, as they would be in a
        // variable.
        var value = data[...]
        if value.last == 0x0A { value = value.dropLast() }
        if value.last == 0x0D { value = value.dropLast() }
        guard !value.isEmpty else { throw SecretError(description: "\(path).\(fileField) \(file) is empty") }
        return String(decoding: value, as: UTF8.self)
    }

    /// A secret file holds one secret: anything longer is a wrong path, and is not read whole.
    static let maxFileBytes = 64 * 1024

    /// Why a file could not be read within its bound.
    struct ReadProblem: Error, CustomStringConvertible {
        let description: String
    }

    /// The file's bytes, or why not: at most `limit` are read, and a longer file is refused.
    static func readBounded(_ path: String, limit: Int) -> Result<[UInt8], ReadProblem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadProblem(description: "cannot be read: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return .failure(ReadProblem(description: "cannot be read: \(String(cString: strerror(errno)))")) }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { return .failure(ReadProblem(description: "is over \(limit / 1024) KiB; a secret file holds one secret")) }
        return .success(Array(bytes[..<count]))
    }

    /// The fixed bearer token for the access server.
    static func read(_ config: EgeriaServerConfig) throws(SecretError) -> String? {
        try read(variable: config.secretEnvironmentVariable, variableField: "secretEnvironmentVariable",
                 file: config.secretFile, fileField: "secretFile", path: "accessServer.egeria")
    }

    /// Egeria 6: the password exchanged for tokens.
    static func readPassword(_ config: EgeriaServerConfig, path: String = "accessServer.egeria") throws(SecretError) -> String? {
        if config.passwordEnvironmentVariable == nil && config.passwordFile == nil, let file = config.secretsStoreLocation,
           let collection = config.secretsStoreCollection {
            do { return try SecretsStoreFile.credentials(file: file, collection: collection).password } catch {
                throw SecretError(description: "\(path).secretsStoreLocation: \(error)")
            }
        }
        return try read(variable: config.passwordEnvironmentVariable, variableField: "passwordEnvironmentVariable",
                        file: config.passwordFile, fileField: "passwordFile", path: path)
    }
}

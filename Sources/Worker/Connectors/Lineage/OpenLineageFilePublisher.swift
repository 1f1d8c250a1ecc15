import Glibc
import Protocol
import SystemShims

/// Egeria's OpenLineage file publisher (`FileBasedOpenLineageLogStoreProvider`): each event becomes one file,
/// `{folder}/{job.namespace}/{job.name}/{runId}-{eventTime}-{eventType}.openlineageevent`, holding the event as
/// its producer sent it. Egeria's layout, so what reads Egeria's folder reads this one.
///
/// The same event always lands at the same path, so an event delivered again after a crash overwrites its own
/// file. Names come from producers: each path segment has `/` and NUL replaced by `_`, and `.` or `..` alone
/// become `_`, so no event writes outside the folder. A batch is written, then synced with one `syncfs`.
final class OpenLineageFilePublisher: LineageConsumer {
    static let providerNames = ["open-lineage-file-publisher",
                                "org.odpi.openmetadata.adapters.connectors.integration.openlineage.FileBasedOpenLineageLogStoreProvider"]
    /// Egeria's folder when the connection names none.
    static let defaultFolder = "logs/openlineage"

    private let folder: String

    init(config: IntegrationConnectorConfig) throws {
        let address = config.connection.endpoint?.address ?? ""
        folder = address.isEmpty ? Self.defaultFolder : address
    }

    func start(context: ConnectorContext) throws { try Self.makeFolders(folder) }

    /// Nothing to compare: events arrive through ``publish(_:)``.
    func refresh(context: ConnectorContext) throws {}

    func publish(_ events: [DeliverLineage.Event], context: ConnectorContext) throws {
        try Self.makeFolders(folder)
        // Most of a batch shares a few jobs: each job's folder is made once per batch, not once per event.
        var made = Set<String>()
        for item in events {
            let event = item.event
            let job = event["job"]
            let namespace = job?["namespace"]?.stringValue ?? "default-namespace"
            let jobName = job?["name"]?.stringValue ?? event["dataset"]?["name"]?.stringValue ?? "unknown-job"
            let runId = event["run"]?["runId"]?.stringValue ?? "no-run"
            let time = event["eventTime"]?.stringValue ?? "no-time"
            let type = event["eventType"]?.stringValue ?? "OTHER"
            let directory = folder + "/" + Self.segment(namespace) + "/" + Self.segment(jobName)
            if made.insert(directory).inserted { try Self.makeFolders(directory) }
            let path = directory + "/" + Self.segment("\(runId)-\(time)-\(type)") + ".openlineageevent"
            var writer = JSONWriter()
            writer.value(event)
            try Self.write(writer.bytes + [0x0A], to: path)
        }
        // One sync for the batch: the daemon moves this connector's cursor only after it.
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ConnectorError("cannot open \(folder): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard shim_syncfs(fd) == 0 else { throw ConnectorError("cannot sync \(folder): \(String(cString: strerror(errno)))") }
        context.count("openLineageEventsPublished", events.count)
    }

    /// One path segment from a producer's name.
    static func segment(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\u{0}" ? "_" : $0 }.prefix(200))
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "_" : cleaned
    }

    static func makeFolders(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw ConnectorError("cannot make \(built): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Written beside the target and renamed over it, so a reader never sees half an event.
    private static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw ConnectorError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ConnectorError("cannot write \(temporary): \(reason)")
            }
            offset += n
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw ConnectorError("cannot rename to \(path): \(String(cString: strerror(errno)))") }
    }
}

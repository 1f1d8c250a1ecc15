import Foundation
import Forwarding
import Protocol
import Store

/// `status --json`: Egeria's `IntegrationDaemonStatus` shape (`integrationServiceSummaries` →
/// `integrationConnectorReports`) plus a `worker` object per service and the daemon's own facts.
struct DaemonStatus: Codable, Sendable {
    var serverName: String
    var daemon: DaemonInfo
    var accessServer: AccessServerSummary
    var integrationServiceSummaries: [ServiceSummary]

    /// The daemon process itself.
    struct DaemonInfo: Codable, Sendable {
        var pid: Int32
        var state: String
        var startTime: Date
        var dataDirectory: String
        /// Whether the embedded store can be written; while it cannot, reports are refused (workers keep them).
        var storeWritable: Bool
        var storeError: String?
        var storeErrorSince: Date?
        /// The store's file and WAL on disk, the reports retention keeps now, and when the oldest was stored.
        var storeSizeBytes: Int
        var storeReports: Int
        var storeOldestReport: Date?
        /// Log lines dropped because stderr did not drain.
        var droppedLogLines: Int
        var controlConnections: Int
        /// Control connections refused (over the cap, or the daemon out of fds).
        var refusedControlConnections: Int
        /// The REST platform door, when configured: connections open and refused, and requests served.
        var platform: PlatformFigures?
    }

    /// The platform door's figures.
    struct PlatformFigures: Codable, Sendable {
        var address: String
        var tls: Bool
        var openConnections: Int
        /// The cap in force: `platform.maxConnections`, or less when the open-file limit leaves less (see operations).
        var maxConnections: Int
        var refusedConnections: Int
        var requests: Int
        /// OpenLineage events posted since the daemon started, by outcome.
        var lineage: LineageFigures?
    }

    /// What the OpenLineage door did with the events posted to it since the daemon started.
    struct LineageFigures: Codable, Sendable, Equatable {
        var stored: Int
        var duplicates: Int
        /// Refused as malformed (400) or compressed (415).
        var invalid: Int
        /// Refused because the store could not take them (503).
        var unavailable: Int
    }

    /// Egeria's `IntegrationServiceSummary` plus the service's worker.
    struct ServiceSummary: Codable, Sendable {
        var integrationServiceURLMarker: String
        var integrationServiceFullName: String
        var worker: WorkerSummary
        var integrationConnectorReports: [ConnectorReport]
        /// The connectors that take OpenLineage events, with how far each has got (absent when none does).
        var lineageConnectors: [LineageConnector]?
        /// For an Egeria 6 integration group: where its registrations are read, and how the last read went.
        var integrationGroup: GroupSummary? = nil
    }

    /// An integration group's reads from its metadata access server.
    struct GroupSummary: Codable, Sendable {
        var integrationGroupQualifiedName: String
        /// The IntegrationGroup element's GUID, once read.
        var integrationGroupGUID: String?
        /// The metadata access server: platform root URL and server name.
        var metadataAccessServer: String
        var lastReadTime: Date?
        /// Why the group cannot be read now; its connectors run as last read.
        var lastReadError: String?
        var lastReadErrorTime: Date?
        /// Registrations that cannot run, each with why.
        var skippedRegistrations: [String]?
    }

    /// A connector that takes OpenLineage events: the last event it acknowledged, and how many stored events
    /// are past that (its lag).
    struct LineageConnector: Codable, Sendable, Equatable {
        var connectorName: String
        var acknowledgedSeq: Int
        var backlog: Int
    }

    /// The service's worker process as the supervisor sees it.
    struct WorkerSummary: Codable, Sendable {
        var pid: Int32?
        /// The worker's own pid and host, from its handshake and heartbeats (differ from `pid` behind ssh).
        var workerPid: Int32?
        var hostName: String?
        /// starting, running, stopping, backoff, failed, stopped.
        var state: String
        var restartCount: Int
        var lastExit: ExitSummary?
        var failureReason: String?
        /// A remote worker whose host cannot be reached: since when (retried with capped backoff, never FAILED for it).
        var unreachableSince: Date?
        var protocolViolations: Int
        var heartbeatRoundTripMillis: Double?
        var readySince: Date?
        /// How long the last restart took, from the exit being seen to the new worker spawned and ready.
        var lastRestart: RestartTiming?
        /// Resident memory at the last heartbeat, and the service's limit if it has one.
        var residentMemoryBytes: Int?
        var memoryLimitMegabytes: Int?
    }

    /// Durations of the last restart, measured by the daemon on its monotonic clock.
    struct RestartTiming: Codable, Sendable {
        var exitToSpawnMillis: Double?
        var exitToReadyMillis: Double?
    }

    /// How the worker's last incarnation ended.
    struct ExitSummary: Codable, Sendable {
        var exitCode: Int32?
        var signal: Int32?
        var signalName: String?
        /// crash, exit, hang, start-timeout, requested or spawn-failed.
        var cause: String
        var description: String
        var uptimeSeconds: Double
        var time: Date
    }

    /// Egeria's `IntegrationConnectorReport`.
    struct ConnectorReport: Codable, Sendable {
        var connectorId: String
        var connectorName: String
        var connectorStatus: IntegrationConnectorStatus?
        var lastStatusChange: Date?
        var lastRefreshTime: Date?
        var minMinutesBetweenRefresh: Double
        var failingExceptionMessage: String?
        var statistics: ConnectorStatistics
        /// The connector's live connection (after any configure or set-endpoint), as Egeria's report carries it.
        var connection: Connection?
        /// Its `IntegrationConnector` element's GUID, for a connector registered at the metadata access server.
        var connectorGUID: String? = nil
        /// For a connector with catalog targets: each one's last refresh and failure.
        var catalogTargets: [CatalogTargetStatus]? = nil
    }

    /// Egeria's free-form `statistics` map, with the keys this daemon fills in.
    struct ConnectorStatistics: Codable, Sendable {
        var refreshCount: Int
        var reportsStored: Int
        var elementsCreated: Int
        var elementsUpdated: Int
        var elementsDeleted: Int
        var lastReportId: String?
        var refreshTimeoutSeconds: Double
        var refreshOverruns: Int
        /// Set while a refresh runs.
        var refreshingForSeconds: Double?
        var lastRefreshOverrunTime: Date?
        var reportsForwarded: Int
        var reportsBacklog: Int
        var reportsDeadLettered: Int
        var lastForwardTime: Date?
        /// The access server's last refusal, while this connector has a backlog.
        var lastForwardError: String?
    }
}

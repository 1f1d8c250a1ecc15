import Foundation
import Protocol
import Store

/// The daemon's validated configuration; every default lives here.
struct DaemonConfig: Sendable, Equatable {
    var file: String
    var localServerName = "integration-daemon"
    var localServerUserId = "integration-daemon-npa"
    /// Absolute; relative paths in the file resolve against the config file's folder.
    var dataDirectory: String
    var supervision = SupervisionConfig()
    var accessServer = AccessServerConfig.embedded
    var metrics: MetricsConfig?
    var store = StoreSettings()
    var platform: PlatformConfig?
    var integrationServices: [ServiceConfig] = []

    var controlSocketPath: String { dataDirectory + "/daemon.sock" }
    var storeDirectory: String { dataDirectory + "/store" }
}

/// How workers are watched, stopped and restarted.
struct SupervisionConfig: Sendable, Equatable {
    var heartbeatIntervalSeconds = 2.0
    var heartbeatTimeoutSeconds = 6.0
    /// How long a worker has to exit after `shutdown` (and after SIGTERM) before the next step.
    var shutdownGraceSeconds = 5.0
    /// After SIGTERM to a hung worker, how long before SIGKILL.
    var killGraceSeconds = 1.0
    /// How long a worker has from spawn to answering `initialize`.
    var startTimeoutSeconds = 10.0
    var restart = RestartSettings()
}

/// Restart policy and limits for one service (the daemon-wide value is each service's default).
struct RestartSettings: Sendable, Equatable {
    var policy: RestartPolicy = .permanent
    var maxRestarts = 5
    var withinSeconds = 60.0
    var initialBackoffSeconds = 0.1
    var maxBackoffSeconds = 30.0
    /// A run that stayed ready this long was healthy: the next restart is immediate and backoff resets.
    var healthyAfterSeconds = 1.0
}

/// Where integration reports and element writes go.
enum AccessServerConfig: Sendable, Equatable {
    /// The daemon's own store under the data directory.
    case embedded
    /// An Egeria metadata access server; reports are spooled locally and forwarded.
    case egeria(EgeriaServerConfig)

    var egeria: EgeriaServerConfig? { if case .egeria(let config) = self { config } else { nil } }

    /// How the store keeps accepted reports: the same choice as ``AccessServer``'s destinations, made here.
    var reportKeeping: ReportKeeping {
        switch self {
        case .embedded: .delivered
        case .egeria(let config): .spooled(limitBytes: config.spoolLimitBytes)
        }
    }
}

/// An Egeria metadata access server, with Egeria's field names.
struct EgeriaServerConfig: Sendable, Equatable {
    /// Which Egeria REST API to speak: 6 (open-metadata-store elements, ConnectorActivityReport, token API)
    /// or 5 (framework-services open-integration reports).
    enum APIVersion: String, Sendable, CaseIterable { case v6 = "6", v5 = "5" }

    var apiVersion = APIVersion.v6
    var omagserverPlatformRootURL: String
    var omagserverName: String
    var userId: String
    /// The framework services' URL marker the open-integration and open-metadata-store paths hang under.
    var serviceURLMarker = "asset-manager"
    /// true: connectors' element writes go to Egeria's generic element API (mirrored locally for their finds);
    /// false (`"elementWrites": "embedded"`): they stay in the embedded store and only reports are forwarded.
    var elementWritesToEgeria = true
    /// Read at start from the environment variable or the file, sent as a bearer token; never in the config,
    /// never logged, never passed to workers.
    var secretEnvironmentVariable: String?
    var secretFile: String?
    /// Egeria 6: the password for `userId`, exchanged at the platform's token API (`POST /api/token`) for a
    /// bearer token that is renewed before it expires. Read at start; never logged, never passed to workers.
    var passwordEnvironmentVariable: String?
    var passwordFile: String?
    /// Egeria 6: how long a token is used when it does not say (Egeria's secrets stores renew every 50 minutes).
    var tokenRenewSeconds = 3000.0
    /// PEM file of the CA(s) to trust for `https://` instead of the system trust store.
    var caFile: String?
    var requestTimeoutSeconds = 10.0
    /// Reports in flight at once (different connectors; one connector's reports go strictly in order).
    var maxInFlight = 8
    var initialRetrySeconds = 0.2
    var maxRetrySeconds = 30.0
    /// Accepted reports not yet forwarded may take this much room; at the bound workers are not acknowledged.
    var spoolLimitBytes = 256 << 20
}

/// Where and how often the daemon writes its metrics for node_exporter's textfile collector.
struct MetricsConfig: Sendable, Equatable {
    /// Absolute path of the `.prom` file, replaced atomically each time.
    var textfile: String
    var intervalSeconds = 5.0
}

/// One integration service: one worker process hosting its connectors.
struct ServiceConfig: Sendable, Equatable {
    var urlMarker: String
    var fullName: String
    /// argv of the worker; `command[0]` is resolved to an executable path.
    var command: [String]
    /// Set for `worker.remote`: `command` is the ssh command line built from it, and an unreachable host is not a crash.
    var remote: RemoteWorker?
    /// Resident memory above which the worker is replaced (restart cause `memory`).
    var memoryLimitMegabytes: Int?
    var restart: RestartSettings
    var connectors: [IntegrationConnectorConfig]
}

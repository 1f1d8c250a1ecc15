import Foundation
import Forwarding
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
    /// `--placeholder NAME=VALUE` given at start: a reload fills the document with the same values.
    var placeholders: [String: String] = [:]

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
    /// Set for an Egeria 6 integration group: `connectors` are what was last read from its metadata access server.
    var group: IntegrationGroupConfig? = nil
}

/// Deadlines of the loop's own periodic work: the metrics textfile and the systemd watchdog, plus what was
/// last told to systemd, so a status line is sent only when it changes.
struct PeriodicTasks {
    var metricsInterval: Double?
    var nextMetrics: Double?
    var watchdogInterval: Double?
    var nextWatchdog: Double?
    var readyNotified = false
    var lastStatusLine: String?
    var spoolState = SpoolState.ok

    mutating func start(now: Double, config: DaemonConfig, notifier: SystemdNotifier?) {
        metricsInterval = config.metrics?.intervalSeconds
        nextMetrics = metricsInterval.map { now + min($0, 1) }
        watchdogInterval = notifier?.watchdogInterval
        nextWatchdog = watchdogInterval.map { _ in now }
    }

    var nextDeadline: Double? { [nextMetrics, nextWatchdog].compactMap { $0 }.min() }
}

import Store
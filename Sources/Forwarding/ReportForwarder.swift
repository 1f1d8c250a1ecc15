import Dispatch
import Foundation
import Protocol
import Store
import Synchronization

/// Forwards spooled reports to the access server: in order per connector (one in flight each), several
/// connectors at once, retrying unreachable-server failures with capped exponential backoff and jitter, and
/// dead-lettering reports the server rejects so they never block the others. A report stays in the journal
/// until its forwarded (or dead-lettered) record is written; a crash before that replays it, and the report id
/// makes the replay idempotent at the server.
package final class ReportForwarder: Sendable {
    private let store: EmbeddedStore
    let client: EgeriaClient
    private let deadLetters: DeadLetterFile
    private let logger: Logger
    private let backoff: Backoff
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    /// Reports stored before this moment may have been sent by the previous run of the daemon.
    private let startMillis = EpochMillis.int64(Date())

    private struct State {
        var inFlight: Set<String> = []
        var retryAt: [String: Double] = [:]
        var attempts: [String: Int] = [:]
        var lastError: [String: String] = [:]
        /// Per connector, the last report the server has, whose forwarded record may not be written yet: the
        /// store still lists it as pending, and sending it again would store it twice at a stock Egeria.
        var deliveredThrough: [String: Int64] = [:]
        /// Per connector, reports up to here may be at the server already (a forwarded record failed to be
        /// written): each is looked up before it is sent.
        var lookUpThrough: [String: Int64] = [:]
        var snapshot = Snapshot()
    }

    /// What status shows about forwarding.
    struct Snapshot: Sendable {
        var lastSuccess: Date?
        var lastError: String?
        var lastErrorTime: Date?
    }

    package init(store: EmbeddedStore, client: EgeriaClient, deadLetters: DeadLetterFile, logger: Logger) {
        self.store = store
        self.client = client
        self.deadLetters = deadLetters
        self.logger = logger.with(["accessServer": .text(client.baseURL)])
        backoff = Backoff(initialSeconds: client.config.initialRetrySeconds, maxSeconds: client.config.maxRetrySeconds)
    }

    package func start() throws(OSThread.StartError) {
        store.setOnAccepted { [wake] in wake.signal() }
        try OSThread.start(name: "report-forwarder") { [self] in run() }
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// The last error forwarding this connector's reports met, while it still has a backlog.
    func lastError(connectorName: String) -> String? { state.withLock { $0.lastError[connectorName] } }

    private func run() {
        while true {
            let now = MonotonicClock.now()
            let (busy, room, delivered) = state.withLock { state -> (Set<String>, Int, [String: Int64]) in
                let waiting = state.retryAt.filter { $0.value > now }.map(\.key)
                return (state.inFlight.union(waiting), client.config.maxInFlight - state.inFlight.count, state.deliveredThrough)
            }
            let heads = room > 0 ? Array(store.pendingHeads(excluding: busy, after: delivered).prefix(room)) : []
            for pending in heads {
                let report = pending.report
                // Sent before a crash, or sent before with no clear answer: it may already be at the server.
                let mayExist = state.withLock { state in
                    state.inFlight.insert(report.connectorName)
                    return (state.attempts[report.connectorName] ?? 0) > 0 || pending.seq <= (state.lookUpThrough[report.connectorName] ?? 0)
                } || pending.storedMillis < startMillis
                client.submit(report, mayExist: mayExist) { [self] outcome in finished(pending, outcome) }
            }
            let nextRetry = state.withLock { state in state.retryAt.values.filter { $0 > now }.min() }
            if let nextRetry { _ = wake.wait(timeout: .now() + max(0, nextRetry - MonotonicClock.now())) } else { wake.wait() }
        }
    }

    private func finished(_ pending: EmbeddedStore.PendingReport, _ outcome: EgeriaClient.Outcome) {
        let report = pending.report
        let connector = report.connectorName
        switch outcome {
        case .delivered:
            // The connector's next report may go at once; this one is skipped until its forwarded record is
            // written. A crash before that replays it, and the replay looks it up first (mayExist).
            state.withLock { state in
                state.inFlight.remove(connector)
                state.deliveredThrough[connector] = max(state.deliveredThrough[connector] ?? 0, pending.seq)
                state.attempts[connector] = nil
                state.retryAt[connector] = nil
                state.lastError[connector] = nil
                state.snapshot.lastSuccess = Date()
            }
            wake.signal()
            store.markForwarded(report.reportId) { [self] error in
                guard let error else { return }
                logger.error("forwarded report \(report.reportId) but could not record it: \(error); it is looked up and recorded again")
                // Back to the store's own view: the unrecorded report is the head again, and is looked up before it is sent.
                state.withLock { state in
                    state.lookUpThrough[connector] = max(state.lookUpThrough[connector] ?? 0, state.deliveredThrough[connector] ?? 0, pending.seq)
                    state.deliveredThrough[connector] = nil
                }
                wake.signal()
            }
        case .retry(let reason):
            let delay = state.withLock { state -> Double in
                let attempt = (state.attempts[connector] ?? 0) + 1
                state.attempts[connector] = attempt
                let delay = backoff.delay(quickFailures: attempt, random: Double.random(in: 0..<1))
                state.retryAt[connector] = MonotonicClock.now() + delay
                state.inFlight.remove(connector)
                state.lastError[connector] = reason
                state.snapshot.lastError = reason
                state.snapshot.lastErrorTime = Date()
                return delay
            }
            logger.warning("report \(report.reportId) not forwarded: \(reason); retrying in \(String(format: "%.2f", delay)) s",
                           ["connector": .text(connector)])
            wake.signal()
        case .reject(let reason):
            logger.error("access server rejected report \(report.reportId): \(reason); dead-lettered to \(deadLetters.path)", ["connector": .text(connector)])
            do {
                try deadLetters.append(.init(reportId: report.reportId, connectorName: connector, reason: reason, time: Date(), report: report))
            } catch {
                // Keep it in the spool rather than lose it; try again later.
                logger.error("cannot write the dead-letter file: \(error); report \(report.reportId) stays in the spool")
                state.withLock { state in
                    state.inFlight.remove(connector)
                    state.retryAt[connector] = MonotonicClock.now() + client.config.maxRetrySeconds
                }
                return
            }
            store.markDeadLettered(report.reportId, reason: reason) { [self] _ in
                state.withLock { state in
                    state.inFlight.remove(connector)
                    state.snapshot.lastError = "rejected \(report.reportId): \(reason)"
                    state.snapshot.lastErrorTime = Date()
                }
                wake.signal()
            }
        }
    }
}

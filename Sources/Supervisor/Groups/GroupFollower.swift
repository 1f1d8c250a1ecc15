import Foundation
import Protocol
import Synchronization

/// Keeps each integration group's registrations current: one thread reads every group when it is due (every
/// `groupRefreshSeconds`, sooner after a failed read, with backoff) or at once when asked (`refresh-config`), and
/// hands what it read to the supervision loop. A metadata access server that is down only delays the next read:
/// the connectors already running keep running.
final class GroupFollower: Sendable {
    typealias Delivery = @Sendable ([GroupReader.Reading]) -> Void

    private let readers: [GroupReader]
    private let deliver: Delivery
    private let wake = DispatchSemaphore(value: 0)
    private let state: Mutex<State>

    private struct State {
        /// When each group is next read (monotonic seconds).
        var due: [String: Double]
        /// Failed reads in a row, per group, for the backoff.
        var failures: [String: Int] = [:]
        /// Reads asked for now: the groups (nil for every one) and who gets the readings.
        var requests: [(groups: Set<String>?, then: Delivery)] = []
        var stopped = false
    }

    /// A failed read is tried again after about a second, doubling (with jitter), and never later than the group's
    /// own interval.
    private static let retry = Backoff(initialSeconds: 1, maxSeconds: 60)

    init(readers: [GroupReader], deliver: @escaping Delivery) {
        self.readers = readers
        self.deliver = deliver
        let now = MonotonicClock.now()
        state = Mutex(State(due: Dictionary(uniqueKeysWithValues: readers.map { ($0.group.qualifiedName, now) })))
    }

    func start() throws(OSThread.StartError) {
        guard !readers.isEmpty else { return }
        try OSThread.start(name: "groups") { [self] in run() }
    }

    /// Reads the named groups (every group when nil) at once; `then` gets the readings, in the order of the
    /// configuration. Unknown names are left out.
    func readNow(_ groups: Set<String>?, then: @escaping Delivery) {
        state.withLock { $0.requests.append((groups, then)) }
        wake.signal()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        wake.signal()
    }

    private func run() {
        while true {
            let now = MonotonicClock.now()
            let (stopped, requests, nextDue) = state.withLock { state in
                defer { state.requests.removeAll() }
                return (state.stopped, state.requests, state.due.values.min() ?? now + 3600)
            }
            if stopped { return }
            if requests.isEmpty && nextDue > now {
                _ = wake.wait(timeout: .now() + min(nextDue - now, 3600))
                continue
            }
            for request in requests {
                request.then(readers.filter { request.groups?.contains($0.group.qualifiedName) ?? true }.map(read))
            }
            let due = state.withLock { state in Set(state.due.filter { $0.value <= now }.keys) }
            let readings = readers.filter { due.contains($0.group.qualifiedName) }.map(read)
            if !readings.isEmpty { deliver(readings) }
        }
    }

    private func read(_ reader: GroupReader) -> GroupReader.Reading {
        let reading = reader.read()
        let name = reader.group.qualifiedName
        state.withLock { state in
            switch reading.result {
            case .success:
                state.failures[name] = nil
                state.due[name] = MonotonicClock.now() + reader.group.refreshSeconds
            case .failure:
                let failures = (state.failures[name] ?? 0) + 1
                state.failures[name] = failures
                let delay = min(Self.retry.delay(quickFailures: failures, random: Double.random(in: 0..<1)), reader.group.refreshSeconds)
                state.due[name] = MonotonicClock.now() + delay
            }
        }
        return reading
    }
}

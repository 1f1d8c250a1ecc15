import Foundation
import Protocol

/// Gathers the answers of one operator `refresh` across the workers it went to, and replies once all are in.
final class RefreshCollector {
    private var remaining: Int
    private var outcomes: [RefreshOutcome] = []
    private var errors: [String] = []
    private let reply: @Sendable (ControlResponse) -> Void

    /// What `integration-daemon refresh` prints.
    struct Answer: Codable, Sendable {
        var refreshes: [RefreshOutcome]
        var errors: [String]
    }

    init(expected: Int, reply: @escaping @Sendable (ControlResponse) -> Void) {
        self.remaining = expected
        self.reply = reply
        if expected == 0 { finish() }
    }

    func succeed(_ refreshes: [RefreshOutcome]) {
        outcomes += refreshes
        countDown()
    }

    func fail(service: String, _ reason: String) {
        errors.append("\(service): \(reason)")
        countDown()
    }

    private func countDown() {
        remaining -= 1
        if remaining == 0 { finish() }
    }

    private func finish() {
        let sorted = outcomes.sorted { $0.connectorName < $1.connectorName }
        if sorted.isEmpty && !errors.isEmpty {
            reply(.failure(errors.joined(separator: "; ")))
        } else {
            reply(.success(Answer(refreshes: sorted, errors: errors)))
        }
    }
}

/// A Prometheus histogram of durations in seconds.
struct Histogram: Sendable {
    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
    private(set) var counts = [Int](repeating: 0, count: Histogram.bounds.count)
    private(set) var sum = 0.0
    private(set) var count = 0

    mutating func observe(_ value: Double) {
        for (index, bound) in Self.bounds.enumerated() where value <= bound { counts[index] += 1 }
        sum += value
        count += 1
    }
}

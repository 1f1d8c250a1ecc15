import Foundation
import Protocol

/// Gathers the answers of one operator command that went to several workers (refresh, restart of every
/// connector) and replies once all are in.
///
/// Only the supervision loop's thread touches it: workers' answers and exits arrive there as events.
final class AnswerCollector<Item: Sendable>: @unchecked Sendable {
    private var remaining: Int
    private var items: [Item] = []
    private var errors: [String] = []
    private let finish: ([Item], [String]) -> Void

    init(expected: Int, finish: @escaping ([Item], [String]) -> Void) {
        self.remaining = expected
        self.finish = finish
        if expected == 0 { finish([], []) }
    }

    func succeed(_ answers: [Item]) {
        items += answers
        countDown()
    }

    func fail(service: String, _ reason: String) {
        errors.append("\(service): \(reason)")
        countDown()
    }

    private func countDown() {
        remaining -= 1
        if remaining == 0 { finish(items, errors) }
    }
}

typealias RefreshCollector = AnswerCollector<RefreshOutcome>

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

import Foundation

/// Summaries of repeated measurements, printed as `name: median X (min A, p90 B, max C) unit`.
enum Figures {
    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    static func line(_ name: String, _ values: [Double], unit: String, target: String? = nil) -> String {
        let text = "  \(name): median \(format(median(values))) (min \(format(values.min() ?? .nan)), p90 \(format(percentile(values, 0.9))), max \(format(values.max() ?? .nan))) \(unit), n=\(values.count)"
        return target.map { text + "   [target \($0)]" } ?? text
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "-" }
        return value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }
}

/// Monotonic seconds.
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

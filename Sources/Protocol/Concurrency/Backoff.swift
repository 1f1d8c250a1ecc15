/// Restart delay: none after a healthy run, then exponential from `initialSeconds` up to `maxSeconds`, with
/// jitter so that workers failing together do not restart in lockstep.
public struct Backoff: Equatable, Sendable {
    public let initialSeconds: Double
    public let maxSeconds: Double

    public init(initialSeconds: Double, maxSeconds: Double) {
        self.initialSeconds = initialSeconds
        self.maxSeconds = maxSeconds
    }

    /// The delay before the next start after `quickFailures` consecutive short runs; `random` is in 0..<1.
    public func delay(quickFailures: Int, random: Double) -> Double {
        guard quickFailures > 0 else { return 0 }
        let exponent = Double(min(quickFailures - 1, 60))
        let base = min(maxSeconds, initialSeconds * pow2(exponent))
        // "Equal jitter": at least half the base, so backoff still grows while runs stay short.
        return base / 2 + base / 2 * random
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}

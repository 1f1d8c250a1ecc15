/// A sliding window of recent restarts: more than `maxRestarts` within `withinSeconds` means give up,
/// as OTP's restart intensity (MaxR in MaxT).
struct RestartHistory: Equatable, Sendable {
    let maxRestarts: Int
    let withinSeconds: Double
    private(set) var times: [Double] = []

    init(maxRestarts: Int, withinSeconds: Double) {
        self.maxRestarts = maxRestarts
        self.withinSeconds = withinSeconds
    }

    /// Records a failure at `now`; false once the window holds more than `maxRestarts` of them.
    mutating func recordFailure(at now: Double) -> Bool {
        times.removeAll { now - $0 >= withinSeconds }
        times.append(now)
        return times.count <= maxRestarts
    }

    var count: Int { times.count }
}

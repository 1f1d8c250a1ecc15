import Synchronization

/// What the OpenLineage door did with the events posted to it since the daemon started, for status and metrics.
final class LineageTally: Sendable {
    /// What became of one event.
    enum Outcome: String, CaseIterable, Sendable {
        /// Stored and synced: answered 200.
        case stored
        /// The same event was stored before: answered 200, not stored again.
        case duplicate
        /// Refused as malformed (400) or compressed (415).
        case invalid
        /// The store could not take it (503).
        case unavailable
    }

    private let stored = Atomic(0), duplicate = Atomic(0), invalid = Atomic(0), unavailable = Atomic(0)

    func count(_ outcome: Outcome) {
        switch outcome {
        case .stored: stored.wrappingAdd(1, ordering: .relaxed)
        case .duplicate: duplicate.wrappingAdd(1, ordering: .relaxed)
        case .invalid: invalid.wrappingAdd(1, ordering: .relaxed)
        case .unavailable: unavailable.wrappingAdd(1, ordering: .relaxed)
        }
    }

    func value(_ outcome: Outcome) -> Int {
        switch outcome {
        case .stored: stored.load(ordering: .relaxed)
        case .duplicate: duplicate.load(ordering: .relaxed)
        case .invalid: invalid.load(ordering: .relaxed)
        case .unavailable: unavailable.load(ordering: .relaxed)
        }
    }

    /// For status.
    var figures: DaemonStatus.LineageFigures {
        .init(stored: value(.stored), duplicates: value(.duplicate), invalid: value(.invalid), unavailable: value(.unavailable))
    }
}

/// How full the report spool is.
package enum SpoolState: String, Codable, Sendable {
    case ok
    /// Above 80 % of its bound.
    case nearLimit = "near-limit"
    /// A report was just refused for lack of room: workers are not acknowledged until it drains.
    case full
}


/// What the store does with an accepted report. The daemon's access-server choice decides it, once, at start.
package enum ReportKeeping: Sendable, Equatable {
    /// The store is the access server: an accepted report is delivered.
    case delivered
    /// Reports wait in the store for a forwarder, in at most `limitBytes` (no bound when nil).
    case spooled(limitBytes: Int?)

    package var spools: Bool { if case .spooled = self { true } else { false } }
    package var limitBytes: Int? { if case .spooled(let limit) = self { limit } else { nil } }
}

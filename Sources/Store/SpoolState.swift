/// How full the report spool is.
package enum SpoolState: String, Codable, Sendable {
    case ok
    /// Above 80 % of its bound.
    case nearLimit = "near-limit"
    /// A report was just refused for lack of room: workers are not acknowledged until it drains.
    case full
}


import Foundation
import Store

/// Where reports go and how far behind forwarding is: `accessServer` in status.
package struct AccessServerSummary: Codable, Sendable {
    /// embedded or egeria.
    package var kind: String
    package var url: String?
    package var backlog: Int
    package var backlogBytes: Int
    package var spoolLimitBytes: Int?
    /// ok, near-limit (80 %) or full (workers are not acknowledged until it drains).
    package var spoolState: SpoolState
    package var lastSuccessfulForward: Date?
    package var lastError: String?
    package var lastErrorTime: Date?
    package var deadLetters: Int

    package init(kind: String, url: String?, backlog: Int, backlogBytes: Int, spoolLimitBytes: Int?, spoolState: SpoolState,
                 lastSuccessfulForward: Date?, lastError: String?, lastErrorTime: Date?, deadLetters: Int) {
        self.kind = kind
        self.url = url
        self.backlog = backlog
        self.backlogBytes = backlogBytes
        self.spoolLimitBytes = spoolLimitBytes
        self.spoolState = spoolState
        self.lastSuccessfulForward = lastSuccessfulForward
        self.lastError = lastError
        self.lastErrorTime = lastErrorTime
        self.deadLetters = deadLetters
    }
}

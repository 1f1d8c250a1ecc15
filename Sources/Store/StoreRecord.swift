import Foundation
import Protocol

/// One line of the JSON-lines journal that held the embedded store before SQLite; read once, by ``JournalImport``.
package enum StoreRecord: Codable, Sendable {
    case report(IntegrationReport)
    case element(MetadataElement)
    case deleted(guid: String, time: Date)
    /// The report reached the Egeria access server.
    case forwarded(reportId: String, time: Date)
    /// The access server rejected the report as invalid; it is in the dead-letter file and never retried.
    case deadLettered(reportId: String, reason: String, time: Date)

    private enum CodingKeys: String, CodingKey { case op, report, element, guid, time, reportId, reason }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .op) {
        case "report": self = .report(try container.decode(IntegrationReport.self, forKey: .report))
        case "element": self = .element(try container.decode(MetadataElement.self, forKey: .element))
        case "delete": self = .deleted(guid: try container.decode(String.self, forKey: .guid),
                                      time: try container.decode(Date.self, forKey: .time))
        case "forwarded": self = .forwarded(reportId: try container.decode(String.self, forKey: .reportId),
                                            time: try container.decode(Date.self, forKey: .time))
        case "deadLettered": self = .deadLettered(reportId: try container.decode(String.self, forKey: .reportId),
                                                  reason: try container.decode(String.self, forKey: .reason),
                                                  time: try container.decode(Date.self, forKey: .time))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "unknown op \"\(other)\"")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .report(let report):
            try container.encode("report", forKey: .op)
            try container.encode(report, forKey: .report)
        case .element(let element):
            try container.encode("element", forKey: .op)
            try container.encode(element, forKey: .element)
        case .deleted(let guid, let time):
            try container.encode("delete", forKey: .op)
            try container.encode(guid, forKey: .guid)
            try container.encode(time, forKey: .time)
        case .forwarded(let reportId, let time):
            try container.encode("forwarded", forKey: .op)
            try container.encode(reportId, forKey: .reportId)
            try container.encode(time, forKey: .time)
        case .deadLettered(let reportId, let reason, let time):
            try container.encode("deadLettered", forKey: .op)
            try container.encode(reportId, forKey: .reportId)
            try container.encode(reason, forKey: .reason)
            try container.encode(time, forKey: .time)
        }
    }
}

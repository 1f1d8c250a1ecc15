import Foundation
import Protocol

/// One line of the embedded store's journal.
enum StoreRecord: Codable, Sendable {
    case report(IntegrationReport)
    case element(MetadataElement)
    case deleted(guid: String, time: Date)

    private enum CodingKeys: String, CodingKey { case op, report, element, guid, time }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .op) {
        case "report": self = .report(try container.decode(IntegrationReport.self, forKey: .report))
        case "element": self = .element(try container.decode(MetadataElement.self, forKey: .element))
        case "delete": self = .deleted(guid: try container.decode(String.self, forKey: .guid),
                                      time: try container.decode(Date.self, forKey: .time))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "unknown op \"\(other)\"")
        }
    }

    func encode(to encoder: any Encoder) throws {
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
        }
    }
}

/// `reports/submit` (worker → supervisor): an integration report; answered only once it is durable.
///
/// A report too big for one line (a 30,000-file folder's first refresh) travels in parts: each carries the same
/// report header and a slice of the element lists, with `part` saying which. The supervisor answers each part
/// at once, keeps the slices of that one worker incarnation, and stores the joined report in one durable write
/// when the last part arrives; only that answer says `stored`. Parts go in order; part 0 starts over.
public enum SubmitReport: RPCMethod {
    public static let name = "reports/submit"

    /// Parts the supervisor accepts for one report; with ``ReportPart/targetBytes`` slices that is ~2.5 GB.
    public static let maxParts = 10_000

    /// The request parameters.
    public struct Params: Codable, Sendable {
        public var report: IntegrationReport
        /// nil for a report sent whole.
        public var part: ReportPart?
        public init(report: IntegrationReport, part: ReportPart? = nil) {
            self.report = report
            self.part = part
        }
    }

    /// Which slice of a report in parts this is.
    public struct ReportPart: Codable, Sendable, Equatable {
        /// Encoded size a worker aims each part at, well under the 1 MiB line limit.
        public static let targetBytes = 256 * 1024

        /// 0-based.
        public var index: Int
        public var count: Int
        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }

        private enum CodingKeys: String, CodingKey { case index, count }

        /// Read as numbers first, so `1e300` is refused naming the field instead of as unreadable JSON.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func whole(_ key: CodingKeys, _ range: ClosedRange<Double>) throws -> Int {
                let value = try container.decode(Double.self, forKey: key)
                guard value.rounded() == value, range.contains(value) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(value) is not a whole number in \(Int(range.lowerBound))…\(Int(range.upperBound))")
                }
                return Int(value)
            }
            count = try whole(.count, 1...Double(SubmitReport.maxParts))
            index = try whole(.index, 0...Double(SubmitReport.maxParts - 1))
        }
    }

    /// The answer.
    public struct Result: Codable, Sendable {
        public var reportId: String
        /// false when a report with this id was already stored (a replay): nothing was written twice.
        public var stored: Bool
        /// For a part that is not the last: how many parts are held so far (nothing is stored yet).
        public var partsReceived: Int?
        public init(reportId: String, stored: Bool, partsReceived: Int? = nil) {
            self.reportId = reportId
            self.stored = stored
            self.partsReceived = partsReceived
        }
    }
}

extension SubmitReport.Params: RangeChecked {
    public var outOfRange: String? {
        guard let part else { return nil }
        return Self.check("part.count", part.count, 1...SubmitReport.maxParts) ?? Self.check("part.index", part.index, 0...max(0, part.count - 1))
    }
}

extension IntegrationReport {
    /// The report cut into parts whose lines stay near `targetBytes`, or nil when it fits in one.
    public func parts(targetBytes: Int = SubmitReport.ReportPart.targetBytes) -> [SubmitReport.Params]? {
        let lists = [createdElements, updatedElements, deletedElements]
        // A GUID costs its bytes plus quotes and a comma on the wire; the header is small and repeated.
        let elementBytes = lists.reduce(0) { $0 + $1.reduce(0) { $0 + $1.utf8.count + 3 } }
        guard elementBytes > targetBytes else { return nil }
        var slices: [[[String]]] = []
        var current: [[String]] = [[], [], []]
        var bytes = 0
        for (list, guids) in lists.enumerated() {
            for guid in guids {
                let cost = guid.utf8.count + 3
                if bytes + cost > targetBytes && bytes > 0 {
                    slices.append(current)
                    current = [[], [], []]
                    bytes = 0
                }
                current[list].append(guid)
                bytes += cost
            }
        }
        if bytes > 0 { slices.append(current) }
        return slices.enumerated().map { index, slice in
            var part = self
            part.createdElements = slice[0]
            part.updatedElements = slice[1]
            part.deletedElements = slice[2]
            return SubmitReport.Params(report: part, part: .init(index: index, count: slices.count))
        }
    }
}

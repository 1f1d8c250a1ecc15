import Protocol

/// One connector's reports waiting to be forwarded, oldest first. Taking the head is O(1) (a moving start
/// index, compacted now and then) because a drained backlog of thousands is taken one by one.
struct PendingQueue: Sendable {
    private var items: [(report: IntegrationReport, bytes: Int)] = []
    private var head = 0
    /// Journal bytes of the reports waiting.
    private(set) var bytes = 0

    var count: Int { items.count - head }
    var first: IntegrationReport? { head < items.count ? items[head].report : nil }

    mutating func append(_ report: IntegrationReport, bytes: Int) {
        items.append((report, bytes))
        self.bytes += bytes
    }

    /// Removes the report with this id (normally the head); false if it is not waiting here.
    mutating func remove(reportId: String) -> Bool {
        if head < items.count, items[head].report.reportId == reportId {
            bytes -= items[head].bytes
            head += 1
            if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return true
        }
        guard let position = items[head...].firstIndex(where: { $0.report.reportId == reportId }) else { return false }
        bytes -= items.remove(at: position).bytes
        return true
    }
}

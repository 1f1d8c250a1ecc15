import Protocol

/// One connector's reports waiting to be forwarded, oldest first. Taking the head is O(1) (a moving start
/// index, compacted now and then) because a drained backlog of thousands is taken one by one.
struct PendingQueue: Sendable {
    private var items: [(report: IntegrationReport, bytes: Int)] = []
    private var head = 0

    var count: Int { items.count - head }
    var first: IntegrationReport? { head < items.count ? items[head].report : nil }

    mutating func append(_ report: IntegrationReport, bytes: Int) { items.append((report, bytes)) }

    /// Removes the report with this id (normally the head) and returns its size.
    mutating func remove(reportId: String) -> Int? {
        if head < items.count, items[head].report.reportId == reportId {
            let bytes = items[head].bytes
            head += 1
            if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return bytes
        }
        guard let position = items[head...].firstIndex(where: { $0.report.reportId == reportId }) else { return nil }
        return items.remove(at: position).bytes
    }
}

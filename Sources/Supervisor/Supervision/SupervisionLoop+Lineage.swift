import Foundation
import Forwarding
import Protocol

/// The OpenLineage fan-out: each connector that takes events gets them in store order, one batch at a time, from
/// a cursor kept in the store. The cursor moves only past what the worker acknowledged (a whole batch, or part
/// of one through `lineage/progress`), and the next batch goes at once; a worker that dies gets what it had not
/// acknowledged again.
extension SupervisionLoop {
    /// Events per batch, and bytes of bodies per batch (the first event always goes).
    static let lineageBatchEvents = 256
    static let lineageBatchBytes = 256 * 1024
    /// An event whose line the worker could not read is passed over, logged: it would stop its connector forever.
    static var lineageEventMaxBytes: Int { LineFramer.defaultMaxLineLength - 64 * 1024 }

    /// Sends each waiting lineage connector of `service` its next batch, if there is one.
    func deliverLineage(_ service: ServiceRuntime) {
        guard service.lifecycle.isReady, let incarnation = service.incarnation, !incarnation.lineageConnectors.isEmpty else { return }
        let now = MonotonicClock.now()
        for connector in incarnation.lineageConnectors where !incarnation.lineageInFlight.contains(connector) {
            if let retryAt = incarnation.lineageRetryAt[connector], retryAt > now { continue }
            deliverNext(service, connector)
        }
    }

    private func deliverNext(_ service: ServiceRuntime, _ connector: String) {
        while true {
            let cursor = max(store.lineageCursor(of: connector), service.lineageHandled[connector] ?? 0)
            let batch = store.lineageEvents(after: cursor, limit: Self.lineageBatchEvents, maxBytes: Self.lineageBatchBytes)
            guard let first = batch.first else { return }
            if first.body.count > Self.lineageEventMaxBytes {
                service.logger.warning("OpenLineage event \(first.seq) (\(first.body.count) bytes) is past what a worker reads; \(connector) passes over it")
                moveCursor(service, connector, to: first.seq)
                continue
            }
            // The door stored only JSON; a body that no longer reads (a damaged disk) is passed over, not resent forever.
            let events = batch.filter { item in
                (try? item.body.withUnsafeBytes { raw in try JSONParser.parse(raw) }) != nil
            }.map { (seq: $0.seq, body: $0.body) }
            guard let last = events.last?.seq else {
                service.logger.warning("OpenLineage events \(first.seq)…\(batch.last?.seq ?? first.seq) no longer read as JSON; \(connector) passes over them")
                moveCursor(service, connector, to: batch.last?.seq ?? first.seq)
                continue
            }
            service.incarnation?.lineageInFlight.insert(connector)
            service.incarnation?.lineageBatches[connector] = first.seq...last
            send(line: { DeliverLineage.requestLine(id: $0, connectorName: connector, events: events) },
                 call: .lineage(connector: connector, lastSeq: last), to: service)
            return
        }
    }

    /// The worker's answer to a batch: the cursor moves, and the next batch goes at once.
    func lineageAnswered(_ service: ServiceRuntime, connector: String, lastSeq: Int, _ outcome: IncomingMessage.Outcome) {
        service.incarnation?.lineageInFlight.remove(connector)
        switch outcome {
        case .result(let line):
            switch decoder.result(DeliverLineage.self, from: line) {
            case .success(let result) where result.connectorName == connector && result.lastSeq == lastSeq:
                moveCursor(service, connector, to: lastSeq)
                // Not to a worker being stopped: the next one starts from the cursor.
                if service.lifecycle.isReady { deliverNext(service, connector) }
            case .success(let result):
                lineageFailed(service, connector, "acknowledged \(result.connectorName) up to \(result.lastSeq), not \(connector) up to \(lastSeq)")
            case .failure(let error):
                lineageFailed(service, connector, error.message)
            }
        case .error(let error):
            lineageFailed(service, connector, Redaction.scrub(error.message))
        }
    }

    /// A connector was added, re-created or removed in a running worker: it takes events from now on, or no
    /// longer (a batch out to its old instance is still answered).
    func lineageConnectorChanged(_ service: ServiceRuntime, _ change: ConnectorChangeResult) {
        let name = change.connectorName
        let configured = service.config.connectors.contains { $0.connectorName == name }
        if change.takesLineage == true && configured && change.connectorStatus != .SHUTDOWN {
            guard service.incarnation?.lineageConnectors.contains(name) == false else { return }
            service.incarnation?.lineageConnectors.append(name)
            deliverLineage(service)
        } else {
            service.incarnation?.lineageConnectors.removeAll { $0 == name }
        }
    }

    /// A connector handled part of its batch: its cursor moves there now, without waiting for the rest.
    func lineageProgressed(_ service: ServiceRuntime, _ progress: LineageProgress.Params) {
        guard let batch = service.incarnation?.lineageBatches[progress.connectorName], batch.contains(progress.seq) else {
            service.protocolViolations += 1
            service.logger.warning("protocol violation: \(LineageProgress.name) for \(progress.connectorName) at \(progress.seq), which is not in a batch it was sent")
            return
        }
        moveCursor(service, progress.connectorName, to: progress.seq)
    }

    private func lineageFailed(_ service: ServiceRuntime, _ connector: String, _ reason: String) {
        service.logger.warning("OpenLineage events not handled by \(connector): \(reason); sent again in 1 s")
        service.incarnation?.lineageRetryAt[connector] = MonotonicClock.now() + 1
    }

    /// Moves a connector's cursor: at once in memory, where the next batch starts, and durably in the store
    /// behind it. Waiting for the commit before the next batch would put a disk sync between every two batches;
    /// a daemon that dies before the commit sends the events since the last one again, as after any crash.
    private func moveCursor(_ service: ServiceRuntime, _ connector: String, to seq: Int) {
        guard seq > service.lineageHandled[connector] ?? 0 else { return }
        service.lineageHandled[connector] = seq
        let logger = service.logger
        store.saveLineageCursor(of: connector, at: seq) { result in
            if case .failure(let error) = result { logger.warning("cannot save \(connector)'s OpenLineage cursor: \(error)") }
        }
    }
}

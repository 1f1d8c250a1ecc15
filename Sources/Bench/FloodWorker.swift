import Foundation
import Protocol

/// A worker (started by the daemon as `integration-bench flood-worker N RESULT [CONNECTORS [NAME]]`) that answers the handshake,
/// then pipelines N `reports/submit` requests and writes how long the acknowledgements took to RESULT.
enum FloodWorker {
    static let subcommand = "flood-worker"
    static let window = 512

    private static let methodMember = Data(#""method":"#.utf8)
    private static let resultMember = Data(#""result":"#.utf8)

    static func run(_ arguments: [String]) -> Never {
        let total = Int(arguments.first ?? "") ?? 10_000
        let resultPath = arguments.count > 1 ? arguments[1] : "/dev/null"
        // Reports rotate over this many connector names, so a forwarder can have several in flight.
        let connectors = arguments.count > 2 ? max(1, Int(arguments[2]) ?? 1) : 1
        let singleName = arguments.count > 3 ? arguments[3] : "flood"
        let encoder = MessageEncoder()
        let out = LineWriter(fd: 1)
        var sent = 0, acked = 0, start = 0.0
        // A refill's reports go out in one write(2): a worker in a hurry batches, and the figure is the daemon's, not
        // this process's system calls (it shares the machine's two cores with the daemon it measures).
        var pending = JSONWriter(capacity: 64 * 1024)
        func submit() {
            while sent < total && sent - acked < window {
                sent += 1
                let connector = connectors == 1 ? singleName : "flood-\(sent % connectors)"
                let report = IntegrationReport(reportId: "flood-\(getpid())-\(sent)", serverName: "bench", connectorId: connector,
                                               connectorName: connector, refreshStartDate: Date(), refreshCompletionDate: Date(),
                                               createdElements: ["guid-\(sent)"], updatedElements: [], deletedElements: [],
                                               additionalProperties: ["outcome": "completed"])
                // Written by hand, as a worker in a hurry would: the figure is the daemon's, not JSONEncoder's.
                pending.raw("{\"id\":\"r")
                pending.int(sent)
                pending.raw("\",\"jsonrpc\":\"2.0\",\"method\":\"reports/submit\",\"params\":{\"report\":")
                report.write(to: &pending)
                pending.raw("}}\n")
            }
            guard !pending.bytes.isEmpty else { return }
            try? out.write(Data(pending.bytes))
            pending = JSONWriter(capacity: 64 * 1024)
        }
        func handle(_ event: LineFramer.Event) {
            guard case .line(let line) = event else { return }
            // Acknowledgements are most lines: recognised by their bytes, not parsed, since this worker shares the
            // machine's cores with the daemon it measures. Requests from the daemon name a method; an error answer has
            // no result and is never counted, so the run would not finish.
            if !line.containsBytes(Self.methodMember), line.containsBytes(Self.resultMember) {
                acked += 1
                if acked == total {
                    let seconds = Clock.now() - start
                    try? "{\"seconds\":\(seconds)}".write(toFile: resultPath + ".tmp", atomically: false, encoding: .utf8)
                    rename(resultPath + ".tmp", resultPath)
                }
                return
            }
            guard case .success(let message) = IncomingMessage.decode(line) else { return }
            switch message {
            case .request(let id, Initialize.name, _):
                try? out.write(try! encoder.response(id: id, result: Initialize.Result(protocolVersion: ProtocolVersion.current, workerVersion: "flood", pid: getpid())))
                start = Clock.now()
                submit()
            case .request(let id, Heartbeat.name, let raw):
                if case .success(let params) = PayloadDecoder().params(Heartbeat.self, from: raw) {
                    try? out.write(try! encoder.response(id: id, result: params))
                }
            case .request(let id, Shutdown.name, _):
                try? out.write(try! encoder.response(id: id, result: Empty()))
                exit(0)
            default:
                break
            }
        }
        var framer = LineFramer()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        while true {
            let n = read(0, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            framer.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n]), handle)
            // The window refills once per read, not once per acknowledgement.
            if start > 0 && acked < total { submit() }
        }
        exit(0)
    }
}

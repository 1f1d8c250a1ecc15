import Foundation
import Glibc
import Protocol

/// The control socket's protocol: read one request line, hand the decoded command to the loop, write the answer
/// line, close.
struct ControlDoor: PollDoor {
    let server: PollServer<ControlDoor>
    let handle: @Sendable (CommandCall) -> Void

    struct Connection {
        let fd: Int32
        var phase: Phase
        var deadline: Double
        var input = Data()
        var output = Data()
        var timeoutAnswer = Data()
    }

    enum Phase { case reading, waiting, writing }

    var name: String { "control socket" }
    var openConnectionsKey: String { "openControlConnections" }

    func opened(fd: Int32, id: Int, now: Double) -> Connection? {
        Connection(fd: fd, phase: .reading, deadline: now + ControlServer.ioTimeoutSeconds)
    }

    func events(of connection: Connection) -> Int16 {
        switch connection.phase { case .reading: Int16(POLLIN); case .waiting: 0; case .writing: Int16(POLLOUT) }
    }

    func deadline(of connection: Connection) -> Double { connection.deadline }

    /// A client that has sent nothing yet; the one accepted first goes first.
    func idleRank(of connection: Connection) -> Double? {
        connection.phase == .reading && connection.input.isEmpty ? 0 : nil
    }

    func ready(_ connection: inout Connection, id: Int, revents: Int16) -> PollStep {
        switch connection.phase {
        case .reading:
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(connection.fd, &buffer, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return .keep }
            guard n > 0 else { return .close }
            connection.input.append(contentsOf: buffer[0..<n])
            if let newline = connection.input.firstIndex(of: 0x0A) {
                let line = connection.input[connection.input.startIndex..<newline]
                connection.input = Data()
                connection.phase = .waiting
                return dispatch(&connection, id: id, line: Data(line))
            } else if connection.input.count > ControlServer.maxRequestBytes {
                return answer(&connection, ControlLine.failure("request line over \(ControlServer.maxRequestBytes) bytes"))
            }
            return .keep
        case .writing:
            return flush(&connection)
        case .waiting:
            // Only a hang-up is reported while the answer is pending; the answer is dropped when it comes.
            return revents & Int16(POLLHUP | POLLERR) != 0 ? .close : .keep
        }
    }

    func deliver(_ reply: Data, to connection: inout Connection, id: Int) -> PollStep {
        answer(&connection, reply)
    }

    func expired(_ connection: inout Connection, id: Int, now: Double) -> PollStep {
        switch connection.phase {
        case .reading, .writing: return .close
        case .waiting: return answer(&connection, connection.timeoutAnswer)
        }
    }

    func evicted(_ connection: Connection) {
        Self.lastWord("closed: the control socket is at its cap of \(ControlServer.maxConnections) connections and this one sent nothing",
                      to: connection.fd)
    }

    func refuse(fd: Int32, _ refusal: PollRefusal) {
        switch refusal {
        case .atCap(let cap): Self.lastWord("too many control connections (\(cap) open); try again", to: fd)
        case .outOfDescriptors: Self.lastWord("the daemon is out of file descriptors; try again", to: fd)
        }
    }

    /// A failure line to a client about to be closed: one non-blocking send, not waited for.
    private static func lastWord(_ message: String, to fd: Int32) {
        let line = ControlLine.failure(message)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func closing(_ connection: Connection, graceful: Bool) {}

    private func dispatch(_ connection: inout Connection, id: Int, line: Data) -> PollStep {
        let call: CommandCall
        do { call = try CommandCall.decode(line, answer: ControlSink(server: server, id: id)) } catch {
            return answer(&connection, ControlLine.failure(error.message))
        }
        // The command's own bound (a refresh's is long), after which this door answers for the loop.
        connection.deadline = MonotonicClock.now() + call.waitSeconds
        connection.timeoutAnswer = ControlLine.failure(call.timeoutMessage)
        handle(call)
        return .keep
    }

    private func answer(_ connection: inout Connection, _ line: Data) -> PollStep {
        guard connection.phase != .writing else { return .keep }
        connection.phase = .writing
        connection.output = line
        connection.deadline = MonotonicClock.now() + ControlServer.ioTimeoutSeconds
        return flush(&connection)
    }

    private func flush(_ connection: inout Connection) -> PollStep {
        while !connection.output.isEmpty {
            let n = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                connection.output.removeFirst(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                return .keep
            } else {
                return .close
            }
        }
        return .close
    }
}

/// The control socket's answer for one client: encodes whatever answer type its command has.
private struct ControlSink: AnswerSink {
    let server: PollServer<ControlDoor>
    let id: Int

    func take<Answer: Codable & Sendable>(_ result: Result<Answer, OperatorError>) {
        switch result {
        // Encoded off the loop's thread: a status of thousands of connectors takes a good part of a second to
        // encode, and the loop must not wait on it.
        case .success(let answer):
            let server = server, id = id
            DispatchQueue.global().async { server.deliver(ControlLine.encode(ControlAnswer(result: answer)), to: id) }
        case .failure(let error): server.deliver(ControlLine.failure(error.message), to: id)
        }
    }
}

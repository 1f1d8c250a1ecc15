import Dispatch
import Foundation
import Protocol

/// Starts the reader threads for a new worker's stdout (metadata and report requests served at once by the
/// proxy, everything else posted to the loop) and stderr (log lines, relayed with the service name), and its
/// exit watcher.
///
/// When the worker exits, its readers get ``drainSeconds`` to read what it left in the pipes; then the
/// incarnation's cancellation ends them and their fds are closed, even if a lingering descendant still holds
/// the write ends open (no EOF would ever come). The exit is posted after the last stdout line, so the loop sees
/// every line the worker wrote before its exit: a lineage acknowledgement written just before the worker
/// stopped moves its connector's cursor instead of being dropped as stale.
enum WorkerOutput {
    static let maxStderrLine = 16 * 1024
    /// Everything the worker itself wrote is in the pipe by the time its exit is seen; this only bounds how
    /// long a descendant's late lines are still read, and how long they hold back the exit.
    static let drainSeconds = 1.0

    /// Starts all three threads or, throwing, none that outlive the cancellation: the caller then kills and
    /// reaps the worker itself. The stdout and stderr fds are owned (and closed) here either way.
    static func attach(_ process: WorkerProcess, service: Int, generation: Int, name: String, proxy: MetadataProxy,
                       cancellation: IOCancellation, events: EventQueue, logger: Logger) throws(OSThread.StartError) {
        let stdoutEnded = DispatchSemaphore(value: 0)
        do {
            try startReaders(process, service: service, generation: generation, name: name, proxy: proxy,
                             cancellation: cancellation, stdoutEnded: stdoutEnded, events: events, logger: logger)
        } catch {
            cancellation.cancel()
            throw error
        }
        try process.watchExit { status in
            DispatchQueue.global().asyncAfter(deadline: .now() + drainSeconds) { cancellation.cancel() }
            // This is the worker's own reaper thread: waiting here holds back no other worker.
            _ = stdoutEnded.wait(timeout: .now() + drainSeconds)
            events.post(.workerExited(service: service, generation: generation, status))
        }
    }

    private static func startReaders(_ process: WorkerProcess, service: Int, generation: Int, name: String, proxy: MetadataProxy,
                                     cancellation: IOCancellation, stdoutEnded: DispatchSemaphore, events: EventQueue,
                                     logger: Logger) throws(OSThread.StartError) {
        let stdoutFD = process.stdoutFD, stderrFD = process.stderrFD
        do {
            try startStdout(fd: stdoutFD, service: service, generation: generation, name: name, proxy: proxy,
                            cancellation: cancellation, ended: stdoutEnded, events: events)
        } catch {
            close(stdoutFD)
            close(stderrFD)
            throw error
        }
        do {
            try startStderr(fd: stderrFD, pid: process.pid, name: name, cancellation: cancellation, logger: logger)
        } catch {
            close(stderrFD)
            throw error
        }
    }

    private static func startStdout(fd stdoutFD: Int32, service: Int, generation: Int, name: String, proxy: MetadataProxy,
                                    cancellation: IOCancellation, ended: DispatchSemaphore, events: EventQueue) throws(OSThread.StartError) {
        try FramedInput.start(fd: stdoutFD, name: "stdout-\(name)", cancellation: cancellation, onEvent: { event in
            switch event {
            case .line(let line):
                // The hot path (a worker streaming reports) decodes each line once instead of twice.
                if proxy.handleReportFastPath(line) || proxy.handleWriteFastPath(line) { return }
                let message = IncomingMessage.decode(line)
                if case .success(.request(let id, let method, let raw)) = message, MetadataProxy.methods.contains(method) {
                    proxy.handle(id: id, method: method, line: raw)
                } else {
                    events.post(.workerMessage(service: service, generation: generation, message))
                }
            case .oversized(let count, let prefix):
                events.post(.workerOversizedLine(service: service, generation: generation, byteCount: count,
                                                 id: RequestID.peek(in: prefix)))
            }
        }, onEnd: {
            close(stdoutFD)
            ended.signal()
        })
    }

    private static func startStderr(fd stderrFD: Int32, pid: Int32, name: String, cancellation: IOCancellation,
                                    logger: Logger) throws(OSThread.StartError) {
        let relay = Logger(label: "\(name)[\(pid)]", level: logger.level, metadata: ["service": .text(name)])
        try FramedInput.start(fd: stderrFD, name: "stderr-\(name)", maxLineLength: maxStderrLine, cancellation: cancellation, onEvent: { event in
            switch event {
            case .line(let line):
                let text = String(decoding: line, as: UTF8.self)
                // Keep the worker's own level when the line is in our log format.
                if let (level, rest) = Logger.parseLevel(text) { relay.log(level, rest.trimmingCharacters(in: .whitespaces)) }
                else if !text.isEmpty { relay.warning(text) }
            case .oversized(let count, _):
                relay.warning("dropped a \(count)-byte stderr line (limit \(maxStderrLine))")
            }
        }, onEnd: { close(stderrFD) })
    }
}

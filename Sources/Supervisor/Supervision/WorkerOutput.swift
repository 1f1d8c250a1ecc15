import Foundation
import Protocol

/// Starts the reader threads for a new worker's stdout (metadata and report requests served at once by the
/// proxy, everything else posted to the loop) and stderr (log lines, relayed with the service name), and its
/// exit watcher.
enum WorkerOutput {
    static let maxStderrLine = 16 * 1024

    static func attach(_ process: WorkerProcess, service: Int, generation: Int, name: String, proxy: MetadataProxy,
                       events: EventQueue, logger: Logger) {
        let stdoutFD = process.stdoutFD, stderrFD = process.stderrFD
        FramedInput.start(fd: stdoutFD, name: "stdout-\(name)", onEvent: { event in
            switch event {
            case .line(let line):
                // The hot path (a worker streaming reports) decodes each line once instead of twice.
                if proxy.handleReportFastPath(line) { return }
                let message = IncomingMessage.decode(line)
                if case .success(.request(let id, let method, let raw)) = message, MetadataProxy.methods.contains(method) {
                    proxy.handle(id: id, method: method, line: raw)
                } else {
                    events.post(.workerMessage(service: service, generation: generation, message))
                }
            case .oversized(let count):
                events.post(.workerOversizedLine(service: service, generation: generation, byteCount: count))
            }
        }, onEnd: { close(stdoutFD) })
        let relay = Logger(label: "\(name)[\(process.pid)]", level: logger.level, metadata: ["service": name])
        FramedInput.start(fd: stderrFD, name: "stderr-\(name)", maxLineLength: maxStderrLine, onEvent: { event in
            switch event {
            case .line(let line):
                let text = String(decoding: line, as: UTF8.self)
                // Keep the worker's own level when the line is in our log format.
                if let (level, rest) = Logger.parseLevel(text) { relay.log(level, rest.trimmingCharacters(in: .whitespaces)) }
                else if !text.isEmpty { relay.warning(text) }
            case .oversized(let count):
                relay.warning("dropped a \(count)-byte stderr line (limit \(maxStderrLine))")
            }
        }, onEnd: { close(stderrFD) })
        process.watchExit { status in
            events.post(.workerExited(service: service, generation: generation, status))
        }
    }
}

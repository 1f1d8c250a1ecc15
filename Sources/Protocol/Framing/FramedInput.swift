import Glibc
import Synchronization

/// Reads lines from a file descriptor on a dedicated thread with blocking `read(2)`.
///
/// - Important: never read a pipe from a Swift `Task`: on 2 cores two blocked reads starve the cooperative pool.
///   `FileHandle.readabilityHandler` misses EOF on Linux. A plain thread has neither problem.
public enum FramedInput {
    /// Starts the reader; `onEvent` runs on the reader thread for each line, `onEnd` once at EOF, error or
    /// cancellation. Throws, having started nothing, when no thread can be made.
    public static func start(
        fd: Int32,
        name: String,
        maxLineLength: Int = LineFramer.defaultMaxLineLength,
        cancellation: IOCancellation? = nil,
        onEvent: @escaping @Sendable (LineFramer.Event) -> Void,
        onEnd: @escaping @Sendable () -> Void
    ) throws(OSThread.StartError) {
        try OSThread.start(name: name) {
            readLoop(fd: fd, maxLineLength: maxLineLength, cancellation: cancellation, onEvent: onEvent)
            onEnd()
        }
    }

    /// Why a read loop ended.
    public enum End: Sendable, Equatable {
        case endOfInput
        case cancelled
        /// A blocking socket's receive timeout (`SO_RCVTIMEO`) passed with nothing to read.
        case timedOut
        case failed(errno: Int32)
    }

    /// Runs the read loop on the calling thread until EOF, a read error, a receive timeout or `cancellation`.
    @discardableResult
    public static func readLoop(fd: Int32, maxLineLength: Int, cancellation: IOCancellation? = nil,
                                onEvent: (LineFramer.Event) -> Void) -> End {
        var framer = LineFramer(maxLineLength: maxLineLength)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            if let cancellation, !cancellation.wait(fd: fd, for: Int16(POLLIN)) { return .cancelled }
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                framer.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n]), onEvent)
            } else if n == 0 {
                return .endOfInput
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                // On a blocking descriptor EAGAIN is SO_RCVTIMEO's deadline; on a non-blocking one (an inherited
                // flag, or a spurious wake-up after poll) it only means "not yet".
                guard fcntl(fd, F_GETFL) & O_NONBLOCK != 0 else { return .timedOut }
                if cancellation == nil {
                    var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&waiting, 1, -1)
                }
            } else {
                return .failed(errno: errno)
            }
        }
    }
}

/// Writes whole lines to a file descriptor, one `write(2)` loop per line under a lock, so lines never interleave.
public final class LineWriter: Sendable {
    private let fd: Int32
    private let lock = Mutex<Void>(())

    public init(fd: Int32) { self.fd = fd }

    /// Writes `line` (which must end in `\n`) completely; throws the errno on failure (EPIPE when the reader is gone).
    public func write(_ line: Data) throws(WriteError) {
        try lock.withLock { _ throws(WriteError) in try Self.writeAll(fd: fd, line) }
    }

    /// Holds the writer's lock for the duration of `body`; used to simulate a worker whose I/O is stuck.
    public func withExclusiveAccess<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { _ in try body() }
    }

    public static func writeAll(fd: Int32, _ data: Data) throws(WriteError) {
        let result: Int32 = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        if result != 0 { throw WriteError(errno: result) }
    }

    /// A failed write, with the errno.
    public struct WriteError: Error, CustomStringConvertible {
        public let errno: Int32
        public var description: String { "write failed: \(String(cString: strerror(errno)))" }
    }
}

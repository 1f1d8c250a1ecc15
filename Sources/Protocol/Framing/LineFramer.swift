#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into lines at `\n`, never buffering more than `maxLineLength` bytes of one line.
///
/// A longer line is dropped as it streams past and reported once, with its length, when its newline arrives,
/// so a 10 MB line costs no more memory than a 1 MiB one.
public struct LineFramer: Sendable {
    /// What the framer found in the stream.
    public enum Event: Sendable, Equatable {
        case line(Data)
        /// `prefix` holds the line's first ``keptPrefix`` bytes, enough to find the request's id and answer it.
        case oversized(byteCount: Int, prefix: Data)
    }

    /// Bytes of an over-long line kept to answer it.
    public static let keptPrefix = 256

    /// 1 MiB, the protocol's default line limit.
    public static let defaultMaxLineLength = 1 << 20

    public let maxLineLength: Int
    private var buffer = Data()
    private var droppedBytes: Int?
    private var droppedPrefix = Data()

    public init(maxLineLength: Int = LineFramer.defaultMaxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// Feeds a chunk and emits every completed line or oversized-line event in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (Event) -> Void) {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        let count = chunk.count
        while start < count {
            // memchr, not a byte loop: finding newlines was most of this function's time under a report flood.
            let newline = memchr(base + start, 0x0A, count - start).map { UnsafeRawPointer($0) - base }
            let end = newline ?? count
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
            if let dropped = droppedBytes {
                droppedBytes = dropped + piece.count
            } else if buffer.count + piece.count > maxLineLength {
                droppedBytes = buffer.count + piece.count
                droppedPrefix = Data((buffer + Data(piece.prefix(Self.keptPrefix))).prefix(Self.keptPrefix))
                buffer = Data()
            } else {
                buffer.append(contentsOf: piece)
            }
            guard newline != nil else { break }
            if let dropped = droppedBytes {
                emit(.oversized(byteCount: dropped, prefix: droppedPrefix))
                droppedBytes = nil
                droppedPrefix = Data()
            } else {
                emit(.line(buffer))
                buffer = Data()
            }
            start = end + 1
        }
    }

    public mutating func feed(_ data: Data, _ emit: (Event) -> Void) {
        data.withUnsafeBytes { feed($0, emit) }
    }

    /// Bytes of an unterminated last line, reported at end of stream.
    public var pendingByteCount: Int { droppedBytes ?? buffer.count }
}

import Glibc
import Synchronization

/// GUIDs in the lowercase UUID form Egeria prints, time-ordered (UUID version 7: 48 bits of milliseconds, a
/// 12-bit sequence, 62 random bits).
///
/// Random (version 4) GUIDs scattered every insert across the store's GUID index, so each commit of a
/// 1,000-element batch rewrote about a thousand index pages; time-ordered ones land at its right edge.
/// `UUID().uuidString.lowercased()` also opened a file and went through printf for every element.
public enum GUID {
    private static let sequence = Atomic<Int>(0)

    public static func random() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let millis = UInt64(max(0, now.tv_sec)) &* 1000 &+ UInt64(max(0, now.tv_nsec)) / 1_000_000
        let counter = UInt64(sequence.add(1, ordering: .relaxed).newValue & 0x0FFF)
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() as UInt64
        let high = (millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | counter        // version 7
        let low = (random & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)       // RFC 4122 variant
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var position = 0
        func put(_ value: UInt64) {
            for shift in stride(from: 60, through: 0, by: -4) {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                bytes[position] = digits[Int((value >> UInt64(shift)) & 0xF)]
                position += 1
            }
        }
        put(high)
        put(low)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let digits = Array("0123456789abcdef".utf8)
}

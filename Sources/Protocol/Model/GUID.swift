/// Random (version 4) GUIDs in the lowercase form Egeria prints, made from the system's random source.
///
/// `GUID.random()` opened a file, formatted through printf and lowercased a copy for every
/// element: a tenth of the daemon's CPU on a 100,000-file refresh.
public enum GUID {
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64, low = generator.next() as UInt64
        high = (high & ~0xF000) | 0x4000                          // version 4
        low = (low & ~(0xC << 60)) | (0x8 << 60)                 // RFC 4122 variant
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var position = 0
        func put(_ value: UInt64, nibbles: Int) {
            for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                bytes[position] = digits[Int((value >> UInt64(shift)) & 0xF)]
                position += 1
            }
        }
        put(high, nibbles: 16)
        put(low, nibbles: 16)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let digits = Array("0123456789abcdef".utf8)
}

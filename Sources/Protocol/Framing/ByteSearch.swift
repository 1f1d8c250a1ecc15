extension Data {
    /// Whether `needle` occurs within the first `limit` bytes. By hand: Foundation's `range(of:)` cost more than
    /// the rest of the test when it was asked of every line a worker or the daemon sends.
    public func containsBytes(_ needle: Data, inFirst limit: Int = .max) -> Bool {
        withUnsafeBytes { raw in
            needle.withUnsafeBytes { needle in
                let window = Swift.min(raw.count, limit)
                guard needle.count > 0, window >= needle.count else { return false }
                outer: for start in 0...(window - needle.count) where raw[start] == needle[0] {
                    for offset in 1..<needle.count where raw[start + offset] != needle[offset] { continue outer }
                    return true
                }
                return false
            }
        }
    }
}

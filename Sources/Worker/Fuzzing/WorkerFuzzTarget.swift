/// The worker's parsers of bytes from its configuration, each as one function of arbitrary input: what
/// `scripts/fuzz` drives under libFuzzer, and what the tests replay over the committed corpora
/// (`Fuzz/Corpus/<rawValue>/`). The wire's own parsers are `Protocol`'s `ProtocolFuzzTarget`.
///
/// A target returns normally for any input: a parser may refuse bytes, never trap on them.
enum WorkerFuzzTarget: String, CaseIterable, Sendable {
    /// A postgres-monitor's endpoint address: a JDBC URL or a libpq URI.
    case postgresAddress = "postgres-address"

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .postgresAddress: _ = try? PostgresAddress(String(decoding: bytes, as: UTF8.self))
        }
    }
}

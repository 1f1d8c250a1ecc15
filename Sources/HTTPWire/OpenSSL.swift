import COpenSSL
import Glibc
import Protocol

/// TLS for the keep-alive transport, through the system's OpenSSL 3 (the `COpenSSL` module map over its
/// headers; the same libssl Foundation's libcurl loads). Unlike URLSession on Linux it can verify against a
/// private CA file. Certificate and host name verification are always on.
public final class OpenSSL: @unchecked Sendable {
    // OpenSSL is thread-safe for separate SSL objects; the context is only read after init.
    private let ctx: OpaquePointer

    /// Why TLS could not be set up or a handshake failed (certificate problems included).
    public struct TLSError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Initializes OpenSSL without its clean-up at `exit`. Every user of OpenSSL (the TLS contexts, the platform's
    /// bearer tokens) calls it before its first OpenSSL call, so it is the first; a daemon without TLS never loads
    /// OpenSSL's configuration (1.7 MiB of RSS).
    ///
    /// The forwarder's thread runs until the process ends, and may be inside a handshake when the daemon returns
    /// from `run` and calls `exit`: OpenSSL's clean-up, run by `exit`, freed the locks that handshake was taking.
    /// Stopped while every handshake failed verification, 5 daemons in 40 died of SIGSEGV at exit. The process is
    /// ending, so nothing needs freeing.
    public static func initializeLibrary() { _ = libraryInitialized }

    private static let libraryInitialized = OPENSSL_init_ssl(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1

    /// A client context verifying peers against `caFile`, or the system trust store when nil.
    public init(caFile: String?) throws(TLSError) {
        Self.initializeLibrary()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSError(description: "SSL_CTX_new failed: \(Self.lastError())") }
        self.ctx = ctx
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                SSL_CTX_free(ctx)
                throw TLSError(description: "cannot load the CA file \(caFile): \(Self.lastError())")
            }
        } else {
            _ = SSL_CTX_set_default_verify_paths(ctx)
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// One TLS connection over a connected socket.
    public final class Connection {
        fileprivate let ssl: OpaquePointer
        /// Keeps the context alive as long as its connections.
        fileprivate let library: OpenSSL
        fileprivate init(ssl: OpaquePointer, library: OpenSSL) {
            self.ssl = ssl
            self.library = library
        }

        public func write(_ data: Data) -> Bool {
            data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return true }
                var offset = 0
                while offset < raw.count {
                    let n = SSL_write(ssl, base + offset, Int32(clamping: raw.count - offset))
                    if n <= 0 {
                        if interrupted(n) { continue }
                        return false
                    }
                    offset += Int(n)
                }
                return true
            }
        }

        public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            while true {
                let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
                if n <= 0 && interrupted(n) { continue }
                return Int(n)
            }
        }

        /// A signal cut the socket call short: try again, as the plain-socket path does.
        private func interrupted(_ result: Int32) -> Bool {
            SSL_get_error(ssl, result) == SSL_ERROR_SYSCALL && errno == EINTR
        }

        deinit {
            _ = SSL_shutdown(ssl)
            SSL_free(ssl)
        }
    }

    /// Handshakes over `fd` with SNI and host name verification for `host`.
    public func connect(fd: Int32, host: String) throws(TLSError) -> Connection {
        guard let ssl = SSL_new(ctx) else { throw TLSError(description: "SSL_new failed: \(Self.lastError())") }
        _ = SSL_set_fd(ssl, fd)
        _ = copenssl_set_sni(ssl, host)
        _ = SSL_set1_host(ssl, host)
        guard SSL_connect(ssl) == 1 else {
            let reason = Self.lastError()
            SSL_free(ssl)
            throw TLSError(description: "TLS handshake with \(host) failed: \(reason)")
        }
        return Connection(ssl: ssl, library: self)
    }

    public static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

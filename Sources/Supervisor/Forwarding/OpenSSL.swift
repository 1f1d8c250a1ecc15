import Foundation
import Glibc

/// TLS for the keep-alive transport, through the system's OpenSSL 3 (libssl.so.3, the one Foundation's
/// libcurl already loads), reached with `dlopen`: no package dependency, and unlike URLSession on Linux it can
/// verify against a private CA file. Certificate and host name verification are always on.
final class OpenSSL: @unchecked Sendable {
    // Function pointers resolved once; OpenSSL is thread-safe for separate SSL objects.
    private typealias Method = @convention(c) () -> OpaquePointer?
    private typealias CtxNew = @convention(c) (OpaquePointer?) -> OpaquePointer?
    private typealias CtxSetVerify = @convention(c) (OpaquePointer?, Int32, OpaquePointer?) -> Void
    private typealias CtxLoad = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    private typealias CtxDefaults = @convention(c) (OpaquePointer?) -> Int32
    private typealias SSLNew = @convention(c) (OpaquePointer?) -> OpaquePointer?
    private typealias SetFd = @convention(c) (OpaquePointer?, Int32) -> Int32
    private typealias SetHost = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
    private typealias Ctrl = @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    private typealias Connect = @convention(c) (OpaquePointer?) -> Int32
    private typealias IO = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32) -> Int32
    private typealias Free = @convention(c) (OpaquePointer?) -> Void
    private typealias ErrGet = @convention(c) () -> UInt
    private typealias ErrString = @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void

    private let ctx: OpaquePointer
    private let sslNew: SSLNew, setFd: SetFd, setHost: SetHost, ctrl: Ctrl, connect: Connect
    private let read: IO, write: IO, shutdown: Connect, free: Free, errGet: ErrGet, errString: ErrString

    /// Why TLS could not be set up or a handshake failed (certificate problems included).
    struct TLSError: Error, CustomStringConvertible {
        let description: String
    }

    /// A client context verifying peers against `caFile`, or the system trust store when nil.
    init(caFile: String?) throws(TLSError) {
        guard let library = dlopen("libssl.so.3", RTLD_NOW) else {
            throw TLSError(description: "cannot load libssl.so.3: \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _: T.Type) throws(TLSError) -> T {
            guard let pointer = dlsym(library, name) else { throw TLSError(description: "libssl.so.3 has no \(name)") }
            return unsafeBitCast(pointer, to: T.self)
        }
        let method = try symbol("TLS_client_method", Method.self)
        let ctxNew = try symbol("SSL_CTX_new", CtxNew.self)
        let setVerify = try symbol("SSL_CTX_set_verify", CtxSetVerify.self)
        let load = try symbol("SSL_CTX_load_verify_locations", CtxLoad.self)
        let defaults = try symbol("SSL_CTX_set_default_verify_paths", CtxDefaults.self)
        sslNew = try symbol("SSL_new", SSLNew.self)
        setFd = try symbol("SSL_set_fd", SetFd.self)
        setHost = try symbol("SSL_set1_host", SetHost.self)
        ctrl = try symbol("SSL_ctrl", Ctrl.self)
        connect = try symbol("SSL_connect", Connect.self)
        read = try symbol("SSL_read", IO.self)
        write = try symbol("SSL_write", IO.self)
        shutdown = try symbol("SSL_shutdown", Connect.self)
        free = try symbol("SSL_free", Free.self)
        errGet = try symbol("ERR_get_error", ErrGet.self)
        errString = try symbol("ERR_error_string_n", ErrString.self)
        guard let ctx = ctxNew(method()) else { throw TLSError(description: "SSL_CTX_new failed") }
        self.ctx = ctx
        setVerify(ctx, 1 /* SSL_VERIFY_PEER */, nil)
        if let caFile {
            guard load(ctx, caFile, nil) == 1 else { throw TLSError(description: "cannot load the CA file \(caFile): \(lastError())") }
        } else {
            _ = defaults(ctx)
        }
    }

    /// One TLS connection over a connected socket.
    final class Connection {
        fileprivate let ssl: OpaquePointer
        fileprivate let library: OpenSSL
        fileprivate init(ssl: OpaquePointer, library: OpenSSL) {
            self.ssl = ssl
            self.library = library
        }

        func write(_ data: Data) -> Bool {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = library.write(ssl, UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset), Int32(raw.count - offset))
                    if n <= 0 { return false }
                    offset += Int(n)
                }
                return true
            }
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            Int(library.read(ssl, buffer.baseAddress, Int32(buffer.count)))
        }

        deinit {
            _ = library.shutdown(ssl)
            library.free(ssl)
        }
    }

    /// Handshakes over `fd` with SNI and host name verification for `host`.
    func connect(fd: Int32, host: String) throws(TLSError) -> Connection {
        guard let ssl = sslNew(ctx) else { throw TLSError(description: "SSL_new failed") }
        _ = setFd(ssl, fd)
        _ = host.withCString { name in ctrl(ssl, 55 /* SSL_CTRL_SET_TLSEXT_HOSTNAME */, 0, UnsafeMutableRawPointer(mutating: name)) }
        _ = setHost(ssl, host)
        guard connect(ssl) == 1 else {
            let reason = lastError()
            free(ssl)
            throw TLSError(description: "TLS handshake with \(host) failed: \(reason)")
        }
        return Connection(ssl: ssl, library: self)
    }

    private func lastError() -> String {
        let code = errGet()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        errString(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

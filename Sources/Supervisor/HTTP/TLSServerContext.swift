import COpenSSL
import Foundation
import HTTPWire

/// The platform door's TLS: a server context over the system OpenSSL, loaded once from a PEM certificate chain
/// and private key, and one non-blocking session per accepted connection.
final class TLSServerContext: @unchecked Sendable {
    // The context is only read after init; OpenSSL allows separate sessions on separate threads.
    private let ctx: OpaquePointer

    init(certificateFile: String, privateKeyFile: String) throws(OpenSSL.TLSError) {
        OpenSSL.initializeLibrary()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw OpenSSL.TLSError(description: "SSL_CTX_new failed: \(OpenSSL.lastError())") }
        self.ctx = ctx
        _ = copenssl_min_tls12(ctx)
        copenssl_server_modes(ctx)
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateFile) == 1 else {
            throw OpenSSL.TLSError(description: "cannot load the certificate \(certificateFile): \(OpenSSL.lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw OpenSSL.TLSError(description: "cannot load the private key \(privateKeyFile): \(OpenSSL.lastError())")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw OpenSSL.TLSError(description: "the private key \(privateKeyFile) does not match the certificate \(certificateFile)")
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// A session for an accepted non-blocking socket; nil when OpenSSL cannot allocate one.
    func session(fd: Int32) -> TLSSession? {
        guard let ssl = SSL_new(ctx) else { return nil }
        _ = SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
        return TLSSession(ssl: ssl, context: self)
    }
}

/// One server-side TLS session on a non-blocking socket. Every call says what the socket must become ready for
/// before it can go on, so the door's poll loop drives TLS like plain TCP.
final class TLSSession {
    private let ssl: OpaquePointer
    /// Keeps the context alive as long as its sessions.
    private let context: TLSServerContext

    /// How a non-blocking TLS call ended.
    enum Progress: Equatable {
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer closed (or sent close_notify).
        case closed
        case failed
    }

    fileprivate init(ssl: OpaquePointer, context: TLSServerContext) {
        self.ssl = ssl
        self.context = context
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Progress { progress(SSL_do_handshake(ssl)) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Progress {
        progress(SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count)))
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Progress {
        guard bytes.count > 0 else { return .done(0) }
        return progress(SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count)))
    }

    /// Sends close_notify without waiting for the peer's.
    func shutdown() { _ = SSL_shutdown(ssl) }

    private func progress(_ result: Int32) -> Progress {
        if result > 0 { return .done(Int(result)) }
        let error = SSL_get_error(ssl, result)
        ERR_clear_error()
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where result == 0: return .closed
        default: return .failed
        }
    }
}

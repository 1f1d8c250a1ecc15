// The system's OpenSSL 3 (Debian's libssl-dev headers), plus what Swift cannot import from them.
#ifndef COPENSSL_H
#define COPENSSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

// The functions below wrap macros over SSL_ctrl/SSL_CTX_ctrl, so no control number appears in Swift.

static inline int copenssl_set_sni(SSL *ssl, const char *host) {
    return (int)SSL_set_tlsext_host_name(ssl, host);
}

// A server's non-blocking writes: partial writes, a buffer that may move between retries, and buffers released
// while a connection is idle (a thousand idle keep-alive connections must not hold a thousand read buffers).
static inline void copenssl_server_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

static inline int copenssl_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

#endif

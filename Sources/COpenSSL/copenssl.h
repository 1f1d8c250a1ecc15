// The system's OpenSSL 3 (Debian's libssl-dev headers), plus what Swift cannot import from them.
#ifndef COPENSSL_H
#define COPENSSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>

// SSL_set_tlsext_host_name is a macro over SSL_ctrl: this is it as a function, so SNI needs no magic number.
static inline int copenssl_set_sni(SSL *ssl, const char *host) {
    return (int)SSL_set_tlsext_host_name(ssl, host);
}

#endif

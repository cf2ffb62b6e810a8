#ifndef AFTERSALE_CLIBSSL_SHIM_H
#define AFTERSALE_CLIBSSL_SHIM_H

/* libssl for the RPC transport's TLS. Swift cannot import OpenSSL's function-like macros
 * (SSL_CTX_set_min_proto_version, SSL_set_tlsext_host_name, the sk_* stack accessors): the
 * static inline functions below wrap them. */

#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/// Requires TLS 1.3 at least. Returns 1 on success.
static inline int aftersale_ssl_ctx_require_tls13(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
}

/// Keeps a partial write of a record from failing the whole write, and lets the buffer move
/// between retries (Swift arrays may). Memory BIOs never ask for a retry, but be safe.
static inline long aftersale_ssl_ctx_set_modes(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

/// A passphrase callback that refuses: OpenSSL's default would prompt on the terminal for an
/// encrypted key, and a server must never block on a prompt.
static inline int aftersale_ssl_no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return -1;
}

/// Makes loading an encrypted private key fail instead of prompting.
static inline void aftersale_ssl_ctx_refuse_passphrase(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, aftersale_ssl_no_passphrase);
}

/// Sends `name` as SNI. Returns 1 on success.
static inline int aftersale_ssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// The error codes the engine tells apart, as constants Swift can read.
static inline int aftersale_ssl_error_want_read(void) { return SSL_ERROR_WANT_READ; }
static inline int aftersale_ssl_error_want_write(void) { return SSL_ERROR_WANT_WRITE; }
static inline int aftersale_ssl_error_zero_return(void) { return SSL_ERROR_ZERO_RETURN; }
static inline int aftersale_ssl_verify_peer(void) { return SSL_VERIFY_PEER; }
static inline int aftersale_ssl_verify_fail_if_no_peer_cert(void) { return SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }
static inline int aftersale_ssl_filetype_pem(void) { return SSL_FILETYPE_PEM; }

/// The number of URI entries in the certificate's subjectAltName (0 when it has none).
static inline int aftersale_x509_uri_san_count(X509 *cert) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return 0;
    int count = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_URI) count++;
    }
    GENERAL_NAMES_free(names);
    return count;
}

/// Copies the `index`th URI SAN of the certificate into `out` (at most `capacity` bytes, not
/// NUL-terminated) and returns its length; -1 when there is no such entry, -2 when it does not
/// fit or holds a NUL byte.
static inline int aftersale_x509_uri_san(X509 *cert, int index, char *out, int capacity) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return -1;
    int seen = 0;
    int result = -1;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type != GEN_URI) continue;
        if (seen++ != index) continue;
        const unsigned char *data = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
        int length = ASN1_STRING_length(name->d.uniformResourceIdentifier);
        if (length < 0 || length > capacity || memchr(data, 0, (size_t)length) != NULL) {
            result = -2;
        } else {
            memcpy(out, data, (size_t)length);
            result = length;
        }
        break;
    }
    GENERAL_NAMES_free(names);
    return result;
}

/// The verified peer certificate (a new reference the caller frees), or NULL.
static inline X509 *aftersale_ssl_peer_certificate(const SSL *ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get1_peer_certificate(ssl);
#else
    return SSL_get_peer_certificate(ssl);
#endif
}

#endif

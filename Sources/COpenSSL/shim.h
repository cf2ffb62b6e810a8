#ifndef AFTERSALE_COPENSSL_SHIM_H
#define AFTERSALE_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

/// The Ed25519 key type. `EVP_PKEY_ED25519` is a macro aliasing another macro; a constant
/// function keeps Swift independent of how OpenSSL spells it.
static inline int aftersale_evp_pkey_ed25519(void) {
    return EVP_PKEY_ED25519;
}

/// The key's type (`EVP_PKEY_get_id` in OpenSSL 3, `EVP_PKEY_id` before).
static inline int aftersale_evp_pkey_id(const EVP_PKEY *pkey) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return EVP_PKEY_get_id(pkey);
#else
    return EVP_PKEY_id(pkey);
#endif
}

/// The bytes written so far to a memory BIO. `BIO_get_mem_data` is a macro over `BIO_ctrl`.
static inline long aftersale_bio_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

/// A passphrase callback that refuses: without it OpenSSL's default callback would prompt on the
/// terminal when a PEM key is encrypted, and a server must never block on a prompt.
static inline int aftersale_pem_no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return -1;
}

/// Reads an unencrypted private key (PKCS#8 or traditional PEM) without ever prompting.
static inline EVP_PKEY *aftersale_pem_read_private_key(BIO *bio) {
    return PEM_read_bio_PrivateKey(bio, NULL, aftersale_pem_no_passphrase, NULL);
}

/// Reads a SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") PEM without ever prompting.
static inline EVP_PKEY *aftersale_pem_read_public_key(BIO *bio) {
    return PEM_read_bio_PUBKEY(bio, NULL, aftersale_pem_no_passphrase, NULL);
}

/// Writes an unencrypted PKCS#8 private key ("BEGIN PRIVATE KEY").
static inline int aftersale_pem_write_private_key(BIO *bio, EVP_PKEY *pkey) {
    return PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
}

#endif

/* tls.c - the OpenSSL 3 trust-store loads: X509_STORE_load_file,
 * X509_STORE_load_locations, X509_STORE_set_default_paths and their _ex
 * forms. libssl's SSL_CTX_load_verify_locations, SSL_CTX_load_verify_file
 * and SSL_CTX_set_default_verify_paths call these through its PLT, so
 * they arrive here too. Found in the program's own libcrypto at run time
 * (tls/ossl.c); with no tls-ca:// target each is a load and a call of the
 * real function. tls/trust.c does the rest. */
#include "../tls/tls.h"
#include "interpose.h"

/* OpenSSL's prototypes, with its objects opaque (no OpenSSL header needed). */
int X509_STORE_load_file(void *st, const char *file);
int X509_STORE_load_file_ex(void *st, const char *file, void *libctx, const char *propq);
int X509_STORE_load_locations(void *st, const char *file, const char *dir);
int X509_STORE_load_locations_ex(void *st, const char *file, const char *dir, void *libctx, const char *propq);
int X509_STORE_set_default_paths(void *st);
int X509_STORE_set_default_paths_ex(void *st, void *libctx, const char *propq);
int SSL_do_handshake(void *ssl);
void SSL_free(void *ssl);
void SSL_CTX_set_cert_verify_callback(void *ctx, void *cb, void *arg);
int SSL_CTX_set_purpose(void *ctx, int purpose);
int SSL_set_purpose(void *ssl, int purpose);
int SSL_CTX_set_trust(void *ctx, int trust);
int SSL_set_trust(void *ssl, int trust);
int X509_VERIFY_PARAM_set_purpose(void *param, int purpose);
int X509_VERIFY_PARAM_set_trust(void *param, int trust);
int X509_STORE_set_purpose(void *st, int purpose);
int X509_STORE_set_trust(void *st, int trust);
int SSL_CTX_set_alpn_protos(void *ctx, const unsigned char *protos, unsigned len);
int SSL_set_alpn_protos(void *ssl, const unsigned char *protos, unsigned len);
int SSL_CTX_dane_enable(void *ctx);
int SSL_dane_enable(void *ssl, const char *basedomain);

/* The program's definition of NAME, looked up on first use (a race
 * stores the same value twice). */
#define REAL(name)                                                          \
    static __typeof__(&name) real_;                                         \
    __typeof__(&name) fn_ = __atomic_load_n(&real_, __ATOMIC_ACQUIRE);      \
    if (!fn_) {                                                             \
        *(void **)&fn_ = tls_real(#name);                                   \
        __atomic_store_n(&real_, fn_, __ATOMIC_RELEASE);                    \
    }

OBJPOOL_EXPORT int X509_STORE_load_file(void *st, const char *file)
{
    return tls_load_file(st, file, NULL, NULL, 0);
}

OBJPOOL_EXPORT int X509_STORE_load_file_ex(void *st, const char *file, void *libctx, const char *propq)
{
    return tls_load_file(st, file, libctx, propq, 1);
}

OBJPOOL_EXPORT int X509_STORE_load_locations(void *st, const char *file, const char *dir)
{
    return tls_load_locations(st, file, dir, NULL, NULL, 0);
}

OBJPOOL_EXPORT int X509_STORE_load_locations_ex(void *st, const char *file, const char *dir, void *libctx,
                                                const char *propq)
{
    return tls_load_locations(st, file, dir, libctx, propq, 1);
}

OBJPOOL_EXPORT int X509_STORE_set_default_paths(void *st)
{
    return tls_set_default_paths(st, NULL, NULL, 0);
}

OBJPOOL_EXPORT int X509_STORE_set_default_paths_ex(void *st, void *libctx, const char *propq)
{
    return tls_set_default_paths(st, libctx, propq, 1);
}

/* ---- session resumption (tls/resume.c) ----------------------------------
 * SSL_connect and SSL_accept reach SSL_do_handshake through libssl's PLT. */

/* Handshakes of this thread under way: a nested call passes through. */
static __thread int in_handshake __attribute__((tls_model("initial-exec")));

OBJPOOL_EXPORT int SSL_do_handshake(void *ssl)
{
    REAL(SSL_do_handshake);
    if (!fn_)
        return -1;
    if (likely(!tlsca_ntargets) || in_handshake)
        return fn_(ssl);
    in_handshake = 1;
    tls_handshake_begin(ssl);
    int rc = fn_(ssl);
    if (rc == 1)
        tls_handshake_done(ssl);
    in_handshake = 0;
    return rc;
}

OBJPOOL_EXPORT void SSL_free(void *ssl)
{
    REAL(SSL_free);
    if (unlikely(tlsca_ntargets) && ssl)
        tls_free(ssl);
    if (fn_)
        fn_(ssl);
}

/* What a resumed session would skip and objpool cannot read back: set
 * anywhere, no session is offered in this process again. */
OBJPOOL_EXPORT void SSL_CTX_set_cert_verify_callback(void *ctx, void *cb, void *arg)
{
    REAL(SSL_CTX_set_cert_verify_callback);
    if (cb)
        tls_taint(__func__);
    if (fn_)
        fn_(ctx, cb, arg);
}

OBJPOOL_EXPORT int SSL_CTX_set_purpose(void *a, int b)
{
    REAL(SSL_CTX_set_purpose);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int SSL_set_purpose(void *a, int b)
{
    REAL(SSL_set_purpose);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int SSL_CTX_set_trust(void *a, int b)
{
    REAL(SSL_CTX_set_trust);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int SSL_set_trust(void *a, int b)
{
    REAL(SSL_set_trust);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int X509_VERIFY_PARAM_set_purpose(void *a, int b)
{
    REAL(X509_VERIFY_PARAM_set_purpose);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int X509_VERIFY_PARAM_set_trust(void *a, int b)
{
    REAL(X509_VERIFY_PARAM_set_trust);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int X509_STORE_set_purpose(void *a, int b)
{
    REAL(X509_STORE_set_purpose);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int X509_STORE_set_trust(void *a, int b)
{
    REAL(X509_STORE_set_trust);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int SSL_dane_enable(void *a, const char *b)
{
    REAL(SSL_dane_enable);
    tls_taint(__func__);
    return fn_ ? fn_(a, b) : 0;
}

OBJPOOL_EXPORT int SSL_CTX_dane_enable(void *ctx)
{
    REAL(SSL_CTX_dane_enable);
    tls_taint(__func__);
    return fn_ ? fn_(ctx) : -1;
}

/* An ALPN list: remembered (hashed) for the session key, as OpenSSL
 * cannot give a client's list back. 0 is OpenSSL's success here. */
OBJPOOL_EXPORT int SSL_CTX_set_alpn_protos(void *ctx, const unsigned char *protos, unsigned len)
{
    REAL(SSL_CTX_set_alpn_protos);
    int rc = fn_ ? fn_(ctx, protos, len) : 1;
    if (rc == 0 && unlikely(tlsca_ntargets))
        tls_note_alpn(ctx, 0, protos, len);
    return rc;
}

OBJPOOL_EXPORT int SSL_set_alpn_protos(void *ssl, const unsigned char *protos, unsigned len)
{
    REAL(SSL_set_alpn_protos);
    int rc = fn_ ? fn_(ssl, protos, len) : 1;
    if (rc == 0 && unlikely(tlsca_ntargets))
        tls_note_alpn(ssl, 1, protos, len);
    return rc;
}

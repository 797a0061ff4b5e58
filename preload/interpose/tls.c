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

/* tls.h - the trust-store pool: CA bundles parsed once per process and
 * given, certificate by certificate, to every store that loads them again
 * (trust.c). The interposers (interpose/tls.c) call in here. */
#ifndef OBJPOOL_TLS_H
#define OBJPOOL_TLS_H

#include "../base/spec.h"

/* Number of tls-ca:// targets; 0 makes every interposer a pass-through. */
extern int tlsca_ntargets __attribute__((visibility("hidden")));

/* Give the tls-ca:// targets their kind (the report reads them). 0 on success. */
int tls_setup(struct config *c);

/* The interposed loads. `ex` says which entry point the program called
 * (the _ex one, with libctx and propq, or the plain one): a load objpool
 * does not pool goes to that same real function, arguments unchanged. */
int tls_load_file(void *st, const char *file, void *libctx, const char *propq, int ex);
int tls_load_locations(void *st, const char *file, const char *dir, void *libctx, const char *propq, int ex);
int tls_set_default_paths(void *st, void *libctx, const char *propq, int ex);

/* Session resumption (resume.c), for stores a resume=on target filled:
 * around a client handshake, before SSL_free, and tls_taint when the
 * program sets what objpool cannot read back (resumption off for good). */
void tls_handshake_begin(void *ssl);
void tls_handshake_done(void *ssl);
void tls_free(void *ssl);
void tls_taint(const char *what);
void tls_note_alpn(void *obj, int is_ssl, const unsigned char *protos, unsigned len);
/* The program's own definition of an interposed OpenSSL function. */
void *tls_real(const char *name);
#endif

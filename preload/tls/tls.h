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
#endif

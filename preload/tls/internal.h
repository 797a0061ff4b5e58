/* internal.h - what trust.c and resume.c share: a tls-ca:// target's state
 * (its kept parse, its counters) and how a store names the target that
 * filled it. */
#ifndef OBJPOOL_TLS_INTERNAL_H
#define OBJPOOL_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../base/spec.h"

/* One parse of one bundle, and what identified the file it came from. */
struct bundle {
    int valid;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    void **certs; /* up-referenced X509s */
    int ncerts;
    void **crls;  /* up-referenced X509_CRLs */
    int ncrls;
};

/* Why a handshake was not offered a session (resume.c), as the report names them. */
enum refusal { REFUSE_VERIFY_CALLBACK, REFUSE_CLIENT_CERT, REFUSE_OPTED_OUT, REFUSE_OTHER, REFUSE_N };

/* A tls-ca:// target's state: its bundle, its counters (atomics: the
 * report reads them at exit without the lock a parsing thread may hold). */
struct ca_pool {
    struct target *t;
    pthread_mutex_t lock;
    struct bundle b;
    _Atomic uint64_t hits, misses, failures, changed;
    /* sessions (resume=on): handshakes that looked, found one, resumed;
     * sessions kept; refusals by reason */
    _Atomic uint64_t looked, offered, resumed, stored, refused[REFUSE_N];
};

/* The target whose bundle filled this X509_STORE, or NULL. */
struct ca_pool *tls_store_pool(void *store);
/* resume.c: a forked child's share. */
void resume_after_fork(void);
#endif

/* trust.c - the trust-store pool: a CA bundle parsed once, its certificates
 * given to every X509_STORE that loads it again.
 *
 * Loading /etc/ssl/certs/ca-certificates.crt parses 140-odd certificates
 * (about 30 ms); Python's http.client and Debian's urllib3 build a new
 * context, and load the bundle again, for every HTTPS connection. Here a
 * tls-ca:// target names a bundle; the first load of it in the process is
 * parsed (by OpenSSL, into a store of objpool's own) and the certificates
 * and CRLs are kept, up-referenced; every later load of the same file adds
 * those same objects to the program's store, as a parse would have.
 *
 * What is shared is only what nobody changes: the parsed X509 and X509_CRL
 * objects. Each store stays the program's own (its flags, its parameters,
 * the certificates the program adds later): one context's additions never
 * reach another. The file is identified at EVERY load by device, inode,
 * size, mtime and ctime: a bundle replaced or rewritten is parsed again
 * (the old parse is dropped, counted as changed_on_disk), and a parse
 * during which the file changed is used for that load only. */
#include "tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../core/reasons.h"
#include "../lease/lease.h"
#include "internal.h"
#include "ossl.h"

int tlsca_ntargets;

static struct ca_pool *pools;

/* The ex_data slot where a store filled by a resume=on target names it. */
static int store_idx = -1;
static pthread_once_t store_idx_once = PTHREAD_ONCE_INIT;

static void store_idx_make(void)
{
    store_idx = ossl.get_ex_new_index(OSSL_EX_INDEX_STORE, 0, NULL, NULL, NULL, NULL);
}

/* Remember which target filled st, for resume.c (resume=on targets only). */
static void store_tag(struct ca_pool *p, void *st)
{
    if (!p->t->spec->tls_resume)
        return;
    pthread_once(&store_idx_once, store_idx_make);
    if (store_idx >= 0)
        ossl.store_set_ex_data(st, store_idx, p);
}

struct ca_pool *tls_store_pool(void *store)
{
    return store && store_idx >= 0 ? ossl.store_get_ex_data(store, store_idx) : NULL;
}

static int same_file(const struct bundle *b, const struct stat *s)
{
    return b->valid && b->dev == s->st_dev && b->ino == s->st_ino && b->size == s->st_size &&
           b->mtime.tv_sec == s->st_mtim.tv_sec && b->mtime.tv_nsec == s->st_mtim.tv_nsec &&
           b->ctime.tv_sec == s->st_ctim.tv_sec && b->ctime.tv_nsec == s->st_ctim.tv_nsec;
}

static void bundle_drop(struct bundle *b)
{
    for (int i = 0; i < b->ncerts; i++)
        ossl.x509_free(b->certs[i]);
    for (int i = 0; i < b->ncrls; i++)
        ossl.crl_free(b->crls[i]);
    free(b->certs);
    free(b->crls);
    memset(b, 0, sizeof *b);
}

/* Keep, up-referenced, every certificate and CRL of a store objpool filled. */
static int bundle_take(struct bundle *b, void *tmp)
{
    void *objs = ossl.store_get0_objects(tmp);
    int n = objs ? ossl.sk_num(objs) : 0;
    b->certs = calloc((size_t)(n > 0 ? n : 1), sizeof *b->certs);
    b->crls = calloc((size_t)(n > 0 ? n : 1), sizeof *b->crls);
    if (!b->certs || !b->crls)
        return -1;
    for (int i = 0; i < n; i++) {
        void *o = ossl.sk_value(objs, i);
        int type = ossl.object_type(o);
        if (type == OSSL_LU_X509) {
            void *x = ossl.object_x509(o);
            if (x && ossl.x509_up_ref(x))
                b->certs[b->ncerts++] = x;
        } else if (type == OSSL_LU_CRL) {
            void *c = ossl.object_crl(o);
            if (c && ossl.crl_up_ref(c))
                b->crls[b->ncrls++] = c;
        }
    }
    return b->ncerts + b->ncrls > 0 ? 0 : -1;
}

/* Parse `file` (identified by *s) into *b, with OpenSSL's own loader on a
 * store of objpool's; the program's error queue is left as it was. 0 on
 * success; -1 if the load failed (the caller lets the real call on the
 * program's store fail, with its own errors) or the file changed meanwhile
 * (*b then holds the parse, not to be kept). */
static int bundle_parse(struct bundle *b, const char *file, const struct stat *s, int *changed)
{
    memset(b, 0, sizeof *b);
    void *tmp = ossl.store_new();
    if (!tmp)
        return -1;
    ossl.err_set_mark();
    int ok = ossl.load_file_ex(tmp, file, NULL, NULL) == 1 && bundle_take(b, tmp) == 0;
    ossl.err_pop_to_mark();
    ossl.store_free(tmp);
    if (!ok) {
        bundle_drop(b);
        return -1;
    }
    struct stat after;
    b->dev = s->st_dev;
    b->ino = s->st_ino;
    b->size = s->st_size;
    b->mtime = s->st_mtim;
    b->ctime = s->st_ctim;
    b->valid = 1;
    *changed = stat(file, &after) != 0 || !same_file(b, &after);
    return 0;
}

/* Into a store that holds nothing yet: each object pushed as
 * X509_STORE_add_cert/add_crl would push it (a new X509_OBJECT holding its
 * own reference), without their search for a duplicate, which sorts the
 * whole list again at every add (most of a hit's cost: 145 sorts of up to
 * 145 entries for the system bundle). A parse holds no duplicates, and an
 * empty store none to meet. 1 done, 0 a push failed, -1 the store is not
 * empty (add one by one then). */
static int give_to_empty(const struct bundle *b, void *st)
{
    if (!ossl.store_lock(st))
        return -1;
    void *objs = ossl.store_get0_objects(st);
    int rc = objs && ossl.sk_num(objs) == 0 ? 1 : -1;
    for (int i = 0; rc == 1 && i < b->ncerts + b->ncrls; i++) {
        void *o = ossl.object_new();
        int set = o && (i < b->ncerts ? ossl.object_set1_x509(o, b->certs[i])
                                      : ossl.object_set1_crl(o, b->crls[i - b->ncerts]));
        if (!set || !ossl.sk_push(objs, o)) {
            if (o)
                ossl.object_free(o);
            rc = 0;
        }
    }
    ossl.store_unlock(st);
    return rc;
}

/* Add a parse's objects to the program's store, as OpenSSL's loader does
 * (X509_STORE_add_cert takes its own reference). 1, or 0 if one add failed. */
static int bundle_give(const struct bundle *b, void *st)
{
    int rc = give_to_empty(b, st);
    if (rc >= 0)
        return rc;
    for (int i = 0; i < b->ncerts; i++)
        if (!ossl.store_add_cert(st, b->certs[i]))
            return 0;
    for (int i = 0; i < b->ncrls; i++)
        if (!ossl.store_add_crl(st, b->crls[i]))
            return 0;
    return 1;
}

/* The tls-ca:// target whose bundle is the file `file` names now, or NULL. */
static struct ca_pool *pool_of(const char *file, struct stat *s)
{
    if (stat(file, s) != 0 || !S_ISREG(s->st_mode))
        return NULL;
    for (int i = 0; i < tlsca_ntargets; i++) {
        struct stat ts;
        if (stat(pools[i].t->spec->path, &ts) == 0 && ts.st_dev == s->st_dev && ts.st_ino == s->st_ino)
            return &pools[i];
    }
    return NULL;
}

/* A pooled load of a target's bundle into store st: 1 done (the parse
 * reused or made), 0 an add failed, -1 objpool could not parse it (the
 * caller makes the real call). */
static int pooled_load(struct ca_pool *p, void *st, const char *file, const struct stat *s)
{
    int rc;
    pthread_mutex_lock(&p->lock);
    if (same_file(&p->b, s)) {
        atomic_fetch_add(&p->hits, 1);
        rc = bundle_give(&p->b, st);
        pthread_mutex_unlock(&p->lock);
        return rc;
    }
    struct bundle fresh;
    int changed = 0;
    uint64_t t0 = now_ns();
    if (bundle_parse(&fresh, file, s, &changed) < 0) {
        atomic_fetch_add(&p->failures, 1);
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    atomic_fetch_add(&p->t->ctr->create_ns, now_ns() - t0);
    atomic_fetch_add(&p->t->ctr->create_timed, 1);
    atomic_fetch_add(&p->misses, 1);
    rc = bundle_give(&fresh, st);
    if (changed) { /* rewritten while parsed: good for this load, kept for none */
        bundle_drop(&fresh);
    } else {
        if (p->b.valid) {
            atomic_fetch_add(&p->changed, 1);
            log_debug("tls-ca %s: the file changed on disk: parsed again", p->t->label);
        }
        bundle_drop(&p->b);
        p->b = fresh;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* ---- the interposed loads ------------------------------------------------ */

static int pass_file(void *st, const char *file, void *libctx, const char *propq, int ex)
{
    if (ex)
        return ossl.load_file_ex ? ossl.load_file_ex(st, file, libctx, propq) : 0;
    return ossl.load_file ? ossl.load_file(st, file) : 0;
}

/* Pooled only for a configured bundle, loaded in the default library
 * context (certificates parsed for another would carry it). */
static struct ca_pool *poolable(const char *file, void *libctx, const char *propq, struct stat *s)
{
    if (!tlsca_ntargets || !file || libctx || propq || !ossl_resolve())
        return NULL;
    return pool_of(file, s);
}

/* X509_STORE_load_file[_ex]: add a file lookup, load the file (OpenSSL
 * 3.0's x509_d2.c), the load served by the pool. */
int tls_load_file(void *st, const char *file, void *libctx, const char *propq, int ex)
{
    struct stat s;
    ossl_resolve();
    struct ca_pool *p = poolable(file, libctx, propq, &s);
    if (!p)
        return pass_file(st, file, libctx, propq, ex);
    if (!ossl.store_add_lookup(st, ossl.lookup_file()))
        return 0;
    int rc = pooled_load(p, st, file, &s);
    if (rc < 0)
        return pass_file(st, file, libctx, propq, ex);
    if (rc == 1)
        store_tag(p, st);
    return rc;
}

/* X509_STORE_load_locations[_ex]: the file as above, then the directory
 * (a lazy lookup by subject hash: nothing parsed, nothing to pool). */
int tls_load_locations(void *st, const char *file, const char *dir, void *libctx, const char *propq, int ex)
{
    struct stat s;
    ossl_resolve();
    if (!poolable(file, libctx, propq, &s)) {
        if (ex)
            return ossl.load_locations_ex ? ossl.load_locations_ex(st, file, dir, libctx, propq) : 0;
        return ossl.load_locations ? ossl.load_locations(st, file, dir) : 0;
    }
    if (!tls_load_file(st, file, libctx, propq, ex))
        return 0;
    return dir ? ossl.load_path(st, dir) : 1;
}

/* X509_STORE_set_default_paths[_ex], step by step as OpenSSL 3.0 does it
 * (x509_d2.c): the default file (SSL_CERT_FILE, or the built-in path)
 * served by the pool, the default directory and store as lazy lookups,
 * every error of the default file dropped, and 1. */
int tls_set_default_paths(void *st, void *libctx, const char *propq, int ex)
{
    struct stat s;
    ossl_resolve();
    struct ca_pool *p = NULL;
    if (tlsca_ntargets && ossl_resolve()) {
        const char *file = secure_getenv(ossl.default_cert_file_env());
        if (!file)
            file = ossl.default_cert_file();
        p = poolable(file, libctx, propq, &s);
        if (p) {
            void *lk = ossl.store_add_lookup(st, ossl.lookup_file());
            if (!lk)
                return 0;
            int rc = pooled_load(p, st, file, &s);
            if (rc < 0)
                ossl.lookup_ctrl_ex(lk, OSSL_L_FILE_LOAD, NULL, OSSL_FILETYPE_DEFAULT, NULL, libctx, propq);
            else if (rc == 1)
                store_tag(p, st);
            lk = ossl.store_add_lookup(st, ossl.lookup_hash_dir());
            if (!lk)
                return 0;
            ossl.lookup_ctrl(lk, OSSL_L_ADD_DIR, NULL, OSSL_FILETYPE_DEFAULT, NULL);
            lk = ossl.store_add_lookup(st, ossl.lookup_store());
            if (!lk)
                return 0;
            ossl.lookup_ctrl_ex(lk, OSSL_L_ADD_STORE, NULL, 0, NULL, libctx, propq);
            ossl.err_clear_error();
            return 1;
        }
    }
    if (ex)
        return ossl.set_default_paths_ex ? ossl.set_default_paths_ex(st, libctx, propq) : 0;
    return ossl.set_default_paths ? ossl.set_default_paths(st) : 0;
}

/* ---- the report -------------------------------------------------------- */

static struct ca_pool *pool_for_target(const struct target *t)
{
    for (int i = 0; i < tlsca_ntargets; i++)
        if (pools[i].t == t)
            return &pools[i];
    return NULL;
}

/* A bundle load is an acquire: a hit reused the parse, a miss made it. */
static void tls_stats(struct target *t, objpool_stats_t *out)
{
    memset(out, 0, sizeof *out);
    struct ca_pool *p = pool_for_target(t);
    if (!p)
        return;
    out->hits = atomic_load(&p->hits);
    out->misses = atomic_load(&p->misses);
    out->create_failures = atomic_load(&p->failures);
    out->acquired = out->hits + out->misses;
    out->discarded[REASON_CHANGED_ON_DISK] = atomic_load(&p->changed);
    out->idle = p->b.valid ? 1 : 0;
    out->peak_idle = out->acquired ? 1 : 0;
}

static void tls_evict_expired(struct target *t)
{
    (void)t;
}

static void tls_reset_stats(struct target *t)
{
    struct ca_pool *p = pool_for_target(t);
    if (!p)
        return;
    atomic_store(&p->hits, 0);
    atomic_store(&p->misses, 0);
    atomic_store(&p->failures, 0);
    atomic_store(&p->changed, 0);
    atomic_store(&p->looked, 0);
    atomic_store(&p->offered, 0);
    atomic_store(&p->resumed, 0);
    atomic_store(&p->stored, 0);
    for (int i = 0; i < REFUSE_N; i++)
        atomic_store(&p->refused[i], 0);
}

/* The sessions of a resume=on target (resume.c's counters). */
static void tls_report_more(struct target *t, int json, char *buf, size_t size)
{
    struct ca_pool *p = pool_for_target(t);
    buf[0] = '\0';
    if (!p || !t->spec->tls_resume)
        return;
    unsigned long long v[4 + REFUSE_N] = {atomic_load(&p->looked), atomic_load(&p->offered),
                                          atomic_load(&p->resumed), atomic_load(&p->stored)};
    for (int i = 0; i < REFUSE_N; i++)
        v[4 + i] = atomic_load(&p->refused[i]);
    fmt_buf(buf, size,
            json ? ",\"sessions\":{\"looked\":%llu,\"offered\":%llu,\"resumed\":%llu,\"stored\":%llu,"
                   "\"refused\":{\"verify_callback\":%llu,\"client_cert\":%llu,\"opted_out\":%llu,\"other\":%llu}}"
                 : "sessions: looked %llu, offered %llu, resumed %llu, stored %llu; refused: verify_callback %llu, "
                   "client_cert %llu, opted_out %llu, other %llu",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

static const struct kind_ops tls_ops = {
    .report_more = tls_report_more,
    .name = "tls-ca",
    .stats = tls_stats,
    .evict_expired = tls_evict_expired,
    .reset_stats = tls_reset_stats,
};

/* A forked child: a lock another thread held is re-made, the account
 * starts afresh; the parse (the same objects, in the child's copy) stays. */
static void tls_after_fork(void)
{
    for (int i = 0; i < tlsca_ntargets; i++) {
        pthread_mutex_init(&pools[i].lock, NULL);
        tls_reset_stats(pools[i].t);
    }
    resume_after_fork();
}

int tls_setup(struct config *c)
{
    int n = 0;
    for (int i = 0; i < c->ntargets; i++)
        if (c->targets[i].spec->kind == POOL_TLSCA)
            n++;
    if (!n)
        return 0;
    pools = calloc((size_t)n, sizeof *pools);
    if (!pools)
        return -1;
    n = 0;
    for (int i = 0; i < c->ntargets; i++) {
        struct target *t = &c->targets[i];
        if (t->spec->kind != POOL_TLSCA)
            continue;
        t->ops = &tls_ops;
        pools[n].t = t;
        pthread_mutex_init(&pools[n].lock, NULL);
        n++;
    }
    pthread_atfork(NULL, NULL, tls_after_fork);
    tlsca_ntargets = n; /* last: from here the interposers look */
    return 0;
}

/* resume.c - TLS session resumption for clients whose trust store came from
 * a tls-ca:// target with resume=on.
 *
 * A resumed session skips the certificate and host name checks: it may
 * only be offered to a handshake that would have checked exactly as the
 * one that verified it. So a session is kept under a key of everything
 * verification depends on (the peer's address, SNI, the host or IP the
 * X509_VERIFY_PARAM checks, its flags, host flags, depth, auth level, check time, the
 * store's flags, verify mode and depth, options, protocol bounds, security
 * level, the ALPN list, and a fingerprint of every certificate and CRL in the trust
 * store), taken when the handshake starts and taken again, equal, before a
 * session is kept. Never offered: to servers, to a program that set a
 * session itself, without SSL_VERIFY_PEER, with a verify callback (on the
 * SSL, its context or its store) or any of the store's verification hooks
 * replaced (X509_STORE_set_verify, _check_issued, _get_crl ...), a client
 * certificate or a client certificate callback, tickets and session caching both turned off, OCSP
 * stapling or CT requested,
 * an SSL without a socket; never in a process that set a certificate-verify
 * callback, a purpose, a trust setting or DANE anywhere (objpool
 * cannot read those back: tls_taint). A TLS 1.3 ticket is used once; a
 * session lives at most 60 s; no early data ever. A resumed socket gets
 * TCP_NODELAY (an abbreviated TLS 1.2 handshake ends with the client's
 * Finished, and the request after it would wait for a delayed ACK). */
#include "tls.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "internal.h"
#include "ossl.h"
#include "sslfns.h"

#define SESSION_LIFETIME_NS (60ull * 1000000000ull)
#define CACHE_SLOTS 64
#define OSSL_VERIFY_PEER 0x01
#define OSSL_OP_NO_TICKET (1ull << 14)
#define OSSL_CTRL_GET_STATUS_TYPE 127
#define OSSL_CTRL_GET_SESS_CACHE_MODE 45
#define OSSL_CTRL_GET_MIN_PROTO 130
#define OSSL_CTRL_GET_MAX_PROTO 131
#define OSSL_TLS1_3_VERSION 0x0304
#define OSSL_NAMETYPE_HOST 0


/* What a verification depends on. Zero-filled before it is built, and
 * compared whole. */
struct rkey {
    struct sockaddr_storage peer;
    char sni[256];
    char host[256];
    char ip[64];
    uint64_t options;
    uintptr_t alpn;
    unsigned long flags, store_flags;
    unsigned hostflags;
    uint32_t inh_flags;
    long check_time; /* X509_V_FLAG_USE_CHECK_TIME's time */
    int mode, depth, param_depth, auth_level, min_proto, max_proto, sec_level, nobj;
    uint64_t fp[3];
};

struct entry {
    int used;
    int tls13;
    uint64_t born_ns;
    struct rkey k;
    void *sess; /* a copy objpool owns (SSL_SESSION_dup) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[CACHE_SLOTS];
static int ssl_idx = -1;                        /* the key taken at the handshake's start */
static int ssl_alpn_idx = -1, ctx_alpn_idx = -1; /* a hash of the ALPN list set */
static int complete;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int tainted;

static void key_free(void *parent, void *ptr, void *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static void resolve_once(void)
{
    int ok = ossl_resolve() && sslfns_resolve();
    if (ok) {
        ssl_idx = ossl.get_ex_new_index(OSSL_EX_INDEX_SSL, 0, NULL, NULL, NULL, key_free);
        ssl_alpn_idx = ossl.get_ex_new_index(OSSL_EX_INDEX_SSL, 0, NULL, NULL, NULL, NULL);
        ctx_alpn_idx = ossl.get_ex_new_index(OSSL_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, NULL);
    }
    complete = ok && ssl_idx >= 0 && ssl_alpn_idx >= 0 && ctx_alpn_idx >= 0;
}

static int resolved(void)
{
    pthread_once(&once, resolve_once);
    return complete;
}

/* Something objpool cannot read back was set somewhere in the process:
 * no session is offered from now on. */
void tls_taint(const char *what)
{
    if (!atomic_exchange(&tainted, 1))
        log_debug("tls: %s called: no TLS session offered in this process from now on", what);
}

/* The program set an ALPN list on an SSL or a context: its hash (odd, so
 * never NULL) goes in the object's ex_data, and into the key. */
void tls_note_alpn(void *obj, int is_ssl, const unsigned char *protos, unsigned len)
{
    if (!tlsca_ntargets || !resolved())
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; protos && i < len; i++)
        h = (h ^ protos[i]) * 0x100000001b3ull;
    void *v = protos && len ? (void *)(uintptr_t)(h | 1) : NULL;
    if (is_ssl)
        S.set_ex_data(obj, ssl_alpn_idx, v);
    else
        S.ctx_set_ex_data(obj, ctx_alpn_idx, v);
}

void *tls_real(const char *name)
{
    int ok = 1;
    return ossl_find_real(name, &ok);
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The store's certificates and CRLs, as a sum of their SHA-1 digests
 * (OpenSSL keeps each certificate's): order-free, so two stores holding
 * the same objects agree whatever order they were added in. */
static int fingerprint(void *store, struct rkey *k)
{
    if (!ossl.store_lock(store))
        return -1;
    void *objs = ossl.store_get0_objects(store);
    int n = objs ? ossl.sk_num(objs) : 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        void *o = ossl.sk_value(objs, i);
        int type = ossl.object_type(o);
        unsigned char md[64];
        unsigned len = 0;
        int ok = type == OSSL_LU_X509 ? S.x509_digest(ossl.object_x509(o), S.sha1(), md, &len)
               : type == OSSL_LU_CRL  ? S.crl_digest(ossl.object_crl(o), S.sha1(), md, &len)
                                      : 0;
        if (!ok || len < 20) {
            rc = -1;
            break;
        }
        uint64_t a, b, c = 0;
        memcpy(&a, md, 8);
        memcpy(&b, md + 8, 8);
        memcpy(&c, md + 16, 4);
        k->fp[0] += mix(a ^ (uint64_t)type);
        k->fp[1] += mix(b ^ a);
        k->fp[2] += mix(c ^ b);
    }
    k->nobj = n;
    ossl.store_unlock(store);
    return rc;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* The key of ssl as it stands; -1 if it cannot be taken (a host name
 * longer than the key holds, more than one host, no digest). */
static int key_of(void *ssl, void *store, struct rkey *k)
{
    memset(k, 0, sizeof *k);
    void *param = S.get0_param(ssl);
    void *sparam = S.store_get0_param(store);
    const char *host = S.param_get0_host(param, 0);
    const char *sni = S.get_servername(ssl, OSSL_NAMETYPE_HOST);
    if (S.param_get0_host(param, 1) || (host && strlen(host) >= sizeof k->host) ||
        (sni && strlen(sni) >= sizeof k->sni))
        return -1;
    copy_str(k->host, sizeof k->host, host);
    copy_str(k->sni, sizeof k->sni, sni);
    char *ip = S.param_get1_ip_asc(param);
    copy_str(k->ip, sizeof k->ip, ip);
    if (ip)
        S.crypto_free(ip, __FILE__, __LINE__);
    k->options = S.get_options(ssl);
    k->alpn = (uintptr_t)S.get_ex_data(ssl, ssl_alpn_idx);
    if (!k->alpn)
        k->alpn = (uintptr_t)S.ctx_get_ex_data(S.get_ssl_ctx(ssl), ctx_alpn_idx);
    k->flags = S.param_get_flags(param);
    k->store_flags = sparam ? S.param_get_flags(sparam) : 0;
    k->hostflags = S.param_get_hostflags(param);
    k->inh_flags = S.param_get_inh_flags(param);
    k->check_time = S.param_get_time(param);
    k->mode = S.get_verify_mode(ssl);
    k->depth = S.get_verify_depth(ssl);
    k->param_depth = S.param_get_depth(param);
    k->auth_level = S.param_get_auth_level(param);
    k->min_proto = (int)S.ctrl(ssl, OSSL_CTRL_GET_MIN_PROTO, 0, NULL);
    k->max_proto = (int)S.ctrl(ssl, OSSL_CTRL_GET_MAX_PROTO, 0, NULL);
    k->sec_level = S.get_security_level(ssl);
    return fingerprint(store, k);
}

/* Why ssl may not be offered a session (REFUSE_*), or -1 if it may. */
static int refusal(void *ssl, void *ctx, void *store)
{
    if (S.get_verify_callback(ssl) || S.ctx_get_verify_callback(ctx) || S.store_get_verify_cb(store))
        return REFUSE_VERIFY_CALLBACK;
    for (int i = 0; i < 10; i++) /* the store's own verification replaced in part */
        if (S.store_hook[i](store))
            return REFUSE_VERIFY_CALLBACK;
    if (S.get_certificate(ssl) || S.ctx_get_client_cert_cb(ctx))
        return REFUSE_CLIENT_CERT;
    if ((S.get_options(ssl) & OSSL_OP_NO_TICKET) && S.ctx_ctrl(ctx, OSSL_CTRL_GET_SESS_CACHE_MODE, 0, NULL) == 0)
        return REFUSE_OPTED_OUT; /* no tickets, and session caching off */
    const char *why = !(S.get_verify_mode(ssl) & OSSL_VERIFY_PEER)                ? "no SSL_VERIFY_PEER"
                      : atomic_load(&tainted)                                     ? "the process set what objpool cannot read"
                      : S.ctrl(ssl, OSSL_CTRL_GET_STATUS_TYPE, 0, NULL) != -1   ? "OCSP stapling requested"
                      : S.ct_is_enabled(ssl)                                      ? "CT requested"
                                                                                  : NULL;
    if (why)
        log_debug("tls: no session offered: %s", why);
    return why ? REFUSE_OTHER : -1;
}

/* The pool whose bundle filled ssl's store, if it has resume=on. */
static struct ca_pool *pool_of_ssl(void *ssl, void **ctx, void **store)
{
    *ctx = S.get_ssl_ctx(ssl);
    *store = *ctx ? S.ctx_get_cert_store(*ctx) : NULL;
    struct ca_pool *p = tls_store_pool(*store);
    return p && p->t->spec->tls_resume ? p : NULL;
}

/* The socket under ssl, and its peer: -1 for memory BIOs and the like. */
static int peer_of(void *ssl, struct sockaddr_storage *peer)
{
    int fd = S.get_fd(ssl);
    if (fd < 0 || S.get_rfd(ssl) != fd || S.get_wfd(ssl) != fd)
        return -1;
    socklen_t len = sizeof *peer;
    memset(peer, 0, sizeof *peer);
    if (getpeername(fd, (struct sockaddr *)peer, &len) < 0 ||
        (peer->ss_family != AF_INET && peer->ss_family != AF_INET6))
        return -1;
    return fd;
}

static void drop(struct entry *e)
{
    S.session_free(e->sess);
    memset(e, 0, sizeof *e);
}

/* A live session for key k, taken (TLS 1.3: used once) or shared (1.2);
 * the caller owns one reference. Under the lock. */
static void *take(const struct rkey *k)
{
    uint64_t now = now_ns();
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct entry *e = &cache[i];
        if (!e->used || memcmp(&e->k, k, sizeof *k))
            continue;
        long end = S.session_get_time(e->sess) + S.session_get_timeout(e->sess);
        if (now - e->born_ns > SESSION_LIFETIME_NS || end <= (long)time(NULL)) {
            drop(e);
            continue;
        }
        void *s = e->sess;
        if (e->tls13) {
            memset(e, 0, sizeof *e); /* the reference passes to the caller */
            return s;
        }
        return S.session_dup(s);
    }
    return NULL;
}

/* Keep a copy of a session under k: in k's slot, else a free one, else
 * in place of the oldest. Under the lock. */
static void keep(const struct rkey *k, void *copy, int tls13)
{
    struct entry *slot = NULL, *free_slot = NULL, *oldest = &cache[0];
    for (int i = 0; i < CACHE_SLOTS && !slot; i++) {
        struct entry *e = &cache[i];
        if (e->used && !memcmp(&e->k, k, sizeof *k))
            slot = e;
        else if (!e->used && !free_slot)
            free_slot = e;
        else if (e->used && e->born_ns < oldest->born_ns)
            oldest = e;
    }
    if (!slot)
        slot = free_slot ? free_slot : oldest;
    if (slot->used)
        drop(slot);
    slot->used = 1;
    slot->tls13 = tls13;
    slot->born_ns = now_ns();
    slot->k = *k;
    slot->sess = copy;
}

/* Before a client handshake: offer the session kept for this exact key. */
void tls_handshake_begin(void *ssl)
{
    void *ctx, *store;
    if (!tlsca_ntargets || !resolved() || !S.in_before(ssl) || S.is_server(ssl) || S.get_session(ssl) ||
        S.get_ex_data(ssl, ssl_idx))
        return;
    struct ca_pool *p = pool_of_ssl(ssl, &ctx, &store);
    if (!p)
        return;
    int why = refusal(ssl, ctx, store);
    struct rkey *k = malloc(sizeof *k);
    if (why < 0 && (!k || key_of(ssl, store, k) < 0 || peer_of(ssl, &k->peer) < 0)) {
        log_debug("tls: no session offered: no key (a long or second host name, no socket)");
        why = REFUSE_OTHER;
    }
    if (why >= 0 || !S.set_ex_data(ssl, ssl_idx, k)) {
        atomic_fetch_add(&p->refused[why >= 0 ? why : REFUSE_OTHER], 1);
        free(k);
        return;
    }
    atomic_fetch_add(&p->looked, 1);
    pthread_mutex_lock(&lock);
    void *sess = take(k);
    pthread_mutex_unlock(&lock);
    if (!sess)
        return;
    if (S.set_session(ssl, sess))
        atomic_fetch_add(&p->offered, 1);
    S.session_free(sess);
}

/* After a handshake that succeeded: a resumed socket gets TCP_NODELAY
 * (unless it has it already). */
void tls_handshake_done(void *ssl)
{
    void *ctx, *store;
    if (!tlsca_ntargets || !resolved() || !S.get_ex_data(ssl, ssl_idx) || !S.session_reused(ssl))
        return;
    struct ca_pool *p = pool_of_ssl(ssl, &ctx, &store);
    if (p)
        atomic_fetch_add(&p->resumed, 1);
    int fd = S.get_fd(ssl), on = 0;
    socklen_t len = sizeof on;
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && !on) {
        on = 1;
        real.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
}

/* Before SSL_free: keep a copy of the newest session of a verified
 * handshake whose key has not changed (a copy: OpenSSL marks the session
 * not resumable when an SSL is freed without close_notify). */
void tls_free(void *ssl)
{
    void *ctx, *store;
    if (!tlsca_ntargets || !resolved())
        return;
    struct rkey *k = S.get_ex_data(ssl, ssl_idx), now;
    if (!k || !S.is_init_finished(ssl) || S.get_verify_result(ssl) != 0)
        return;
    struct ca_pool *p = pool_of_ssl(ssl, &ctx, &store);
    if (!p || refusal(ssl, ctx, store) >= 0 || key_of(ssl, store, &now) < 0)
        return;
    now.peer = k->peer;
    if (memcmp(&now, k, sizeof now))
        return; /* verified under other settings than it would be offered to */
    void *sess = S.get1_session(ssl);
    if (!sess)
        return;
    void *copy = S.session_is_resumable(sess) ? S.session_dup(sess) : NULL;
    S.session_free(sess);
    if (!copy)
        return;
    S.session_set_max_early(copy, 0);
    pthread_mutex_lock(&lock);
    keep(k, copy, S.session_get_protocol(copy) == OSSL_TLS1_3_VERSION);
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&p->stored, 1);
}

/* A forked child: the lock re-made, and the kept sessions forgotten (not
 * freed: a TLS 1.3 ticket the parent may use must not be used by the child
 * too; the copies' memory stays with the child, a few KiB). */
void resume_after_fork(void)
{
    pthread_mutex_init(&lock, NULL);
    memset(cache, 0, sizeof cache);
}

/* spec.h - what the configuration says, as types every layer reads: pool
 * options, pool specifications, targets (one pool each: a resolved address,
 * a Unix path or a file pattern) and the globals. The parser that fills
 * them is config/config.c; here are only the shapes, so that the bottom
 * layer (state.h) can hold the configuration without importing the
 * parser. */
#ifndef OBJPOOL_SPEC_H
#define OBJPOOL_SPEC_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

struct objpool;
struct kind_ops;

enum pool_kind { POOL_TCP = 1, POOL_UNIX, POOL_FILE, POOL_TLSCA /* a CA bundle (tls/trust.c) */ };

/* bits of pool_opts.modes (file pools): which opens may be pooled */
#define MODE_READ 0x1
#define MODE_WRITE 0x2
#define MODE_APPEND 0x4
#define MODE_RW 0x8

/* option ids, also bit positions in pool_opts.set_here / set_default */
enum opt_id {
    OPT_MAX_SIZE, OPT_IDLE_TIMEOUT, OPT_MAX_LIFETIME, OPT_PREWARM, OPT_CONNECT_TIMEOUT,
    OPT_ORDER, OPT_CHECK, OPT_EXPECT, OPT_CHECK_DELAY, OPT_VALIDATE, OPT_MODES,
    OPT_SHUTDOWN, OPT_MAX_USES, OPT_PROTO, OPT_AUTH, OPT_COUNT
};

#define MAX_PROBE 256   /* check= and expect= bytes */
#define PG_MAX_LIFETIME_MS 30000 /* max_lifetime of a proto=postgres pool unless set */
#define MAX_URL 1024
#define MAX_HOST 255
#define MAX_LINE 4096

struct pool_opts {
    unsigned max_size;
    uint64_t idle_timeout_ms;   /* 0 = none */
    uint64_t max_lifetime_ms;   /* 0 = none */
    unsigned prewarm;
    uint64_t connect_timeout_ms;
    int order;                  /* OBJPOOL_LIFO / OBJPOOL_FIFO */
    char check[MAX_PROBE];
    size_t check_len;
    char expect[MAX_PROBE];
    size_t expect_len;
    uint64_t check_delay_ms;
    int validate;               /* 1 = stat (files), 0 = none */
    int modes;                  /* MODE_* bits */
    int shutdown_defer;         /* 1 = defer SHUT_RDWR (default), 0 = pass */
    unsigned max_uses;          /* leases per connection; 0 = no limit */
    int proto;                  /* enum proto_id (base/proto_id.h): auto, opaque, http, ... */
    int auth_process;           /* auth=process: PostgreSQL SCRAM sessions reused (unsafe for some) */
    unsigned set_here;          /* options given on the pool's own line */
    unsigned set_default;       /* options taken from a `default` line */
};

struct pool_spec {
    enum pool_kind kind;
    char url[MAX_URL + 1];      /* as written, without options */
    char host[MAX_HOST + 1];    /* tcp */
    unsigned port;              /* tcp */
    char path[MAX_URL + 1];     /* unix, file */
    struct pool_opts opts;
    int tls_resume;             /* tls-ca: resume=on (tls/resume.c) */
    char source[128];           /* "OBJPOOL_POOLS:2" or "/etc/objpool.conf:7" */
};

/* What the report counts per target besides its pool's own counters. */
struct target_counters {
    _Atomic uint64_t stale_reuse_errors;
    _Atomic uint64_t check_failed;
    _Atomic uint64_t prewarm_failed;
    _Atomic uint64_t prewarmed;
    _Atomic uint64_t create_ns;     /* total time of timed creates (blocking connects, opens) */
    _Atomic uint64_t create_timed;  /* how many were timed */
    _Atomic unsigned proto_seen;    /* bit per protocol id its connections turned out to speak */
    unsigned pad;
    /* PostgreSQL (conn/pgreplay.c): start-ups replayed, start-ups that
     * differed from the recorded one, start-ups with a credential objpool
     * cannot check, resets that began with a ROLLBACK */
    _Atomic uint64_t pg_replayed;
    _Atomic uint64_t pg_startup_mismatch;
    _Atomic uint64_t pg_auth_unverifiable;
    _Atomic uint64_t pg_auth_mismatch;
    _Atomic uint64_t pg_reset_rollback;
    /* MySQL (conn/myreplay.c, myswitch.c, myreset.c): handshakes replayed,
     * responses that differed from the recorded one, handshakes objpool
     * cannot check, responses that differed only in their credential,
     * fresh connections handed to the program by an AuthSwitchRequest,
     * servers without COM_RESET_CONNECTION */
    _Atomic uint64_t my_replayed;
    _Atomic uint64_t my_startup_mismatch;
    _Atomic uint64_t my_auth_unverifiable;
    _Atomic uint64_t my_auth_mismatch;
    _Atomic uint64_t my_switched;
    _Atomic uint64_t my_no_reset;
};

#define TARGET_AREA_SIZE 192

/* One pool: a resolved address, a unix path or a file pattern. */
struct target {
    struct pool_spec *spec;
    struct objpool *pool;      /* the generic pool (core/objpool.h) */
    const struct kind_ops *ops; /* the object kind serving it (lease/lease.h) */
    int family;                 /* AF_INET, AF_INET6, AF_UNIX; 0 for files */
    union {
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
    } addr;
    char label[MAX_URL + 64];   /* for the report */
    char addr_text[64];         /* the numeric address, for the report */
    int has_glob;               /* file pattern with wildcards */
    /* The report's per-target counters: ctr_local, or a slot of the
     * live-stats mapping (lease/live.c); init sets it before any pool. */
    struct target_counters *ctr;
    struct target_counters ctr_local;
    /* what the kind serving it keeps per pool, opaque here: each kind lays
     * it out in its own header (conn/internal.h struct conn_target) and
     * asserts that it fits; zeroed by the parser */
    _Alignas(16) unsigned char area[TARGET_AREA_SIZE];
};

enum report_format { REPORT_TEXT = 0, REPORT_JSON };

/* What objpool does after a dlopen with RTLD_DEEPBIND (`set deepbind`). */
enum { DEEPBIND_REBIND = 0, DEEPBIND_WARN = 1 };

struct config {
    struct pool_spec *specs;
    int nspecs, cap_specs;
    struct target *targets;
    int ntargets;
    /* globals */
    char report[MAX_URL + 1];   /* "stderr", "none" or a path (%p = pid) */
    int report_format;
    int log_level;
    char log_file[MAX_URL + 1];
    unsigned default_max_size;
    int disabled;
    int deepbind;               /* DEEPBIND_REBIND or DEEPBIND_WARN (conn/deepbind.c) */
    int errors;                 /* bad lines seen: pooling stays off */
    int quiet;                  /* objpool check: print errors, but no more */
};

#endif

/* core_test.c - unit tests of the pool core (libobjpool-core).
 *
 *   core_test CASE      run one case; exit 0 on success, 1 with a message
 *   core_test --list    print the case names
 *
 * tests/core/library.bats runs each case as its own @test. */
#include "objpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                             \
        }                                                                           \
    } while (0)
#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (a_ != b_) {                                                                   \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                    #a, a_, #b, b_);                                                      \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

/* ---- a test object ------------------------------------------------------ */

struct obj {
    int id;
    atomic_int owned; /* 1 while some borrower holds it */
    int resets;
    int bad;          /* validate() refuses it */
};

static atomic_long created, destroyed;
static int validate_result = OBJPOOL_DISCARD_INVALID; /* what validate returns for bad objects */
static int reset_result;                               /* what reset returns */
static atomic_long resets_run;
static int create_fails;

static void *make(void *user, void *arg)
{
    (void)user;
    (void)arg;
    if (create_fails) {
        errno = EMFILE;
        return NULL;
    }
    struct obj *o = calloc(1, sizeof *o);
    if (o)
        o->id = (int)atomic_fetch_add(&created, 1) + 1;
    return o;
}

static void kill_obj(void *user, void *obj)
{
    (void)user;
    struct obj *o = obj;
    if (atomic_load(&o->owned)) {
        fprintf(stderr, "destroy of an object still owned (id %d)\n", o->id);
        abort();
    }
    atomic_fetch_add(&destroyed, 1);
    free(o);
}

static int check(void *user, void *obj, void *arg)
{
    (void)user;
    (void)arg;
    return ((struct obj *)obj)->bad ? validate_result : 0;
}

static int prepare(void *user, void *obj, void *arg)
{
    (void)user;
    (void)arg;
    ((struct obj *)obj)->resets++;
    atomic_fetch_add(&resets_run, 1);
    return reset_result;
}

static objpool_t *new_pool(size_t max)
{
    objpool_t *p = objpool_new(make, kill_obj, check, prepare, NULL, max);
    if (!p) {
        perror("objpool_new");
        exit(2);
    }
    return p;
}

static objpool_stats_t stats(objpool_t *p)
{
    objpool_stats_t s;
    objpool_get_stats(p, &s);
    return s;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- cases ---------------------------------------------------------------- */

/* pattern_kit's example: release then acquire gives the same object back. */
static void t_reuse(void)
{
    objpool_t *p = new_pool(2);
    void *a = objpool_acquire(p);
    CHECK(a != NULL);
    CHECK_EQ(objpool_release(p, a), OBJPOOL_PARKED);
    void *b = objpool_acquire(p);
    CHECK(a == b);
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.acquired, 2);
    CHECK_EQ(s.hits, 1);
    CHECK_EQ(s.misses, 1);
    CHECK_EQ(s.released, 1);
    CHECK_EQ(s.parked, 1);
    CHECK_EQ(s.leased, 1);
    CHECK_EQ(s.idle, 0);
    objpool_release(p, b);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* max_size bounds the idle objects only; releasing into a full pool
 * destroys (counted as "full"). */
static void t_full_destroys(void)
{
    objpool_t *p = new_pool(2);
    void *o[5];
    for (int i = 0; i < 5; i++)
        o[i] = objpool_acquire(p); /* never refused: 5 out with max_size 2 */
    for (int i = 0; i < 5; i++)
        CHECK(o[i] != NULL);
    CHECK_EQ(stats(p).leased, 5);
    CHECK_EQ(stats(p).peak_leased, 5);
    CHECK_EQ(objpool_release(p, o[0]), OBJPOOL_PARKED);
    CHECK_EQ(objpool_release(p, o[1]), OBJPOOL_PARKED);
    CHECK_EQ(objpool_release(p, o[2]), OBJPOOL_DESTROYED);
    CHECK_EQ(objpool_release(p, o[3]), OBJPOOL_DESTROYED);
    CHECK_EQ(objpool_release(p, o[4]), OBJPOOL_DESTROYED);
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.discarded[OBJPOOL_DISCARD_FULL], 3);
    CHECK_EQ(destroyed, 3);
    CHECK_EQ(s.idle, 2);
    CHECK_EQ(s.peak_idle, 2);
    CHECK_EQ(s.released, 5);
    CHECK_EQ(s.parked, 2);
    CHECK(strcmp(objpool_discard_name(OBJPOOL_DISCARD_FULL), "full") == 0);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* max_size 0: nothing is ever parked; every release destroys ("full"). */
static void t_max_size_zero(void)
{
    objpool_t *p = new_pool(0);
    for (int i = 0; i < 3; i++) {
        void *o = objpool_acquire(p);
        CHECK(o != NULL);
        CHECK_EQ(objpool_release(p, o), OBJPOOL_DESTROYED);
    }
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.misses, 3);
    CHECK_EQ(s.hits, 0);
    CHECK_EQ(s.discarded[OBJPOOL_DISCARD_FULL], 3);
    CHECK_EQ(objpool_add_idle(p, make(NULL, NULL)), OBJPOOL_DESTROYED);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* A large bound (SIZE_MAX: no bound) costs nothing up front and parks. */
static void t_unbounded(void)
{
    objpool_t *p = new_pool(SIZE_MAX);
    enum { N = 1000 };
    static void *o[N];
    for (int i = 0; i < N; i++)
        o[i] = objpool_acquire(p);
    for (int i = 0; i < N; i++)
        CHECK_EQ(objpool_release(p, o[i]), OBJPOOL_PARKED);
    CHECK_EQ(stats(p).idle, N);
    objpool_free(p);
    CHECK_EQ(destroyed, N);
}

static void release_ids(objpool_t *p, void **o, int n)
{
    for (int i = 0; i < n; i++)
        objpool_release(p, o[i]);
}

static void t_lifo(void)
{
    objpool_t *p = new_pool(10);
    void *o[3];
    for (int i = 0; i < 3; i++)
        o[i] = objpool_acquire(p);
    release_ids(p, o, 3); /* parked 1, 2, 3 */
    CHECK(objpool_acquire(p) == o[2]);
    CHECK(objpool_acquire(p) == o[1]);
    CHECK(objpool_acquire(p) == o[0]);
    release_ids(p, o, 3);
    objpool_free(p);
}

/* A keyed acquire takes only an idle object with that key, the newest
 * first, and leaves the others idle (not validated, not destroyed). */
static void t_keyed(void)
{
    objpool_t *p = new_pool(10);
    void *o[4];
    for (int i = 0; i < 4; i++) {
        o[i] = objpool_acquire(p);
        objpool_set_key(p, o[i], i == 3 ? 0 : (uint64_t)(i % 2 + 7)); /* 7, 8, 7, none */
    }
    release_ids(p, o, 4);
    long before = destroyed;
    CHECK(objpool_try_acquire_key(p, 9, NULL) == NULL);
    CHECK(objpool_try_acquire_key(p, 0, NULL) == NULL);
    CHECK(objpool_try_acquire_key(p, 7, NULL) == o[2]);
    CHECK(objpool_try_acquire_key(p, 7, NULL) == o[0]);
    CHECK(objpool_try_acquire_key(p, 7, NULL) == NULL);
    CHECK_EQ(stats(p).idle, 2);
    CHECK_EQ(destroyed, before);
    CHECK(objpool_acquire(p) == o[3]); /* the ring closed its gaps */
    CHECK(objpool_try_acquire_key(p, 8, NULL) == o[1]); /* the key stays with a lease */
    objpool_swap_age(p, o[1], o[3]);
    release_ids(p, (void *[]){o[0], o[1], o[2], o[3]}, 4);
    CHECK(objpool_try_acquire_key(p, 8, NULL) == o[1]);
    objpool_release(p, o[1]);
    objpool_free(p);
}

static void t_fifo(void)
{
    objpool_t *p = new_pool(10);
    objpool_set_order(p, OBJPOOL_FIFO);
    void *o[3];
    for (int i = 0; i < 3; i++)
        o[i] = objpool_acquire(p);
    release_ids(p, o, 3);
    CHECK(objpool_acquire(p) == o[0]);
    CHECK(objpool_acquire(p) == o[1]);
    /* wrap around the ring: park o[0] again behind o[2] */
    objpool_release(p, o[0]);
    CHECK(objpool_acquire(p) == o[2]);
    CHECK(objpool_acquire(p) == o[0]);
    release_ids(p, o, 3);
    objpool_free(p);
}

/* validate() refuses an idle object: destroyed, counted, next one tried. */
static void t_validate_rejects(void)
{
    objpool_t *p = new_pool(10);
    struct obj *a = objpool_acquire(p), *b = objpool_acquire(p);
    objpool_release(p, a);
    objpool_release(p, b);
    b->bad = 1; /* LIFO: b is tried first */
    struct obj *c = objpool_acquire(p);
    CHECK(c == a);
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.discarded[OBJPOOL_DISCARD_INVALID], 1);
    CHECK_EQ(destroyed, 1);
    CHECK_EQ(s.hits, 1);
    /* all idle ones bad: a miss, create() runs */
    a->bad = 1;
    objpool_release(p, a);
    struct obj *d = objpool_acquire(p);
    CHECK(d != NULL && d->id == 3);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_INVALID], 2);
    CHECK_EQ(stats(p).misses, 3);
    /* a C-style -1 from validate is a refusal, counted as invalid */
    validate_result = -1;
    d->bad = 1;
    objpool_release(p, d);
    struct obj *e = objpool_acquire(p);
    CHECK(e != d);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_INVALID], 3);
    /* a caller-defined code is counted under that code */
    validate_result = OBJPOOL_DISCARD_USER + 2;
    e->bad = 1;
    objpool_release(p, e);
    struct obj *f = objpool_acquire(p);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_USER + 2], 1);
    objpool_release(p, f);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* reset() runs on every reuse (not on a fresh object); failure discards. */
static void t_reset_on_reuse(void)
{
    objpool_t *p = new_pool(10);
    struct obj *a = objpool_acquire(p);
    CHECK_EQ(a->resets, 0);
    objpool_release(p, a);
    CHECK(objpool_acquire(p) == a);
    CHECK_EQ(a->resets, 1);
    objpool_release(p, a);
    objpool_acquire(p);
    CHECK_EQ(a->resets, 2);
    objpool_release(p, a);
    reset_result = -1;
    struct obj *b = objpool_acquire(p);
    CHECK(b != a);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_RESET_FAILED], 1);
    objpool_release(p, b);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

static void t_idle_timeout(void)
{
    objpool_t *p = new_pool(10);
    objpool_set_idle_timeout_ms(p, 100);
    void *a = objpool_acquire(p);
    objpool_release(p, a);
    sleep_ms(20);
    CHECK(objpool_acquire(p) == a); /* still fresh */
    objpool_release(p, a);
    sleep_ms(150);
    void *b = objpool_acquire(p);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_EXPIRED], 1);
    CHECK_EQ(stats(p).misses, 2);
    /* objpool_evict_expired() destroys without an acquire */
    objpool_release(p, b);
    sleep_ms(150);
    objpool_evict_expired(p);
    CHECK_EQ(stats(p).idle, 0);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_EXPIRED], 2);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

static void t_max_lifetime(void)
{
    objpool_t *p = new_pool(10);
    objpool_set_max_lifetime_ms(p, 300);
    void *a = objpool_acquire(p);
    objpool_release(p, a);
    sleep_ms(100); /* under 90% of 300 ms: never expired, whatever the jitter */
    CHECK(objpool_acquire(p) == a);
    objpool_release(p, a);
    sleep_ms(250); /* past 300 ms while idle: not reused */
    void *b = objpool_acquire(p);
    CHECK(b != a);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], 1);
    /* past max_lifetime while leased: the release destroys */
    sleep_ms(350);
    CHECK_EQ(objpool_release(p, b), OBJPOOL_DESTROYED);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], 2);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* A max_lifetime set after the objects exist applies to them. */
static void t_lifetime_set_later(void)
{
    objpool_t *p = new_pool(10);
    void *a = objpool_acquire(p);
    objpool_release(p, a);
    sleep_ms(120);
    objpool_set_max_lifetime_ms(p, 100);
    void *b = objpool_acquire(p);
    CHECK(b != a);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], 1);
    objpool_release(p, b);
    objpool_free(p);
}

/* An eviction pass remembers the earliest deadline of the idle objects and
 * skips the ring until then. A setting changed after such a pass moves the
 * deadlines: the next pass must see them (here both settings, each made
 * after a pass that found nothing to do, with no acquire in between). */
static void t_evict_after_setting_change(void)
{
    objpool_t *p = new_pool(10);
    void *o[3];
    for (int i = 0; i < 3; i++)
        o[i] = objpool_acquire(p);
    for (int i = 0; i < 3; i++)
        objpool_release(p, o[i]);
    objpool_evict_expired(p); /* no limit set: nothing ever expires */
    CHECK_EQ(stats(p).idle, 3);
    objpool_set_idle_timeout_ms(p, 30);
    sleep_ms(60);
    objpool_evict_expired(p);
    CHECK_EQ(stats(p).idle, 0);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_EXPIRED], 3);

    objpool_set_idle_timeout_ms(p, 0);
    void *a = objpool_acquire(p);
    objpool_release(p, a);
    objpool_evict_expired(p);
    CHECK_EQ(stats(p).idle, 1);
    sleep_ms(60);
    objpool_set_max_lifetime_ms(p, 30); /* a is older than that already */
    objpool_evict_expired(p);
    CHECK_EQ(stats(p).idle, 0);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], 1);

    /* A later, fresher park may not hide an earlier deadline: b parks
     * first with the nearer deadline, c after it. */
    objpool_set_max_lifetime_ms(p, 0);
    objpool_set_idle_timeout_ms(p, 40);
    void *b = objpool_acquire(p);
    void *c = objpool_acquire(p);
    objpool_release(p, b);
    objpool_evict_expired(p);
    sleep_ms(30);
    objpool_release(p, c);
    sleep_ms(25); /* b: 55 ms idle, c: 25 ms */
    objpool_evict_expired(p);
    CHECK(stats(p).discarded[OBJPOOL_DISCARD_EXPIRED] >= 4); /* c too if we overslept */
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The jitter spreads deadlines over (90%, 100%] of max_lifetime. The checks
 * that need a time window are made only if the sleeps landed in it (a
 * loaded machine may oversleep). */
static void t_lifetime_jitter(void)
{
    objpool_t *p = new_pool(1000);
    objpool_set_max_lifetime_ms(p, 1000);
    enum { N = 200 };
    static void *o[N];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0); /* every object is younger than this */
    for (int i = 0; i < N; i++)
        o[i] = objpool_acquire(p);
    for (int i = 0; i < N; i++)
        objpool_release(p, o[i]);
    int checked = 0;
    sleep_ms(850);
    objpool_evict_expired(p);
    if (elapsed_ms(&t0) < 895) { /* under 90%: nothing may have expired */
        CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], 0);
        checked++;
    }
    sleep_ms(950 - elapsed_ms(&t0));
    long before = elapsed_ms(&t0);
    objpool_evict_expired(p);
    if (before > 905 && elapsed_ms(&t0) < 995) { /* ~95%: some expired, not all */
        long mid = (long)stats(p).discarded[OBJPOOL_DISCARD_LIFETIME];
        CHECK(mid > 0 && mid < N);
        checked++;
    }
    sleep_ms(1050 - elapsed_ms(&t0));
    objpool_evict_expired(p); /* past 100%: all expired, whatever the timing */
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_LIFETIME], N);
    if (checked < 2)
        printf("lifetime_jitter: the machine overslept, %d of 2 window checks made\n", checked);
    objpool_free(p);
}

static void t_clear(void)
{
    objpool_t *p = new_pool(10);
    void *o[4];
    for (int i = 0; i < 4; i++)
        o[i] = objpool_acquire(p);
    release_ids(p, o, 3);
    objpool_clear(p);
    CHECK_EQ(stats(p).idle, 0);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_CLEARED], 3);
    CHECK_EQ(destroyed, 3);
    CHECK(objpool_is_leased(p, o[3])); /* leases are not touched */
    CHECK_EQ(objpool_release(p, o[3]), OBJPOOL_PARKED);
    objpool_free(p);
    CHECK_EQ(destroyed, 4);
}

static void t_free_destroys_idle(void)
{
    objpool_t *p = new_pool(10);
    void *o[5];
    for (int i = 0; i < 5; i++)
        o[i] = objpool_acquire(p);
    release_ids(p, o, 5);
    CHECK_EQ(destroyed, 0);
    objpool_free(p);
    CHECK_EQ(destroyed, 5);
    objpool_free(NULL); /* a no-op */
}

/* Lowering max_size destroys the oldest surplus idle objects. */
static void t_shrink(void)
{
    objpool_t *p = new_pool(10);
    void *o[6];
    for (int i = 0; i < 6; i++)
        o[i] = objpool_acquire(p);
    release_ids(p, o, 6);
    objpool_set_max_size(p, 2);
    CHECK_EQ(stats(p).idle, 2);
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_FULL], 4);
    CHECK(objpool_acquire(p) == o[5]);
    CHECK(objpool_acquire(p) == o[4]);
    objpool_set_max_size(p, 20);
    release_ids(p, o + 4, 2);
    CHECK_EQ(stats(p).idle, 2);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

static atomic_int hook_calls;
static void *hook_obj;
static void on_bad_release(void *user, void *obj)
{
    (void)user;
    atomic_fetch_add(&hook_calls, 1);
    hook_obj = obj;
}

/* A release of an object this pool never lent: refused, counted, pool as it was. */
static void t_foreign_release(void)
{
    objpool_t *p = new_pool(10), *q = new_pool(10);
    objpool_set_bad_release_hook(p, on_bad_release);
    void *a = objpool_acquire(p);
    void *b = objpool_acquire(p);
    objpool_release(p, b);
    void *x = objpool_acquire(q); /* q's object released into p */
    objpool_stats_t before = stats(p);
    errno = 1234;
    CHECK_EQ(objpool_release(p, x), OBJPOOL_ENOTLEASED);
    CHECK_EQ(errno, 1234);
    int local;
    CHECK_EQ(objpool_release(p, &local), OBJPOOL_ENOTLEASED);
    CHECK_EQ(objpool_discard(p, &local, OBJPOOL_DISCARD_BROKEN), OBJPOOL_ENOTLEASED);
    objpool_stats_t after = stats(p);
    CHECK_EQ(after.bad_releases, before.bad_releases + 3);
    CHECK_EQ(after.released, before.released);
    CHECK_EQ(after.idle, before.idle);
    CHECK_EQ(after.leased, before.leased);
    CHECK_EQ(after.discarded[OBJPOOL_DISCARD_BROKEN], 0);
    CHECK_EQ(hook_calls, 3);
    CHECK(hook_obj == &local);
    CHECK_EQ(destroyed, 0);                 /* nothing destroyed */
    CHECK(objpool_is_leased(q, x));         /* q's lease intact */
    CHECK(objpool_is_leased(p, a));
    CHECK(objpool_acquire(p) == b);         /* p still works */
    objpool_release(p, a);
    objpool_release(p, b);
    objpool_release(q, x);
    CHECK_EQ(stats(q).bad_releases, 0);
    objpool_free(p);
    objpool_free(q);
    CHECK_EQ(destroyed, created);
}

/* A second release of the same lease: refused, counted, pool unchanged. */
static void t_double_release(void)
{
    objpool_t *p = new_pool(10);
    void *a = objpool_acquire(p);
    void *b = objpool_acquire(p);
    CHECK_EQ(objpool_release(p, a), OBJPOOL_PARKED);
    objpool_stats_t before = stats(p);
    CHECK_EQ(objpool_release(p, a), OBJPOOL_ENOTLEASED);
    objpool_stats_t after = stats(p);
    CHECK_EQ(after.bad_releases, 1);
    CHECK_EQ(after.idle, 1);        /* not parked twice */
    CHECK_EQ(after.parked, before.parked);
    CHECK_EQ(after.released, before.released);
    /* a discarded object released again is refused too (no double destroy) */
    CHECK_EQ(objpool_discard(p, b, OBJPOOL_DISCARD_BROKEN), OBJPOOL_DESTROYED);
    CHECK_EQ(objpool_release(p, b), OBJPOOL_ENOTLEASED);
    CHECK_EQ(stats(p).bad_releases, 2);
    CHECK_EQ(destroyed, 1);
    /* the pool stays consistent: one idle, handed out once */
    void *c = objpool_acquire(p), *d = objpool_acquire(p);
    CHECK(c == a);
    CHECK(d != a);
    objpool_release(p, c);
    objpool_release(p, d);
    CHECK_EQ(stats(p).idle, 2);
    CHECK_EQ(stats(p).leased, 0);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* An adoption taken back (a create that failed after it was adopted): the
 * lease is gone, its acquire and miss are a create failure, the object is
 * destroyed once; a second take-back, or one of an object never adopted,
 * is a bad release that changes nothing. */
static void t_adopt_failed(void)
{
    objpool_t *p = new_pool(10);
    objpool_set_bad_release_hook(p, on_bad_release);
    void *kept = objpool_acquire(p); /* a real miss, to see only one undone */
    struct obj *o = calloc(1, sizeof *o);
    CHECK(o != NULL);
    CHECK_EQ(objpool_adopt(p, o, 0), 0);
    CHECK_EQ(stats(p).misses, 2);
    errno = 4321;
    CHECK_EQ(objpool_adopt_failed(p, o), OBJPOOL_DESTROYED);
    CHECK_EQ(errno, 4321);
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.acquired, 1);
    CHECK_EQ(s.misses, 1);
    CHECK_EQ(s.create_failures, 1);
    CHECK_EQ(s.released, 0);
    CHECK_EQ(s.leased, 1);
    CHECK_EQ(s.idle, 0);
    CHECK_EQ(destroyed, 1);
    CHECK(!objpool_is_leased(p, o));
    int local;
    CHECK_EQ(objpool_adopt_failed(p, &local), OBJPOOL_ENOTLEASED);
    CHECK_EQ(stats(p).bad_releases, 1);
    CHECK_EQ(stats(p).create_failures, 1);
    CHECK_EQ(hook_calls, 1);
    CHECK(objpool_is_leased(p, kept));
    objpool_release(p, kept);
    objpool_free(p);
    CHECK_EQ(destroyed, created + 1); /* the adopted object was not made by create */
}

/* ---- the scoped borrow ------------------------------------------------------ */

static int leased_now(objpool_t *p)
{
    return (int)stats(p).leased;
}

static void t_borrow_normal(void)
{
    objpool_t *p = new_pool(10);
    void *seen = NULL;
    int ran = 0;
    OBJPOOL_BORROW(p, struct obj *, o) {
        ran++;
        seen = o;
        CHECK(objpool_is_leased(p, o));
        CHECK_EQ(leased_now(p), 1);
    }
    CHECK_EQ(ran, 1);
    CHECK_EQ(leased_now(p), 0);
    CHECK_EQ(stats(p).parked, 1);
    CHECK(!objpool_is_leased(p, seen));
    /* the next borrow reuses it */
    OBJPOOL_BORROW(p, struct obj *, o) {
        CHECK(o == seen);
    }
    CHECK_EQ(stats(p).hits, 1);
    CHECK_EQ(stats(p).bad_releases, 0);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

static void t_borrow_break(void)
{
    objpool_t *p = new_pool(10);
    int after_break = 0;
    for (int i = 0; i < 3; i++) {
        OBJPOOL_BORROW(p, struct obj *, o) {
            CHECK(o != NULL);
            if (i >= 0)
                break;
            after_break = 1;
        }
        CHECK_EQ(leased_now(p), 0);
    }
    CHECK_EQ(after_break, 0);
    CHECK_EQ(stats(p).released, 3);
    /* continue leaves the scope too */
    OBJPOOL_BORROW(p, struct obj *, o) {
        (void)o;
        continue;
    }
    CHECK_EQ(leased_now(p), 0);
    CHECK_EQ(stats(p).released, 4);
    objpool_free(p);
}

static int borrow_and_return(objpool_t *p, void **seen)
{
    OBJPOOL_BORROW(p, struct obj *, o) {
        *seen = o;
        if (leased_now(p) == 1)
            return o->id;
    }
    return -1;
}

static void t_borrow_return(void)
{
    objpool_t *p = new_pool(10);
    void *seen = NULL;
    CHECK_EQ(borrow_and_return(p, &seen), 1);
    CHECK_EQ(leased_now(p), 0);
    CHECK_EQ(stats(p).released, 1);
    CHECK(!objpool_is_leased(p, seen));
    CHECK_EQ(borrow_and_return(p, &seen), 1); /* reused */
    objpool_free(p);
}

static void t_borrow_goto(void)
{
    objpool_t *p = new_pool(10);
    int reached = 0;
    OBJPOOL_BORROW(p, struct obj *, o) {
        for (int i = 0; i < 10; i++) /* jump out of nested loops */
            for (int j = 0; j < 10; j++)
                if (o && i == 3 && j == 4)
                    goto out;
        reached = 1;
    }
out:
    CHECK_EQ(reached, 0);
    CHECK_EQ(leased_now(p), 0);
    CHECK_EQ(stats(p).released, 1);
    CHECK_EQ(stats(p).idle, 1);
    objpool_free(p);
}

static void t_borrow_broken(void)
{
    objpool_t *p = new_pool(10);
    OBJPOOL_BORROW(p, struct obj *, conn) {
        if (conn)
            objpool_borrow_broken(conn);
    }
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.leased, 0);
    CHECK_EQ(s.idle, 0);
    CHECK_EQ(s.parked, 0);
    CHECK_EQ(s.discarded[OBJPOOL_DISCARD_BROKEN], 1);
    CHECK_EQ(destroyed, 1);
    /* broken then break: still destroyed */
    OBJPOOL_BORROW(p, struct obj *, conn) {
        objpool_borrow_broken(conn);
        break;
    }
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_BROKEN], 2);
    /* nested borrows: broken marks the named one only */
    OBJPOOL_BORROW(p, struct obj *, outer) {
        OBJPOOL_BORROW(p, struct obj *, inner) {
            CHECK(inner != outer);
            objpool_borrow_broken(outer);
        }
        CHECK_EQ(stats(p).parked, 1); /* inner parked */
    }
    CHECK_EQ(stats(p).discarded[OBJPOOL_DISCARD_BROKEN], 3);
    CHECK_EQ(stats(p).idle, 1);
    objpool_free(p);
    CHECK_EQ(destroyed, created);
}

/* create() fails: the body does not run, nothing to release. */
static void t_borrow_acquire_fails(void)
{
    objpool_t *p = new_pool(10);
    create_fails = 1;
    int ran = 0;
    OBJPOOL_BORROW(p, struct obj *, o) {
        (void)o;
        ran = 1;
    }
    CHECK_EQ(ran, 0);
    objpool_stats_t s = stats(p);
    CHECK_EQ(s.create_failures, 1);
    CHECK_EQ(s.released, 0);
    CHECK_EQ(s.bad_releases, 0);
    objpool_free(p);
}

/* The pool argument is evaluated once. */
static int pool_evals;
static objpool_t *the_pool;
static objpool_t *get_pool(void)
{
    pool_evals++;
    return the_pool;
}

static void t_borrow_pool_once(void)
{
    the_pool = new_pool(10);
    OBJPOOL_BORROW(get_pool(), struct obj *, o) {
        (void)o;
    }
    CHECK_EQ(pool_evals, 1);
    CHECK_EQ(stats(the_pool).released, 1);
    objpool_free(the_pool);
}

/* ---- threads -------------------------------------------------------------- */

enum { THREADS = 8, ROUNDS = 100000 };
static objpool_t *tp;
static atomic_long dup_handouts, acquire_failures;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    struct obj *held[3];
    for (int r = 0; r < ROUNDS; r++) {
        int n = 1 + (int)(rand_r(&seed) % 3); /* hold 1..3 at once */
        for (int i = 0; i < n; i++) {
            held[i] = objpool_acquire(tp);
            if (!held[i]) {
                atomic_fetch_add(&acquire_failures, 1);
                n = i;
                break;
            }
            if (atomic_exchange(&held[i]->owned, 1) != 0)
                atomic_fetch_add(&dup_handouts, 1);
        }
        for (int i = 0; i < n; i++) {
            atomic_store(&held[i]->owned, 0);
            if (r % 97 == 0 && i == 0)
                objpool_discard(tp, held[i], OBJPOOL_DISCARD_BROKEN);
            else
                objpool_release(tp, held[i]);
        }
    }
    return NULL;
}

static void t_threads(void)
{
    tp = new_pool(6); /* smaller than the demand: parks, full-destroys and misses all happen */
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    objpool_stats_t s = stats(tp);
    CHECK_EQ(dup_handouts, 0);
    CHECK_EQ(acquire_failures, 0);
    CHECK_EQ(s.leased, 0);
    CHECK_EQ(s.bad_releases, 0);
    CHECK_EQ(s.acquired, s.hits + s.misses);
    CHECK_EQ(s.released, s.acquired);
    CHECK_EQ(s.misses, created);
    /* nothing lost: every object made is either destroyed or idle */
    CHECK_EQ(destroyed + (long)s.idle, created);
    uint64_t discards = 0;
    for (int i = 0; i < OBJPOOL_DISCARD_MAX; i++)
        discards += s.discarded[i];
    CHECK_EQ(discards, destroyed);
    CHECK(s.hits > 0);
    /* (whether any release found the pool full depends on the scheduler) */
    CHECK(s.peak_idle <= 6);
    printf("threads: acquired %llu hits %llu misses %llu destroyed %ld idle %zu peak_leased %zu\n",
           (unsigned long long)s.acquired, (unsigned long long)s.hits,
           (unsigned long long)s.misses, (long)destroyed, s.idle, s.peak_leased);
    objpool_free(tp);
    CHECK_EQ(destroyed, created);
}

/* ---- driver ----------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"reuse", t_reuse},
    {"full_destroys", t_full_destroys},
    {"max_size_zero", t_max_size_zero},
    {"unbounded", t_unbounded},
    {"lifo", t_lifo},
    {"keyed", t_keyed},
    {"fifo", t_fifo},
    {"validate_rejects", t_validate_rejects},
    {"reset_on_reuse", t_reset_on_reuse},
    {"idle_timeout", t_idle_timeout},
    {"max_lifetime", t_max_lifetime},
    {"lifetime_set_later", t_lifetime_set_later},
    {"lifetime_jitter", t_lifetime_jitter},
    {"evict_after_setting_change", t_evict_after_setting_change},
    {"clear", t_clear},
    {"free_destroys_idle", t_free_destroys_idle},
    {"shrink", t_shrink},
    {"foreign_release", t_foreign_release},
    {"double_release", t_double_release},
    {"adopt_failed", t_adopt_failed},
    {"borrow_normal", t_borrow_normal},
    {"borrow_break", t_borrow_break},
    {"borrow_return", t_borrow_return},
    {"borrow_goto", t_borrow_goto},
    {"borrow_broken", t_borrow_broken},
    {"borrow_acquire_fails", t_borrow_acquire_fails},
    {"borrow_pool_once", t_borrow_pool_once},
    {"threads", t_threads},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE | --list\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!strcmp(argv[1], "--list")) {
            puts(cases[i].name);
            continue;
        }
        if (strcmp(argv[1], cases[i].name))
            continue;
        cases[i].fn();
        if (failures) {
            fprintf(stderr, "%s: %d check(s) failed\n", cases[i].name, failures);
            return 1;
        }
        printf("%s: ok\n", cases[i].name);
        return 0;
    }
    if (!strcmp(argv[1], "--list"))
        return 0;
    fprintf(stderr, "no such case: %s\n", argv[1]);
    return 2;
}

/*
 * slab_test - unit cases for preload/core/slab.c, the mmap'd block
 * allocator for per-connection state beyond a record's area.
 *
 *   slab_test CASE      run one case; exit 0 on success, 1 with a message
 *   slab_test --list    the case names (tests/core/slab.bats has one @test each)
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "slab.h"

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            exit(1);                                                      \
        }                                                                 \
    } while (0)

/* Sizes out of range are refused; the block size is rounded to 16. */
static void case_sizes(void)
{
    static struct slab s;
    CHECK(slab_init(&s, 0) < 0);
    CHECK(slab_init(&s, SLAB_MAX_BLOCK + 1) < 0);
    CHECK(slab_init(&s, 1) == 0);
    CHECK(s.size == 16);
    CHECK(slab_init(&s, 4000) == 0);
    CHECK(s.size == 4000);
    CHECK(slab_init(&s, 4001) == 0);
    CHECK(s.size == 4016);
}

/* Blocks are distinct, 16-byte aligned and zeroed, a freed one is zeroed
 * again when handed out, and free goes back to the same slab. */
static void case_zeroed(void)
{
    static struct slab s;
    CHECK(slab_init(&s, 3000) == 0);
    unsigned char *a = slab_alloc(&s), *b = slab_alloc(&s);
    CHECK(a && b && a != b);
    CHECK(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0);
    CHECK((size_t)(a > b ? a - b : b - a) >= s.size);
    for (size_t i = 0; i < s.size; i++)
        CHECK(a[i] == 0 && b[i] == 0);
    memset(a, 0xa5, s.size);
    CHECK(atomic_load(&s.in_use) == 2);
    slab_free(&s, a);
    slab_free(&s, NULL);
    CHECK(atomic_load(&s.in_use) == 1);
    unsigned char *c = slab_alloc(&s);
    CHECK(c == a); /* the freed block is reused before any new one */
    for (size_t i = 0; i < s.size; i++)
        CHECK(c[i] == 0);
    slab_free(&s, b);
    slab_free(&s, c);
    CHECK(atomic_load(&s.in_use) == 0);
}

/* Many blocks: new chunks are mapped as the current one runs out, no two
 * blocks overlap, and freeing them all lets the next round map nothing. */
static void case_chunks(void)
{
    static struct slab s;
    enum { N = 200 };
    static unsigned char *p[N];
    CHECK(slab_init(&s, 8192) == 0);
    for (int i = 0; i < N; i++) {
        p[i] = slab_alloc(&s);
        CHECK(p[i]);
        memset(p[i], i & 0xff, s.size);
    }
    size_t mapped = s.mapped;
    CHECK(mapped > 1);
    CHECK(mapped <= (N * s.size + s.chunk_bytes - 1) / s.chunk_bytes);
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < s.size; k += 512)
            CHECK(p[i][k] == (i & 0xff)); /* nobody wrote over it */
    for (int i = 0; i < N; i++)
        slab_free(&s, p[i]);
    for (int i = 0; i < N; i++)
        CHECK((p[i] = slab_alloc(&s)) != NULL);
    CHECK(s.mapped == mapped);
}

/* 8 threads x 50000 rounds of alloc, stamp, check, free: a block is never
 * handed to two threads at once. */
static struct slab shared;

static void *worker(void *arg)
{
    uintptr_t me = (uintptr_t)arg;
    for (int i = 0; i < 50000; i++) {
        uintptr_t *b = slab_alloc(&shared);
        if (!b || b[0] != 0 || b[7] != 0)
            return (void *)1;
        b[0] = me;
        b[7] = me;
        for (volatile int spin = 0; spin < (i & 7); spin++)
            ;
        /* atomic loads: another thread holding it too would write it meanwhile */
        if (__atomic_load_n(&b[0], __ATOMIC_RELAXED) != me || __atomic_load_n(&b[7], __ATOMIC_RELAXED) != me)
            return (void *)1;
        slab_free(&shared, b);
    }
    return NULL;
}

static void case_threads(void)
{
    enum { T = 8 };
    pthread_t th[T];
    CHECK(slab_init(&shared, 64) == 0);
    for (uintptr_t i = 0; i < T; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(i + 1)) == 0);
    for (int i = 0; i < T; i++) {
        void *rc;
        CHECK(pthread_join(th[i], &rc) == 0);
        CHECK(rc == NULL);
    }
    CHECK(atomic_load(&shared.in_use) == 0);
    CHECK(shared.mapped == 1);
}

/* A signal handler frees blocks (as one closing a lease frees its record)
 * while the thread it interrupts allocates: every block comes back. */
static struct slab sig_slab;
static void *_Atomic pending[64];

static void on_alarm(int sig)
{
    (void)sig;
    for (int i = 0; i < 64; i++) {
        void *p = atomic_exchange(&pending[i], NULL);
        slab_free(&sig_slab, p);
    }
}

static void case_signal_free(void)
{
    CHECK(slab_init(&sig_slab, 256) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    struct itimerval it = {{0, 200}, {0, 200}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    for (int round = 0; round < 200000; round++) {
        void *p = slab_alloc(&sig_slab);
        CHECK(p);
        void *old = atomic_exchange(&pending[round & 63], p);
        slab_free(&sig_slab, old);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
    on_alarm(SIGALRM);
    CHECK(atomic_load(&sig_slab.in_use) == 0);
}

/* fork: the child allocates and frees after its parent held every lock. */
static void case_fork_locks(void)
{
    static struct slab s;
    CHECK(slab_init(&s, 128) == 0);
    slab_lock_all();
    slab_unlock_all();
    slab_lock_all();
    slab_reinit_all(); /* what the child does: it starts unlocked */
    void *p = slab_alloc(&s);
    CHECK(p);
    slab_free(&s, p);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"sizes", case_sizes},   {"zeroed", case_zeroed},           {"chunks", case_chunks},
    {"threads", case_threads}, {"signal_free", case_signal_free}, {"fork_locks", case_fork_locks},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE | --list\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!strcmp(argv[1], "--list")) {
            printf("%s\n", cases[i].name);
            continue;
        }
        if (strcmp(argv[1], cases[i].name))
            continue;
        cases[i].fn();
        printf("%s: ok\n", cases[i].name);
        return 0;
    }
    if (!strcmp(argv[1], "--list"))
        return 0;
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
}

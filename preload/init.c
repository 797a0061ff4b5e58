/* init.c - start-up, the graveyard, exit. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filepool.h"
#include "inherit.h"
#include "log.h"
#include "real.h"
#include "reasons.h"
#include "report.h"
#include "sockpool.h"

_Atomic int init_state;
pid_t objpool_pid;
__thread int vfork_pending __attribute__((tls_model("initial-exec")));

/* Only after a vfork on this thread: are we the child still? The parent
 * clears the flag the first time it looks after vfork returned. */
int vfork_child_slow(void)
{
    if (getpid() != objpool_pid)
        return 1;
    vfork_pending = 0;
    return 0;
}
struct config cfg;
int pooling_on;

/* The log file lives at a high fd, owned by objpool like an idle object, so
 * it takes no number the program expects and survives its close loops. */
static void open_log_file(void)
{
    if (!cfg.log_file[0])
        return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, cfg.log_file,
                          O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_msg(LOG_ERROR, "log: %s: %s", cfg.log_file, "cannot open; logging to stderr");
        return;
    }
    int hi = reg_nslots ? reg_move_high(fd) : -1;
    if (hi >= 0) {
        raw_close(fd);
        fd = hi;
        struct lease *l = lease_alloc();
        if (l) {
            l->kind = KIND_INTERNAL;
            l->fd = fd;
            atomic_store(&l->state, STATE_LEASED);
            reg_set(fd, l);
        }
    }
    log_fd = fd;
}

static unsigned idle_band(void)
{
    unsigned band = 16;
    for (int i = 0; i < cfg.ntargets; i++)
        band += cfg.targets[i].spec->opts.max_size + cfg.targets[i].spec->opts.prewarm + 2;
    return band;
}

static void init_run(void)
{
    real_resolve();
    config_load(&cfg, NULL, NULL);
    if (cfg.disabled || cfg.errors || !cfg.nspecs)
        return; /* the error lines are printed; the program runs unpooled */
    config_resolve(&cfg);
    if (!cfg.ntargets)
        return;
    if (reg_init(idle_band()) < 0) {
        log_msg(LOG_ERROR, "init: cannot map the fd registry: pooling is off");
        return;
    }
    open_log_file();
    if (sockpool_setup(&cfg) < 0 || filepool_setup(&cfg) < 0) {
        log_msg(LOG_ERROR, "init: cannot create the pools: pooling is off");
        return;
    }
    objpool_pid = getpid();
    report_start();
    inherit_setup();
    pooling_on = 1;
}

void objpool_init_slow(void)
{
    int expected = INIT_NONE;
    if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING))
        return; /* done, or running on some thread: pass through meanwhile */
    int saved = errno;
    in_objpool = 1;
    init_run();
    in_objpool = 0;
    atomic_store_explicit(&init_state, INIT_DONE, memory_order_release);
    errno = saved;
    if (pooling_on)
        sockpool_prewarm();
}

void bury_graveyard(void)
{
    struct lease *l = graveyard_take();
    while (l) {
        struct lease *next = l->next;
        objpool_discard(l->target->pool, l, REASON_INTERRUPTED);
        l = next;
    }
}

__attribute__((constructor(101))) static void objpool_constructor(void)
{
    objpool_init_slow();
}

__attribute__((destructor(101))) static void objpool_destructor(void)
{
    if (!pooling_on || in_objpool)
        return;
    in_objpool = 1;
    bury_graveyard();
    report_write(REPORT_AT_EXIT);
    in_objpool = 0;
}

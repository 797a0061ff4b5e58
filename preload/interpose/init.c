/* init.c - objpool starts and stops here, and nowhere else: the
 * constructor reads the configuration and sets up every layer below, the
 * destructor writes the report. libfaketime's discipline: real functions
 * resolved once, init marked started (base/state.h) before it runs, so a
 * call arriving meanwhile passes straight through. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../config/config.h"
#include "../conn/conn.h"
#include "../core/registry.h"
#include "../file/filepool.h"
#include "../lease/inherit.h"
#include "../lease/lease.h"
#include "../lease/live.h"
#include "../report/report.h"
#include "../tls/tls.h"
#include "interpose.h"

/* The log file lives at a high fd, owned by objpool like an idle object, so
 * it takes no number the program expects and survives its close loops. */
static void open_log_file(void)
{
    if (!cfg.log_file[0])
        return;
    int fd = real.openat(AT_FDCWD, cfg.log_file,
                          O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_msg(LOG_ERROR, "log: %s: %s", cfg.log_file, "cannot open; logging to stderr");
        return;
    }
    int hi = reg_nslots ? reg_move_high(fd) : -1;
    if (hi >= 0) {
        raw_close(fd);
        fd = hi;
        struct record *l = record_alloc();
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

/* The name the report gives the program, taken before main can rewrite
 * its argv[0] (see objpool_program in base/state.h). */
static void copy_program_name(void)
{
    const char *name = program_invocation_short_name;
    size_t n = name ? strnlen(name, OBJPOOL_PROGRAM_MAX - 1) : 0;
    memcpy(objpool_program, name ? name : "", n);
    objpool_program[n] = '\0';
}

static void init_run(void)
{
    real_resolve();
    copy_program_name();
    config_load(&cfg, NULL, NULL);
    if (cfg.disabled || cfg.errors || !cfg.nspecs)
        return; /* the error lines are printed; the program runs unpooled */
    config_resolve(&cfg);
    if (!cfg.ntargets)
        return;
    live_setup(); /* before any pool and any fork handler */
    fd_hooks_install(); /* before the band exists */
    if (reg_init(idle_band()) < 0) {
        log_msg(LOG_ERROR, "init: cannot map the fd registry: pooling is off");
        return;
    }
    open_log_file();
    if (conn_setup(&cfg) < 0 || filepool_setup(&cfg) < 0 || tls_setup(&cfg) < 0) {
        log_msg(LOG_ERROR, "init: cannot create the pools: pooling is off");
        return;
    }
    objpool_pid = getpid();
    report_start();
    inherit_setup();
    pooling_on = 1;
}

static void objpool_init(void)
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
        conn_prewarm();
}

__attribute__((constructor(101))) static void objpool_constructor(void)
{
    objpool_init();
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

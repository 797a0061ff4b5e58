/* report.c - what was reused, written at exit (and before exec).
 *
 * Text for people (an aligned table on stderr by default) or JSON, one
 * object per process per line, for `objpool report` to sum. Written with
 * raw write(2) from a fixed buffer: no stdio, no malloc. */
#include "report.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/proto_id.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/reasons.h"
#include "../lease/lease.h"

static uint64_t start_ns;
/* A vfork child shares our memory and must neither report nor reset the
 * account of the process it came from: it is another pid. */
int report_is_owner(void)
{
    return getpid() == objpool_pid;
}


/* A forked child starts its own account: zero counters, a new clock. */
static void report_after_fork(void);

void report_start(void)
{
    start_ns = now_ns();
    pthread_atfork(NULL, NULL, report_after_fork);
}

/* ---- an output buffer that flushes to an fd ---------------------------- */
struct out {
    int fd;
    size_t len;
    char buf[65536];
};
static struct out out_buf; /* at exit or exec: one thread reports */

static void out_flush(struct out *o)
{
    write_all(o->fd, o->buf, o->len);
    o->len = 0;
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vbuf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (o->len + n > sizeof o->buf)
        out_flush(o);
    memcpy(o->buf + o->len, line, n);
    o->len += n;
}

/* JSON string: escape quotes, backslashes and control bytes. */
static void out_json_str(struct out *o, const char *s)
{
    out_printf(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            out_printf(o, "\\%c", c);
        else if (c < 32)
            out_printf(o, "\\u00%c%c", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
        else
            out_printf(o, "%c", c);
    }
    out_printf(o, "\"");
}

/* ---- gathering --------------------------------------------------------- */
struct row {
    struct target *t;
    objpool_stats_t st;
    uint64_t discarded;
    double mean_create_us;
    double saved_ms;
};

static void gather(struct target *t, struct row *r)
{
    r->t = t;
    t->ops->stats(t, &r->st); /* a file target: the sum of its per-path pools */
    r->discarded = 0;
    for (int i = 0; i < OBJPOOL_DISCARD_MAX; i++)
        r->discarded += r->st.discarded[i];
    uint64_t timed = atomic_load(&t->ctr->create_timed);
    r->mean_create_us = timed ? (double)atomic_load(&t->ctr->create_ns) / (double)timed / 1000.0 : 0.0;
    r->saved_ms = r->mean_create_us * (double)r->st.hits / 1000.0;
}

static int active(const struct row *r)
{
    /* idle objects alone are no activity: they may be left from work
     * reported before a failed exec */
    return r->st.acquired || r->st.create_failures || r->st.discarded[OBJPOOL_DISCARD_EXPIRED] ||
           atomic_load(&r->t->ctr->prewarmed) || atomic_load(&r->t->ctr->prewarm_failed);
}

/* The kind's word ("tcp", "unix", "file"): its table's name, the one
 * source of it. */
static const char *kind_name(const struct target *t)
{
    return t->ops ? t->ops->name : "none";
}

/* The protocol of a connection pool: as configured, or for proto=auto the
 * ones its connections turned out to speak ("redis", "http+unknown"), or
 * "auto" before any was detected. */
static const char *pool_proto(const struct target *t, char *buf, size_t size)
{
    if (t->spec->opts.proto != PROTO_AUTO)
        return proto_name(t->spec->opts.proto);
    unsigned seen = atomic_load(&t->ctr->proto_seen);
    size_t n = 0;
    buf[0] = '\0';
    for (int id = 0; id < PROTO_NIDS; id++)
        if (seen & (1u << id))
            n += fmt_buf(buf + n, size - n, "%s%s", n ? "+" : "", proto_name(id));
    return n ? buf : "auto";
}

static double hit_ratio(const struct row *r)
{
    return r->st.acquired ? (double)r->st.hits / (double)r->st.acquired : 0.0;
}

/* A PostgreSQL pool's replay figures, as its "postgres" object. */
static void write_json_postgres(struct out *o, const struct target *t)
{
    if (t->spec->opts.proto != PROTO_POSTGRES && !(atomic_load(&t->ctr->proto_seen) & (1u << PROTO_POSTGRES)))
        return;
    const struct target_counters *c = t->ctr;
    out_printf(o, ",\"postgres\":{\"replayed\":%llu,\"startup_mismatch\":%llu,\"auth_unverifiable\":%llu,"
                  "\"auth_mismatch\":%llu,\"reset_rollback\":%llu}",
               (unsigned long long)atomic_load(&c->pg_replayed),
               (unsigned long long)atomic_load(&c->pg_startup_mismatch),
               (unsigned long long)atomic_load(&c->pg_auth_unverifiable),
               (unsigned long long)atomic_load(&c->pg_auth_mismatch),
               (unsigned long long)atomic_load(&c->pg_reset_rollback));
}

/* A MySQL pool's replay figures, as its "mysql" object. */
static void write_json_mysql(struct out *o, const struct target *t)
{
    if (t->spec->opts.proto != PROTO_MYSQL && !(atomic_load(&t->ctr->proto_seen) & (1u << PROTO_MYSQL)))
        return;
    const struct target_counters *c = t->ctr;
    out_printf(o, ",\"mysql\":{\"replayed\":%llu,\"startup_mismatch\":%llu,\"auth_unverifiable\":%llu,"
                  "\"auth_mismatch\":%llu,\"switched\":%llu,\"no_reset\":%llu}",
               (unsigned long long)atomic_load(&c->my_replayed),
               (unsigned long long)atomic_load(&c->my_startup_mismatch),
               (unsigned long long)atomic_load(&c->my_auth_unverifiable),
               (unsigned long long)atomic_load(&c->my_auth_mismatch),
               (unsigned long long)atomic_load(&c->my_switched),
               (unsigned long long)atomic_load(&c->my_no_reset));
}

static void write_json(struct out *o, struct row *rows, int n, double wall_s, int when)
{
    out_printf(o, "{\"pid\":%d,\"program\":", (int)getpid());
    out_json_str(o, objpool_program);
    out_printf(o, ",\"event\":\"%s\",\"wall_s\":%.3f,\"pools\":[", when == REPORT_AT_EXEC ? "exec" : "exit", wall_s);
    for (int i = 0; i < n; i++) {
        struct row *r = &rows[i];
        out_printf(o, "%s{\"target\":", i ? "," : "");
        out_json_str(o, r->t->spec->url);
        out_printf(o, ",\"address\":");
        out_json_str(o, r->t->addr_text[0] ? r->t->addr_text : r->t->spec->path);
        if (r->t->family) {
            char pbuf[96];
            out_printf(o, ",\"proto\":\"%s\"", pool_proto(r->t, pbuf, sizeof pbuf));
        }
        out_printf(o, ",\"kind\":\"%s\",\"acquired\":%llu,\"hits\":%llu,\"misses\":%llu,"
                      "\"create_failures\":%llu,\"released\":%llu,\"parked\":%llu,\"discarded\":{",
                   kind_name(r->t), (unsigned long long)r->st.acquired, (unsigned long long)r->st.hits,
                   (unsigned long long)r->st.misses, (unsigned long long)r->st.create_failures,
                   (unsigned long long)r->st.released, (unsigned long long)r->st.parked);
        for (int k = 0; k < report_nreasons; k++)
            out_printf(o, "%s\"%s\":%llu", k ? "," : "", reason_name(report_reasons[k]),
                       (unsigned long long)r->st.discarded[report_reasons[k]]);
        out_printf(o, "},\"discarded_total\":%llu,\"idle\":%zu,\"peak_idle\":%zu,\"peak_leased\":%zu,"
                      "\"hit_ratio\":%.4f,\"mean_create_us\":%.1f,\"saved_ms\":%.3f,"
                      "\"stale_reuse_errors\":%llu,\"prewarmed\":%llu,\"prewarm_failed\":%llu",
                   (unsigned long long)r->discarded, r->st.idle, r->st.peak_idle, r->st.peak_leased,
                   hit_ratio(r), r->mean_create_us, r->saved_ms,
                   (unsigned long long)atomic_load(&r->t->ctr->stale_reuse_errors),
                   (unsigned long long)atomic_load(&r->t->ctr->prewarmed),
                   (unsigned long long)atomic_load(&r->t->ctr->prewarm_failed));
        write_json_postgres(o, r->t);
        write_json_mysql(o, r->t);
        if (r->t->ops->report_more) {
            char more[512];
            r->t->ops->report_more(r->t, 1, more, sizeof more);
            out_printf(o, "%s", more);
        }
        out_printf(o, "}");
    }
    out_printf(o, "]}\n");
}

static void pad(struct out *o, const char *s, int width)
{
    int n = (int)strlen(s);
    out_printf(o, "%s", s);
    for (; n < width; n++)
        out_printf(o, " ");
}

#define TEXT_COLS 8
static const char *const text_heads[TEXT_COLS] = {"acquired", "hits", "misses", "hit%", "parked", "discard", "idle", "saved"};

/* One table row's figures as text. */
static void text_cells(const struct row *r, char num[TEXT_COLS][32])
{
    fmt_buf(num[0], 32, "%llu", (unsigned long long)r->st.acquired);
    fmt_buf(num[1], 32, "%llu", (unsigned long long)r->st.hits);
    fmt_buf(num[2], 32, "%llu", (unsigned long long)r->st.misses);
    fmt_buf(num[3], 32, "%.1f", hit_ratio(r) * 100.0);
    fmt_buf(num[4], 32, "%llu", (unsigned long long)r->st.parked);
    fmt_buf(num[5], 32, "%llu", (unsigned long long)r->discarded);
    fmt_buf(num[6], 32, "%zu", r->st.idle);
    fmt_duration(num[7], 32, r->saved_ms);
}

/* Right-align s in width, two spaces before it: every figure stands apart
 * from its neighbour whatever its size. */
static void cell(struct out *o, const char *s, int width)
{
    out_printf(o, "  ");
    for (int k = (int)strlen(s); k < width; k++)
        out_printf(o, " ");
    out_printf(o, "%s", s);
}

static void write_text(struct out *o, struct row *rows, int n, double wall_s, int when)
{
    int w = 6, cw[TEXT_COLS];
    char num[TEXT_COLS][32];
    for (int k = 0; k < TEXT_COLS; k++)
        cw[k] = k == 7 ? 7 : (int)strlen(text_heads[k]) < 6 ? 6 : (int)strlen(text_heads[k]);
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(rows[i].t->label);
        if (len > w)
            w = len;
        text_cells(&rows[i], num);
        for (int k = 0; k < TEXT_COLS; k++)
            if ((int)strlen(num[k]) > cw[k])
                cw[k] = (int)strlen(num[k]);
    }
    out_printf(o, "objpool[%d]: reuse report for %s (%.3f s%s)\n", (int)getpid(),
               objpool_program, wall_s, when == REPORT_AT_EXEC ? ", before exec" : "");
    out_printf(o, "  ");
    pad(o, "target", w);
    for (int k = 0; k < TEXT_COLS; k++)
        cell(o, text_heads[k], cw[k]);
    out_printf(o, "\n");
    for (int i = 0; i < n; i++) {
        struct row *r = &rows[i];
        text_cells(r, num);
        out_printf(o, "  ");
        pad(o, r->t->label, w);
        for (int k = 0; k < TEXT_COLS; k++)
            cell(o, num[k], cw[k]);
        out_printf(o, "\n");
        if (r->discarded) {
            out_printf(o, "      discarded:");
            for (int k = 0; k < report_nreasons; k++)
                if (r->st.discarded[report_reasons[k]])
                    out_printf(o, " %s %llu", reason_name(report_reasons[k]),
                               (unsigned long long)r->st.discarded[report_reasons[k]]);
            out_printf(o, "\n");
        }
        if (r->t->family) {
            char pbuf[96];
            out_printf(o, "      proto %s\n", pool_proto(r->t, pbuf, sizeof pbuf));
        }
        out_printf(o, "      peak idle %zu, peak leased %zu, create failures %llu, mean create %.1f us, "
                      "stale reuse errors %llu\n",
                   r->st.peak_idle, r->st.peak_leased, (unsigned long long)r->st.create_failures,
                   r->mean_create_us, (unsigned long long)atomic_load(&r->t->ctr->stale_reuse_errors));
        uint64_t warm = atomic_load(&r->t->ctr->prewarmed), cold = atomic_load(&r->t->ctr->prewarm_failed);
        if (warm || cold)
            out_printf(o, "      prewarmed %llu, prewarm failures %llu\n", (unsigned long long)warm,
                       (unsigned long long)cold);
        if (r->t->ops->report_more) {
            char more[512];
            r->t->ops->report_more(r->t, 0, more, sizeof more);
            if (more[0])
                out_printf(o, "      %s\n", more);
        }
    }
}

/* Where the report goes: stderr, nowhere, or a file (%p = pid), appended,
 * created 0600, never through a symbolic link. */
static int open_dest(void)
{
    if (!strcmp(cfg.report, "none"))
        return -1;
    if (!strcmp(cfg.report, "stderr"))
        return 2;
    char path[MAX_URL + 32];
    size_t n = 0;
    const char *s = cfg.report;
    for (; *s && n + 12 < sizeof path; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            n += fmt_buf(path + n, sizeof path - n, "%d", (int)getpid());
            s++;
        } else {
            path[n++] = *s;
        }
    }
    path[n] = '\0';
    if (*s) { /* cut short, it is not the configured path: write nowhere */
        log_msg(LOG_ERROR, "report: the report path is too long once %%p is expanded; no report written");
        return -1;
    }
    int fd = real.openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        log_msg(LOG_ERROR, "report: %s: %s", path, strerror(errno));
    return fd;
}

void report_write(int when)
{
    if (!report_is_owner())
        return;
    int saved = errno;
    struct row rows[64];
    int n = 0, any = 0;
    double wall_s = (double)(now_ns() - start_ns) / 1e9;
    struct out *o = &out_buf;
    o->len = 0;
    o->fd = -1;
    for (int i = 0; i < cfg.ntargets; i++) {
        struct target *t = &cfg.targets[i];
        if (!t->ops)
            continue; /* a target no pool was made for */
        t->ops->evict_expired(t);
        gather(t, &rows[n]);
        if (!active(&rows[n]))
            continue;
        if (!any) {
            o->fd = open_dest();
            if (o->fd < 0)
                break;
            any = 1;
        }
        n++;
        /* many pools: write them in groups (a JSON line stays one line as
         * the buffer only flushes whole, and the text stays a table) */
        if (n == (int)(sizeof rows / sizeof *rows)) {
            if (cfg.report_format == REPORT_JSON)
                write_json(o, rows, n, wall_s, when);
            else
                write_text(o, rows, n, wall_s, when);
            n = 0;
        }
    }
    if (any && n) {
        if (cfg.report_format == REPORT_JSON)
            write_json(o, rows, n, wall_s, when);
        else
            write_text(o, rows, n, wall_s, when);
    }
    if (any) {
        out_flush(o);
        if (o->fd > 2)
            raw_close(o->fd);
    }
    errno = saved;
}

static void zero_counters(int pools_too)
{
    for (int i = 0; i < cfg.ntargets; i++) {
        struct target *t = &cfg.targets[i];
        if (!t->ops)
            continue;
        if (pools_too)
            t->ops->reset_stats(t);
        atomic_store(&t->ctr->stale_reuse_errors, 0);
        atomic_store(&t->ctr->check_failed, 0);
        atomic_store(&t->ctr->create_ns, 0);
        atomic_store(&t->ctr->create_timed, 0);
        atomic_store(&t->ctr->prewarmed, 0);
        atomic_store(&t->ctr->prewarm_failed, 0);
    }
}

static void report_after_fork(void)
{
    zero_counters(0); /* the pools' own counters were reset by the fork handlers */
    start_ns = now_ns();
}

void report_after_exec_failed(void)
{
    if (report_is_owner())
        zero_counters(1);
}

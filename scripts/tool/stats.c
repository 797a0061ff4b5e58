/* stats.c - `objpool stats`: live statistics of running processes, read from
 * the files processes run with OBJPOOL_STATS keep (preload/lease/live.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../preload/base/proto_id.h"
#include "../../preload/core/reasons.h"
#include "../../preload/lease/live.h"
#include "tool.h"

/* Reads DIR/PID.stats (preload/lease/live.h), written by processes run with
 * OBJPOOL_STATS. A file whose process is gone is removed here: the library
 * never deletes one. Each live process becomes a report object with
 * "event":"live", and goes through the report's printers. */

/* The directory: --dir, else OBJPOOL_STATS when it names one, else the
 * library's default. */
static void stats_default_dir(char *buf, size_t size)
{
    const char *v = getenv("OBJPOOL_STATS"), *x = getenv("XDG_RUNTIME_DIR");
    if (v && *v)
        snprintf(buf, size, "%s", v);
    else if (x && x[0] == '/')
        snprintf(buf, size, "%s/objpool", x);
    else {
        /* as the library: /run/user/UID where it exists, else tmux's /tmp */
        struct stat st;
        snprintf(buf, size, "/run/user/%u", (unsigned)geteuid());
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            snprintf(buf, size, "/run/user/%u/objpool", (unsigned)geteuid());
        else
            snprintf(buf, size, "/tmp/objpool-%u", (unsigned)geteuid());
    }
}

/* Field 22 of /proc/PID/stat (start time in ticks), 0 if unreadable. */
static unsigned long long proc_start_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* A consistent copy of a slot's pool counters: the seqlock's reader side
 * (retried while a writer is inside; after many tries the last copy). */
static void read_slot_stats(const struct live_slot *s, objpool_stats_t *out)
{
    for (int tries = 0; tries < 10000; tries++) {
        uint64_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        memcpy(out, (const void *)&s->st, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t b = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
        if (!(a & 1) && a == b)
            return;
        if (tries > 100)
            usleep(100);
    }
}

/* One target (and address: a host name may give several) of a process:
 * its slots summed (a file target: all its paths). */
struct live_row {
    const struct live_slot *first;
    objpool_stats_t st;
    struct target_counters tc;
};

static void sum_stats(objpool_stats_t *o, const objpool_stats_t *s)
{
    o->acquired += s->acquired;
    o->hits += s->hits;
    o->misses += s->misses;
    o->create_failures += s->create_failures;
    o->released += s->released;
    o->parked += s->parked;
    for (int r = 0; r < OBJPOOL_DISCARD_MAX; r++)
        o->discarded[r] += s->discarded[r];
    o->idle += s->idle;
    o->peak_idle += s->peak_idle; /* as the report: the sum of the paths' peaks */
    o->peak_leased += s->peak_leased;
}

/* The protocol as the report names it (configured, or what auto saw). */
static void live_proto(const struct live_row *r, char *buf, size_t size)
{
    if (r->first->proto != PROTO_AUTO) {
        snprintf(buf, size, "%s", proto_name(r->first->proto));
        return;
    }
    unsigned seen = r->tc.proto_seen;
    size_t n = 0;
    buf[0] = '\0';
    for (int id = 0; id < PROTO_NIDS && n < size; id++)
        if (seen & (1u << id))
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "+" : "", proto_name(id));
    if (!n)
        snprintf(buf, size, "auto");
}

static const char *live_kind(uint32_t k)
{
    return k == POOL_TCP ? "tcp" : k == POOL_UNIX ? "unix" : "file";
}

/* Add the members of a new object to o, and drop it. */
static void update_new(json_t *o, json_t *add)
{
    json_object_update(o, add);
    json_decref(add);
}

/* A mapped, validated file as a report object (the schema of
 * preload/report/report.c), NULL if the header is not one. */
static json_t *live_object(const unsigned char *m, int pid)
{
    const struct live_header *h = (const void *)m;
    if (memcmp(h->magic, LIVE_MAGIC, 8) || h->version != LIVE_VERSION || h->header_size != LIVE_HEADER_SIZE ||
        h->slot_size != sizeof(struct live_slot) || h->nslots != LIVE_SLOTS || h->pid != pid)
        return NULL;
    uint32_t used = __atomic_load_n(&h->used, __ATOMIC_ACQUIRE);
    if (used > LIVE_SLOTS)
        used = LIVE_SLOTS;
    struct live_row rows[LIVE_SLOTS];
    int n = 0;
    for (uint32_t i = 0; i < used; i++) {
        const struct live_slot *s = (const struct live_slot *)(m + LIVE_HEADER_SIZE) + i;
        uint32_t fl = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
        if (!fl || !memchr(s->target, '\0', sizeof s->target) || !memchr(s->address, '\0', sizeof s->address))
            continue; /* not filled in yet, or not a name */
        struct live_row *r = NULL;
        for (int k = 0; k < n; k++)
            if (!strcmp(rows[k].first->target, s->target) && !strcmp(rows[k].first->address, s->address))
                r = &rows[k];
        if (!r) {
            r = &rows[n++];
            memset(r, 0, sizeof *r);
            r->first = s;
        }
        if (fl & LIVE_SLOT_POOL) {
            objpool_stats_t st;
            read_slot_stats(s, &st);
            sum_stats(&r->st, &st);
        }
        if (fl & LIVE_SLOT_TARGET) {
            r->tc.stale_reuse_errors += s->tc.stale_reuse_errors;
            r->tc.prewarmed += s->tc.prewarmed;
            r->tc.prewarm_failed += s->tc.prewarm_failed;
            r->tc.create_ns += s->tc.create_ns;
            r->tc.create_timed += s->tc.create_timed;
            r->tc.proto_seen |= s->tc.proto_seen;
            if (s->family)
                r->first = s; /* the connection target's own slot names it */
        }
    }
    char prog_name[LIVE_PROGRAM_MAX];
    memcpy(prog_name, h->program, sizeof prog_name);
    prog_name[sizeof prog_name - 1] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    json_t *pools = json_array();
    for (int k = 0; k < n; k++) {
        struct live_row *r = &rows[k];
        uint64_t disc = 0;
        json_t *d = json_object();
        for (int i = 0; i < report_nreasons; i++) {
            json_object_set_new(d, reason_name(report_reasons[i]),
                                json_integer((json_int_t)r->st.discarded[report_reasons[i]]));
        }
        for (int i = 0; i < OBJPOOL_DISCARD_MAX; i++)
            disc += r->st.discarded[i];
        uint64_t timed = r->tc.create_timed;
        double mean = timed ? (double)r->tc.create_ns / (double)timed / 1000.0 : 0.0;
        const char *t = r->first->target;
        const char *addr = r->first->address[0] ? r->first->address : (!strncmp(t, "file://", 7) ? t + 7 : t);
        json_t *p = json_pack("{s:s,s:s}", "target", t, "address", addr);
        if (r->first->family) {
            char pb[96];
            live_proto(r, pb, sizeof pb);
            json_object_set_new(p, "proto", json_string(pb));
        }
        json_object_set_new(p, "kind", json_string(live_kind(r->first->kind)));
        update_new(p, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "acquired", (json_int_t)r->st.acquired,
                                        "hits", (json_int_t)r->st.hits, "misses", (json_int_t)r->st.misses,
                                        "create_failures", (json_int_t)r->st.create_failures,
                                        "released", (json_int_t)r->st.released, "parked", (json_int_t)r->st.parked));
        json_object_set_new(p, "discarded", d);
        update_new(p, json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:I,s:I,s:I}",
                                        "discarded_total", (json_int_t)disc, "idle", (json_int_t)r->st.idle,
                                        "peak_idle", (json_int_t)r->st.peak_idle,
                                        "peak_leased", (json_int_t)r->st.peak_leased, "hit_ratio",
                                        r->st.acquired ? (double)r->st.hits / (double)r->st.acquired : 0.0,
                                        "mean_create_us", mean, "saved_ms", mean * (double)r->st.hits / 1000.0,
                                        "stale_reuse_errors", (json_int_t)r->tc.stale_reuse_errors,
                                        "prewarmed", (json_int_t)r->tc.prewarmed,
                                        "prewarm_failed", (json_int_t)r->tc.prewarm_failed));
        json_array_append_new(pools, p);
    }
    json_t *o = json_pack("{s:i,s:s,s:s,s:f}", "pid", pid, "program", prog_name, "event", "live", "wall_s",
                          now - (double)h->start_realtime_ns / 1e9);
    if (!o) /* a program name that is not UTF-8 */
        o = json_pack("{s:i,s:s,s:s,s:f}", "pid", pid, "program", "?", "event", "live", "wall_s",
                      now - (double)h->start_realtime_ns / 1e9);
    json_object_set_new(o, "ppid", json_integer(h->ppid));
    if (__atomic_load_n(&h->overflow, __ATOMIC_ACQUIRE))
        json_object_set_new(o, "partial", json_true());
    json_object_set_new(o, "pools", pools);
    return o;
}

/* Is the process of this file gone (dead, or its pid now another
 * process's)? */
static int live_gone(int pid, const unsigned char *m)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    const struct live_header *h = (const void *)m;
    if (m && !memcmp(h->magic, LIVE_MAGIC, 8) && h->start_ticks) {
        unsigned long long now = proc_start_ticks(pid);
        if (now && now != h->start_ticks)
            return 1;
    }
    return 0;
}

static int wanted(int pid, int npids, char **pids)
{
    if (!npids)
        return 1;
    for (int i = 0; i < npids; i++)
        if (atoi(pids[i]) == pid)
            return 1;
    return 0;
}

/* One look at the directory: the objects of the live processes asked
 * for, in *out (pid order); files of gone processes removed. */
static int stats_collect(const char *dir, int npids, char **pids, json_t *out)
{
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT)
        return 0; /* made by the first process with live stats: none yet */
    if (!d) {
        fprintf(stderr, "%s: stats: %s: %s\n", prog, dir, strerror(errno));
        return -1;
    }
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (pid <= 0 || end == e->d_name || strcmp(end, ".stats"))
            continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        const unsigned char *m = NULL;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == (off_t)LIVE_FILE_SIZE) {
            void *v = mmap(NULL, LIVE_FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
            m = v == MAP_FAILED ? NULL : v;
        }
        if (fd >= 0)
            close(fd);
        if (live_gone((int)pid, m)) {
            if (unlinkat(dfd, e->d_name, 0) < 0)
                fprintf(stderr, "%s: stats: %s/%s: %s\n", prog, dir, e->d_name, strerror(errno));
        } else if (m && wanted((int)pid, npids, pids)) {
            json_t *o = live_object(m, (int)pid);
            if (o) {
                size_t i = 0;
                while (i < json_array_size(out) &&
                       json_integer_value(json_object_get(json_array_get(out, i), "pid")) < pid)
                    i++;
                json_array_insert_new(out, i, o);
            }
        }
        if (m)
            munmap((void *)m, LIVE_FILE_SIZE);
    }
    closedir(d);
    return 0;
}

/* One round of output, in the chosen format. */
static void stats_print(json_t *procs, const char *dir, int json, int prometheus)
{
    size_t i;
    json_t *o;
    if (json) {
        json_array_foreach(procs, i, o)
        {
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
            printf("%s\n", s);
            free(s);
        }
    } else if (prometheus) {
        reset_aggs();
        json_array_foreach(procs, i, o)
        {
            take_report(o, (int)i + 1, 1);
        }
        print_prometheus();
    } else if (!json_array_size(procs)) {
        printf("no live process in %s\n", dir);
    } else {
        json_array_foreach(procs, i, o)
        {
            reset_aggs();
            take_report(o, 1, 0);
            char cap[400];
            snprintf(cap, sizeof cap, "pid %lld %s, up %.1f s%s",
                     (long long)json_integer_value(json_object_get(o, "pid")),
                     json_string_value(json_object_get(o, "program")),
                     json_real_value(json_object_get(o, "wall_s")),
                     json_object_get(o, "partial") ? " (partial: the file's slots ran out)" : "");
            print_table(cap, 1);
        }
    }
    fflush(stdout);
}

int cmd_stats(int argc, char **argv)
{
    int json = 0, prometheus = 0, npids = 0;
    double watch = 0;
    char dir[4096];
    stats_default_dir(dir, sizeof dir);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--prometheus"))
            prometheus = 1;
        else if (!strcmp(a, "--watch"))
            watch = 2;
        else if (!strncmp(a, "--watch=", 8)) {
            char *end;
            watch = strtod(a + 8, &end);
            if (*end || !(watch > 0)) {
                usage_error("stats", "--watch wants a number of seconds above 0", a);
                return 2;
            }
        } else if (!strcmp(a, "--dir") && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        else if (!strncmp(a, "--dir=", 6))
            snprintf(dir, sizeof dir, "%s", a + 6);
        else if (a[0] >= '1' && a[0] <= '9' && strspn(a, "0123456789") == strlen(a))
            argv[++npids] = argv[i];
        else {
            usage_error("stats", "unknown option or not a pid", a);
            return 2;
        }
    }
    if (json && prometheus) {
        usage_error("stats", "--json and --prometheus exclude each other", NULL);
        return 2;
    }
    for (;;) {
        json_t *procs = json_array();
        if (stats_collect(dir, npids, argv + 1, procs) < 0)
            return 1;
        if (watch > 0 && !json && !prometheus)
            printf("\033[H\033[2J");
        stats_print(procs, dir, json, prometheus);
        int n = (int)json_array_size(procs);
        json_decref(procs);
        if (watch <= 0)
            return npids && n < npids ? 1 : 0;
        struct timespec ts = {(time_t)watch, (long)((watch - (double)(time_t)watch) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

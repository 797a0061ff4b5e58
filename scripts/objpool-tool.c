/* objpool-tool.c - the C half of the `objpool` command.
 *
 *   objpool-tool check [-f FILE] [-p SPEC]...            parse and resolve, print the pools
 *   objpool-tool report [--prometheus] FILE...           sum JSON-lines reports
 *   objpool-tool stats [--dir DIR] [--json|--prometheus] [--watch[=S]] [PID...]
 *                                                        live stats (OBJPOOL_STATS)
 *
 * `check` links the library's own parser (preload/config/, preload/base/log.c),
 * so it prints exactly the messages the library would print. `report` reads
 * the JSON lines written by preload/report/report.c with jansson (the preload
 * library itself links no JSON library) and prints a table, or the sums in
 * Prometheus' text exposition format. The `objpool` shell script calls
 * this; --help lives there.
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

#include <jansson.h>

#include "../preload/config/config.h"
#include "../preload/base/log.h"
#include "../preload/base/proto_id.h"
#include "../preload/core/reasons.h"
#include "../preload/lease/live.h"

static const char *prog = "objpool";

/* ==== check ============================================================ */

static int from_file(const struct pool_spec *sp)
{
    return strncmp(sp->source, "OBJPOOL_POOLS", 13) != 0;
}

/* Where an option's effective value came from. */
static const char *origin(const struct config *cfg, const struct pool_spec *sp, int id)
{
    unsigned bit = 1u << id;
    if (sp->opts.set_here & bit)
        return from_file(sp) ? "pool line" : "env OBJPOOL_POOLS";
    if (from_file(sp) && (sp->opts.set_default & bit))
        return "file default line";
    if (id == OPT_MAX_SIZE && sp->opts.max_size == cfg->default_max_size) {
        const char *e = secure_getenv("OBJPOOL_MAX_SIZE");
        if (e && *e)
            return "env OBJPOOL_MAX_SIZE";
        if (cfg->default_max_size != 10)
            return "file set line";
    }
    return "default";
}

static const char *global_origin(const char *env, int differs)
{
    const char *e = secure_getenv(env);
    if (e && *e)
        return env;
    return differs ? "file set line" : "default";
}

static const char *kind_word(enum pool_kind k)
{
    return k == POOL_TCP ? "tcp" : k == POOL_UNIX ? "unix" : k == POOL_TLSCA ? "tls-ca" : "file";
}

static void usage_error(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", prog, cmd, msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd);
}

/* The configuration file, as the library will find it; when none was
 * given, the script says which files it looked for (OBJPOOL_SEARCHED). */
static void print_config_file(const char *file)
{
    const char *cfile = file ? file : secure_getenv("OBJPOOL_CONFIG");
    if (cfile && *cfile) {
        printf("config file: %s\n", cfile);
        return;
    }
    const char *searched = getenv("OBJPOOL_SEARCHED");
    if (!searched || !*searched) {
        printf("config file: (none: use -f FILE or OBJPOOL_CONFIG)\n");
        return;
    }
    printf("config file: (none found)\n");
    for (const char *p = searched; *p;) {
        size_t n = strcspn(p, "\n");
        printf("  looked for %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* The globals, each with its value and where that came from. */
static void print_globals(const struct config *cfg, const char *file)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    print_config_file(file);
    const char *e = secure_getenv("OBJPOOL_POOLS");
    printf("OBJPOOL_POOLS: %s\n", e && *e ? e : "(not set)");
    printf("report         %-22s %s\n", cfg->report,
           global_origin("OBJPOOL_REPORT", strcmp(cfg->report, "stderr") != 0));
    printf("report_format  %-22s %s\n", cfg->report_format == REPORT_JSON ? "json" : "text",
           global_origin("OBJPOOL_REPORT_FORMAT", cfg->report_format != REPORT_TEXT));
    printf("log            %-22s %s\n", cfg->log_level >= 0 && cfg->log_level <= 3 ? levels[cfg->log_level] : "?",
           global_origin("OBJPOOL_LOG", cfg->log_level != LOG_WARN));
    printf("log_file       %-22s %s\n", cfg->log_file[0] ? cfg->log_file : "(stderr)",
           global_origin("OBJPOOL_LOG_FILE", cfg->log_file[0] != 0));
    printf("deepbind       %-22s %s\n", cfg->deepbind == DEEPBIND_WARN ? "warn" : "rebind",
           global_origin("OBJPOOL_DEEPBIND", cfg->deepbind != DEEPBIND_REBIND));
    if (cfg->disabled)
        printf("OBJPOOL_DISABLE is set: the library would not pool at all\n");
}

/* One pool: its source, its resolved addresses, every option with value
 * and origin. Returns the number of targets it resolved to. */
static int print_pool(const struct config *cfg, const struct pool_spec *sp)
{
    /* the source names a file by its full path: where the header would
     * not fit a terminal, it goes on a line of its own */
    size_t head = strlen("pool ") + strlen(sp->url) + strlen("  (, )") + strlen(kind_word(sp->kind)) +
                  strlen(sp->source);
    if (head <= 80)
        printf("\npool %s  (%s, %s)\n", sp->url, kind_word(sp->kind), sp->source);
    else
        printf("\npool %s  (%s)\n  from %s\n", sp->url, kind_word(sp->kind), sp->source);
    int nt = 0;
    printf("  %-16s ", sp->kind == POOL_FILE || sp->kind == POOL_TLSCA ? "path" : "address");
    for (int t = 0; t < cfg->ntargets; t++) {
        const struct target *tg = &cfg->targets[t];
        if (tg->spec != sp)
            continue;
        if (tg->family == AF_INET6)
            printf("%s[%s]:%u", nt ? ", " : "", tg->addr_text, sp->port);
        else if (tg->family == AF_INET)
            printf("%s%s:%u", nt ? ", " : "", tg->addr_text, sp->port);
        else
            printf("%s%s%s", nt ? ", " : "", sp->path, tg->has_glob ? " (pattern)" : "");
        nt++;
    }
    printf("%s\n", nt ? "" : "(none: this pool is skipped)");
    if (sp->kind == POOL_TLSCA) {
        /* a CA bundle takes no pool options: say what is done with it */
        struct stat st;
        printf("  %-16s %s\n", "bundle", stat(sp->path, &st) != 0 ? "(not there now: loads pass through)"
                                         : S_ISREG(st.st_mode) ? "parsed once, again when it changes on disk"
                                                               : "(not a regular file: loads pass through)");
        printf("  %-16s %s\n", "resume", sp->tls_resume ? "on: TLS sessions kept for its contexts" : "off");
        return nt;
    }
    char val[MAX_PROBE * 4 + 8];
    for (int id = 0; id < OPT_COUNT; id++) {
        opt_format(&sp->opts, id, val, sizeof val);
        printf("  %-16s %-22s %s\n", opt_name(id), val, origin(cfg, sp, id));
    }
    return nt;
}

/* The last line and the exit status: 1 on any error, and when nothing
 * would be pooled (no pool, or every pool skipped), so that a script can
 * rely on `objpool check` before it deploys a configuration. */
static int check_verdict(const struct config *cfg, int errors, int skipped)
{
    if (errors) {
        fprintf(stderr, "%s: check: %d error%s: the library would run the program with pooling off\n", prog,
                errors, errors == 1 ? "" : "s");
        return 1;
    }
    if (!cfg->nspecs) {
        fprintf(stderr, "%s: check: no pools configured (use -p URL, -f FILE, OBJPOOL_POOLS or OBJPOOL_CONFIG)\n",
                prog);
        return 1;
    }
    if (!cfg->ntargets) {
        fprintf(stderr, "%s: check: no pool is left once host names are resolved (see the warning%s)\n", prog,
                cfg->nspecs == 1 ? "" : "s");
        return 1;
    }
    printf("ok: %d pool%s", cfg->nspecs, cfg->nspecs == 1 ? "" : "s");
    if (skipped)
        printf(" (%d skipped, see the warning%s)", skipped, skipped == 1 ? "" : "s");
    printf(", %d target%s\n", cfg->ntargets, cfg->ntargets == 1 ? "" : "s");
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *file = NULL;
    char *pools = NULL;
    size_t pools_len = 0;
    const char *env_pools = secure_getenv("OBJPOOL_POOLS");
    if (env_pools && *env_pools) {
        pools = strdup(env_pools);
        pools_len = strlen(pools);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int is_f = !strcmp(a, "-f") || !strcmp(a, "--file");
        int is_p = !strcmp(a, "-p") || !strcmp(a, "--pool");
        if (!strncmp(a, "--file=", 7)) {
            is_f = 1;
            val = a + 7;
        } else if (!strncmp(a, "--pool=", 7)) {
            val = a + 7; /* not -f: taken as a pool below */
        } else if ((is_f || is_p) && i + 1 < argc) {
            val = argv[++i];
        } else {
            if (is_f || is_p)
                usage_error("check", "option needs an argument", a);
            else
                usage_error("check", a[0] == '-' ? "unknown option" : "unexpected argument", a);
            free(pools);
            return 2;
        }
        if (is_f) {
            file = val;
        } else {
            /* -p SPEC is added to OBJPOOL_POOLS, exactly as `objpool run -p` does */
            size_t n = strlen(val);
            char *np = realloc(pools, pools_len + n + 2);
            if (!np) {
                free(pools);
                return 2;
            }
            pools = np;
            if (pools_len)
                pools[pools_len++] = ';';
            memcpy(pools + pools_len, val, n + 1);
            pools_len += n;
        }
    }
    if (pools)
        setenv("OBJPOOL_POOLS", pools, 1);
    free(pools);

    struct config cfg;
    config_load(&cfg, file, NULL);
    int errors = cfg.errors;
    config_resolve(&cfg);
    print_globals(&cfg, file);
    int skipped = 0;
    for (int i = 0; i < cfg.nspecs; i++)
        skipped += print_pool(&cfg, &cfg.specs[i]) == 0;
    printf("\n");
    int bad = check_verdict(&cfg, errors, skipped);
    config_free(&cfg);
    fflush(stdout);
    return bad;
}

/* ==== report: reading ================================================== */

/* Numbers summed per row, in table order; the discard reasons are kept by
 * name so that reasons added later are summed too. */
enum { F_ACQ, F_HITS, F_MISSES, F_CFAIL, F_RELEASED, F_PARKED, F_DISC, F_SAVED, F_STALE,
       F_WARM, F_COLD, F_PEAK_IDLE, F_PEAK_LEASED, F_IDLE, NF };
static const char *const fnames[NF] = {
    "acquired", "hits", "misses", "create_failures", "released", "parked", "discarded_total",
    "saved_ms", "stale_reuse_errors", "prewarmed", "prewarm_failed", "peak_idle", "peak_leased", "idle",
};

/* One row: a target (the table), or a target and a program (Prometheus,
 * where they are the labels). */
struct agg {
    char *target;
    char *program; /* NULL when rows are per target */
    char *kind;
    int procs;
    int last_line; /* the report line that last counted a process */
    double f[NF];
    int nreasons;
    char **rname;
    double *rval;
};

static struct agg *aggs;
static int naggs, cap_aggs;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror(prog);
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        perror(prog);
        exit(2);
    }
    return d;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* The row of a target (and program); rows keep the order first seen. */
static struct agg *agg_for(const char *target, const char *program)
{
    for (int i = 0; i < naggs; i++)
        if (!strcmp(aggs[i].target, target) && same(aggs[i].program, program))
            return &aggs[i];
    if (naggs == cap_aggs) {
        cap_aggs = cap_aggs ? cap_aggs * 2 : 16;
        aggs = xrealloc(aggs, (size_t)cap_aggs * sizeof *aggs);
    }
    struct agg *a = &aggs[naggs++];
    memset(a, 0, sizeof *a);
    a->target = xstrdup(target);
    a->program = program ? xstrdup(program) : NULL;
    return a;
}

static void add_reason(struct agg *a, const char *name, double v)
{
    for (int i = 0; i < a->nreasons; i++)
        if (!strcmp(a->rname[i], name)) {
            a->rval[i] += v;
            return;
        }
    a->rname = xrealloc(a->rname, (size_t)(a->nreasons + 1) * sizeof *a->rname);
    a->rval = xrealloc(a->rval, (size_t)(a->nreasons + 1) * sizeof *a->rval);
    a->rname[a->nreasons] = xstrdup(name);
    a->rval[a->nreasons++] = v;
}

/* A member of an object, NULL unless it is there and of that type. */
static json_t *member(const json_t *obj, const char *key, json_type type)
{
    json_t *v = json_object_get(obj, key);
    return v && json_typeof(v) == type ? v : NULL;
}

static int number(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

/* Counters are summed over processes; peaks take the largest. */
static void add_pool(struct agg *a, const json_t *p)
{
    for (int f = 0; f < NF; f++) {
        double v;
        if (!number(p, fnames[f], &v))
            continue;
        if (f == F_PEAK_IDLE || f == F_PEAK_LEASED)
            a->f[f] = v > a->f[f] ? v : a->f[f];
        else
            a->f[f] += v;
    }
    const json_t *d = member(p, "discarded", JSON_OBJECT);
    const char *reason;
    json_t *count;
    json_object_foreach((json_t *)d, reason, count)
    {
        if (json_is_number(count))
            add_reason(a, reason, json_number_value(count));
    }
}

/* One report, parsed: its pools go to their rows. NULL, or why not. */
static const char *take_report(const json_t *root, int line_id, int by_program)
{
    const json_t *pools = member(root, "pools", JSON_ARRAY);
    if (!json_is_object(root) || !pools)
        return "not an objpool JSON report (no \"pools\" list)";
    const json_t *pr = member(root, "program", JSON_STRING);
    const char *program = by_program ? (pr ? json_string_value(pr) : "") : NULL;
    const char *why = NULL;
    size_t i;
    json_t *p;
    json_array_foreach((json_t *)pools, i, p)
    {
        const json_t *t = member(p, "target", JSON_STRING);
        if (!t) {
            why = "a pool without a \"target\"";
            continue;
        }
        struct agg *a = agg_for(json_string_value(t), program);
        const json_t *k = member(p, "kind", JSON_STRING);
        if (k && !a->kind)
            a->kind = xstrdup(json_string_value(k));
        /* one process may report several addresses of one target */
        if (a->last_line != line_id) {
            a->procs++;
            a->last_line = line_id;
        }
        add_pool(a, p);
    }
    return why;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (len == 3) {
        unsigned cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    if (len == 4) {
        unsigned cp = (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
        if (cp < 0x10000 || cp > 0x10ffff)
            return 0;
    }
    return len;
}

/* A copy of s[0..n) with each byte that is not UTF-8 replaced by U+FFFD. */
static char *utf8_fix(const char *s, size_t n, size_t *out_len)
{
    char *d = xrealloc(NULL, n * 3 + 1), *o = d;
    const unsigned char *p = (const unsigned char *)s;
    while (n) {
        size_t len = utf8_len(p, n);
        if (len) {
            memcpy(o, p, len);
            o += len;
        } else {
            *o++ = (char)0xef; /* U+FFFD */
            *o++ = (char)0xbf;
            *o++ = (char)0xbd;
            len = 1;
        }
        p += len;
        n -= len;
    }
    *out_len = (size_t)(o - d);
    return d;
}

/* One report line (without its line end). NULL if it was a report, else
 * why not. Strict JSON (RFC 8259, no repeated keys), except that a string
 * that is not UTF-8 is taken with U+FFFD for its bad bytes: the library
 * writes the program's name as the bytes it has. */
static const char *take_line(const char *line, size_t len, int line_id, int by_program)
{
    json_error_t err;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (!root && json_error_code(&err) == json_error_invalid_utf8) {
        size_t n;
        char *fixed = utf8_fix(line, len, &n);
        root = json_loadb(fixed, n, JSON_REJECT_DUPLICATES, &err);
        free(fixed);
    }
    if (!root)
        return json_error_code(&err) == json_error_end_of_input_expected ? "text after the JSON object" : "not JSON";
    const char *why = take_report(root, line_id, by_program);
    json_decref(root);
    return why;
}

/* Every line of one file (or stdin); returns how many were not reports. */
static int read_reports(const char *path, int by_program, int *lines, int *line_id)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: report: %s: %s\n", prog, path, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        const char *s = line;
        size_t len = (size_t)n;
        while (len && strchr(" \t\r\n", *s)) {
            s++;
            len--;
        }
        while (len && strchr(" \t\r\n", s[len - 1]))
            len--;
        if (!len)
            continue;
        const char *why = memchr(s, '\0', len) ? "a NUL byte: not a report line" : NULL;
        if (!why)
            why = take_line(s, len, ++*line_id, by_program);
        if (why) {
            fprintf(stderr, "%s: report: %s:%d: %s\n", prog, path, lineno, why);
            bad++;
        } else {
            ++*lines;
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return bad;
}

/* ==== report: the table ================================================ */

#define TABLE_COLS 7
static const char *const table_heads[TABLE_COLS] = {"procs", "acquired", "hits", "misses",
                                                    "hit%", "discard", "saved"};

/* One row's figures as text: counts whole, the saving in the unit that
 * keeps it short (the exit report's). */
static void row_cells(const double *f, int procs, char cell[TABLE_COLS][40])
{
    snprintf(cell[0], 40, "%d", procs);
    snprintf(cell[1], 40, "%.0f", f[F_ACQ]);
    snprintf(cell[2], 40, "%.0f", f[F_HITS]);
    snprintf(cell[3], 40, "%.0f", f[F_MISSES]);
    if (f[F_ACQ] > 0)
        snprintf(cell[4], 40, "%.1f", 100.0 * f[F_HITS] / f[F_ACQ]);
    else
        snprintf(cell[4], 40, "-");
    snprintf(cell[5], 40, "%.0f", f[F_DISC]);
    fmt_duration(cell[6], 40, f[F_SAVED]);
}

/* Widen each column to its widest figure. */
static void widen(int cw[TABLE_COLS], const double *f, int procs)
{
    char cell[TABLE_COLS][40];
    row_cells(f, procs, cell);
    for (int k = 0; k < TABLE_COLS; k++)
        if ((int)strlen(cell[k]) > cw[k])
            cw[k] = (int)strlen(cell[k]);
}

/* A target longer than the column gets a line of its own; each figure is
 * right-aligned two spaces after its neighbour, whatever its size. */
static void print_row(const char *name, const double *f, int procs, int tw, const int cw[TABLE_COLS])
{
    char cell[TABLE_COLS][40];
    row_cells(f, procs, cell);
    if ((int)strlen(name) > tw)
        printf("%s\n%-*s", name, tw, "");
    else
        printf("%-*s", tw, name);
    for (int k = 0; k < TABLE_COLS; k++)
        printf("  %*s", cw[k], cell[k]);
    printf("\n");
}

/* Below a row: the non-zero discard reasons, failures, peaks, prewarm. */
static void print_details(const struct agg *a)
{
    int any = 0;
    for (int r = 0; r < a->nreasons; r++)
        if (a->rval[r] > 0) {
            printf("%s%s %.0f", any ? ", " : "  discarded: ", a->rname[r], a->rval[r]);
            any = 1;
        }
    if (any)
        printf("\n");
    printf("  create failures %.0f, stale reuse errors %.0f, peak idle %.0f, peak leased %.0f",
           a->f[F_CFAIL], a->f[F_STALE], a->f[F_PEAK_IDLE], a->f[F_PEAK_LEASED]);
    if (a->f[F_WARM] > 0 || a->f[F_COLD] > 0)
        printf(",\n  prewarmed %.0f, prewarm failures %.0f", a->f[F_WARM], a->f[F_COLD]);
    printf("\n");
}

static void print_table(const char *caption, int lines)
{
    int tw = 6;
    int cw[TABLE_COLS];
    double total[NF] = {0};
    for (int k = 0; k < TABLE_COLS; k++)
        cw[k] = (int)strlen(table_heads[k]);
    for (int i = 0; i < naggs; i++) {
        int len = (int)strlen(aggs[i].target);
        if (len > tw)
            tw = len;
        widen(cw, aggs[i].f, aggs[i].procs);
        for (int f = 0; f < NF; f++)
            total[f] += aggs[i].f[f];
    }
    widen(cw, total, lines);
    if (tw > 21)
        tw = 21; /* longer targets get a line of their own: the table stays within 80 columns */
    if (caption)
        printf("%s\n", caption);
    else
        printf("%d report line%s\n", lines, lines == 1 ? "" : "s");
    printf("%-*s", tw, "target");
    for (int k = 0; k < TABLE_COLS; k++)
        printf("  %*s", cw[k], table_heads[k]);
    printf("\n");
    for (int i = 0; i < naggs; i++) {
        print_row(aggs[i].target, aggs[i].f, aggs[i].procs, tw, cw);
        print_details(&aggs[i]);
    }
    print_row("total", total, lines, tw, cw);
}

/* ==== report: Prometheus' text format ================================== */
/* Written from rows alone, so that live statistics (a later `objpool stats
 * --prometheus`) can print through the same code. Names follow Prometheus'
 * conventions: an objpool_ prefix, counters end in _total, base units
 * (seconds). No timestamps: node_exporter's textfile collector refuses them. */

#define F_PROCS (-1)
struct metric {
    const char *name, *type, *help;
    int field;    /* F_*, or F_PROCS */
    double scale; /* report unit to base unit */
};
static const struct metric metrics[] = {
    {"objpool_reports_total", "counter", "Processes that used the pool: report lines (one per process, and per exec), or live processes for objpool stats.", F_PROCS, 1},
    {"objpool_acquired_total", "counter", "Objects handed to the program: connects and opens served.", F_ACQ, 1},
    {"objpool_hits_total", "counter", "Acquires served with an idle pooled object.", F_HITS, 1},
    {"objpool_misses_total", "counter", "Acquires that created a new object.", F_MISSES, 1},
    {"objpool_create_failures_total", "counter", "Creations (connects, opens) that failed.", F_CFAIL, 1},
    {"objpool_released_total", "counter", "Objects the program gave back (closes).", F_RELEASED, 1},
    {"objpool_parked_total", "counter", "Released objects kept idle for reuse.", F_PARKED, 1},
    {"objpool_stale_reuse_errors_total", "counter", "Reused connections whose first read saw EOF or a reset.", F_STALE, 1},
    {"objpool_prewarmed_total", "counter", "Objects opened ahead by prewarm.", F_WARM, 1},
    {"objpool_prewarm_failures_total", "counter", "Prewarm opens that failed.", F_COLD, 1},
    {"objpool_saved_seconds_total", "counter", "Create time saved by hits, estimated from the mean create time.", F_SAVED, 0.001},
    {"objpool_idle", "gauge", "Idle objects when the processes reported, summed over them.", F_IDLE, 1},
    {"objpool_peak_idle", "gauge", "The most idle objects at once in one process.", F_PEAK_IDLE, 1},
    {"objpool_peak_leased", "gauge", "The most objects leased at once in one process.", F_PEAK_LEASED, 1},
};
#define NMETRICS (int)(sizeof metrics / sizeof *metrics)

/* A label value: \, " and newline escaped as the format says; it must be
 * UTF-8, so a byte that is not becomes U+FFFD. */
static void prom_label(const char *name, const char *value, int first)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value);
    printf("%s%s=\"", first ? "" : ",", name);
    while (n) {
        size_t len = utf8_len(s, n);
        if (!len) {
            fputs("\xef\xbf\xbd", stdout);
            len = 1;
        } else if (*s == '\\' || *s == '"') {
            printf("\\%c", *s);
        } else if (*s == '\n') {
            fputs("\\n", stdout);
        } else {
            fwrite(s, 1, len, stdout);
        }
        s += len;
        n -= len;
    }
    putchar('"');
}

static void prom_labels(const char *name, const struct agg *a, const char *reason)
{
    printf("%s{", name);
    prom_label("target", a->target, 1);
    prom_label("program", a->program ? a->program : "", 0);
    if (reason)
        prom_label("reason", reason, 0);
    putchar('}');
}

static void prom_value(double v)
{
    if (v >= -1e15 && v <= 1e15 && v == (double)(long long)v)
        printf(" %lld\n", (long long)v);
    else
        printf(" %.9g\n", v);
}

static void prom_family(const char *name, const char *type, const char *help)
{
    printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Each family once, HELP and TYPE first, then one sample per row; the
 * discards are one family with a reason label, zeros included (a series
 * that appears only when it first counts breaks rate()). */
static void print_prometheus(void)
{
    for (int m = 0; m < NMETRICS; m++) {
        const struct metric *mt = &metrics[m];
        prom_family(mt->name, mt->type, mt->help);
        for (int i = 0; i < naggs; i++) {
            prom_labels(mt->name, &aggs[i], NULL);
            prom_value(mt->field == F_PROCS ? aggs[i].procs : aggs[i].f[mt->field] * mt->scale);
        }
        if (mt->field != F_PARKED)
            continue;
        prom_family("objpool_discarded_total", "counter", "Objects destroyed instead of reused, by reason.");
        for (int i = 0; i < naggs; i++)
            for (int r = 0; r < aggs[i].nreasons; r++) {
                prom_labels("objpool_discarded_total", &aggs[i], aggs[i].rname[r]);
                prom_value(aggs[i].rval[r]);
            }
    }
}

/* ==== report =========================================================== */

static int cmd_report(int argc, char **argv)
{
    int prometheus = 0, nfiles = 0, opts_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || !a[1])
            argv[++nfiles] = argv[i];
        else if (!strcmp(a, "--"))
            opts_done = 1;
        else if (!strcmp(a, "--prometheus"))
            prometheus = 1;
        else {
            usage_error("report", "unknown option", a);
            return 2;
        }
    }
    if (!nfiles) {
        usage_error("report", "no report file given", NULL);
        return 2;
    }
    int bad = 0, lines = 0, line_id = 0;
    for (int i = 1; i <= nfiles; i++)
        bad += read_reports(argv[i], prometheus, &lines, &line_id);
    if (prometheus) {
        print_prometheus(); /* no activity is valid too: families without samples */
    } else if (!naggs) {
        fprintf(stderr, "%s: report: no pool activity in %d report line%s\n", prog, lines, lines == 1 ? "" : "s");
    } else {
        print_table(NULL, lines);
    }
    return bad ? 1 : 0;
}

/* ==== stats: live statistics of running processes ======================= */
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

static void reset_aggs(void)
{
    naggs = 0; /* the rows' strings are left: a short-lived command */
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

static int cmd_stats(int argc, char **argv)
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

int main(int argc, char **argv)
{
    const char *p = getenv("OBJPOOL_PROG");
    if (p && *p)
        prog = p;
    if (argc < 2) {
        fprintf(stderr, "usage: objpool-tool check|report ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(argv[1], "stats"))
        return cmd_stats(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command: %s\n", prog, argv[1]);
    return 2;
}

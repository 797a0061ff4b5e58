/* objpool-tool.c - the C half of the `objpool` command.
 *
 *   objpool-tool check [-f FILE] [-p SPEC]...   parse and resolve, print the pools
 *   objpool-tool report FILE...                 sum JSON-lines reports into one table
 *
 * `check` links the library's own parser (preload/config/, preload/base/log.c),
 * so it prints exactly the messages the library would print. `report` reads
 * the JSON lines written by preload/report/report.c with a small JSON reader: no
 * Python needed. The `objpool` shell script calls this; --help lives there.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../preload/config/config.h"
#include "../preload/base/log.h"

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
    return k == POOL_TCP ? "tcp" : k == POOL_UNIX ? "unix" : "file";
}

static void usage_error(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", prog, cmd, msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd);
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
    const char *cfile = file ? file : secure_getenv("OBJPOOL_CONFIG");
    if (cfile && !*cfile)
        cfile = NULL;

    config_resolve(&cfg);

    printf("config file: %s\n", cfile ? cfile : "(none: use -f FILE or OBJPOOL_CONFIG)");
    {
        const char *e = secure_getenv("OBJPOOL_POOLS");
        printf("OBJPOOL_POOLS: %s\n", e && *e ? e : "(not set)");
    }
    char val[MAX_PROBE * 4 + 8];
    printf("report         %-22s %s\n", cfg.report, global_origin("OBJPOOL_REPORT", strcmp(cfg.report, "stderr") != 0));
    printf("report_format  %-22s %s\n", cfg.report_format == REPORT_JSON ? "json" : "text",
           global_origin("OBJPOOL_REPORT_FORMAT", cfg.report_format != REPORT_TEXT));
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    printf("log            %-22s %s\n", cfg.log_level >= 0 && cfg.log_level <= 3 ? levels[cfg.log_level] : "?",
           global_origin("OBJPOOL_LOG", cfg.log_level != LOG_WARN));
    printf("log_file       %-22s %s\n", cfg.log_file[0] ? cfg.log_file : "(stderr)",
           global_origin("OBJPOOL_LOG_FILE", cfg.log_file[0] != 0));
    if (cfg.disabled)
        printf("OBJPOOL_DISABLE is set: the library would not pool at all\n");

    int skipped = 0;
    for (int s = 0; s < cfg.nspecs; s++) {
        struct pool_spec *sp = &cfg.specs[s];
        /* the source names a file by its full path: where the header would
         * not fit a terminal, it goes on a line of its own */
        size_t head = strlen("pool ") + strlen(sp->url) + strlen("  (, )") + strlen(kind_word(sp->kind)) +
                      strlen(sp->source);
        if (head <= 80)
            printf("\npool %s  (%s, %s)\n", sp->url, kind_word(sp->kind), sp->source);
        else
            printf("\npool %s  (%s)\n  from %s\n", sp->url, kind_word(sp->kind), sp->source);
        int nt = 0;
        printf("  %-16s ", sp->kind == POOL_FILE ? "path" : "address");
        for (int t = 0; t < cfg.ntargets; t++) {
            struct target *tg = &cfg.targets[t];
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
        if (!nt)
            printf("(none: this pool is skipped)");
        printf("\n");
        skipped += nt == 0;
        for (int id = 0; id < OPT_COUNT; id++) {
            opt_format(&sp->opts, id, val, sizeof val);
            printf("  %-16s %-22s %s\n", opt_name(id), val, origin(&cfg, sp, id));
        }
    }
    printf("\n");
    if (errors) {
        fprintf(stderr, "%s: check: %d error%s: the library would run the program with pooling off\n", prog,
                errors, errors == 1 ? "" : "s");
    } else if (!cfg.nspecs) {
        fprintf(stderr, "%s: check: no pools configured (use -p URL, -f FILE, OBJPOOL_POOLS or OBJPOOL_CONFIG)\n",
                prog);
    } else {
        printf("ok: %d pool%s", cfg.nspecs, cfg.nspecs == 1 ? "" : "s");
        if (skipped)
            printf(" (%d skipped, see the warning%s)", skipped, skipped == 1 ? "" : "s");
        printf(", %d target%s\n", cfg.ntargets, cfg.ntargets == 1 ? "" : "s");
    }
    config_free(&cfg);
    fflush(stdout);
    return errors || !cfg.nspecs ? 1 : 0;
}

/* ==== a small JSON reader ============================================== */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype type;
    double num;
    char *str;          /* J_STR */
    struct jval *items; /* J_ARR, J_OBJ: values */
    char **keys;        /* J_OBJ */
    int n;
};

struct jparse {
    const char *p;
    int depth;
};

static void jfree(struct jval *v)
{
    free(v->str);
    for (int i = 0; i < v->n; i++) {
        jfree(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

static void jws(struct jparse *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')
        j->p++;
}

static int jvalue(struct jparse *j, struct jval *v);

static int jstring(struct jparse *j, char **out)
{
    if (*j->p != '"')
        return -1;
    j->p++;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    if (!s)
        return -1;
    for (;;) {
        unsigned char c = (unsigned char)*j->p++;
        if (!c || c < 32) {
            free(s);
            return -1;
        }
        if (c == '"')
            break;
        if (c == '\\') {
            c = (unsigned char)*j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '/': case '\\': case '"': break;
            case 'u': {
                unsigned u = 0;
                for (int k = 0; k < 4; k++) {
                    char h = *j->p++;
                    if (!isxdigit((unsigned char)h)) {
                        free(s);
                        return -1;
                    }
                    u = u * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                c = u < 128 ? (unsigned char)u : '?'; /* names here are ASCII */
                break;
            }
            default:
                free(s);
                return -1;
            }
        }
        if (n + 2 > cap) {
            char *ns = realloc(s, cap *= 2);
            if (!ns) {
                free(s);
                return -1;
            }
            s = ns;
        }
        s[n++] = (char)c;
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

static int jpush(struct jval *v, int *cap)
{
    if (v->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        struct jval *ni = realloc(v->items, (size_t)nc * sizeof *ni);
        if (!ni)
            return -1;
        v->items = ni;
        if (v->type == J_OBJ) {
            char **nk = realloc(v->keys, (size_t)nc * sizeof *nk);
            if (!nk)
                return -1;
            v->keys = nk;
        }
        *cap = nc;
    }
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    if (v->keys)
        v->keys[v->n] = NULL;
    return 0;
}

static int jvalue(struct jparse *j, struct jval *v)
{
    memset(v, 0, sizeof *v);
    jws(j);
    if (++j->depth > 32)
        return -1;
    int rc = 0, cap = 0;
    char c = *j->p;
    if (c == '{' || c == '[') {
        v->type = c == '{' ? J_OBJ : J_ARR;
        char close = c == '{' ? '}' : ']';
        j->p++;
        jws(j);
        if (*j->p == close) {
            j->p++;
        } else {
            for (;;) {
                if (jpush(v, &cap) < 0)
                    return -1;
                char *key = NULL;
                if (v->type == J_OBJ) {
                    jws(j);
                    if (jstring(j, &key) < 0)
                        return -1;
                    v->keys[v->n] = key;
                    jws(j);
                    if (*j->p++ != ':') {
                        v->n++;
                        return -1;
                    }
                }
                rc = jvalue(j, &v->items[v->n]);
                v->n++;
                if (rc < 0)
                    return -1;
                jws(j);
                if (*j->p == ',') {
                    j->p++;
                    continue;
                }
                if (*j->p++ != close)
                    return -1;
                break;
            }
        }
    } else if (c == '"') {
        v->type = J_STR;
        rc = jstring(j, &v->str);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        errno = 0;
        v->type = J_NUM;
        v->num = strtod(j->p, &end);
        if (end == j->p || errno == ERANGE)
            return -1;
        j->p = end;
    } else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
        v->type = c == 't' ? J_BOOL : J_NULL;
        v->num = c == 't';
        j->p += 4;
    } else if (!strncmp(j->p, "false", 5)) {
        v->type = J_BOOL;
        j->p += 5;
    } else {
        rc = -1;
    }
    j->depth--;
    return rc;
}

static const struct jval *jget(const struct jval *obj, const char *key)
{
    if (obj->type != J_OBJ)
        return NULL;
    for (int i = 0; i < obj->n; i++)
        if (obj->keys[i] && !strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

/* ==== report =========================================================== */

/* Numbers summed per target, in table order; the discard reasons are kept
 * by name so that reasons added later are summed too. */
enum { F_ACQ, F_HITS, F_MISSES, F_CFAIL, F_RELEASED, F_PARKED, F_DISC, F_SAVED, F_STALE,
       F_WARM, F_COLD, F_PEAK_IDLE, F_PEAK_LEASED, F_IDLE, NF };
static const char *const fnames[NF] = {
    "acquired", "hits", "misses", "create_failures", "released", "parked", "discarded_total",
    "saved_ms", "stale_reuse_errors", "prewarmed", "prewarm_failed", "peak_idle", "peak_leased", "idle",
};

struct agg {
    char *target;
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

static struct agg *agg_for(const char *target)
{
    for (int i = 0; i < naggs; i++)
        if (!strcmp(aggs[i].target, target))
            return &aggs[i];
    if (naggs == cap_aggs) {
        cap_aggs = cap_aggs ? cap_aggs * 2 : 16;
        aggs = realloc(aggs, (size_t)cap_aggs * sizeof *aggs);
        if (!aggs) {
            perror(prog);
            exit(2);
        }
    }
    struct agg *a = &aggs[naggs++];
    memset(a, 0, sizeof *a);
    a->target = strdup(target);
    return a;
}

static void add_reason(struct agg *a, const char *name, double v)
{
    for (int i = 0; i < a->nreasons; i++)
        if (!strcmp(a->rname[i], name)) {
            a->rval[i] += v;
            return;
        }
    a->rname = realloc(a->rname, (size_t)(a->nreasons + 1) * sizeof *a->rname);
    a->rval = realloc(a->rval, (size_t)(a->nreasons + 1) * sizeof *a->rval);
    if (!a->rname || !a->rval) {
        perror(prog);
        exit(2);
    }
    a->rname[a->nreasons] = strdup(name);
    a->rval[a->nreasons++] = v;
}

/* One report line. 0 if it was a report, -1 (with why) if not. */
static int take_line(const char *line, int line_id, const char **why)
{
    struct jparse j = {line, 0};
    struct jval root;
    if (jvalue(&j, &root) < 0) {
        jfree(&root);
        *why = "not JSON";
        return -1;
    }
    jws(&j);
    const struct jval *pools = jget(&root, "pools");
    if (*j.p) {
        *why = "text after the JSON object";
    } else if (root.type != J_OBJ || !pools || pools->type != J_ARR) {
        *why = "not an objpool JSON report (no \"pools\" list)";
    } else {
        *why = NULL;
        for (int i = 0; i < pools->n; i++) {
            const struct jval *p = &pools->items[i], *t = jget(p, "target"), *k = jget(p, "kind");
            if (!t || t->type != J_STR) {
                *why = "a pool without a \"target\"";
                continue;
            }
            struct agg *a = agg_for(t->str);
            if (k && k->type == J_STR && !a->kind)
                a->kind = strdup(k->str);
            /* one process may report several addresses of one target */
            if (a->last_line != line_id) {
                a->procs++;
                a->last_line = line_id;
            }
            for (int f = 0; f < NF; f++) {
                const struct jval *v = jget(p, fnames[f]);
                if (!v || v->type != J_NUM)
                    continue;
                if (f == F_PEAK_IDLE || f == F_PEAK_LEASED)
                    a->f[f] = v->num > a->f[f] ? v->num : a->f[f];
                else
                    a->f[f] += v->num;
            }
            const struct jval *d = jget(p, "discarded");
            if (d && d->type == J_OBJ)
                for (int r = 0; r < d->n; r++)
                    if (d->items[r].type == J_NUM)
                        add_reason(a, d->keys[r], d->items[r].num);
        }
    }
    jfree(&root);
    return *why ? -1 : 0;
}

static void print_num(double v, int width)
{
    printf("%*.0f", width, v);
}

static void print_row(const char *name, const double *f, int procs, int tw)
{
    int len = (int)strlen(name);
    if (len > tw)
        printf("%s\n%-*s", name, tw, "");
    else
        printf("%-*s", tw, name);
    printf("%6d", procs);
    print_num(f[F_ACQ], 10);
    print_num(f[F_HITS], 9);
    print_num(f[F_MISSES], 8);
    if (f[F_ACQ] > 0)
        printf("%7.1f", 100.0 * f[F_HITS] / f[F_ACQ]);
    else
        printf("%7s", "-");
    print_num(f[F_DISC], 9);
    printf("%9.1f\n", f[F_SAVED]);
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 2) {
        usage_error("report", "no report file given", NULL);
        return 2;
    }
    int bad = 0, lines = 0;
    int line_id = 0;
    for (int i = 1; i < argc; i++) {
        const char *path = argv[i];
        FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
        if (!f) {
            fprintf(stderr, "%s: report: %s: %s\n", prog, path, strerror(errno));
            bad++;
            continue;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int lineno = 0;
        while ((n = getline(&line, &cap, f)) >= 0) {
            lineno++;
            const char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
            if (!*s)
                continue;
            if ((size_t)n != strlen(line)) {
                fprintf(stderr, "%s: report: %s:%d: a NUL byte: not a report line\n", prog, path, lineno);
                bad++;
                continue;
            }
            const char *why;
            if (take_line(s, ++line_id, &why) < 0) {
                fprintf(stderr, "%s: report: %s:%d: %s\n", prog, path, lineno, why);
                bad++;
            } else {
                lines++;
            }
        }
        free(line);
        if (f != stdin)
            fclose(f);
    }
    if (!naggs) {
        fprintf(stderr, "%s: report: no pool activity in %d report line%s\n", prog, lines, lines == 1 ? "" : "s");
        return bad ? 1 : 0;
    }
    int tw = 6;
    for (int i = 0; i < naggs; i++) {
        int len = (int)strlen(aggs[i].target);
        if (len > tw)
            tw = len;
    }
    if (tw > 21)
        tw = 21; /* longer targets get a line of their own: the table stays within 80 columns */
    tw += 1;
    printf("%d report line%s\n", lines, lines == 1 ? "" : "s");
    printf("%-*s%6s%10s%9s%8s%7s%9s%9s\n", tw, "target", "procs", "acquired", "hits", "misses", "hit%",
           "discard", "saved_ms");
    double total[NF] = {0};
    for (int i = 0; i < naggs; i++) {
        struct agg *a = &aggs[i];
        print_row(a->target, a->f, a->procs, tw);
        for (int f = 0; f < NF; f++)
            total[f] += a->f[f];
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
    print_row("total", total, lines, tw);
    return bad ? 1 : 0;
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
    fprintf(stderr, "%s: unknown command: %s\n", prog, argv[1]);
    return 2;
}

/* report.c - `objpool report`: reads the JSON lines written by
 * preload/report/report.c with jansson (the preload library itself links no
 * JSON library) and sums them into rows, one per target (or per target and
 * program); render.c prints them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "tool.h"

static const char *const fnames[NF] = {
    "acquired", "hits", "misses", "create_failures", "released", "parked", "discarded_total",
    "saved_ms", "stale_reuse_errors", "prewarmed", "prewarm_failed", "peak_idle", "peak_leased", "idle",
};

struct agg *aggs;
int naggs;
static int cap_aggs;


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
const char *take_report(const json_t *root, int line_id, int by_program)
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

void reset_aggs(void)
{
    naggs = 0; /* the rows' strings are left: a short-lived command */
}

int cmd_report(int argc, char **argv)
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

/* render.c - the summed rows as text: the report's table, or Prometheus'
 * text exposition format. Written from rows alone, so that `objpool report`
 * and `objpool stats` print through the same code.
 */
#include <stdio.h>
#include <string.h>

#include "../../preload/base/log.h"
#include "tool.h"

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

void print_table(const char *caption, int lines)
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
void print_prometheus(void)
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

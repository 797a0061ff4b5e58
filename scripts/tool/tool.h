/* tool.h - what the files of the command's helper share: the rows that
 * reports and live statistics are summed into, the printers that write
 * them, and each subcommand's entry point.
 *
 *   objpool-tool check [-f FILE] [-p SPEC]...            parse and resolve, print the pools
 *   objpool-tool report [--prometheus] FILE...           sum JSON-lines reports
 *   objpool-tool stats [--dir DIR] [--json|--prometheus] [--watch[=S]] [PID...]
 *                                                        live stats (OBJPOOL_STATS)
 *
 * One file per subcommand (check.c, report.c, stats.c), the printers of
 * the summed rows in render.c, the dispatch and the small shared helpers
 * in main.c. The `objpool` shell script calls the helper; --help lives there.
 */
#ifndef OBJPOOL_TOOL_H
#define OBJPOOL_TOOL_H

#include <stddef.h>

#include <jansson.h>

/* The command's name in messages (OBJPOOL_PROG, else "objpool"). */
extern const char *prog;

/* A bad command line: what was wrong, and where --help is (main.c). */
void usage_error(const char *cmd, const char *msg, const char *arg);
/* Allocation that cannot fail: a short-lived command stops, status 2. */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The length of the UTF-8 sequence at s, 0 if invalid: report lines and
 * Prometheus labels carry program names as the bytes the process had. */
size_t utf8_len(const unsigned char *s, size_t n);

/* Numbers summed per row, in table order; the discard reasons are kept by
 * name so that reasons added later are summed too. */
enum { F_ACQ, F_HITS, F_MISSES, F_CFAIL, F_RELEASED, F_PARKED, F_DISC, F_SAVED, F_STALE,
       F_WARM, F_COLD, F_PEAK_IDLE, F_PEAK_LEASED, F_IDLE, NF };

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

/* The rows, in the order first seen (report.c). */
extern struct agg *aggs;
extern int naggs;

/* One report object's pools into their rows (report.c); stats reads live
 * processes into the same rows, one object each, so both print alike. */
const char *take_report(const json_t *root, int line_id, int by_program);
void reset_aggs(void);
/* The rows as a table or in Prometheus' text format (render.c). */
void print_table(const char *caption, int lines);
void print_prometheus(void);

/* Each subcommand, with its own argv (argv[0] is its name). */
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_stats(int argc, char **argv);

#endif

/* check.c - `objpool check`: parses and resolves the configuration with the
 * library's own parser (preload/config/, preload/base/log.c), so that it
 * prints exactly the messages the library would print, then prints the pools.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../preload/config/config.h"
#include "../../preload/base/log.h"
#include "../../preload/base/proto_id.h"
#include "tool.h"

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

int cmd_check(int argc, char **argv)
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

/* config_fuzz.c - libFuzzer target for the configuration parser
 * (preload/config/), built by `make fuzz` with
 * clang -fsanitize=fuzzer,address,undefined.
 *
 * Each input is parsed three ways: as the config file (written to a temp
 * file), as OBJPOOL_POOLS (up to the first NUL byte), and as the extra
 * pools `objpool check -p` passes. The first byte also picks a few
 * OBJPOOL_* variables, so the environment-beats-file paths run too.
 * Targets are resolved only when every host is a numeric address or
 * localhost (no DNS queries), and every option is formatted back. State
 * is reset between runs: the config is freed, the variables unset.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "../../preload/config/config.h"
#include "../../preload/base/log.h"

static char path[64];
static int fd = -1;

static const char *const vars[] = {
    "OBJPOOL_POOLS", "OBJPOOL_CONFIG", "OBJPOOL_MAX_SIZE", "OBJPOOL_LOG", "OBJPOOL_REPORT",
    "OBJPOOL_REPORT_FORMAT", "OBJPOOL_LOG_FILE", "OBJPOOL_DISABLE", "OBJPOOL_DEEPBIND",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_temp(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/objpool-fuzz.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        abort();
    }
    atexit(remove_temp);
    /* the parser's messages would drown the fuzzer's own output */
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0)
        log_fd = null;
    return 0;
}

static int numeric_hosts_only(const struct config *cfg)
{
    unsigned char buf[sizeof(struct in6_addr)];
    for (int i = 0; i < cfg->nspecs; i++) {
        const struct pool_spec *sp = &cfg->specs[i];
        if (sp->kind != POOL_TCP || !strcmp(sp->host, "localhost"))
            continue;
        if (inet_pton(AF_INET, sp->host, buf) != 1 && inet_pton(AF_INET6, sp->host, buf) != 1)
            return 0;
    }
    return 1;
}

static void exercise(struct config *cfg)
{
    char buf[MAX_PROBE * 4 + 16];
    for (int i = 0; i < cfg->nspecs; i++)
        for (int id = -1; id <= OPT_COUNT; id++) {
            opt_format(&cfg->specs[i].opts, id, buf, sizeof buf);
            if (strlen(buf) >= sizeof buf)
                abort();
            (void)opt_name(id);
        }
    if (numeric_hosts_only(cfg))
        config_resolve(cfg);
    for (int i = 0; i < cfg->ntargets; i++)
        if (cfg->targets[i].spec < cfg->specs || cfg->targets[i].spec >= cfg->specs + cfg->nspecs)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    log_level = LOG_WARN;

    unsigned sel = size ? data[0] : 0;
    if (sel & 1)
        setenv("OBJPOOL_MAX_SIZE", "3", 1);
    if (sel & 2)
        setenv("OBJPOOL_LOG", "debug", 1);
    if (sel & 4)
        setenv("OBJPOOL_REPORT_FORMAT", "json", 1);

    /* 1. the input as the config file */
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    struct config cfg;
    config_load(&cfg, path, NULL);
    exercise(&cfg);
    config_free(&cfg);

    /* 2. as OBJPOOL_POOLS and 3. as extra pools (both stop at a NUL) */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (*text) {
        setenv("OBJPOOL_POOLS", text, 1);
        config_load(&cfg, NULL, NULL);
        exercise(&cfg);
        config_free(&cfg);
        unsetenv("OBJPOOL_POOLS");
    }
    setenv("OBJPOOL_CONFIG", path, 1);
    config_load(&cfg, NULL, text);
    exercise(&cfg);
    config_free(&cfg);

    free(text);
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    return 0;
}

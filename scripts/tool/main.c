/* main.c - the C half of the `objpool` command: picks the subcommand, and
 * keeps the helpers every subcommand uses (messages, allocation, UTF-8).
 * tool.h says which file does what.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const char *prog = "objpool";

void usage_error(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", prog, cmd, msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "Try '%s %s --help'.\n", prog, cmd);
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror(prog);
        exit(2);
    }
    return p;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        perror(prog);
        exit(2);
    }
    return d;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t utf8_len(const unsigned char *s, size_t n)
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

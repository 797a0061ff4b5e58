/* filecheck.c - drives file pooling for tests/file/pooling.bats.
 *
 *   filecheck cycle  PATH N [--api fopen|fopen64|open|open64|openat|fortify] [--mode M]
 *       N x (open, read the first line, close); every line must equal the
 *       first one. Prints "cycles=N ok=N".
 *   filecheck edit   PATH N
 *       N x: read the file, then rewrite it in place (same size, a new
 *       letter) through a write fd and put the old mtime back, so size and
 *       mtime are unchanged; the next read must see the new letter.
 *   filecheck rename PATH N
 *       N x: read, then replace the file by rename(2) with new content of
 *       the same size; the next read must see it, never the old content.
 *   filecheck proc   PATH
 *       read PATH (/proc/self/stat) through fopen three times, burning CPU
 *       in between; prints "differ" when each read differs from the one
 *       before, else "same"; then the lines.
 *   filecheck lowfd  PATH
 *       warm the pools, then check a hit gets the lowest free fd (0 after
 *       close(0), a hole among 3..5), FD_CLOEXEC as asked, offset 0, no EOF.
 *   filecheck write  PATH N MODE
 *       N x: fopen(PATH, MODE) ("w", "a", "r+"; "open-w" is open(O_WRONLY|
 *       O_CREAT|O_TRUNC)), write a line, close; then
 *       prints the file's size and first line.
 *   filecheck shared PATH
 *       fopen; dup(fileno); fclose; close(dup) - twice; then fork with a
 *       FILE open: none of these may be parked.
 *   filecheck errno  PATH
 *       errno after pass-through, pooled and failing opens and closes.
 *   filecheck stream PATH
 *       setvbuf with a user buffer, and a wide-oriented FILE: not parked;
 *       a plain one is, and looks fresh (fwide 0, ftell 0).
 * Exit status 0 when every check held; messages on stderr say what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "tool.h"

static int failures;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "filecheck: FAILED: " __VA_ARGS__); \
            fputc('\n', stderr);                           \
            failures++;                                    \
        }                                                  \
    } while (0)

/* flags the compiler cannot see: a fortified build then calls __open_2 */
static volatile int rdonly_flags = O_RDONLY;

static int open_api(const char *api, const char *path)
{
    int fl = rdonly_flags;
    if (!strcmp(api, "open"))
        return open(path, fl);
#ifdef __USE_LARGEFILE64
    if (!strcmp(api, "open64"))
        return open64(path, fl);
#endif
    if (!strcmp(api, "openat"))
        return openat(AT_FDCWD, path, fl);
    return -2;
}

/* Read the first line of PATH through the given API into buf. */
static int read_line(const char *api, const char *path, const char *mode, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!strcmp(api, "fopen") || !strcmp(api, "fopen64")) {
        FILE *fp =
#ifdef __USE_LARGEFILE64
            !strcmp(api, "fopen64") ? fopen64(path, mode) :
#endif
            fopen(path, mode);
        if (!fp) {
            fprintf(stderr, "filecheck: fopen %s: %s\n", path, strerror(errno));
            return -1;
        }
        if (!fgets(buf, (int)size, fp))
            buf[0] = '\0';
        return fclose(fp);
    }
    int fd = open_api(api, path);
    if (fd == -2) {
        fprintf(stderr, "filecheck: unknown api %s\n", api);
        exit(2);
    }
    if (fd < 0) {
        fprintf(stderr, "filecheck: open %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        nl[1] = '\0';
    return close(fd);
}

static int cmd_cycle(const char *path, long n, const char *api, const char *mode)
{
    char first[4096], line[4096];
    long ok = 0;
    if (read_line(api, path, mode, first, sizeof first) < 0)
        return 1;
    ok++;
    for (long i = 1; i < n; i++) {
        if (read_line(api, path, mode, line, sizeof line) == 0 && !strcmp(line, first))
            ok++;
        else
            CHECK(0, "cycle %ld read '%s', expected '%s'", i, line, first);
    }
    printf("cycles=%ld ok=%ld\n", n, ok);
    return ok == n ? 0 : 1;
}

/* Rewrite the file in place with `c` repeated (keeping the newline), then
 * restore its mtime: same size, same mtime. The write goes through a
 * write-only fd, which is never pooled by default. */
static void rewrite_in_place(const char *path, char c)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        perror("stat");
        exit(2);
    }
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        perror("open for write");
        exit(2);
    }
    char buf[256];
    size_t len = (size_t)st.st_size < sizeof buf ? (size_t)st.st_size : sizeof buf;
    memset(buf, c, len);
    if (len)
        buf[len - 1] = '\n';
    if (pwrite(fd, buf, len, 0) != (ssize_t)len) {
        perror("pwrite");
        exit(2);
    }
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (futimens(fd, ts) < 0) {
        perror("futimens");
        exit(2);
    }
    close(fd);
    struct stat after;
    stat(path, &after);
    CHECK(after.st_size == st.st_size && after.st_mtim.tv_sec == st.st_mtim.tv_sec &&
              after.st_mtim.tv_nsec == st.st_mtim.tv_nsec && after.st_ino == st.st_ino,
          "the in-place edit changed size, mtime or inode");
}

static int cmd_edit(const char *path, long n, const char *api)
{
    char line[4096];
    for (long i = 0; i < n; i++) {
        char c = (char)('A' + i % 26);
        rewrite_in_place(path, c);
        read_line(api, path, "r", line, sizeof line);
        CHECK(line[0] == c, "round %ld: read '%s', the file holds '%c...'", i, line, c);
    }
    printf("rounds=%ld failures=%d\n", n, failures);
    return failures ? 1 : 0;
}

static void replace_by_rename(const char *path, char c, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        perror("fopen tmp");
        exit(2);
    }
    for (size_t i = 0; i + 1 < len; i++)
        fputc(c, fp);
    fputc('\n', fp);
    fclose(fp);
    if (rename(tmp, path) < 0) {
        perror("rename");
        exit(2);
    }
}

static int cmd_rename(const char *path, long n, const char *api)
{
    char line[4096];
    read_line(api, path, "r", line, sizeof line);
    size_t len = strlen(line) ? strlen(line) : 8;
    for (long i = 0; i < n; i++) {
        char c = (char)('a' + i % 26);
        replace_by_rename(path, c, len);
        /* twice: the second read is a hit on the object the first parked */
        for (int k = 0; k < 2; k++) {
            read_line(api, path, "r", line, sizeof line);
            CHECK(line[0] == c, "round %ld read %d: '%s', the file holds '%c...'", i, k, line, c);
        }
    }
    printf("rounds=%ld failures=%d\n", n, failures);
    return failures ? 1 : 0;
}

/* Burn CPU until our own utime moves (clock ticks are 10 ms). */
static void burn_cpu(void)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 60000000L);
    (void)x; /* only burns CPU; clang -Werror wants it used */
}

/* Three snapshots: the first reuse of a FILE and a later one differ in
 * what glibc has cached (its offset is unknown after the first open), so
 * both must be seen to re-read. */
static int cmd_proc(const char *path)
{
    char snap[3][4096];
    int same = 0;
    for (int i = 0; i < 3; i++) {
        if (i)
            burn_cpu();
        read_line("fopen", path, "r", snap[i], sizeof snap[i]);
        if (i && !strcmp(snap[i], snap[i - 1]))
            same++;
    }
    printf("%s\n1: %s2: %s3: %s", same ? "same" : "differ", snap[0], snap[1], snap[2]);
    return 0;
}

static int cloexec_of(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC);
}

static int cmd_lowfd(const char *path)
{
    char line[256];
    /* warm: one FILE ("r"), one raw fd parked */
    read_line("fopen", path, "r", line, sizeof line);
    read_line("open", path, "r", line, sizeof line);

    /* close(0); open(pooled) returns 0 */
    close(0);
    int fd = open(path, O_RDONLY);
    CHECK(fd == 0, "open after close(0) returned %d, expected 0", fd);
    CHECK(!cloexec_of(fd), "open without O_CLOEXEC gave an fd with FD_CLOEXEC");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "offset of a reused fd is not 0");
    if (fd >= 0)
        close(fd);
    FILE *fp = fopen(path, "r");
    CHECK(fp && fileno(fp) == 0, "fopen after close(0) got fd %d, expected 0", fp ? fileno(fp) : -1);
    if (fp) {
        CHECK(!cloexec_of(fileno(fp)), "fopen \"r\" gave an fd with FD_CLOEXEC");
        CHECK(ftell(fp) == 0 && !feof(fp) && !ferror(fp), "reused FILE not at offset 0 or has EOF/error set");
        CHECK(fwide(fp, 0) == 0, "reused FILE has an orientation already");
        fclose(fp);
    }
    /* a hole: 3 4 5 open, 4 closed: the hit gets 4 */
    int a = dup(1), b = dup(1), c = dup(1);
    close(b);
    fp = fopen(path, "re");
    CHECK(fp && fileno(fp) == b, "fopen with fds %d %d open got fd %d, expected %d", a, c,
          fp ? fileno(fp) : -1, b);
    if (fp) {
        CHECK(cloexec_of(fileno(fp)), "fopen \"re\" gave an fd without FD_CLOEXEC");
        CHECK(fgets(line, sizeof line, fp) != NULL, "reading the reused FILE failed");
        fclose(fp);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd == b, "open with a hole at %d returned %d", b, fd);
    CHECK(cloexec_of(fd), "open with O_CLOEXEC gave an fd without FD_CLOEXEC");
    close(fd);
    close(a);
    close(c);
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}

static int cmd_write(const char *path, long n, const char *mode)
{
    for (long i = 0; i < n; i++) {
        if (!strcmp(mode, "open-w")) {
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            char line[64];
            int len = snprintf(line, sizeof line, "line %ld\n", i);
            if (fd < 0 || write(fd, line, (size_t)len) != len || close(fd) != 0) {
                perror("open-w");
                return 1;
            }
            continue;
        }
        FILE *fp = fopen(path, mode);
        if (!fp) {
            perror("fopen");
            return 1;
        }
        fprintf(fp, "line %ld\n", i);
        if (fclose(fp) != 0) {
            perror("fclose");
            return 1;
        }
    }
    struct stat st;
    stat(path, &st);
    char line[256] = "";
    FILE *fp = fopen(path, "r");
    if (fp) {
        if (!fgets(line, sizeof line, fp))
            line[0] = '\0';
        fclose(fp);
    }
    printf("size=%lld first=%s", (long long)st.st_size, line);
    return 0;
}

static int cmd_shared(const char *path)
{
    char line[256];
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(path, "r");
        int d = dup(fileno(fp));
        if (!fgets(line, sizeof line, fp))
            failures++;
        fclose(fp);
        /* the dup still reads the same open file: a parked object must not share it */
        CHECK(lseek(d, 0, SEEK_SET) == 0 && read(d, line, 1) == 1, "the dup'd fd is unusable");
        close(d);
    }
    FILE *fp = fopen(path, "r");
    pid_t pid = fork();
    if (pid == 0) {
        if (!fgets(line, sizeof line, fp))
            _exit(1);
        fclose(fp);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child could not read its copy");
    fclose(fp);
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}

static int cmd_stream(const char *path)
{
    char line[256];
    static char userbuf[BUFSIZ];
    FILE *fp = fopen(path, "r");
    setvbuf(fp, userbuf, _IOFBF, sizeof userbuf);
    if (!fgets(line, sizeof line, fp))
        failures++;
    fclose(fp);
    fp = fopen(path, "r");
    fwide(fp, 1);
    wchar_t w[64];
    if (!fgetws(w, 64, fp))
        failures++;
    fclose(fp);
    fp = fopen(path, "r"); /* plain: parked */
    if (!fgets(line, sizeof line, fp))
        failures++;
    ungetc('x', fp);
    fclose(fp);
    fp = fopen(path, "r"); /* reused: fresh */
    CHECK(ftell(fp) == 0 && fwide(fp, 0) == 0, "reused FILE: ftell %ld, fwide %d", ftell(fp), fwide(fp, 0));
    CHECK(fgets(line, sizeof line, fp) && line[0] != 'x', "reused FILE returned the pushed-back byte");
    fclose(fp);
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}

/* errno is the real call's on failure and untouched by objpool on a
 * pass-through success. PATH is pooled and exists; PATH.missing is
 * configured too (glob) but absent; /etc/hostname is not configured. */
static int cmd_errno(const char *path)
{
    char missing[4096];
    snprintf(missing, sizeof missing, "%s.missing", path);
    errno = EXDEV;
    FILE *fp = fopen("/etc/hostname", "r");
    CHECK(fp && errno == EXDEV, "pass-through fopen changed errno to %d", errno);
    errno = EXDEV;
    if (fp)
        fclose(fp);
    CHECK(errno == EXDEV, "pass-through fclose changed errno to %d", errno);
    for (int i = 0; i < 3; i++) {
        errno = EXDEV;
        fp = fopen(path, "r");
        CHECK(fp != NULL, "fopen of the pooled path failed: %s", strerror(errno));
        errno = EXDEV;
        if (fp)
            fclose(fp);
        CHECK(errno == EXDEV, "pooled fclose changed errno to %d", errno);
        errno = 0;
        fp = fopen(missing, "r");
        CHECK(!fp && errno == ENOENT, "fopen of a missing pooled path: %p errno %d", (void *)fp, errno);
        errno = 0;
        int fd = open(missing, O_RDONLY);
        CHECK(fd < 0 && errno == ENOENT, "open of a missing pooled path: %d errno %d", fd, errno);
        errno = EXDEV;
        fd = open(path, O_RDONLY);
        CHECK(fd >= 0, "open of the pooled path failed");
        errno = EXDEV;
        close(fd);
        CHECK(errno == EXDEV, "pooled close changed errno to %d", errno);
    }
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}

static const char *opt(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return dflt;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: filecheck cycle|edit|rename|proc|lowfd|write|shared|stream PATH [N] ...\n");
        return 2;
    }
    const char *cmd = argv[1], *path = argv[2];
    long n = argc > 3 ? atol(argv[3]) : 1;
    const char *api = opt(argc, argv, "--api", "fopen");
    const char *mode = opt(argc, argv, "--mode", "r");
    if (!strcmp(cmd, "cycle"))
        return cmd_cycle(path, n, api, mode);
    if (!strcmp(cmd, "edit"))
        return cmd_edit(path, n, api);
    if (!strcmp(cmd, "rename"))
        return cmd_rename(path, n, api);
    if (!strcmp(cmd, "proc"))
        return cmd_proc(path);
    if (!strcmp(cmd, "lowfd"))
        return cmd_lowfd(path);
    if (!strcmp(cmd, "write"))
        return cmd_write(path, n, argc > 4 ? argv[4] : "w");
    if (!strcmp(cmd, "shared"))
        return cmd_shared(path);
    if (!strcmp(cmd, "errno"))
        return cmd_errno(path);
    if (!strcmp(cmd, "stream"))
        return cmd_stream(path);
    fprintf(stderr, "filecheck: unknown command %s\n", cmd);
    return 2;
}

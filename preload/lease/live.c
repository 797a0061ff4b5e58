/* live.c - live statistics (live.h): DIR/PID.stats, created at init when
 * OBJPOOL_STATS is set, mapped MAP_SHARED, the pools' counters moved into
 * its slots; a forked child's own file, mapped over the same address. The
 * library never deletes a file: `objpool stats` removes those of processes
 * that are gone. No system call after set-up: the pools write to the
 * mapping exactly as they wrote to their own memory. */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"

static char dir_path[PATH_MAX];
static unsigned char *map; /* LIVE_FILE_SIZE bytes, or NULL: live stats off */

/* The mapping's parts, by the layout of live.h. */
static struct live_header *header(void)
{
    return (struct live_header *)map;
}

/* Slot i, right after the header page. */
static struct live_slot *slot_at(uint32_t i)
{
    return (struct live_slot *)(map + LIVE_HEADER_SIZE) + i;
}

/* OBJPOOL_STATS=DIR, or empty for the default: $XDG_RUNTIME_DIR/objpool,
 * else /run/user/UID/objpool where logind made /run/user/UID, else
 * /tmp/objpool-UID (a container, root on a server: tmux's choice; the
 * directory's owner and mode checks make a shared /tmp safe). 0 if it is
 * unset (no live stats). scripts/tool/stats.c looks in the same place. */
/* The default without $XDG_RUNTIME_DIR (see stats_dir). */
static size_t default_dir(char *buf, size_t size)
{
    unsigned uid = (unsigned)geteuid();
    struct stat st;
    fmt_buf(buf, size, "/run/user/%u", uid);
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
        return fmt_buf(buf, size, "/run/user/%u/objpool", uid);
    return fmt_buf(buf, size, "/tmp/objpool-%u", uid);
}

static int stats_dir(void)
{
    const char *v = secure_getenv("OBJPOOL_STATS");
    if (!v)
        return 0;
    size_t n;
    if (*v) {
        n = fmt_buf(dir_path, sizeof dir_path, "%s", v);
    } else {
        const char *x = secure_getenv("XDG_RUNTIME_DIR");
        if (x && x[0] == '/')
            n = fmt_buf(dir_path, sizeof dir_path, "%s/objpool", x);
        else
            n = default_dir(dir_path, sizeof dir_path);
    }
    if (n + 32 >= sizeof dir_path) {
        log_msg(LOG_ERROR, "stats: OBJPOOL_STATS: the directory name is too long; no live stats");
        return 0;
    }
    return 1;
}

/* The directory, made 0700 if missing, opened without following a
 * symbolic link and checked: a directory of ours with mode 0700. Anything
 * else is one error line: the program runs on without live stats. */
static int open_dir(void)
{
    if (mkdir(dir_path, 0700) < 0 && errno != EEXIST) {
        log_msg(LOG_ERROR, "stats: %s: cannot create it (%s); no live stats", dir_path, strerror(errno));
        return -1;
    }
    int fd = real.openat(AT_FDCWD, dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        log_msg(LOG_ERROR, "stats: %s: %s; no live stats", dir_path,
                e == ELOOP || e == ENOTDIR ? "a symbolic link or not a directory" : strerror(e));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) < 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    else if (st.st_uid != geteuid())
        why = "owned by another user";
    else if ((st.st_mode & 07777) != 0700)
        why = "its mode is not 0700";
    if (why) {
        log_msg(LOG_ERROR, "stats: %s: %s; no live stats", dir_path, why);
        raw_close(fd);
        return -1;
    }
    return fd;
}

/* PID.stats, new and 0600. One that exists already can only be stale: a
 * file of our own pid left by an earlier image of this process (before an
 * exec) or by a dead process whose pid we got; in a directory only we can
 * write it is taken over, if it is a plain file of ours. */
static int create_file(int dirfd)
{
    char name[32];
    fmt_buf(name, sizeof name, "%d.stats", (int)getpid());
    int fd = real.openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        fd = real.openat(dirfd, name, O_NOFOLLOW | O_RDWR | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
                        st.st_nlink != 1 || ftruncate(fd, 0) < 0)) {
            raw_close(fd);
            fd = -1;
            errno = EEXIST;
        }
    }
    if (fd < 0) {
        log_msg(LOG_ERROR, "stats: %s/%s: %s; no live stats", dir_path, name, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)LIVE_FILE_SIZE) < 0) {
        log_msg(LOG_ERROR, "stats: %s/%s: %s; no live stats", dir_path, name, strerror(errno));
        raw_close(fd);
        return -1;
    }
    return fd;
}

/* Field 22 of /proc/self/stat, the start time in clock ticks since boot:
 * with the pid, it names this process and no later one. 0 if unknown. */
static uint64_t start_ticks(void)
{
    char buf[1024];
    int fd = real.openat(AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = real.read(fd, buf, sizeof buf - 1);
    raw_close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    if (!p)
        return 0;
    p++;
    for (int field = 2; field < 22 && p; field++) { /* p is before field `field + 1` */
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    uint64_t v = 0;
    for (; p && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

/* The header says whose file this is (written by init, and by a fork
 * child over its copy of the parent's). */
static void fill_header(void)
{
    struct live_header *h = header();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->pid = (int32_t)getpid();
    h->ppid = (int32_t)getppid();
    h->start_ticks = start_ticks();
    h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    h->header_size = LIVE_HEADER_SIZE;
    h->slot_size = (uint32_t)sizeof(struct live_slot);
    h->nslots = LIVE_SLOTS;
    h->version = LIVE_VERSION;
    memcpy(h->program, objpool_program, sizeof h->program - 1);
    h->program[sizeof h->program - 1] = '\0';
    /* the magic last: a reader takes the file once it is there */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(h->magic, LIVE_MAGIC, sizeof h->magic);
}

/* A fresh slot for target t, or NULL when all are taken (then the file
 * says its numbers are partial). */
static struct live_slot *new_slot(const struct target *t)
{
    uint32_t i = __atomic_fetch_add(&header()->used, 1, __ATOMIC_RELAXED);
    if (i >= LIVE_SLOTS) {
        __atomic_store_n(&header()->overflow, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    struct live_slot *s = slot_at(i);
    s->kind = (uint32_t)t->spec->kind;
    s->family = t->family;
    s->proto = t->spec->opts.proto;
    fmt_buf(s->target, sizeof s->target, "%s", t->spec->url);
    fmt_buf(s->address, sizeof s->address, "%s", t->addr_text);
    return s;
}

/* Is this target's counter block in the mapping (a slot of its own)? */
static struct live_slot *slot_of(struct target_counters *c)
{
    unsigned char *b = (unsigned char *)c;
    if (!map || b < map + LIVE_HEADER_SIZE || b >= map + LIVE_FILE_SIZE)
        return NULL;
    return (struct live_slot *)(b - offsetof(struct live_slot, tc));
}

void live_attach_pool(struct objpool *p, struct target *t)
{
    if (!map)
        return;
    /* a connection target's pool is the target's: one slot for both; a
     * file target has a pool per path, each in a slot of its own */
    struct live_slot *s = t->spec->kind != POOL_FILE ? slot_of(t->ctr) : NULL;
    if (!s)
        s = new_slot(t);
    if (!s)
        return;
    objpool_set_stats_area(p, &s->st, &s->seq);
    __atomic_fetch_or(&s->flags, LIVE_SLOT_POOL, __ATOMIC_RELEASE);
}

/* Write all of the mapping into fd (a fork child's new file). */
static int copy_into(int fd)
{
    size_t done = 0;
    while (done < LIVE_FILE_SIZE) {
        ssize_t n = real.write(fd, map + done, LIVE_FILE_SIZE - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* A forked child still maps its parent's file: before anything in the
 * child counts, it gets a file of its own with the same contents, mapped
 * over the same address (every pool and target points into it). If that
 * fails, a private copy takes the file's place: the child never writes
 * into its parent's numbers. The child's counters are then reset by the
 * fork handlers that follow (lease/inherit.c, report/report.c). */
static void live_after_fork(void)
{
    if (!map)
        return;
    int saved = errno;
    int dirfd = open_dir(), fd = dirfd >= 0 ? create_file(dirfd) : -1;
    if (dirfd >= 0)
        raw_close(dirfd);
    void *m = MAP_FAILED;
    if (fd >= 0 && copy_into(fd) == 0)
        m = mmap(map, LIVE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    if (fd >= 0)
        raw_close(fd);
    if (m == MAP_FAILED) {
        unsigned char *tmp = mmap(NULL, LIVE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (tmp != MAP_FAILED) {
            memcpy(tmp, map, LIVE_FILE_SIZE);
            /* mremap moves the copy's pages over the shared mapping in one step */
            if (mremap(tmp, LIVE_FILE_SIZE, LIVE_FILE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, map) == MAP_FAILED)
                munmap(tmp, LIVE_FILE_SIZE);
        }
    }
    fill_header();
    errno = saved;
}

void live_setup(void)
{
    /* every target's own counters start at home; a slot may take them */
    for (int i = 0; i < cfg.ntargets; i++)
        cfg.targets[i].ctr = &cfg.targets[i].ctr_local;
    if (!stats_dir())
        return;
    int dirfd = open_dir();
    if (dirfd < 0)
        return;
    int fd = create_file(dirfd);
    raw_close(dirfd);
    if (fd < 0)
        return;
    void *m = mmap(NULL, LIVE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    raw_close(fd); /* the mapping stays; no fd of ours stays open */
    if (m == MAP_FAILED) {
        log_msg(LOG_ERROR, "stats: %s: cannot map the file (%s); no live stats", dir_path, strerror(e));
        return;
    }
    map = m;
    for (int i = 0; i < cfg.ntargets; i++) {
        struct live_slot *s = new_slot(&cfg.targets[i]);
        if (!s)
            break;
        cfg.targets[i].ctr = &s->tc;
        __atomic_fetch_or(&s->flags, LIVE_SLOT_TARGET, __ATOMIC_RELEASE);
    }
    fill_header();
    pthread_atfork(NULL, NULL, live_after_fork);
}

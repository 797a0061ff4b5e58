/* process.c - spawn and exec. fork itself needs no interposer: the
 * pthread_atfork handlers in lease/inherit.c run for every libc fork. */
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lease/inherit.h"
#include "../report/report.h"
#include "interpose.h"

OBJPOOL_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                               const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    /* file actions may dup any lease into the child: then every lease is shared */
    inherit_before_spawn(fa != NULL);
    return real.posix_spawn(pid, path, fa, attr, argv, envp);
}

OBJPOOL_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                                const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    inherit_before_spawn(fa != NULL);
    return real.posix_spawnp(pid, file, fa, attr, argv, envp);
}

/* glibc's system() and popen() spawn through internal calls no interposed
 * posix_spawn sees, hence their own interposers. */
OBJPOOL_EXPORT int system(const char *command)
{
    inherit_before_spawn(0);
    if (!real.system) {
        real_resolve();
        if (!real.system)
            return -1;
    }
    return real.system(command);
}

OBJPOOL_EXPORT FILE *popen(const char *command, const char *type)
{
    inherit_before_spawn(0);
    if (!real.popen) {
        real_resolve();
        if (!real.popen)
            return NULL;
    }
    return real.popen(command, type);
}

/* ---- vfork ---------------------------------------------------------------
 * A vfork child shares the parent's stack until it execs, so vfork cannot
 * be wrapped by a C function (the child would return through, and clobber,
 * the wrapper's frame). The trampoline calls the marking hook as an
 * ordinary call, then jumps to the real vfork with the caller's own return
 * address still on the stack, exactly as if the program had called it. */
#if defined(__x86_64__)
__attribute__((visibility("hidden"))) void *objpool_real_vfork;
__attribute__((visibility("hidden"), used)) void objpool_before_vfork(void);

void objpool_before_vfork(void)
{
    int err = errno;
    if (!real.vfork)
        real_resolve();
    objpool_real_vfork = (void *)real.vfork;
    /* the child runs the program's code before it execs and may clear
     * FD_CLOEXEC (Python's pass_fds, a child's own fcntl): every lease is
     * shared, whatever its flags */
    inherit_before_spawn(1);
    vfork_pending = 1;
    errno = err;
}

__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "    sub $8, %rsp\n" /* keep the stack 16-byte aligned for the call */
        "    call objpool_before_vfork\n"
        "    add $8, %rsp\n"
        "    jmp *objpool_real_vfork(%rip)\n"
        ".size vfork, .-vfork\n");
#endif

/* ---- exec ----------------------------------------------------------------
 * The image is about to be replaced: write this image's report now (the
 * destructor will not run). If the exec fails, the counts were reported
 * already: start them afresh so the exit report does not repeat them. */
static void before_exec(void)
{
    if (!pooling_on || !guard_enter())
        return;
    bury_graveyard();
    report_write(REPORT_AT_EXEC);
    guard_leave();
}

static int after_failed_exec(int rc)
{
    int err = errno;
    if (pooling_on && guard_enter()) {
        report_after_exec_failed();
        guard_leave();
    }
    errno = err;
    return rc;
}

/* The exec calls, as the program's own or the execl family's: never back
 * through an exported interposer. */
static int exec_ve(const char *path, char *const argv[], char *const envp[])
{
    before_exec();
    return after_failed_exec(real.execve(path, argv, envp));
}

static int exec_v(const char *path, char *const argv[])
{
    before_exec();
    return after_failed_exec(real.execv(path, argv));
}

static int exec_vp(const char *file, char *const argv[])
{
    before_exec();
    return after_failed_exec(real.execvp(file, argv));
}

OBJPOOL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return exec_ve(path, argv, envp);
}

OBJPOOL_EXPORT int execv(const char *path, char *const argv[])
{
    return exec_v(path, argv);
}

OBJPOOL_EXPORT int execvp(const char *file, char *const argv[])
{
    return exec_vp(file, argv);
}

OBJPOOL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    before_exec();
    return after_failed_exec(real.execvpe(file, argv, envp));
}

OBJPOOL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    before_exec();
    return after_failed_exec(real.fexecve(fd, argv, envp));
}

/* execl, execlp, execle: glibc builds the vector and calls its internal
 * execve, which no interposer sees; build it here and go through ours. The
 * list goes by pointer: execle reads on past it for envp, and a va_list
 * passed by value is indeterminate in the caller afterwards. */
enum exec_kind { EXEC_V, EXEC_VP, EXEC_VE };

static int exec_from_list(enum exec_kind kind, const char *path, const char *arg, va_list *ap)
{
    size_t n = 1;
    va_list c;
    va_copy(c, *ap);
    for (const char *a = arg; a; a = va_arg(c, const char *))
        n++;
    va_end(c);
    char *argv[n];
    argv[0] = (char *)arg;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(*ap, char *);
    if (kind == EXEC_VE)
        return exec_ve(path, argv, va_arg(*ap, char *const *));
    return kind == EXEC_VP ? exec_vp(path, argv) : exec_v(path, argv);
}

OBJPOOL_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_from_list(EXEC_V, path, arg, &ap);
    va_end(ap);
    return rc;
}

OBJPOOL_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_from_list(EXEC_VP, file, arg, &ap);
    va_end(ap);
    return rc;
}

OBJPOOL_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_from_list(EXEC_VE, path, arg, &ap);
    va_end(ap);
    return rc;
}

/* dlcheck.c - dlopen as the programs objpool meets do it, for
 * tests/interpose/eventloops.bats. Linked with RUNPATH $ORIGIN/dl (mk/dl.mk).
 *
 *   dlcheck bare [deepbind]        dlopen("libdlquiet.so"): found only through
 *                                  this program's RUNPATH
 *   dlcheck origin [deepbind]      dlopen("$ORIGIN/dl/libdlquiet.so")
 *   dlcheck dlmopen [deepbind]     dlmopen(LM_ID_BASE, "libdlquiet.so")
 *   dlcheck cycle PATH N [PORT]    N times: dlopen(PATH, RTLD_NOW|RTLD_DEEPBIND),
 *                                  dlplug_connect(PORT) if PORT, dlclose
 *                                  (and "sealed=0|1" for a library with dlsealed_ok,
 *                                  "relro=PERMS" of its RELRO's first page)
 *   dlcheck lazy PATH N PORT       one dlopen(PATH, RTLD_LAZY|RTLD_DEEPBIND), N
 *                                  calls of dlplug_connect(PORT), dlclose
 *   dlcheck nest OUTER INNER N PORT  N times: dlopen(OUTER, RTLD_NOW|RTLD_DEEPBIND),
 *                                  its dlnest_connect(INNER, PORT), dlclose
 *   dlcheck threads PATH T N PORT  T threads, each N times: dlopen(PATH,
 *                                  RTLD_NOW|RTLD_DEEPBIND), dlplug_connect(PORT), dlclose
 *
 * After each successful dlopen, dlerror() must have nothing to say:
 * "dlerror=pending" is printed if it has.
 *
 * Prints "loaded=ok" (and "connects=N"), or "loaded=fail: <dlerror>" and
 * exits 1. A name found, or not, through the caller's RUNPATH or $ORIGIN
 * shows whether the real dlopen saw this program as its caller. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    const char *e = dlerror();
    printf("loaded=fail: %s: %s\n", what, e ? e : "(no dlerror)");
    return 1;
}

/* One load of the quiet library by a name the caller decides. */
static int load_quiet(const char *how, int deep)
{
    int mode = RTLD_NOW | (deep ? RTLD_DEEPBIND : 0);
    void *h;
    if (!strcmp(how, "bare"))
        h = dlopen("libdlquiet.so", mode);
    else if (!strcmp(how, "origin"))
        h = dlopen("$ORIGIN/dl/libdlquiet.so", mode);
    else
        h = dlmopen(LM_ID_BASE, "libdlquiet.so", mode);
    if (!h)
        return fail(how);
    int (*answer)(void) = (int (*)(void))dlsym(h, "dlquiet_answer");
    if (!answer || answer() != 42)
        return fail("dlquiet_answer");
    dlclose(h);
    printf("loaded=ok\n");
    return 0;
}

/* The protection of the first page of the RELRO region of the object
 * whose range holds arg, from /proc/self/maps ("r--p"), into relro_perms. */
static char relro_perms[8] = "none";

static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    ElfW(Addr) me = (ElfW(Addr))arg, relro = 0;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        ElfW(Addr) a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= a && me < a + ph->p_memsz)
            mine = 1;
        if (ph->p_type == PT_GNU_RELRO)
            relro = a;
    }
    if (!mine || !relro)
        return mine;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lo, hi;
    char perms[8];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && relro >= lo && relro < hi)
            snprintf(relro_perms, sizeof relro_perms, "%s", perms);
    if (f)
        fclose(f);
    return 1;
}

/* Load, use and unload a library n times, as a PHP worker might. */
static int cycle(const char *path, int n, int port)
{
    int connects = 0;
    for (int i = 0; i < n; i++) {
        void *h = dlopen(path, RTLD_NOW | RTLD_DEEPBIND);
        if (!h)
            return fail(path);
        if (dlerror())
            printf("dlerror=pending ");
        int (*conn)(int) = (int (*)(int))dlsym(h, "dlplug_connect");
        int (*sealed)(void) = (int (*)(void))dlsym(h, "dlsealed_ok");
        if (port && conn && conn(port) == 0)
            connects++;
        if (sealed && i == 0)
            printf("sealed=%d ", sealed());
        if (conn && i == 0) {
            dl_iterate_phdr(find_relro, (void *)conn);
            printf("relro=%s ", relro_perms);
        }
        dlclose(h);
    }
    printf("loaded=ok connects=%d\n", connects);
    return 0;
}

/* Loads of one library from several threads at once: each load re-binds
 * while the others call through their own copy (the loader shares one). */
struct worker {
    const char *path;
    int n, port, connects, failed;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        void *h = dlopen(w->path, RTLD_NOW | RTLD_DEEPBIND);
        if (!h) {
            w->failed++;
            continue;
        }
        int (*conn)(int) = (int (*)(int))dlsym(h, "dlplug_connect");
        if (conn && conn(w->port) == 0)
            w->connects++;
        dlclose(h);
    }
    return NULL;
}

static int threads(const char *path, int t, int n, int port)
{
    struct worker w[16];
    pthread_t tid[16];
    int connects = 0, failed = 0;
    if (t > 16)
        t = 16;
    for (int i = 0; i < t; i++) {
        w[i] = (struct worker){path, n, port, 0, 0};
        if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
            return fail("pthread_create");
    }
    for (int i = 0; i < t; i++) {
        pthread_join(tid[i], NULL);
        connects += w[i].connects;
        failed += w[i].failed;
    }
    if (failed)
        return fail(path);
    printf("loaded=ok connects=%d\n", connects);
    return 0;
}

/* One lazily bound load, its connect called n times: the first call of a
 * lazy PLT slot is where the loader would bind it. */
static int lazy(const char *path, int n, int port)
{
    int connects = 0;
    void *h = dlopen(path, RTLD_LAZY | RTLD_DEEPBIND);
    if (!h)
        return fail(path);
    int (*conn)(int) = (int (*)(int))dlsym(h, "dlplug_connect");
    for (int i = 0; i < n && conn; i++)
        if (conn(port) == 0)
            connects++;
    dlclose(h);
    printf("loaded=ok connects=%d\n", connects);
    return 0;
}

/* A deep-bound library that loads another deep-bound one, n times. */
static int nest(const char *outer, const char *inner, int n, int port)
{
    int connects = 0;
    for (int i = 0; i < n; i++) {
        void *h = dlopen(outer, RTLD_NOW | RTLD_DEEPBIND);
        if (!h)
            return fail(outer);
        int (*conn)(const char *, int) = (int (*)(const char *, int))dlsym(h, "dlnest_connect");
        if (conn && conn(inner, port) == 0)
            connects++;
        dlclose(h);
    }
    printf("loaded=ok connects=%d\n", connects);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "bare") || !strcmp(argv[1], "origin") || !strcmp(argv[1], "dlmopen")))
        return load_quiet(argv[1], argc > 2 && !strcmp(argv[2], "deepbind"));
    if (argc >= 4 && !strcmp(argv[1], "cycle"))
        return cycle(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
    if (argc >= 5 && !strcmp(argv[1], "lazy"))
        return lazy(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc >= 6 && !strcmp(argv[1], "threads"))
        return threads(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc >= 6 && !strcmp(argv[1], "nest"))
        return nest(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: dlcheck bare|origin|dlmopen [deepbind] | cycle PATH N [PORT] | lazy PATH N PORT"
                    " | nest OUTER INNER N PORT | threads PATH T N PORT\n");
    return 2;
}

/* state.c - the storage of process-wide state (state.h) and the one test
 * that needs a system call: are we a vfork child? */
#include "state.h"

#include <unistd.h>

_Atomic int init_state;
struct config cfg;
int pooling_on;
pid_t objpool_pid;
char objpool_program[OBJPOOL_PROGRAM_MAX];
_Atomic unsigned fork_gen;
__thread int in_objpool __attribute__((tls_model("initial-exec")));
__thread int vfork_pending __attribute__((tls_model("initial-exec")));

/* Only after a vfork on this thread: are we the child still? The parent
 * clears the flag the first time it looks after vfork returned. */
int vfork_child_slow(void)
{
    if (getpid() != objpool_pid)
        return 1;
    vfork_pending = 0;
    return 0;
}

/* interpose_process.c - fork, spawn and exec (ownership hazards come in
 * their own change). */
#include "interpose.h"

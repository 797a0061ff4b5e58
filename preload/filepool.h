/* filepool.h - pooled files: fopen/open of configured paths. */
#ifndef OBJPOOL_FILEPOOL_H
#define OBJPOOL_FILEPOOL_H

#include <stdio.h>

#include "config.h"
#include "registry.h"

extern int file_ntargets;

int filepool_setup(struct config *cfg);
/* The program closes a file lease (close() of its fd) whose slot the
 * caller has claimed. */
int filepool_close(int fd, struct lease *l);
#endif

/* interpose_file.c - fopen/open families (file pooling comes in its own
 * change; until then nothing here). */
#include "interpose.h"

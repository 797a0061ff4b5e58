/* file_fortify.c - filecheck built as distributions build programs:
 * _FORTIFY_SOURCE=2 with optimisation, so open() with flags the compiler
 * cannot see becomes a call to __open_2 (file/pooling.bats checks the symbol). */
#if defined(__OPTIMIZE__)
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#endif
#include "filecheck.c"

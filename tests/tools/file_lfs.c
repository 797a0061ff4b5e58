/* file_lfs.c - filecheck built with -D_FILE_OFFSET_BITS=64: open() and
 * fopen() become calls to open64 and fopen64 (file/pooling.bats checks). */
#define _FILE_OFFSET_BITS 64
#include "filecheck.c"

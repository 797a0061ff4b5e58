/* export.h - how an interposer is exported, and the branch hint every
 * pass-through test uses. The shared object is built with
 * -fvisibility=hidden: only what is marked here is visible to the program. */
#ifndef OBJPOOL_EXPORT_H
#define OBJPOOL_EXPORT_H

#define OBJPOOL_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

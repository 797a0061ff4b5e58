/* stream.c - glibc's FILE internals, the one place objpool touches them:
 * making a parked FILE look freshly opened, telling when a FILE cannot be
 * parked, and pointing a FILE at another fd. */
#include "internal.h"

#include <wchar.h>

#include "../core/reasons.h"

/* glibc's FILE flag bits (libio/libio.h; not in the installed headers, and
 * unchanged since glibc 2.1). _flags2's CLOEXEC bit is what "e" sets;
 * freopen reads it, so a hit makes it follow the mode asked for. */
#define IO_USER_BUF 0x0001   /* the program's buffer (setvbuf with buf) */
#define IO_UNBUFFERED 0x0002 /* setvbuf(_IONBF) */
#define IO_ERR_SEEN 0x0020
#define IO_IN_BACKUP 0x0100  /* ungetc past the buffer start */
#define IO_LINE_BUF 0x0200   /* setvbuf(_IOLBF) */
#define IO_USER_LOCK 0x8000  /* __fsetlocking(FSETLOCKING_BYCALLER) */
#define IO_FLAGS2_CLOEXEC 64

/* Make a FILE look freshly opened: nothing buffered, offset 0, no EOF or
 * error, no orientation. 0 on success. */
int stream_reset(FILE *fp)
{
    if (fp->_IO_write_ptr > fp->_IO_write_base && fflush(fp) != 0)
        return -1; /* pending output could not be written: fclose must report it */
    /* Drop unread input without the lseek(SEEK_CUR) fflush would make to
     * give those bytes back to the kernel: we seek to 0 next anyway. */
    if (!(fp->_flags & IO_IN_BACKUP))
        fp->_IO_read_ptr = fp->_IO_read_end;
    /* fflush forgets glibc's cached offset; without it the seek below finds
     * offset 0 still in the buffer and reads nothing from the kernel */
    if (fflush(fp) != 0 || fseeko(fp, 0, SEEK_SET) != 0)
        return -1; /* fseeko also clears EOF; a stream with an error is never parked */
    if (fp->_mode < 0)
        fp->_mode = 0; /* a fresh FILE has no orientation yet (fwide(fp, 0) == 0) */
    return 0;
}

/* Why this FILE cannot be parked, or 0. */
int stream_reason(FILE *fp)
{
    if (fwide(fp, 0) > 0)
        return REASON_UNPOOLABLE; /* wide: its conversion state would carry over */
    if (fp->_flags & (IO_USER_BUF | IO_UNBUFFERED | IO_LINE_BUF | IO_USER_LOCK))
        return REASON_UNPOOLABLE; /* the program's buffer (may be freed) or buffering choice */
    if (fp->_flags & IO_ERR_SEEN)
        return REASON_ERROR;
    return 0;
}


void stream_set_fileno(FILE *fp, int fd)
{
    fp->_fileno = fd;
}

void stream_set_fd(FILE *fp, int fd, int cloexec)
{
    fp->_fileno = fd;
    if (cloexec)
        fp->_flags2 |= IO_FLAGS2_CLOEXEC;
    else
        fp->_flags2 &= ~IO_FLAGS2_CLOEXEC;
}

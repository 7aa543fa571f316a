/* file.h - whole-file reads and writes for the loaders and savers of src/io, and the size
 * arithmetic they share.
 *
 * Only regular files are read or written: a directory, FIFO, device or socket is refused with a
 * message naming its kind, before anything is read (so /dev/zero cannot fill memory and a FIFO
 * without a writer cannot block). A read takes exactly the size fstat gave; a file that holds
 * more or less by the time it is read is an error. */
#ifndef WG_IO_FILE_H
#define WG_IO_FILE_H
#include <stddef.h>
#include <stdint.h>

#include "tape/size.h" /* wg_mul_size, wg_add_size: counts that never wrap */
#include "wengert.h"

/* The whole file into a new buffer of *len + 1 bytes whose last byte is 0 (so text can be
 * scanned as a string); free with wg_free(buf, *len + 1). */
wg_status wg_file_read(const char *path, unsigned char **buf, size_t *len, char *err,
                       size_t errlen);
/* Create or truncate path (a regular file) and write len bytes. */
wg_status wg_file_write(const char *path, const unsigned char *buf, size_t len, char *err,
                        size_t errlen);

/* an err buffer says "" until something fails (functions that succeed leave no stale text) */
static inline void io_clear(char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
}

#endif

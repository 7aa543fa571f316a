/* file.c - whole-file reads and writes of regular files, for every loader and saver of src/io.
 *
 * open(2) with O_NONBLOCK, so that opening a FIFO never waits for the other end; fstat on the
 * descriptor (no window between the check and the use); refuse anything but a regular file,
 * naming its kind; then clear O_NONBLOCK and read or write with plain read(2) / write(2).
 * O_NOCTTY: opening a terminal device must not make it the process's controlling terminal. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "io/file.h"
#include "model/model.h"
#include "tape/alloc.h"

/* one read(2) or write(2) asks for at most this much (counts above SSIZE_MAX are undefined) */
#define IO_CHUNK ((size_t)1 << 30)

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

/* The descriptor of path opened with flags (O_RDONLY, or O_WRONLY | O_CREAT | O_TRUNC) when it
 * is a regular file, its size in *size; -1 and an WG_ERR_IO message ("PATH: cannot VERB: ...")
 * otherwise. */
static int open_regular(const char *path, int flags, const char *verb, off_t *size,
                        wg_status *st, char *err, size_t errlen) {
  int fd;
  do fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  struct stat sb;
  if (fd < 0) {
    int e = errno;
    /* ENXIO: a FIFO opened for writing that no one reads; say what the path is */
    if (e == ENXIO && stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
      *st = wg_errf(err, errlen, WG_ERR_IO, "%s: cannot %s: it is %s, not a regular file", path,
                    verb, kind_of(sb.st_mode));
    else
      *st = wg_errf(err, errlen, WG_ERR_IO, "%s: cannot %s: %s", path, verb, strerror(e));
    return -1;
  }
  int fl;
  if (fstat(fd, &sb) != 0)
    *st = wg_errf(err, errlen, WG_ERR_IO, "%s: cannot %s: %s", path, verb, strerror(errno));
  else if (!S_ISREG(sb.st_mode))
    *st = wg_errf(err, errlen, WG_ERR_IO, "%s: cannot %s: it is %s, not a regular file", path,
                  verb, kind_of(sb.st_mode));
  else if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
    *st = wg_errf(err, errlen, WG_ERR_IO, "%s: cannot %s: %s", path, verb, strerror(errno));
  else {
    *size = sb.st_size;
    return fd;
  }
  close(fd);
  return -1;
}

/* exactly len bytes, then end of file: a file that shrank or grew since fstat is refused */
static wg_status read_exactly(int fd, const char *path, unsigned char *b, size_t len, char *err,
                              size_t errlen) {
  size_t n = 0;
  while (n < len) {
    ssize_t got = read(fd, b + n, len - n < IO_CHUNK ? len - n : IO_CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return wg_errf(err, errlen, WG_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (got == 0)
      return wg_errf(err, errlen, WG_ERR_IO, "%s: the file shrank while it was read (%zu of its "
                     "%zu bytes were there)", path, n, len);
    n += (size_t)got;
  }
  unsigned char extra;
  ssize_t got;
  do got = read(fd, &extra, 1);
  while (got < 0 && errno == EINTR);
  if (got < 0) return wg_errf(err, errlen, WG_ERR_IO, "%s: read error: %s", path, strerror(errno));
  if (got > 0)
    return wg_errf(err, errlen, WG_ERR_IO, "%s: the file holds more than the %zu bytes of its "
                   "size: it grew while it was read", path, len);
  return WG_OK;
}

wg_status wg_file_read(const char *path, unsigned char **buf, size_t *len, char *err,
                       size_t errlen) {
  *buf = NULL, *len = 0;
  wg_status st = WG_OK;
  off_t size = 0;
  int fd = open_regular(path, O_RDONLY, "open", &size, &st, err, errlen);
  if (fd < 0) return st;
  size_t n = (size_t)size, total; /* the buffer: n bytes and a 0 */
  unsigned char *b = NULL;
  if (size < 0 || (uintmax_t)size != n || !wg_add_size(n, 1, &total))
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: %jd bytes do not fit in memory", path,
                 (intmax_t)size);
  else if (!(b = wg_alloc(total)))
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory for its %zu bytes", path, n);
  else
    st = read_exactly(fd, path, b, n, err, errlen);
  close(fd);
  if (st) {
    if (b) wg_free(b, total);
    return st;
  }
  b[n] = 0;
  *buf = b, *len = n;
  return WG_OK;
}

wg_status wg_file_write(const char *path, const unsigned char *buf, size_t len, char *err,
                        size_t errlen) {
  wg_status st = WG_OK;
  off_t size;
  int fd = open_regular(path, O_WRONLY | O_CREAT | O_TRUNC, "create", &size, &st, err, errlen);
  if (fd < 0) return st;
  size_t put = 0;
  while (put < len) {
    ssize_t n = write(fd, buf + put, len - put < IO_CHUNK ? len - put : IO_CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO; /* no progress and no reason given */
    if (n <= 0) break;
    put += (size_t)n;
  }
  int e = put < len ? errno : 0;
  if (close(fd) != 0 && !e) e = errno;
  if (e)
    return wg_errf(err, errlen, WG_ERR_IO, "%s: write error (%zu of %zu bytes): %s", path, put,
                   len, strerror(e));
  return WG_OK;
}

/* fuzz_io.h - helpers shared by the file-format fuzzers (fuzz_csv.c, fuzz_npy.c, fuzz_npz.c).
 *
 * The loaders take a path, so each input is written to a scratch file of this process
 * (/tmp/wg_fuzz_<target>_<pid>), loaded, and the file removed. The first byte of an input is a
 * control byte: >= 192 makes the loader's (1 + (b & 31))th allocation fail, persistently when
 * b & 32 (as in fuzz_graph.c); its low bits below 192 are the target's own options. */
#ifndef WG_FUZZ_IO_H
#define WG_FUZZ_IO_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "countalloc.h"
#include "wengert.h"

/* the scratch path: /tmp/wg_fuzz_<tag>_<pid> */
static inline const char *fz_path(const char *tag) {
  static char path[2][96];
  static int k;
  k ^= 1;
  snprintf(path[k], sizeof path[k], "/tmp/wg_fuzz_%s_%ld", tag, (long)getpid());
  return path[k];
}

static inline void fz_write(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort(); /* the harness's fault */
}

/* install the counting allocator with the control byte's failure, 64 MB at most per request */
static inline void fz_alloc_begin(ca_state *st, uint8_t control) {
  memset(st, 0, sizeof *st);
  st->limit = (size_t)64 << 20;
  if (control >= 192) st->fail_at = 1 + (control & 31), st->persistent = control & 32;
  wg_set_allocator(ca_alloc, st);
}

/* restore the default allocator; a leak or a free with the wrong size is a bug */
static inline void fz_alloc_end(ca_state *st) {
  wg_set_allocator(NULL, NULL);
  if (st->live != 0 || st->bad_size != 0) abort();
}

/* an error message must be set, end in NUL and name something */
static inline void fz_message(const char *err, size_t cap) {
  if (memchr(err, 0, cap) == NULL || err[0] == 0) abort();
}

static volatile double fz_sink;

/* read every element (ASan catches a short buffer, MSan-free builds still touch the bytes) */
static inline void fz_touch(const wg_real *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += v[i];
  fz_sink = s;
}

#endif

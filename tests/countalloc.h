/* countalloc.h - a counting, failing allocator for wg_set_allocator (Lua's convention), used by
 * the out-of-memory tests (check_oom.c) and the fuzzers (tests/fuzz/).
 *
 * It counts requests and live bytes, refuses the Nth request (transient) or the Nth and every
 * later one (persistent), refuses requests above a size limit, and checks that every free and
 * realloc passes the size the block was allocated with (each block carries a 16-byte header
 * holding its size). A header-only helper: include it in one test file. */
#ifndef WG_COUNTALLOC_H
#define WG_COUNTALLOC_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct ca_state {
  long calls;      /* (re)allocation requests seen, frees excluded */
  long fail_at;    /* 1-based request number that fails; 0: none fails */
  int persistent;  /* 1: every request from fail_at on fails too */
  long failed;     /* requests refused (by fail_at or limit) */
  size_t live;     /* bytes allocated and not freed */
  size_t limit;    /* refuse requests above this many bytes; 0: no limit */
  long bad_size;   /* frees/reallocs whose old_size differed from the block's size */
} ca_state;

#define CA_HEADER 16 /* keeps malloc's 16-byte alignment for the caller */

static inline size_t ca_size_of(void *ptr) {
  size_t s;
  memcpy(&s, (unsigned char *)ptr - CA_HEADER, sizeof s);
  return s;
}

static inline int ca_refuse(ca_state *st, size_t new_size) {
  st->calls++;
  int refuse = (st->fail_at > 0 && (st->calls == st->fail_at ||
                                    (st->persistent && st->calls > st->fail_at))) ||
               (st->limit && new_size > st->limit) || new_size > ((size_t)-1) / 2;
  if (refuse) st->failed++;
  return refuse;
}

/* the wg_alloc_fn: ud is a ca_state */
static inline void *ca_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  ca_state *st = ud;
  if (ptr && ca_size_of(ptr) != old_size) st->bad_size++;
  if (new_size == 0) {
    if (ptr) {
      st->live -= ca_size_of(ptr);
      free((unsigned char *)ptr - CA_HEADER);
    }
    return NULL;
  }
  if (ca_refuse(st, new_size)) return NULL;
  size_t had = ptr ? ca_size_of(ptr) : 0;
  unsigned char *base = realloc(ptr ? (unsigned char *)ptr - CA_HEADER : NULL, new_size + CA_HEADER);
  if (!base) return NULL;
  memcpy(base, &new_size, sizeof new_size);
  st->live = st->live - had + new_size;
  return base + CA_HEADER;
}

#endif

/* alloc.c - the allocator hook and the library's only calls to realloc/free.
 *
 * It counts the blocks handed out and not yet freed (tapes, their rows and arena chunks,
 * parameters, models, optimizers, data sets, loaded arrays, the pool's kept buffers): a block
 * must go back to the allocator that made it, so wg_set_allocator refuses to switch while
 * any is live. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"
#include "par/pool.h"
#include "tape/alloc.h"
#include "tape/error.h"

static void *default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud;
  (void)old_size;
  if (new_size == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, new_size);
}

static wg_alloc_fn alloc_fn = default_alloc;
static void *alloc_ud = NULL;
static atomic_long live_blocks;

void wg_set_allocator(wg_alloc_fn fn, void *ud) {
  wg_par_release(); /* kept kernel buffers go back to the allocator that made them */
  long live = atomic_load(&live_blocks);
  if (live != 0) {
    wg_set_last_error("wg_set_allocator: refused, the allocator is unchanged: %ld block(s) from "
                      "the current allocator are still in use (a tape, parameter, model, "
                      "optimizer, data set, scaler or .npy array not yet freed); free them "
                      "first", live);
    return;
  }
  alloc_fn = fn ? fn : default_alloc;
  alloc_ud = fn ? ud : NULL;
}

long wg_alloc_live_blocks(void) {
  return atomic_load(&live_blocks);
}

void *wg_alloc(size_t size) {
  void *p = size ? alloc_fn(alloc_ud, NULL, 0, size) : NULL;
  if (p) atomic_fetch_add(&live_blocks, 1);
  return p;
}

void *wg_alloc_zero(size_t size) {
  void *p = wg_alloc(size);
  if (p) memset(p, 0, size);
  return p;
}

void *wg_realloc(void *ptr, size_t old_size, size_t new_size) {
  if (new_size == 0) return NULL; /* use wg_free */
  void *p = alloc_fn(alloc_ud, ptr, ptr ? old_size : 0, new_size);
  if (p && !ptr) atomic_fetch_add(&live_blocks, 1);
  return p;
}

void wg_free(void *ptr, size_t size) {
  if (!ptr) return;
  alloc_fn(alloc_ud, ptr, size, 0);
  atomic_fetch_sub(&live_blocks, 1);
}

char *wg_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = wg_alloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* alloc.c - the allocator hook and the library's only calls to realloc/free. */
#include <stdlib.h>
#include <string.h>

#include "wengert.h"
#include "par/pool.h"
#include "tape/alloc.h"

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

void wg_set_allocator(wg_alloc_fn fn, void *ud) {
  wg_par_release(); /* kept kernel buffers go back to the allocator that made them */
  alloc_fn = fn ? fn : default_alloc;
  alloc_ud = fn ? ud : NULL;
}

void *wg_alloc(size_t size) {
  return size ? alloc_fn(alloc_ud, NULL, 0, size) : NULL;
}

void *wg_alloc_zero(size_t size) {
  void *p = wg_alloc(size);
  if (p) memset(p, 0, size);
  return p;
}

void *wg_realloc(void *ptr, size_t old_size, size_t new_size) {
  if (new_size == 0) return NULL; /* use wg_free */
  return alloc_fn(alloc_ud, ptr, ptr ? old_size : 0, new_size);
}

void wg_free(void *ptr, size_t size) {
  if (ptr) alloc_fn(alloc_ud, ptr, size, 0);
}

char *wg_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = wg_alloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

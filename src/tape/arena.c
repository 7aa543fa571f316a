/* arena.c - see arena.h. */
#include <stdint.h>

#include "tape/alloc.h"
#include "tape/arena.h"
#include "tape/size.h"

static size_t round_up(size_t n) {
  return (n + (WG_ARENA_ALIGN - 1)) & ~(size_t)(WG_ARENA_ALIGN - 1);
}

static wg_chunk *chunk_new(size_t size) {
  size_t total; /* the header, alignment slack, the usable bytes */
  if (!wg_add_size(sizeof(wg_chunk) + WG_ARENA_ALIGN, size, &total)) return NULL;
  wg_chunk *c = wg_alloc(total);
  if (!c) return NULL;
  uintptr_t start = (uintptr_t)(c + 1);
  start = (start + (WG_ARENA_ALIGN - 1)) & ~(uintptr_t)(WG_ARENA_ALIGN - 1);
  c->next = NULL;
  c->size = size;
  c->used = 0;
  c->alloc_size = total;
  c->base = (unsigned char *)start;
  return c;
}

/* Find the next unused chunk (after cur) that fits `bytes`, or append a new one. Chunks after
 * cur are all empty, so skipping a small one only wastes it until the next reset; the same
 * sequence of requests after a reset takes the same path and allocates nothing. */
static wg_chunk *next_chunk(wg_arena *a, size_t bytes) {
  wg_chunk *c = a->cur ? a->cur->next : a->head, *last = a->cur;
  for (; c; last = c, c = c->next)
    if (c->size >= bytes) return c;
  size_t size = bytes, twice; /* twice the current chunk, or the request if larger */
  if (a->cur && wg_mul_size(a->cur->size, 2, &twice) && twice > bytes) size = twice;
  if (size < WG_ARENA_MIN_CHUNK) size = WG_ARENA_MIN_CHUNK;
  c = chunk_new(size);
  if (!c) return NULL;
  if (!a->head) a->head = c;
  else {
    while (last->next) last = last->next;
    last->next = c;
  }
  a->reserved += size;
  return c;
}

void *wg_arena_alloc(wg_arena *a, size_t bytes) {
  if (bytes > SIZE_MAX - WG_ARENA_ALIGN) return NULL;
  bytes = round_up(bytes ? bytes : 1);
  wg_chunk *c = a->cur;
  if (!c || c->size - c->used < bytes) {
    c = next_chunk(a, bytes);
    if (!c) return NULL;
    c->used = 0;
    a->cur = c;
  }
  void *p = c->base + c->used;
  c->used += bytes;
  a->in_use += bytes;
  return p;
}

void wg_arena_reset(wg_arena *a) {
  for (wg_chunk *c = a->head; c; c = c->next) c->used = 0;
  a->cur = NULL;
  a->in_use = 0;
}

void wg_arena_free(wg_arena *a) {
  wg_chunk *c = a->head;
  while (c) {
    wg_chunk *next = c->next;
    wg_free(c, c->alloc_size);
    c = next;
  }
  a->head = a->cur = NULL;
  a->in_use = a->reserved = 0;
}

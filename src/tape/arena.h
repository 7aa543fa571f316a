/* arena.h - 64-byte aligned bump allocation in chunks, rewound and kept.
 *
 * A tape allocates every row buffer here. wg_arena_reset rewinds to the first chunk and keeps
 * all chunks, so recording the same sequence of allocations again reuses the same memory and
 * calls the heap zero times. */
#ifndef WG_ARENA_H
#define WG_ARENA_H
#include <stddef.h>

#define WG_ARENA_ALIGN 64
#define WG_ARENA_MIN_CHUNK (64u * 1024u)

typedef struct wg_chunk {
  struct wg_chunk *next;
  size_t size;        /* usable bytes from base */
  size_t used;        /* bytes handed out */
  size_t alloc_size;  /* bytes obtained from wg_alloc, for wg_free */
  unsigned char *base;/* 64-byte aligned start */
} wg_chunk;

typedef struct wg_arena {
  wg_chunk *head;     /* first chunk (NULL until the first allocation) */
  wg_chunk *cur;      /* chunk being filled */
  size_t in_use;      /* bytes handed out since the last reset */
  size_t reserved;    /* bytes held in all chunks */
} wg_arena;

void *wg_arena_alloc(wg_arena *a, size_t bytes); /* aligned, uninitialised; NULL on OOM */
void wg_arena_reset(wg_arena *a);                /* rewind; keep chunks */
void wg_arena_free(wg_arena *a);                 /* give every chunk back */

#endif

/* alloc.h - the one door to the heap. Every allocation in the library goes through these,
 * which call the user's allocator hook (wg_set_allocator), Lua-style, with sizes. */
#ifndef WG_ALLOC_H
#define WG_ALLOC_H
#include <stddef.h>

void *wg_alloc(size_t size);                              /* NULL on failure or size 0 */
void *wg_alloc_zero(size_t size);                         /* zero-filled */
void *wg_realloc(void *ptr, size_t old_size, size_t new_size); /* NULL on failure, ptr kept */
void wg_free(void *ptr, size_t size);                     /* size as allocated; NULL is fine */
char *wg_strdup(const char *s);                           /* free with wg_free(s, strlen(s)+1) */
long wg_alloc_live_blocks(void); /* blocks allocated and not yet freed (wg_set_allocator's test) */

#endif

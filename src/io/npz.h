/* npz.h - the stored-zip (.npz) writer and reader of npz.c, shared with the checkpoints
 * (src/model/checkpoint.c). Errors are reported through the model (wg_model_fail). */
#ifndef WG_NPZ_H
#define WG_NPZ_H
#include <stdint.h>

#include "model/model.h"

#define WG_NPZ_NAME 128 /* bytes of an entry name, "NAME.npy" and its NUL */

typedef struct {
  char name[WG_NPZ_NAME]; /* NAME.npy */
  unsigned char *npy;     /* its .npy image (wg_npy_encode), len bytes */
  size_t len;
  uint32_t crc, offset; /* filled by wg_npz_write */
} wg_npz_entry;

/* Write e[0..n) as an uncompressed zip at path. */
wg_status wg_npz_write(wg_model *m, const char *path, wg_npz_entry *e, int n);
/* Free each entry's .npy and the array (n entries; e may be NULL). */
void wg_npz_free_entries(wg_npz_entry *e, int n);

/* Check the archive b (len bytes) and call visit for every entry, in directory order, with its
 * name without ".npy" and its .npy bytes; the first non-zero status stops the walk. */
typedef wg_status (*wg_npz_visit)(void *ctx, const char *name, const unsigned char *npy,
                                  size_t size);
wg_status wg_npz_walk(wg_model *m, const char *path, const unsigned char *b, size_t len,
                      wg_npz_visit visit, void *ctx);

#endif

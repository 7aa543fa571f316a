/* npy.h - .npy encoding in memory, shared by npy.c and npz.c (whole files: io/file.h). */
#ifndef WG_NPY_H
#define WG_NPY_H
#include <stddef.h>
#include <stdint.h>

#include "io/file.h"
#include "wengert.h"

/* Encode m as a .npy image (ndim 1 or 2, version 0 = 1.0 unless the header needs 2.0, or 1 / 2
 * to force one) into a new buffer of *len bytes (free with wg_free(buf, *len)). */
wg_status wg_npy_encode(wg_mat m, int ndim, int version, unsigned char **buf, size_t *len,
                        char *err, size_t errlen);
/* Decode a .npy image of len bytes into a new matrix (free with wg_npy_free); messages start
 * with `what` (a file name). */
wg_status wg_npy_decode(const unsigned char *buf, size_t len, const char *what, wg_mat *m,
                        char *err, size_t errlen);

/* CRC-32 of zip (reflected 0xEDB88320, init and final xor ~0): "123456789" -> 0xCBF43926 */
uint32_t wg_crc32(const unsigned char *p, size_t n);

/* little-endian integers */
static inline uint32_t wg_le16(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static inline uint32_t wg_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wg_put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}
static inline void wg_put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

#endif

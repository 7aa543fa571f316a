/* npy.h - .npy encoding in memory, shared by npy.c and npz.c (whole files: io/file.h). */
#ifndef WG_NPY_H
#define WG_NPY_H
#include <stddef.h>
#include <stdint.h>

#include "io/file.h"
#include "wengert.h"

/* Encode m as a .npy image (ndim 1 or 2, version 0 = 1.0 unless the header needs 2.0, or 1 / 2
 * to force one) into a new buffer of *len bytes (free with wg_free(buf, *len)). The dtype is
 * wg_real's: '<f8', or '<f4' in the float build. */
wg_status wg_npy_encode(wg_mat m, int ndim, int version, unsigned char **buf, size_t *len,
                        char *err, size_t errlen);
/* The same for rows x cols doubles, always '<f8' (2-D): numbers kept exact in both builds. */
wg_status wg_npy_encode_f64(const double *data, int rows, int cols, unsigned char **buf,
                            size_t *len, char *err, size_t errlen);
/* Decode a .npy image ('<f8' or '<f4') of len bytes into a new matrix of wg_real (free with
 * wg_npy_free); messages start with `what` (a file name). In the float build a '<f8' number
 * beyond FLT_MAX is refused, naming the element (npy.c says why). */
wg_status wg_npy_decode(const unsigned char *buf, size_t len, const char *what, wg_mat *m,
                        char *err, size_t errlen);
/* Decode into the caller's doubles (exact for both dtypes): *rows, *cols get the shape; the
 * numbers are read only when rows * cols <= cap (the caller checks the shape). */
wg_status wg_npy_decode_f64(const unsigned char *buf, size_t len, const char *what, double *out,
                            size_t cap, int *rows, int *cols, char *err, size_t errlen);

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

/* size.h - element and byte counts that refuse to wrap.
 *
 * Shapes are ints, counts are size_t. Where size_t has 32 bits (32-bit targets), a product of
 * two valid dimensions can exceed it: 65536 x 65537 elements is 2^32 + 65536, which wraps to
 * 65536, and a buffer allocated for the wrapped count is then written in full. Even on 64 bits,
 * INT_MAX x INT_MAX elements of 8 bytes are 2^65 bytes. Every count is therefore formed with
 * these helpers, which say when the true value does not fit instead of wrapping. */
#ifndef WG_SIZE_H
#define WG_SIZE_H
#include <stddef.h>
#include <stdint.h>

/* *out = a * b and 1, or 0 (and *out untouched) when the product exceeds SIZE_MAX. */
static inline int wg_mul_size(size_t a, size_t b, size_t *out) {
  if (b != 0 && a > SIZE_MAX / b) return 0;
  *out = a * b;
  return 1;
}

/* *out = a + b and 1, or 0 when the sum exceeds SIZE_MAX. */
static inline int wg_add_size(size_t a, size_t b, size_t *out) {
  if (a > SIZE_MAX - b) return 0;
  *out = a + b;
  return 1;
}

/* The bytes of a (rows x cols) matrix of elem-byte elements (dimensions >= 0): 1 when both
 * rows * cols and rows * cols * elem fit in size_t, with the byte count in *bytes. */
static inline int wg_shape_bytes(int rows, int cols, size_t elem, size_t *bytes) {
  size_t n;
  return rows >= 0 && cols >= 0 && wg_mul_size((size_t)rows, (size_t)cols, &n) &&
         wg_mul_size(n, elem, bytes);
}

#endif

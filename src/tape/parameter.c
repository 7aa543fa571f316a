/* param.c - parameters: a named value and its accumulated gradient, owned by the caller. */
#include <stdint.h>
#include <string.h>

#include "tape/alloc.h"
#include "tape/size.h"
#include "tape/tape.h"

wg_param *wg_param_new(const char *name, int rows, int cols) {
  if (rows <= 0 || cols <= 0) return NULL;
  /* one block: the struct, padding to 64 bytes, value and grad (bytes each), 64 bytes of
   * alignment slack; a shape whose size does not fit in size_t is refused */
  size_t head = (sizeof(wg_param) + 63) & ~(size_t)63, bytes, data_bytes, size;
  if (!wg_shape_bytes(rows, cols, sizeof(wg_real), &bytes) ||
      !wg_mul_size(bytes, 2, &data_bytes) || !wg_add_size(head + 64, data_bytes, &size))
    return NULL;
  size_t n = (size_t)rows * (size_t)cols;
  unsigned char *block = wg_alloc_zero(size);
  if (!block) return NULL;
  wg_param *p = (wg_param *)block;
  uintptr_t data = ((uintptr_t)block + head + 63) & ~(uintptr_t)63;
  p->value = (wg_real *)data;
  p->grad = p->value + n;
  p->rows = rows;
  p->cols = cols;
  p->alloc_size = size;
  snprintf(p->name, sizeof p->name, "%s", name ? name : "");
  return p;
}

void wg_param_free(wg_param *p) {
  if (p) wg_free(p, p->alloc_size);
}

wg_mat wg_param_value(wg_param *p) {
  wg_mat m = {0, 0, NULL};
  if (p) m = (wg_mat){p->rows, p->cols, p->value};
  return m;
}

wg_mat wg_param_grad(wg_param *p) {
  wg_mat m = {0, 0, NULL};
  if (p) m = (wg_mat){p->rows, p->cols, p->grad};
  return m;
}

const char *wg_param_name(const wg_param *p) {
  return p ? p->name : "";
}

void wg_param_zero_grad(wg_param *p) {
  if (p) memset(p->grad, 0, (size_t)p->rows * (size_t)p->cols * sizeof *p->grad);
}

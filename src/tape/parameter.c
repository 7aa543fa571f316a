/* param.c - parameters: a named value and its accumulated gradient, owned by the caller. */
#include <stdint.h>
#include <string.h>

#include "tape/alloc.h"
#include "tape/error.h"
#include "tape/size.h"
#include "tape/tape.h"

/* NULL with a message for wg_last_error; the name shown is cut to WG_NAME_MAX - 1 chars. */
static wg_param *refuse(const char *name, int rows, int cols, const char *why) {
  wg_set_last_error("wg_param_new: %.*s (%dx%d): %s", WG_NAME_MAX - 1, name, rows, cols, why);
  return NULL;
}

wg_param *wg_param_new(const char *name, int rows, int cols) {
  if (!name)
    return refuse("(NULL)", rows, cols, "the name is NULL (use \"\" for an unnamed parameter)");
  if (rows <= 0 || cols <= 0) return refuse(name, rows, cols, "dimensions must be positive");
  /* one block: the struct, padding to 64 bytes, value and grad (bytes each), 64 bytes of
   * alignment slack; a shape whose size does not fit in size_t is refused */
  size_t head = (sizeof(wg_param) + 63) & ~(size_t)63, bytes, data_bytes, size;
  if (!wg_shape_bytes(rows, cols, sizeof(wg_real), &bytes) ||
      !wg_mul_size(bytes, 2, &data_bytes) || !wg_add_size(head + 64, data_bytes, &size))
    return refuse(name, rows, cols, "its value and gradient bytes do not fit in size_t");
  size_t n = (size_t)rows * (size_t)cols;
  unsigned char *block = wg_alloc_zero(size);
  if (!block) return refuse(name, rows, cols, "out of memory");
  wg_param *p = (wg_param *)block;
  uintptr_t data = ((uintptr_t)block + head + 63) & ~(uintptr_t)63;
  p->value = (wg_real *)data;
  p->grad = p->value + n;
  p->rows = rows;
  p->cols = cols;
  p->alloc_size = size;
  snprintf(p->name, sizeof p->name, "%s", name);
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

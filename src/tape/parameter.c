/* param.c - parameters: a named value and its accumulated gradient, owned by the caller. */
#include <stdint.h>
#include <string.h>

#include "tape/alloc.h"
#include "tape/error.h"
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
  size_t n = (size_t)rows * (size_t)cols;
  if (n > (SIZE_MAX - sizeof(wg_param) - 64) / (2 * sizeof(wg_real)))
    return refuse(name, rows, cols, "too many elements for this machine's size_t");
  /* one block: the struct, padding to 64 bytes, value, grad */
  size_t head = (sizeof(wg_param) + 63) & ~(size_t)63;
  size_t size = head + 2 * n * sizeof(wg_real) + 64;
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

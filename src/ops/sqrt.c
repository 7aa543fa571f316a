/* sqrt.c - elementwise square root.
 *   forward: y = sqrt(x)      (shape of x; sqrt(x < 0) = NaN, as libm)
 *   VJP:     dx += dy / (2 y)
 *   JVP:     ty = tx / (2 y)
 * At x = 0 the slope 1 / (2 sqrt(0)) is +inf, as in PyTorch (grad / (2 result)): dx gets
 * +-inf, or NaN where dy = 0, which WG_CHECK_FINITE reports naming the row. Higher order:
 * dy / (2 y) is a div and a scale of this row. */
#include <math.h>

#include "ops/ops.h"

wg_var wg_sqrt(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SQRT, x, 0);
}

void wg_op_sqrt_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = sqrt(x[i]);
}

void wg_op_sqrt_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) dx[i] += r->adj[i] / (2 * r->val[i]);
}

void wg_op_sqrt_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = tx[i] / (2 * r->val[i]);
}

/* recorded VJP: dx = dy / (2 y) */
void wg_op_sqrt_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  if (want[0]) dx[0] = wg_div(t, dy, wg_scale(t, wg_handle(t, row), 2));
}

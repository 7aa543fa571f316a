/* square.c - elementwise square.
 *   forward: y = x^2          (shape of x)
 *   VJP:     dx += 2 x dy
 *   JVP:     ty = 2 x tx */
#include "ops/ops.h"

wg_var wg_square(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SQUARE, x, 0);
}

void wg_op_square_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = x[i] * x[i];
}

void wg_op_square_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += 2 * in->val[i] * r->adj[i];
}

void wg_op_square_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = 2 * in->val[i] * in->tan[i];
}

/* recorded VJP: dx = (2 x) * dy */
void wg_op_square_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  if (want[0]) dx[0] = wg_mul(t, wg_scale(t, wg_in(t, row, 0), 2), dy);
}

/* neg.c - negation.
 *   forward: y = -x        (shape of x)
 *   VJP:     dx -= dy
 *   JVP:     ty = -tx */
#include "ops/ops.h"

wg_var wg_neg(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_NEG, x, 0);
}

void wg_op_neg_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = -x[i];
}

void wg_op_neg_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) dx[i] -= r->adj[i];
}

void wg_op_neg_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = -tx[i];
}

/* recorded VJP: dx = -dy */
void wg_op_neg_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  (void)row;
  if (want[0]) dx[0] = wg_neg(t, dy);
}

/* scale.c - multiplication by a constant c (kept in the row).
 *   forward: y = c x       (shape of x)
 *   VJP:     dx += c dy
 *   JVP:     ty = c tx */
#include "ops/ops.h"

wg_var wg_scale(wg_tape *t, wg_var x, wg_real c) {
  return wg_op_unary(t, WG_OP_SCALE, x, c);
}

void wg_op_scale_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = r->c * x[i];
}

void wg_op_scale_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) dx[i] += r->c * r->adj[i];
}

void wg_op_scale_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = r->c * tx[i];
}

/* recorded VJP: dx = c dy */
void wg_op_scale_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                            wg_var *dx) {
  if (want[0]) dx[0] = wg_scale(t, dy, t->rows[row].c);
}

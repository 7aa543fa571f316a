/* exp.c - elementwise exponential.
 *   forward: y = exp(x)    (shape of x)
 *   VJP:     dx += dy * y  (d exp(x)/dx = exp(x): reuse the stored value)
 *   JVP:     ty = tx * y */
#include "ops/ops.h"
#include "kernels/vmath.h"

wg_var wg_exp(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_EXP, x, 0);
}

void wg_op_exp_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  wg_vexp(x, r->val, wg_row_size(r)); /* vectorised, within 2 ulp of libm's exp */
}

void wg_op_exp_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) dx[i] += r->adj[i] * r->val[i];
}

void wg_op_exp_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = tx[i] * r->val[i];
}

/* recorded VJP: dx = dy * y */
void wg_op_exp_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (want[0]) dx[0] = wg_mul(t, dy, wg_handle(t, row));
}

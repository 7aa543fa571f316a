/* log.c - elementwise natural logarithm.
 *   forward: y = log(x)    (shape of x; log(0) = -inf, log(x < 0) = NaN, as in libm)
 *   VJP:     dx += dy / x
 *   JVP:     ty = tx / x */
#include "ops/ops.h"
#include "kernels/vmath.h"

wg_var wg_log(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_LOG, x, 0);
}

void wg_op_log_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  wg_vlog(x, r->val, wg_row_size(r)); /* vectorised, within 2 ulp of libm's log */
}

void wg_op_log_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += r->adj[i] / in->val[i];
}

void wg_op_log_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->tan[i] / in->val[i];
}

/* recorded VJP: dx = dy / x */
void wg_op_log_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (want[0]) dx[0] = wg_div(t, dy, wg_in(t, row, 0));
}

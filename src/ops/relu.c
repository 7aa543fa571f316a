/* relu.c - rectified linear unit.
 *   forward: y = max(x, 0)        (shape of x)
 *   VJP:     dx += dy * [x > 0]   (the derivative at the kink x = 0 is taken as 0)
 *   JVP:     ty = tx * [x > 0] */
#include "ops/ops.h"

wg_var wg_relu(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_RELU, x, 0);
}

void wg_op_relu_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = x[i] > 0 ? x[i] : 0;
}

void wg_op_relu_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) { /* branch-free: vectorises */
    wg_real dy = r->adj[i];
    in->adj[i] += in->val[i] > 0 ? dy : 0;
  }
}

void wg_op_relu_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->val[i] > 0 ? in->tan[i] : 0;
}

/* sigmoid.c - the logistic function.
 *   forward: y = 1 / (1 + exp(-x))          (shape of x)
 *            for x >= 0 computed as 1 / (1 + e), e = exp(-x) <= 1;
 *            for x <  0 as e / (1 + e),       e = exp(x)  <  1: exp never overflows
 *   VJP:     dx += dy * y * (1 - y)          (the seed's dyhat/dz = yhat (1 - yhat))
 *   JVP:     ty = tx * y * (1 - y) */
#include "ops/ops.h"
#include "kernels/vmath.h"

wg_var wg_sigmoid(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SIGMOID, x, 0);
}

void wg_op_sigmoid_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  wg_vsigmoid(x, r->val, wg_row_size(r)); /* the branches above, vectorised (src/kernels/vmath.c) */
}

void wg_op_sigmoid_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  wg_real *dx = x->adj;
  int first = wg_adj_first(x); /* dx is stale: store 0 + the term */
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) {
    wg_real y = r->val[i];
    dx[i] = (first ? 0 : dx[i]) + r->adj[i] * y * (1 - y);
  }
}

void wg_op_sigmoid_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) {
    wg_real y = r->val[i];
    r->tan[i] = tx[i] * y * (1 - y);
  }
}

/* recorded VJP: dx = dy * (y * (1 - y)) */
void wg_op_sigmoid_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx) {
  if (!want[0]) return;
  wg_var y = wg_handle(t, row);
  dx[0] = wg_mul(t, dy, wg_mul(t, y, wg_sub(t, wg_scalar(t, 1), y)));
}

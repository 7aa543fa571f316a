/* softmax.c - row-wise softmax.
 *   forward: y_ij = exp(x_ij - M_i) / sum_k exp(x_ik - M_i),  M_i = max_k x_ik   x, y (m x n)
 *            (subtracting the row max changes nothing mathematically and keeps exp <= 1)
 *   VJP:     dx_ij += y_ij (dy_ij - s_i),  s_i = sum_k dy_ik y_ik
 *            (J_i = diag(y_i) - y_i y_i^T is symmetric, so J^T dy = y * dy - y (y . dy))
 *   JVP:     ty_ij = y_ij (tx_ij - sum_k tx_ik y_ik) */
#include <math.h>

#include "ops/ops.h"

wg_var wg_softmax(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SOFTMAX, x, 0);
}

void wg_op_softmax_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *xi = x + (size_t)i * n;
    wg_real *yi = r->val + (size_t)i * n, top = xi[0], s = 0;
    for (int j = 1; j < n; j++) top = xi[j] > top ? xi[j] : top;
    for (int j = 0; j < n; j++) s += yi[j] = exp(xi[j] - top);
    for (int j = 0; j < n; j++) yi[j] /= s;
  }
}

/* out_ij (+)= y_ij (v_ij - sum_k v_ik y_ik): J_i v_i for the VJP (accumulate) and JVP (assign) */
static void softmax_jacobian_times(const wg_row *r, const wg_real *v, wg_real *out, int acc) {
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *yi = r->val + (size_t)i * n, *vi = v + (size_t)i * n;
    wg_real *oi = out + (size_t)i * n, s = 0;
    for (int j = 0; j < n; j++) s += vi[j] * yi[j];
    for (int j = 0; j < n; j++) {
      wg_real d = yi[j] * (vi[j] - s);
      oi[j] = acc ? oi[j] + d : d;
    }
  }
}

void wg_op_softmax_vjp(wg_tape *t, wg_row *r) {
  softmax_jacobian_times(r, r->adj, wg_input_row(t, r, 0)->adj, 1);
}

void wg_op_softmax_jvp(wg_tape *t, wg_row *r) {
  softmax_jacobian_times(r, wg_input_row(t, r, 0)->tan, r->tan, 0);
}

/* recorded VJP: dx = y * (dy - rowsum(dy * y)), the row sums (m x 1) broadcast */
void wg_op_softmax_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx) {
  if (!want[0]) return;
  wg_var y = wg_handle(t, row);
  dx[0] = wg_mul(t, y, wg_sub(t, dy, wg_sum_axis(t, wg_mul(t, dy, y), 1)));
}

/* log_softmax.c - row-wise log of the softmax, without forming the softmax.
 *   forward: y_ij = x_ij - lse_i,  lse_i = M_i + log sum_k exp(x_ik - M_i),  M_i = max_k x_ik
 *            x, y (m x n); every exponent is <= 0, so no overflow, and y never takes the log
 *            of an underflowed probability (log(softmax(x)) gives -inf where this is finite)
 *   VJP:     dx_ij += dy_ij - p_ij sum_k dy_ik,   p_ij = exp(y_ij) = softmax(x)_ij
 *            (J_i = I - 1 p_i^T: dy_ij/dx_il = [j == l] - p_il)
 *   JVP:     ty_ij = tx_ij - sum_k p_ik tx_ik */
#include <math.h>

#include "ops/ops.h"

wg_var wg_log_softmax(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_LOG_SOFTMAX, x, 0);
}

void wg_op_log_softmax_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *xi = x + (size_t)i * n;
    wg_real *yi = r->val + (size_t)i * n, top = xi[0], s = 0;
    for (int j = 1; j < n && !isnan(top); j++) top = xi[j] > top || isnan(xi[j]) ? xi[j] : top;
    /* +inf or NaN in the row: y is NaN where it is undefined (inf - inf), as in PyTorch;
     * a row of -inf gives NaN too (no finite normaliser) */
    wg_real lse = top;
    if (isfinite(top)) {
      for (int j = 0; j < n; j++) s += exp(xi[j] - top);
      lse = top + log(s);
    }
    for (int j = 0; j < n; j++) yi[j] = xi[j] - lse;
  }
}

void wg_op_log_softmax_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *yi = r->val + (size_t)i * n, *gi = r->adj + (size_t)i * n;
    wg_real *di = dx + (size_t)i * n, s = 0;
    for (int j = 0; j < n; j++) s += gi[j];
    for (int j = 0; j < n; j++) di[j] += gi[j] - exp(yi[j]) * s;
  }
}

void wg_op_log_softmax_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *yi = r->val + (size_t)i * n, *ti = tx + (size_t)i * n;
    wg_real *oi = r->tan + (size_t)i * n, s = 0;
    for (int j = 0; j < n; j++) s += exp(yi[j]) * ti[j];
    for (int j = 0; j < n; j++) oi[j] = ti[j] - s;
  }
}

/* recorded VJP: dx = dy - exp(y) * rowsum(dy) */
void wg_op_log_softmax_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                  wg_var *dx) {
  if (!want[0]) return;
  wg_var y = wg_handle(t, row);
  dx[0] = wg_sub(t, dy, wg_mul(t, wg_exp(t, y), wg_sum_axis(t, dy, 1)));
}

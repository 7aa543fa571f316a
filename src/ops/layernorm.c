/* layernorm.c - row-wise normalisation to mean 0 and variance 1 (no affine part: multiply and
 * add parameters after it with wg_mul and wg_add).
 *
 * x, y (m x n); eps > 0 is the row's constant c; for each row i (index i dropped below):
 *   mu  = (1/n) sum_k x_k                          the row's mean
 *   var = (1/n) sum_k (x_k - mu)^2                 population variance (divisor n, not n - 1)
 *   s   = 1 / sqrt(var + eps)
 *   forward: y_j = (x_j - mu) s
 *
 * VJP in closed form. y_j depends on x_l through three paths:
 *   (1) x_j itself:  d(x_j - mu)/dx_l = [j == l] ...         gives  s [j == l]
 *   (2) the mean:    ... - dmu/dx_l = -1/n                   gives -s / n
 *   (3) the scale:   ds/dx_l = -(1/2) s^3 dvar/dx_l, dvar/dx_l = (2/n)(x_l - mu) (the mean's
 *                    own term sums to 0), so (x_j - mu) ds/dx_l = -s y_j y_l / n
 * so J_jl = dy_j/dx_l = s ([j == l] - 1/n - y_j y_l / n), a symmetric matrix, and
 *   dx_l += sum_j dy_j J_jl = s (dy_l - mean_j dy_j - y_l mean_j dy_j y_j)      (VJP)
 *   ty_j  = sum_l J_jl tx_l = s (tx_j - mean_l tx_l - y_j mean_l tx_l y_l)      (JVP)
 * s is recomputed from x (one pass) rather than kept, so a replay needs no scratch. */
#include <math.h>

#include "ops/ops.h"

wg_var wg_layernorm(wg_tape *t, wg_var x, wg_real eps) {
  const wg_row *a = wg_row_of(t, x, "layernorm");
  if (!a) return wg_none();
  if (!(eps > 0) || !isfinite(eps)) {
    char sx[WG_SHAPE_TEXT];
    return wg_fail(t, WG_ERR_ARG, "layernorm: eps %g for %s: eps must be finite and > 0 "
                   "(1e-5 is PyTorch's default) (row %u)", (double)eps,
                   wg_row_shape(t, x.row, sx, sizeof sx), (unsigned)t->n_rows);
  }
  return wg_op_record(t, WG_OP_LAYERNORM, 1, &x, a->rows, a->cols, eps);
}

/* s = 1 / sqrt(var + eps) of one row, and its mean */
static wg_real row_scale(const wg_real *x, int n, wg_real eps, wg_real *mean) {
  wg_real mu = 0, var = 0;
  for (int j = 0; j < n; j++) mu += x[j];
  mu /= n;
  for (int j = 0; j < n; j++) var += (x[j] - mu) * (x[j] - mu);
  *mean = mu;
  return 1 / sqrt(var / n + eps);
}

void wg_op_layernorm_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *xi = x + (size_t)i * n;
    wg_real *yi = r->val + (size_t)i * n, mu, s = row_scale(xi, n, r->c, &mu);
    for (int j = 0; j < n; j++) yi[j] = (xi[j] - mu) * s;
  }
}

/* out_j (+)= s (v_j - mean(v) - y_j mean(v y)): J v, for the VJP (acc) and the JVP */
static void layernorm_jacobian_times(wg_tape *t, const wg_row *r, const wg_real *v,
                                     wg_real *out, int acc) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *yi = r->val + (size_t)i * n, *vi = v + (size_t)i * n;
    wg_real *oi = out + (size_t)i * n, mu, s = row_scale(x + (size_t)i * n, n, r->c, &mu);
    wg_real mv = 0, mvy = 0;
    for (int j = 0; j < n; j++) mv += vi[j], mvy += vi[j] * yi[j];
    mv /= n, mvy /= n;
    for (int j = 0; j < n; j++) {
      wg_real d = s * (vi[j] - mv - yi[j] * mvy);
      oi[j] = acc ? oi[j] + d : d;
    }
  }
}

void wg_op_layernorm_vjp(wg_tape *t, wg_row *r) {
  layernorm_jacobian_times(t, r, r->adj, wg_input_row(t, r, 0)->adj, 1);
}

void wg_op_layernorm_jvp(wg_tape *t, wg_row *r) {
  layernorm_jacobian_times(t, r, wg_input_row(t, r, 0)->tan, r->tan, 0);
}

/* recorded VJP, row-wise means along axis 1 ((m x 1), broadcast against (m x n)):
 *   mu = mean(x),  s = 1 / sqrt(mean((x - mu)^2) + eps)
 *   dx = s (dy - mean(dy) - y mean(dy y))
 * s is recorded from x with mean_axis, sub, square, sqrt and div, so its own derivatives (the
 * second order of layernorm) come out of those ops' recorded VJPs; y is this row. */
void wg_op_layernorm_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  if (!want[0]) return;
  wg_real eps = t->rows[row].c;
  wg_var x = wg_in(t, row, 0), y = wg_handle(t, row);
  wg_var d = wg_sub(t, x, wg_mean_axis(t, x, 1));
  wg_var var = wg_add(t, wg_mean_axis(t, wg_square(t, d), 1), wg_scalar(t, eps));
  wg_var s = wg_div(t, wg_scalar(t, 1), wg_sqrt(t, var));
  wg_var mdy = wg_mean_axis(t, dy, 1), mdyy = wg_mean_axis(t, wg_mul(t, dy, y), 1);
  dx[0] = wg_mul(t, s, wg_sub(t, wg_sub(t, dy, mdy), wg_mul(t, y, mdyy)));
}

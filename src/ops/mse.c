/* mse.c - mean squared error over all N elements.
 *   forward: L = (1/N) sum_i (a_i - b_i)^2        a, b (m x n) -> L (1 x 1)
 *   VJP:     da_i += dL 2 (a_i - b_i) / N
 *            db_i -= dL 2 (a_i - b_i) / N
 *   JVP:     tL = (1/N) sum_i 2 (a_i - b_i)(ta_i - tb_i) */
#include "ops/ops.h"

wg_var wg_mse(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_pair_loss(t, WG_OP_MSE, a, b);
}

void wg_op_mse_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  size_t n = wg_row_size(a);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) {
    wg_real d = a->val[i] - b->val[i];
    s += d * d;
  }
  r->val[0] = s / (wg_real)n;
}

void wg_op_mse_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  size_t n = wg_row_size(a);
  wg_real g = 2 * r->adj[0] / (wg_real)n;
  for (size_t i = 0; i < n; i++) {
    wg_real d = g * (a->val[i] - b->val[i]);
    if (a->needs_grad) a->adj[i] += d;
    if (b->needs_grad) b->adj[i] -= d;
  }
}

void wg_op_mse_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  size_t n = wg_row_size(a);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) s += 2 * (a->val[i] - b->val[i]) * (a->tan[i] - b->tan[i]);
  r->tan[0] = s / (wg_real)n;
}

/* recorded VJP: da = (2 dy / N) (a - b), db = -da */
void wg_op_mse_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *ra = &t->rows[t->rows[row].in[0]];
  wg_real N = (wg_real)ra->rows * (wg_real)ra->cols;
  wg_var d = wg_mul(t, wg_scale(t, dy, 2 / N), wg_sub(t, wg_in(t, row, 0), wg_in(t, row, 1)));
  if (want[0]) dx[0] = d;
  if (want[1]) dx[1] = wg_neg(t, d);
}

/* mean.c - mean of all elements.
 *   forward: y = sum_ij x_ij / N    x (m x n) -> y (1 x 1), N = m n
 *   VJP:     dx_ij += dy / N        (the seed's 1/m: averaging over samples)
 *   JVP:     ty = sum_ij tx_ij / N */
#include "ops/ops.h"

wg_var wg_mean(wg_tape *t, wg_var x) {
  return wg_op_reduce(t, WG_OP_MEAN, x, 1, 1);
}

static wg_real average(const wg_real *x, size_t n) {
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (wg_real)n;
}

void wg_op_mean_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  r->val[0] = average(x->val, wg_row_size(x));
}

void wg_op_mean_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  size_t n = wg_row_size(x);
  wg_real g = r->adj[0] / (wg_real)n;
  for (size_t i = 0; i < n; i++) x->adj[i] += g;
}

void wg_op_mean_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  r->tan[0] = average(x->tan, wg_row_size(x));
}

/* recorded VJP: dx = (dy / N) repeated to x's shape */
void wg_op_mean_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  int m = x->rows, n = x->cols;
  if (want[0]) dx[0] = wg_broadcast(t, wg_scale(t, dy, 1 / ((wg_real)m * (wg_real)n)), m, n);
}

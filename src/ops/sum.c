/* sum.c - sum of all elements.
 *   forward: y = sum_ij x_ij        x (m x n) -> y (1 x 1)
 *   VJP:     dx_ij += dy
 *   JVP:     ty = sum_ij tx_ij */
#include "ops/ops.h"

wg_var wg_sum(wg_tape *t, wg_var x) {
  return wg_op_reduce(t, WG_OP_SUM, x, 1, 1);
}

static wg_real total(const wg_real *x, size_t n) {
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

void wg_op_sum_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  r->val[0] = total(x->val, wg_row_size(x));
}

void wg_op_sum_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(x); i < n; i++) x->adj[i] += r->adj[0];
}

void wg_op_sum_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  r->tan[0] = total(x->tan, wg_row_size(x));
}

/* recorded VJP: dx = dy repeated to x's shape */
void wg_op_sum_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  int m = x->rows, n = x->cols;
  if (want[0]) dx[0] = wg_broadcast(t, dy, m, n);
}

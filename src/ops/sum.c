/* sum.c - sum of all elements.
 *   forward: y = sum_ij x_ij        x (m x n) -> y (1 x 1)
 *   VJP:     dx_ij += dy
 *   JVP:     ty = sum_ij tx_ij
 * Both sums in SUM_LANES lanes combined in a fixed order (total, below). */
#include "ops/ops.h"

wg_var wg_sum(wg_tape *t, wg_var x) {
  return wg_op_reduce(t, WG_OP_SUM, x, 1, 1);
}

/* The sum in SUM_LANES running partial sums, lane k taking elements k, k + LANES, ... (and the
 * tail in lanes 0..), then combined pairwise in a fixed order. The order depends on n alone,
 * never on the thread count or the CPU, and the lanes are independent chains the compiler
 * vectorises: one pass at memory speed instead of one long chain of dependent adds (the
 * matmul bench's loss sum(C) was a third of its forward at N = 1024). The rounding error is
 * bounded like a sequential sum's over n / LANES terms, plus the log2(LANES) combining adds. */
#define SUM_LANES 16
static wg_real total(const wg_real *x, size_t n) {
  wg_real lane[SUM_LANES] = {0};
  size_t i = 0;
  for (; i + SUM_LANES <= n; i += SUM_LANES)
    for (int k = 0; k < SUM_LANES; k++) lane[k] += x[i + k];
  for (int k = 0; i < n; i++, k++) lane[k] += x[i];
  for (int width = SUM_LANES / 2; width > 0; width /= 2) /* pairwise, in a fixed order */
    for (int k = 0; k < width; k++) lane[k] += lane[k + width];
  return lane[0];
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

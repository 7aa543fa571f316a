/* sum_rows.c - column sums: add up the rows.
 *   forward: y_j = sum_i x_ij       x (m x n) -> y (1 x n)
 *   VJP:     dx_ij += dy_j          (dy repeated down every row)
 *   JVP:     ty_j = sum_i tx_ij */
#include <string.h>

#include "ops/ops.h"

wg_var wg_sum_rows(wg_tape *t, wg_var x) {
  const wg_row *a = wg_row_of(t, x, "sum_rows");
  if (!a) return wg_none();
  return wg_op_reduce(t, WG_OP_SUM_ROWS, x, 1, a->cols);
}

/* y (1 x n) = sum over the m rows of x (m x n), row by row so both reads are contiguous */
static void column_sums(const wg_real *x, int m, int n, wg_real *y) {
  memset(y, 0, (size_t)n * sizeof *y);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) y[j] += x[(size_t)i * n + j];
}

void wg_op_sum_rows_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  column_sums(x->val, x->rows, x->cols, r->val);
}

void wg_op_sum_rows_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  for (int i = 0; i < x->rows; i++)
    for (int j = 0; j < x->cols; j++) x->adj[(size_t)i * x->cols + j] += r->adj[j];
}

void wg_op_sum_rows_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  column_sums(x->tan, x->rows, x->cols, r->tan);
}

/* recorded VJP: dx = dy (1 x n) repeated down the m rows */
void wg_op_sum_rows_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                               wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  int m = x->rows, n = x->cols;
  if (want[0]) dx[0] = wg_broadcast(t, dy, m, n);
}

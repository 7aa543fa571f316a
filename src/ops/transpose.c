/* transpose.c - matrix transpose.
 *   forward: y = x^T                   x (m x n), y (n x m): y_ji = x_ij
 *   VJP:     dx += dy^T
 *   JVP:     ty = tx^T */
#include "ops/ops.h"

wg_var wg_transpose(wg_tape *t, wg_var x) {
  const wg_row *a = wg_row_of(t, x, "transpose");
  if (!a) return wg_none();
  return wg_op_record(t, WG_OP_TRANSPOSE, 1, &x, a->cols, a->rows, 0);
}

/* dst (n x m) op= src (m x n)^T; accumulate selects += over = */
static void transpose_into(const wg_real *src, int m, int n, wg_real *dst, int accumulate) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      wg_real v = src[(size_t)i * n + j];
      wg_real *d = &dst[(size_t)j * m + i];
      *d = accumulate ? *d + v : v;
    }
}

void wg_op_transpose_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  transpose_into(x->val, x->rows, x->cols, r->val, 0);
}

void wg_op_transpose_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  transpose_into(r->adj, r->rows, r->cols, x->adj, 1);
}

void wg_op_transpose_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  transpose_into(x->tan, x->rows, x->cols, r->tan, 0);
}

/* recorded VJP: dx = dy^T */
void wg_op_transpose_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  (void)row;
  if (want[0]) dx[0] = wg_transpose(t, dy);
}

/* reshape.c - the same elements, another shape.
 *   forward: y = x reshaped          x (m x n), y (rows x cols), rows cols = m n; element e of
 *                                    y (row-major) is element e of x
 *   VJP:     dx_e += dy_e            (the adjoint keeps the row-major order too)
 *   JVP:     ty_e = tx_e
 * The value is a copy: x's buffer may be the caller's (an input) or a parameter's. */
#include <string.h>

#include "ops/ops.h"

wg_var wg_reshape(wg_tape *t, wg_var x, int rows, int cols) {
  const wg_row *a = wg_row_of(t, x, "reshape");
  if (!a) return wg_none();
  char sa[WG_SHAPE_TEXT];
  if (rows < 1 || cols < 1 || (long long)rows * cols != (long long)wg_row_size(a))
    return wg_fail(t, WG_ERR_SHAPE, "reshape: %s to (%dx%d): the new shape must hold the same "
                   "%zu elements (row %u)", wg_row_shape(t, x.row, sa, sizeof sa), rows, cols,
                   wg_row_size(a), (unsigned)t->n_rows);
  return wg_op_record(t, WG_OP_RESHAPE, 1, &x, rows, cols, 0);
}

void wg_op_reshape_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  memcpy(r->val, x->val, wg_row_size(r) * sizeof *r->val);
}

void wg_op_reshape_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  for (size_t e = 0, n = wg_row_size(r); e < n; e++) x->adj[e] += r->adj[e];
}

void wg_op_reshape_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  memcpy(r->tan, x->tan, wg_row_size(r) * sizeof *r->tan);
}

/* recorded VJP: dx = dy reshaped to x's shape */
void wg_op_reshape_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  int m = x->rows, n = x->cols;
  if (want[0]) dx[0] = wg_reshape(t, dy, m, n);
}

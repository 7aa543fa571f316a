/* broadcast.c - repeat x along its axes of size 1 to a larger shape (NumPy's broadcast_to).
 *   forward: y_ij = x_(i rs)(j cs)   x (m x n) -> y (rows x cols), each axis of x equal to the
 *            result's or 1 (rs, cs: the broadcast strides of ops.h, 0 along a repeated axis)
 *   VJP:     dx += unbcast(dy)       the repeated copies' adjoints summed back (axis sums)
 *   JVP:     ty = tx repeated
 * The recorded VJPs use it wherever an adjoint is spread back over what was reduced (sum,
 * mean, sum_axis: dx = broadcast(dy)), and wg_zeros is broadcast(scalar 0). */
#include "ops/ops.h"

wg_var wg_broadcast(wg_tape *t, wg_var x, int rows, int cols) {
  const wg_row *a = wg_row_of(t, x, "broadcast");
  if (!a) return wg_none();
  if ((a->rows != rows && a->rows != 1) || (a->cols != cols && a->cols != 1) || rows < 1 ||
      cols < 1) {
    char sx[WG_SHAPE_TEXT];
    return wg_fail(t, WG_ERR_SHAPE, "broadcast: %s to (%dx%d): each axis of x must equal the "
                   "result's or be 1, and the result's axes >= 1 (row %u)",
                   wg_row_shape(t, x.row, sx, sizeof sx), rows, cols, (unsigned)t->n_rows);
  }
  return wg_op_record(t, WG_OP_BROADCAST, 1, &x, rows, cols, 0);
}

static void repeat(const wg_row *x, const wg_row *r, const wg_real *src, wg_real *dst) {
  wg_bstride s = wg_bcast_stride(x);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      dst[(size_t)i * r->cols + j] = src[i * s.rs + j * s.cs];
}

void wg_op_broadcast_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  repeat(x, r, x->val, r->val);
}

void wg_op_broadcast_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  wg_bstride s = wg_bcast_stride(x);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) x->adj[i * s.rs + j * s.cs] += r->adj[(size_t)i * r->cols + j];
}

void wg_op_broadcast_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  repeat(x, r, x->tan, r->tan);
}

void wg_op_broadcast_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  const wg_row *x = wg_input_row(t, &t->rows[row], 0);
  if (want[0]) dx[0] = wg_unbcast(t, dy, x->rows, x->cols);
}

wg_var wg_unbcast(wg_tape *t, wg_var g, int rows, int cols) {
  const wg_row *r = wg_row_of(t, g, "unbcast");
  if (!r) return wg_none();
  int grows = r->rows, gcols = r->cols;
  if (rows == 1 && grows > 1) g = wg_sum_axis(t, g, 0);
  if (cols == 1 && gcols > 1) g = wg_sum_axis(t, g, 1);
  return g;
}

wg_var wg_zeros(wg_tape *t, int rows, int cols) {
  return wg_broadcast(t, wg_scalar(t, 0), rows, cols);
}

/* slice.c - a rectangular block of a matrix.
 *   forward: y_ij = x_(r0+i)(c0+j)    x (m x n), y (rows x cols), 0 <= r0, r0 + rows <= m,
 *                                     0 <= c0, c0 + cols <= n
 *   VJP:     dx_(r0+i)(c0+j) += dy_ij (the rest of dx gets nothing)
 *   JVP:     ty_ij = tx_(r0+i)(c0+j)
 * The block's corner (r0, c0) is kept in the arena (r->ptr, two ints). */
#include "ops/ops.h"

wg_var wg_slice(wg_tape *t, wg_var x, int row0, int col0, int rows, int cols) {
  const wg_row *a = wg_row_of(t, x, "slice");
  if (!a) return wg_none();
  char sa[WG_SHAPE_TEXT];
  if (rows < 1 || cols < 1)
    return wg_fail(t, WG_ERR_ARG, "slice: %s: block dimensions (%dx%d) must be positive (row %u)",
                   wg_row_shape(t, x.row, sa, sizeof sa), rows, cols, (unsigned)t->n_rows);
  if (row0 < 0 || col0 < 0 || (long long)row0 + rows > a->rows ||
      (long long)col0 + cols > a->cols)
    return wg_fail(t, WG_ERR_SHAPE, "slice: %s: the (%dx%d) block at [%d,%d] is not inside it "
                   "(it spans rows %d..%lld, columns %d..%lld) (row %u)",
                   wg_row_shape(t, x.row, sa, sizeof sa), rows, cols, row0, col0, row0,
                   (long long)row0 + rows - 1, col0, (long long)col0 + cols - 1,
                   (unsigned)t->n_rows);
  int *corner = wg_tape_alloc(t, 2 * sizeof *corner);
  if (!corner) return wg_none();
  corner[0] = row0, corner[1] = col0;
  return wg_op_record_ptr(t, WG_OP_SLICE, 1, &x, rows, cols, 0, corner);
}

/* add_back = 0: dst (rows x cols) = src's block at the corner (src shaped like x);
 * add_back = 1: dst's block at the corner += src (dst shaped like x, src like the row). */
static void copy_block(const wg_row *r, const wg_row *x, const wg_real *src, wg_real *dst,
                       int add_back) {
  const int *corner = r->ptr;
  for (int i = 0; i < r->rows; i++) {
    size_t at = (size_t)(corner[0] + i) * (size_t)x->cols + (size_t)corner[1];
    const wg_real *s = add_back ? src + (size_t)i * r->cols : src + at;
    wg_real *d = add_back ? dst + at : dst + (size_t)i * r->cols;
    for (int j = 0; j < r->cols; j++) d[j] = add_back ? d[j] + s[j] : s[j];
  }
}

void wg_op_slice_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  copy_block(r, x, x->val, r->val, 0);
}

void wg_op_slice_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  copy_block(r, x, r->adj, x->adj, 1);
}

void wg_op_slice_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  copy_block(r, x, x->tan, r->tan, 0);
}

/* recorded VJP: dx = dy placed at the corner in zeros of x's shape, pad(dy, m, n, r0, c0) */
void wg_op_slice_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                            wg_var *dx) {
  if (!want[0]) return;
  const wg_row *r = &t->rows[row], *x = &t->rows[r->in[0]];
  const int *corner = r->ptr;
  dx[0] = wg_pad(t, dy, x->rows, x->cols, corner[0], corner[1]);
}

/* pad.c - x placed in a larger matrix of zeros: the adjoint of slice (and slice is its).
 *   forward: y_(r0+i)(c0+j) = x_ij, 0 elsewhere   x (m x n), y (rows x cols),
 *                                                 0 <= r0, r0 + m <= rows, 0 <= c0, c0 + n <= cols
 *   VJP:     dx_ij += dy_(r0+i)(c0+j)             the block of dy where x sits
 *   JVP:     ty = tx padded the same way
 *   recorded VJP: dx = slice(dy, r0, c0, m, n); slice's recorded VJP is a pad, so the two
 *   close each other's higher derivatives.
 * The corner (r0, c0) is kept in the arena (r->ptr, two ints), as slice keeps its own. */
#include <string.h>

#include "ops/ops.h"

wg_var wg_pad(wg_tape *t, wg_var x, int rows, int cols, int row0, int col0) {
  const wg_row *a = wg_row_of(t, x, "pad");
  if (!a) return wg_none();
  char sa[WG_SHAPE_TEXT];
  if (rows < 1 || cols < 1 || row0 < 0 || col0 < 0 || (long long)row0 + a->rows > rows ||
      (long long)col0 + a->cols > cols)
    return wg_fail(t, WG_ERR_SHAPE, "pad: %s at [%d,%d] does not fit in a (%dx%d) result (it "
                   "would span rows %d..%lld, columns %d..%lld) (row %u)",
                   wg_row_shape(t, x.row, sa, sizeof sa), row0, col0, rows, cols, row0,
                   (long long)row0 + a->rows - 1, col0, (long long)col0 + a->cols - 1,
                   (unsigned)t->n_rows);
  int *corner = wg_tape_alloc(t, 2 * sizeof *corner);
  if (!corner) return wg_none();
  corner[0] = row0, corner[1] = col0;
  return wg_op_record_ptr(t, WG_OP_PAD, 1, &x, rows, cols, 0, corner);
}

/* dst (the row's shape) = src (x's shape) at the corner, zeros elsewhere */
static void place(const wg_row *r, const wg_row *x, const wg_real *src, wg_real *dst) {
  const int *corner = r->ptr;
  memset(dst, 0, wg_row_size(r) * sizeof *dst);
  for (int i = 0; i < x->rows; i++) {
    wg_real *d = dst + (size_t)(corner[0] + i) * (size_t)r->cols + (size_t)corner[1];
    memcpy(d, src + (size_t)i * x->cols, (size_t)x->cols * sizeof *d);
  }
}

void wg_op_pad_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  place(r, x, x->val, r->val);
}

void wg_op_pad_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  const int *corner = r->ptr;
  for (int i = 0; i < x->rows; i++) {
    const wg_real *s = r->adj + (size_t)(corner[0] + i) * (size_t)r->cols + (size_t)corner[1];
    wg_real *d = x->adj + (size_t)i * x->cols;
    for (int j = 0; j < x->cols; j++) d[j] += s[j];
  }
}

void wg_op_pad_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  place(r, x, x->tan, r->tan);
}

/* recorded VJP: dx = the (m x n) block of dy at the corner */
void wg_op_pad_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (!want[0]) return;
  const wg_row *r = &t->rows[row], *x = &t->rows[r->in[0]];
  const int *corner = r->ptr;
  dx[0] = wg_slice(t, dy, corner[0], corner[1], x->rows, x->cols);
}

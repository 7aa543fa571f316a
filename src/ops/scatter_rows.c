/* scatter_rows.c - rows added into a table of zeros at given indices: the adjoint of
 * gather_rows (and gather_rows is its).
 *   forward: y = 0 (rows x n); y_(c_i) += x_i for i = 0..m-1 in order
 *                                   x (m x n) the rows, c = idx (m x 1): row indices 0..rows-1
 *                                   held as wg_real; a row named twice receives both
 *   VJP:     dx_i += dy_(c_i)       a gather; the indices get no adjoint (they are discrete)
 *   JVP:     ty = scatter of tx
 *   recorded VJP: dx = gather_rows(dy, idx); gather_rows' recorded VJP is this op, so the two
 *   close each other's higher derivatives.
 * Like gather_rows, the forward checks every index each time it runs (record or wg_forward)
 * and fails the tape naming the position and the row; the VJP and JVP run after it passed. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

wg_var wg_scatter_rows(wg_tape *t, wg_var src, wg_var idx, int rows) {
  const wg_row *x = wg_row_of(t, src, "scatter_rows");
  const wg_row *c = x ? wg_row_of(t, idx, "scatter_rows") : NULL;
  if (!c) return wg_none();
  char sx[WG_SHAPE_TEXT], sc[WG_SHAPE_TEXT];
  wg_row_shape(t, src.row, sx, sizeof sx);
  wg_row_shape(t, idx.row, sc, sizeof sc);
  if (c->cols != 1 || c->rows != x->rows)
    return wg_fail(t, WG_ERR_SHAPE, "scatter_rows: rows %s, indices %s: the indices must be one "
                   "column with one row index per row of src (%dx1) (row %u)", sx, sc, x->rows,
                   (unsigned)t->n_rows);
  if (rows < 1)
    return wg_fail(t, WG_ERR_ARG, "scatter_rows: rows %s into a table of %d rows: it needs at "
                   "least 1 (row %u)", sx, rows, (unsigned)t->n_rows);
  if (c->needs_grad)
    return wg_fail(t, WG_ERR_ARG, "scatter_rows: indices %s (row %u) need a gradient: they must "
                   "be row numbers from an input, not a function of a parameter (row %u)", sc,
                   (unsigned)idx.row, (unsigned)t->n_rows);
  wg_var in[2] = {src, idx};
  return wg_op_record(t, WG_OP_SCATTER_ROWS, 2, in, rows, x->cols, 0);
}

/* dst (the row's shape) = v's rows added at the indices into zeros */
static void scatter(const wg_row *r, const wg_row *x, const wg_row *c, const wg_real *v,
                    wg_real *dst) {
  size_t n = (size_t)x->cols;
  memset(dst, 0, wg_row_size(r) * sizeof *dst);
  for (int i = 0; i < c->rows; i++) {
    wg_real *d = dst + (size_t)c->val[i] * n;
    const wg_real *s = v + (size_t)i * n;
    for (size_t j = 0; j < n; j++) d[j] += s[j];
  }
}

void wg_op_scatter_rows_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  for (int i = 0; i < c->rows; i++) { /* all indices first: a failed forward writes nothing */
    wg_real v = c->val[i];
    if (!(v >= 0 && v < r->rows && v == floor(v))) {
      char sc[WG_SHAPE_TEXT];
      wg_fail(t, WG_ERR_ARG, "scatter_rows: index %g at position %d of the indices %s is not a "
              "row of the (%dx%d) result (an integer 0..%d) (row %u)", (double)v, i,
              wg_row_shape(t, r->in[1], sc, sizeof sc), r->rows, r->cols, r->rows - 1,
              (unsigned)(r - t->rows));
      return;
    }
  }
  scatter(r, x, c, x->val, r->val);
}

void wg_op_scatter_rows_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  const wg_row *c = wg_input_row(t, r, 1);
  size_t n = (size_t)x->cols;
  for (int i = 0; i < c->rows; i++) {
    wg_real *dx = x->adj + (size_t)i * n;
    const wg_real *dy = r->adj + (size_t)c->val[i] * n;
    for (size_t j = 0; j < n; j++) dx[j] += dy[j];
  }
}

void wg_op_scatter_rows_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  scatter(r, x, c, x->tan, r->tan);
}

/* recorded VJP: dx_i = dy_(c_i), a gather of dy's rows; the indices: none */
void wg_op_scatter_rows_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                   wg_var *dx) {
  if (want[0]) dx[0] = wg_gather_rows(t, dy, wg_in(t, row, 1));
}

/* gather_rows.c - rows of a table picked by index: an embedding lookup.
 *   forward: y_i = x_(c_i)            x (r x n) the table, c = idx (m x 1): row indices 0..r-1 held
 *                                     as wg_real, y (m x n): row i of y is row c_i of x
 *   VJP:     dx_(c_i) += dy_i         a scatter-add: a row picked twice receives both rows of
 *                                     dy; the indices get no adjoint (they are discrete)
 *   JVP:     ty_i = tx_(c_i)
 * The indices come from an input and may change between replays, so the forward checks every
 * one (an integer in 0..r-1, not NaN) each time it runs, record or wg_forward, and fails the
 * tape naming the position and the row. The VJP and JVP run after a forward that passed. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

wg_var wg_gather_rows(wg_tape *t, wg_var table, wg_var idx) {
  const wg_row *x = wg_row_of(t, table, "gather_rows");
  const wg_row *c = x ? wg_row_of(t, idx, "gather_rows") : NULL;
  if (!c) return wg_none();
  char sx[WG_SHAPE_TEXT], sc[WG_SHAPE_TEXT];
  if (c->cols != 1)
    return wg_fail(t, WG_ERR_SHAPE, "gather_rows: table %s, indices %s: the indices must be one "
                   "column (m x 1), one row index per output row (row %u)",
                   wg_row_shape(t, table.row, sx, sizeof sx), wg_row_shape(t, idx.row, sc, sizeof sc),
                   (unsigned)t->n_rows);
  if (c->needs_grad)
    return wg_fail(t, WG_ERR_ARG, "gather_rows: indices %s (row %u) need a gradient: they must be "
                   "row numbers from an input, not a function of a parameter (row %u)",
                   wg_row_shape(t, idx.row, sc, sizeof sc), (unsigned)idx.row, (unsigned)t->n_rows);
  wg_var in[2] = {table, idx};
  return wg_op_record(t, WG_OP_GATHER_ROWS, 2, in, c->rows, x->cols, 0);
}

void wg_op_gather_rows_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  size_t n = (size_t)x->cols;
  for (int i = 0; i < c->rows; i++) { /* all indices first: a failed forward writes nothing */
    wg_real v = c->val[i];
    if (!(v >= 0 && v < x->rows && v == floor(v))) {
      char sx[WG_SHAPE_TEXT];
      wg_fail(t, WG_ERR_ARG, "gather_rows: index %g at position %d of the indices is not a row "
              "of table %s (an integer 0..%d) (row %u)", (double)v, i,
              wg_row_shape(t, r->in[0], sx, sizeof sx), x->rows - 1, (unsigned)(r - t->rows));
      return;
    }
  }
  for (int i = 0; i < c->rows; i++)
    memcpy(r->val + (size_t)i * n, x->val + (size_t)c->val[i] * n, n * sizeof *r->val);
}

void wg_op_gather_rows_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  const wg_row *c = wg_input_row(t, r, 1);
  size_t n = (size_t)x->cols;
  for (int i = 0; i < c->rows; i++) {
    wg_real *dx = x->adj + (size_t)c->val[i] * n;
    const wg_real *dy = r->adj + (size_t)i * n;
    for (size_t j = 0; j < n; j++) dx[j] += dy[j];
  }
}

void wg_op_gather_rows_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  size_t n = (size_t)x->cols;
  for (int i = 0; i < c->rows; i++)
    memcpy(r->tan + (size_t)i * n, x->tan + (size_t)c->val[i] * n, n * sizeof *r->tan);
}

/* recorded VJP: dx = dy's rows added at the indices into zeros of the table's shape,
 * scatter_rows(dy, idx, r); the indices: none */
void wg_op_gather_rows_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                  wg_var *dx) {
  if (!want[0]) return;
  int rows = t->rows[t->rows[row].in[0]].rows;
  dx[0] = wg_scatter_rows(t, dy, wg_in(t, row, 1), rows);
}

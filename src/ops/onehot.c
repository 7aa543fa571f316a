/* onehot.c - class labels as one-hot rows, the helper of softmax_ce's recorded VJP.
 *   forward: y_ij = [j == c_i]     c = labels (m x 1): class indices 0..n-1 held as wg_real,
 *                                  y (m x n): row i is 1 in column c_i, 0 elsewhere
 *   VJP:     none: the labels are discrete and must not need a gradient (as softmax_ce's)
 *   JVP:     ty = 0
 * The labels come from an input and may change between replays, so the forward checks every
 * one (an integer in 0..n-1, not NaN) each time it runs, record or wg_forward, and fails the
 * tape naming the position and the row, as softmax_ce does. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

wg_var wg_onehot(wg_tape *t, wg_var labels, int n) {
  const wg_row *c = wg_row_of(t, labels, "onehot");
  if (!c) return wg_none();
  char sc[WG_SHAPE_TEXT];
  if (c->cols != 1 || n < 1)
    return wg_fail(t, WG_ERR_SHAPE, "onehot: labels %s, %d classes: the labels must be one "
                   "column (m x 1), one class index per row, and the classes n >= 1 (row %u)",
                   wg_row_shape(t, labels.row, sc, sizeof sc), n, (unsigned)t->n_rows);
  if (c->needs_grad)
    return wg_fail(t, WG_ERR_ARG, "onehot: labels (row %u) need a gradient: they must be "
                   "class indices from an input, not a function of a parameter (row %u)",
                   (unsigned)labels.row, (unsigned)t->n_rows);
  return wg_op_record(t, WG_OP_ONEHOT, 1, &labels, c->rows, n, 0);
}

void wg_op_onehot_forward(wg_tape *t, wg_row *r) {
  const wg_row *c = wg_input_row(t, r, 0);
  int n = r->cols;
  for (int i = 0; i < r->rows; i++) { /* all labels first: a failed forward writes nothing */
    wg_real label = c->val[i];
    if (!(label >= 0 && label < n && label == floor(label))) {
      wg_fail(t, WG_ERR_ARG, "onehot: label %g in row %d of the labels is not a class index "
              "0..%d (tape row %u)", (double)label, i, n - 1, (unsigned)(r - t->rows));
      return;
    }
  }
  memset(r->val, 0, wg_row_size(r) * sizeof *r->val);
  for (int i = 0; i < r->rows; i++) r->val[(size_t)i * n + (size_t)c->val[i]] = 1;
}

void wg_op_onehot_vjp(wg_tape *t, wg_row *r) {
  (void)t, (void)r; /* the labels get no adjoint */
}

void wg_op_onehot_jvp(wg_tape *t, wg_row *r) {
  (void)t;
  memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
}

/* recorded VJP: none (the labels need no gradient): dx stays none */
void wg_op_onehot_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx;
}

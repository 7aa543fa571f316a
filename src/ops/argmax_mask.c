/* argmax_mask.c - the one-hot mask of the first maximum along an axis, the helper of
 * max_axis's recorded VJP.
 *   forward: y_gk = [k == k*_g]   x, y (m x n); the axis is the row's constant c: groups are
 *                                 the columns (axis 0) or the rows (axis 1) of x, and k*_g is
 *                                 max_axis's pick in group g: the first maximum, or the first
 *                                 NaN if the group has one (wg_axis_first_max, axis.c)
 *   VJP:     dx += 0              the slope is 0 (undefined where the pick changes)
 *   JVP:     ty = 0
 * A mask is a constant to every higher derivative: its recorded VJP records nothing. */
#include <string.h>

#include "ops/ops.h"

wg_var wg_argmax_mask(wg_tape *t, wg_var x, int axis) {
  const wg_row *a = wg_row_of(t, x, "argmax_mask");
  if (!a) return wg_none();
  int rows = a->rows, cols = a->cols;
  if (axis != 0 && axis != 1) {
    char sx[WG_SHAPE_TEXT];
    return wg_fail(t, WG_ERR_ARG, "argmax_mask: axis %d for %s: the axis must be 0 (the first "
                   "maximum of each column) or 1 (of each row) (row %u)", axis,
                   wg_row_shape(t, x.row, sx, sizeof sx), (unsigned)t->n_rows);
  }
  return wg_op_record(t, WG_OP_ARGMAX_MASK, 1, &x, rows, cols, (wg_real)axis);
}

void wg_op_argmax_mask_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  int axis = r->c != 0, groups = axis == 0 ? x->cols : x->rows;
  memset(r->val, 0, wg_row_size(r) * sizeof *r->val);
  for (int g = 0; g < groups; g++) r->val[wg_axis_first_max(x, axis, g)] = 1;
}

void wg_op_argmax_mask_vjp(wg_tape *t, wg_row *r) {
  (void)t, (void)r; /* adds 0 */
}

void wg_op_argmax_mask_jvp(wg_tape *t, wg_row *r) {
  (void)t;
  memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
}

void wg_op_argmax_mask_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                  wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx; /* zero: dx stays none */
}

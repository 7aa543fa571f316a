/* dropout_apply.c - x times the mask of a dropout row: the helper of dropout's recorded VJP.
 *   forward: y = x * m    m the mask of the dropout row d referred to (dropout.c), as d's last
 *                         forward used it: [u >= p] / (1 - p) in training, 1 in evaluation;
 *                         x, y of d's shape
 *   VJP:     dx += dy * m
 *   JVP:     ty = tx * m
 * The row keeps d's state (r->ptr), not a copy of the mask: wg_dropout_resample redraws it
 * for both, and wg_tape_set_training switches both, since d's forward runs first in every
 * replay. Its VJP is itself with the same mask, so its recorded VJP is one more such row. */
#include "ops/ops.h"

wg_var wg_dropout_apply(wg_tape *t, wg_var x, wg_var dropout) {
  const wg_row *a = wg_row_of(t, x, "dropout_apply");
  const wg_row *d = a ? wg_row_of(t, dropout, "dropout_apply") : NULL;
  if (!d) return wg_none();
  char sx[WG_SHAPE_TEXT], sd[WG_SHAPE_TEXT];
  if (d->op != WG_OP_DROPOUT && d->op != WG_OP_DROPOUT_APPLY)
    return wg_fail(t, WG_ERR_ARG, "dropout_apply: row %u is a '%s' row: the mask must come "
                   "from a dropout row (or another dropout_apply row) (row %u)",
                   (unsigned)dropout.row, wg_row_op_name(d), (unsigned)t->n_rows);
  if (a->rows != d->rows || a->cols != d->cols)
    return wg_fail(t, WG_ERR_SHAPE, "dropout_apply: x %s, dropout row %s: x must have the "
                   "dropout row's shape (row %u)", wg_row_shape(t, x.row, sx, sizeof sx),
                   wg_row_shape(t, dropout.row, sd, sizeof sd), (unsigned)t->n_rows);
  return wg_op_record_ptr(t, WG_OP_DROPOUT_APPLY, 1, &x, a->rows, a->cols, d->c, d->ptr);
}

/* out = v * m, or v when the dropout row's last forward applied no mask (evaluation) */
static void times_mask(const wg_row *r, const wg_real *v, wg_real *out, int acc) {
  const wg_real *m = wg_dropout_mask_of(r->ptr);
  for (size_t e = 0, n = wg_row_size(r); e < n; e++) {
    wg_real d = m ? v[e] * m[e] : v[e];
    out[e] = acc ? out[e] + d : d;
  }
}

void wg_op_dropout_apply_forward(wg_tape *t, wg_row *r) {
  times_mask(r, wg_input_row(t, r, 0)->val, r->val, 0);
}

void wg_op_dropout_apply_vjp(wg_tape *t, wg_row *r) {
  times_mask(r, r->adj, wg_input_row(t, r, 0)->adj, 1);
}

void wg_op_dropout_apply_jvp(wg_tape *t, wg_row *r) {
  times_mask(r, wg_input_row(t, r, 0)->tan, r->tan, 0);
}

/* recorded VJP: dx = dy * m, this op again with the same mask (the row refers to itself) */
void wg_op_dropout_apply_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                    wg_var *dx) {
  if (want[0]) dx[0] = wg_dropout_apply(t, dy, wg_handle(t, row));
}

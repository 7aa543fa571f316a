/* leaky_relu.c - relu with slope c (alpha, kept in the row) below 0.
 *   forward: y = x for x > 0, c x for x <= 0           (shape of x)
 *   VJP:     dx += dy * ([x > 0] + c [x <= 0])
 *   JVP:     ty = tx * ([x > 0] + c [x <= 0])
 * At the kink x = 0 the slope is taken as c, PyTorch's choice (x > 0 ? grad : c grad), and
 * relu's (c = 0) here: it lies between the one-sided slopes c and 1, so wg_gradcheck reports
 * such an element as a kink (skipped), not a failure. c must be finite (WG_ERR_ARG otherwise);
 * any sign is accepted. Higher order: the slope is recorded with a step (the end of the
 * file). */
#include <math.h>

#include "ops/ops.h"

wg_var wg_leaky_relu(wg_tape *t, wg_var x, wg_real alpha) {
  if (!wg_row_of(t, x, "leaky_relu")) return wg_none();
  char s[WG_SHAPE_TEXT];
  if (!isfinite(alpha))
    return wg_fail(t, WG_ERR_ARG, "leaky_relu: %s: the slope alpha = %g must be a finite "
                   "number (row %u)", wg_row_shape(t, x.row, s, sizeof s), (double)alpha,
                   (unsigned)t->n_rows);
  return wg_op_unary(t, WG_OP_LEAKY_RELU, x, alpha);
}

void wg_op_leaky_relu_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = x[i] > 0 ? x[i] : r->c * x[i];
}

void wg_op_leaky_relu_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    in->adj[i] += in->val[i] > 0 ? r->adj[i] : r->c * r->adj[i];
}

void wg_op_leaky_relu_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->tan[i] = in->val[i] > 0 ? in->tan[i] : r->c * in->tan[i];
}

/* recorded VJP: dx = dy * (m + c (1 - m)), m = step(x) = [x > 0]: the slope is 1 + c 0 = 1
 * or 0 + c 1 = c exactly, so dx has the numeric VJP's bits (c at the kink and for NaN) */
void wg_op_leaky_relu_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                 wg_var *dx) {
  if (!want[0]) return;
  wg_real c = t->rows[row].c;
  wg_var m = wg_step(t, wg_in(t, row, 0));
  dx[0] = wg_mul(t, dy, wg_add(t, m, wg_scale(t, wg_sub(t, wg_scalar(t, 1), m), c)));
}

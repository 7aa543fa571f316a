/* pow.c - elementwise power with a constant exponent c (kept in the row).
 *   forward: y = x^c                 (shape of x; libm's pow: x < 0 with c not an integer
 *                                     gives NaN, 0^c = +inf for c < 0)
 *   VJP:     dx += dy * c * x^(c-1)
 *   JVP:     ty = tx * c * x^(c-1)
 * Edges, as PyTorch's pow: c = 0 makes y = 1 everywhere and the slope is taken as 0, even at
 * x = 0 (where c * 0^-1 would be 0 * inf = NaN); at x = 0 with 0 < c < 1 the slope
 * c * 0^(c-1) is +inf (sqrt's, for c = 1/2), so dx gets +-inf (NaN where dy = 0), which
 * WG_CHECK_FINITE reports naming the row. c must be finite (WG_ERR_ARG otherwise).
 * Higher order: the slope is c pow(x, c - 1), this op again. */
#include <math.h>

#include "ops/ops.h"

wg_var wg_pow(wg_tape *t, wg_var x, wg_real c) {
  if (!wg_row_of(t, x, "pow")) return wg_none();
  char s[WG_SHAPE_TEXT];
  if (!isfinite(c))
    return wg_fail(t, WG_ERR_ARG, "pow: %s ^ c: the exponent c = %g must be a finite number "
                   "(row %u)", wg_row_shape(t, x.row, s, sizeof s), (double)c,
                   (unsigned)t->n_rows);
  return wg_op_unary(t, WG_OP_POW, x, c);
}

/* dy/dx = c x^(c-1), and 0 for c = 0 */
static wg_real slope(wg_real x, wg_real c) {
  return c == 0 ? 0 : c * pow(x, c - 1);
}

void wg_op_pow_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = pow(x[i], r->c);
}

void wg_op_pow_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    in->adj[i] += r->adj[i] * slope(in->val[i], r->c);
}

void wg_op_pow_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->tan[i] = in->tan[i] * slope(in->val[i], r->c);
}

/* recorded VJP: dx = dy * (c x^(c-1)); none when c = 0 (y is the constant 1) */
void wg_op_pow_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  wg_real c = t->rows[row].c;
  if (want[0] && c != 0) dx[0] = wg_mul(t, dy, wg_scale(t, wg_pow(t, wg_in(t, row, 0), c - 1), c));
}

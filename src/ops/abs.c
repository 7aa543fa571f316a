/* abs.c - elementwise absolute value.
 *   forward: y = |x|                (shape of x)
 *   VJP:     dx += dy * sign(x)     sign(x) = 1, 0, -1 for x > 0, x = 0, x < 0
 *   JVP:     ty = tx * sign(x)
 * At the kink x = 0 the slope is taken as sign(0) = 0, PyTorch's choice (grad * sgn(x)):
 * it lies between the one-sided slopes -1 and 1, so wg_gradcheck reports such an element as
 * a kink (skipped), not a failure. Higher order: sign(x) is recorded with steps (the
 * end of the file). */
#include <math.h>

#include "ops/ops.h"

wg_var wg_abs(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_ABS, x, 0);
}

static wg_real sign(wg_real x) {
  return x > 0 ? 1 : x < 0 ? -1 : 0; /* NaN: 0 (its value is NaN already) */
}

void wg_op_abs_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = fabs(x[i]);
}

void wg_op_abs_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += r->adj[i] * sign(in->val[i]);
}

void wg_op_abs_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->tan[i] * sign(in->val[i]);
}

/* recorded VJP: dx = dy * sign(x), sign(x) = step(x) - step(-x): 1, 0, -1 for x > 0, x = 0 (or
 * NaN), x < 0, the numeric VJP's values exactly */
void wg_op_abs_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (!want[0]) return;
  wg_var x = wg_in(t, row, 0);
  dx[0] = wg_mul(t, dy, wg_sub(t, wg_step(t, x), wg_step(t, wg_neg(t, x))));
}

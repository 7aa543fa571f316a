/* sin.c - elementwise sine (radians).
 *   forward: y = sin(x)           (shape of x; sin(+-inf) = NaN, as libm)
 *   VJP:     dx += dy * cos(x)
 *   JVP:     ty = tx * cos(x)
 * Higher order: cos is an op (cos.c). */
#include <math.h>

#include "ops/ops.h"

wg_var wg_sin(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SIN, x, 0);
}

void wg_op_sin_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = sin(x[i]);
}

void wg_op_sin_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += r->adj[i] * cos(in->val[i]);
}

void wg_op_sin_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->tan[i] * cos(in->val[i]);
}

/* recorded VJP: dx = dy * cos(x) */
void wg_op_sin_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (want[0]) dx[0] = wg_mul(t, dy, wg_cos(t, wg_in(t, row, 0)));
}

/* cos.c - elementwise cosine (radians).
 *   forward: y = cos(x)           (shape of x; cos(+-inf) = NaN, as libm)
 *   VJP:     dx -= dy * sin(x)
 *   JVP:     ty = -tx * sin(x)
 * Higher order: sin is an op (sin.c). */
#include <math.h>

#include "ops/ops.h"

wg_var wg_cos(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_COS, x, 0);
}

void wg_op_cos_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = cos(x[i]);
}

void wg_op_cos_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] -= r->adj[i] * sin(in->val[i]);
}

void wg_op_cos_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = -in->tan[i] * sin(in->val[i]);
}

/* recorded VJP: dx = -(dy * sin(x)) */
void wg_op_cos_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  if (want[0]) dx[0] = wg_neg(t, wg_mul(t, dy, wg_sin(t, wg_in(t, row, 0))));
}

/* normal_cdf.c - the standard normal CDF, the helper of gelu's recorded VJP.
 *   forward: y = Phi(x) = erfc(-x / sqrt 2) / 2      (shape of x; the same value as
 *            (1 + erf(x / sqrt 2)) / 2, accurate in relative terms for x << 0 too)
 *   VJP:     dx += dy * phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the normal density
 *   JVP:     ty = tx * phi(x)
 * Smooth everywhere; Phi(-inf) = 0, Phi(inf) = 1, phi(+-inf) = 0. Its recorded VJP builds
 * phi from square, scale and exp, so every order of derivative is recorded with ops. */
#include <math.h>

#include "ops/ops.h"

#define SQRT1_2 0.70710678118654752440     /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */

wg_var wg_normal_cdf(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_NORMAL_CDF, x, 0);
}

static wg_real pdf(wg_real x) { /* phi(x) */
  return INV_SQRT_2PI * exp(-0.5 * (x * x));
}

void wg_op_normal_cdf_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = 0.5 * erfc(-x[i] * SQRT1_2);
}

void wg_op_normal_cdf_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += r->adj[i] * pdf(in->val[i]);
}

void wg_op_normal_cdf_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->tan[i] * pdf(in->val[i]);
}

/* recorded VJP: dx = dy * phi(x), phi(x) = (1 / sqrt(2 pi)) exp(-0.5 x^2) */
void wg_op_normal_cdf_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                 wg_var *dx) {
  if (!want[0]) return;
  wg_var x = wg_in(t, row, 0);
  wg_var phi = wg_scale(t, wg_exp(t, wg_scale(t, wg_square(t, x), -0.5)), INV_SQRT_2PI);
  dx[0] = wg_mul(t, dy, phi);
}

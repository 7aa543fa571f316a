/* gelu.c - the Gaussian error linear unit, exact (erf) form.
 *   forward: y = x Phi(x) = x/2 (1 + erf(x / sqrt 2))      (shape of x)
 *            Phi, the standard normal CDF, computed as erfc(-x / sqrt 2) / 2: the same value,
 *            accurate in relative terms for x << 0 too, where 1 + erf(.) cancels
 *   VJP:     dx += dy * (Phi(x) + x phi(x)),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *   JVP:     ty = tx * (Phi(x) + x phi(x))
 * Smooth everywhere. Higher order: Phi is the helper op normal_cdf (normal_cdf.c); phi is
 * exp, square and scale. */
#include <math.h>

#include "ops/ops.h"

#define SQRT1_2 0.70710678118654752440     /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */

wg_var wg_gelu(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_GELU, x, 0);
}

static wg_real cdf(wg_real x) { /* Phi(x) */
  return 0.5 * erfc(-x * SQRT1_2);
}

static wg_real slope(wg_real x) { /* Phi(x) + x phi(x) */
  return cdf(x) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}

void wg_op_gelu_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = x[i] * cdf(x[i]);
}

void wg_op_gelu_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) in->adj[i] += r->adj[i] * slope(in->val[i]);
}

void wg_op_gelu_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->tan[i] * slope(in->val[i]);
}

/* recorded VJP: dx = dy * (Phi(x) + x phi(x)), Phi the helper op normal_cdf (its own VJP is
 * phi), x phi(x) = ((1 / sqrt(2 pi)) x) exp(-0.5 x^2) in the order of slope() above */
void wg_op_gelu_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  if (!want[0]) return;
  wg_var x = wg_in(t, row, 0);
  wg_var xphi = wg_mul(t, wg_scale(t, x, INV_SQRT_2PI),
                       wg_exp(t, wg_scale(t, wg_square(t, x), -0.5)));
  dx[0] = wg_mul(t, dy, wg_add(t, wg_normal_cdf(t, x), xphi));
}

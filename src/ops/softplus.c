/* softplus.c - the smooth relu, log(1 + e^x).
 *   forward: y = max(x, 0) + log1p(exp(-|x|))    (shape of x)
 *            the same value as log(1 + exp(x)), but exp only sees -|x| <= 0, so it never
 *            overflows: softplus(750) = 750 and softplus(-750) = exp(-750) = 0 in double
 *   VJP:     dx += dy * sigmoid(x)
 *   JVP:     ty = tx * sigmoid(x)
 * sigmoid as in sigmoid.c: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below, so no exp
 * overflows either. Smooth everywhere (the kinks of max and |x| cancel). Scalar libm per
 * element. Higher order: sigmoid is an op. */
#include <math.h>

#include "ops/ops.h"

wg_var wg_softplus(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_SOFTPLUS, x, 0);
}

static wg_real sigmoid(wg_real x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  wg_real e = exp(x);
  return e / (1 + e);
}

void wg_op_softplus_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->val[i] = (x[i] > 0 ? x[i] : 0) + log1p(exp(-fabs(x[i])));
}

void wg_op_softplus_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    in->adj[i] += r->adj[i] * sigmoid(in->val[i]);
}

void wg_op_softplus_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->tan[i] = in->tan[i] * sigmoid(in->val[i]);
}

/* recorded VJP: dx = dy * sigmoid(x) */
void wg_op_softplus_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                               wg_var *dx) {
  if (want[0]) dx[0] = wg_mul(t, dy, wg_sigmoid(t, wg_in(t, row, 0)));
}

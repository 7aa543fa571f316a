/* step.c - the Heaviside step, the derivative of relu and the piece of every kinked op's
 * recorded VJP (abs, leaky_relu, clamp, maximum, minimum, bce's clamped logs).
 *   forward: y = [x > 0]: 1 where x > 0, 0 elsewhere (0 at 0 and for NaN)
 *   VJP:     dx += 0    the slope is 0 everywhere but 0, where it is undefined; like the
 *                       kinked ops themselves, the engine takes 0 there
 *   JVP:     ty = 0
 * Its recorded VJP records nothing: a mask is a constant to every higher derivative. */
#include <string.h>

#include "ops/ops.h"

wg_var wg_step(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_STEP, x, 0);
}

void wg_op_step_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->val[i] = x[i] > 0 ? 1 : 0;
}

void wg_op_step_vjp(wg_tape *t, wg_row *r) {
  (void)t, (void)r; /* adds 0 */
}

void wg_op_step_jvp(wg_tape *t, wg_row *r) {
  (void)t;
  memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
}

void wg_op_step_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx; /* zero: dx stays none */
}

/* scalar.c - a 1x1 constant leaf.
 *   forward: y = c
 *   VJP:     none (constants need no gradient)
 *   JVP:     ty = 0 */

#include "ops/ops.h"

wg_var wg_scalar(wg_tape *t, wg_real c) {
  return wg_op_record(t, WG_OP_SCALAR, 0, NULL, 1, 1, c);
}

void wg_op_scalar_forward(wg_tape *t, wg_row *r) {
  (void)t;
  r->val[0] = r->c;
}

void wg_op_scalar_vjp(wg_tape *t, wg_row *r) {
  (void)t, (void)r;
}

void wg_op_scalar_jvp(wg_tape *t, wg_row *r) {
  (void)t;
  r->tan[0] = 0;
}

/* recorded VJP: none */
void wg_op_scalar_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx; /* a leaf: no inputs, never called */
}

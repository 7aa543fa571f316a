/* minimum.c - elementwise min of two inputs, with 2-D broadcasting.
 *   forward: y = min(a, b)                                  a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy * ([a < b] + [a == b] / 2))
 *            db += unbcast(dy * ([b < a] + [a == b] / 2))
 *   JVP:     ty = ta * ([a < b] + [a == b] / 2) + tb * ([b < a] + [a == b] / 2)
 * On a tie a == b the gradient is split, half to each input: PyTorch's choice for
 * torch.minimum. The half lies between the one-sided slopes 0 and 1 of either input, so
 * wg_gradcheck reports a tied element as a kink (skipped), not a failure. A NaN in either
 * input gives NaN, as torch.minimum. The loops over the shapes, unbcast and the thread pool
 * are binary.c's (binary.h). Higher order: the masks are recorded with steps (the end of
 * the file). */
#include "ops/binary.h"

wg_var wg_minimum(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_MINIMUM, a, b, "vs");
}

static inline wg_real minimum_y(wg_real a, wg_real b) {
  return a != a || a < b ? a : b; /* a NaN a is kept; a NaN b fails a < b */
}
static inline wg_real minimum_da(wg_real a, wg_real b, wg_real y, wg_real g) {
  (void)y;
  return a < b ? g : a == b ? g / 2 : 0;
}
static inline wg_real minimum_db(wg_real a, wg_real b, wg_real y, wg_real g) {
  (void)y;
  return b < a ? g : a == b ? g / 2 : 0;
}
WG_BINARY_KERNELS(minimum);

void wg_op_minimum_forward(wg_tape *t, wg_row *r) { wg_binary_forward(t, r, &minimum_kernels); }
void wg_op_minimum_vjp(wg_tape *t, wg_row *r) { wg_binary_vjp(t, r, &minimum_kernels); }
void wg_op_minimum_jvp(wg_tape *t, wg_row *r) { wg_binary_jvp(t, r, &minimum_kernels); }

/* recorded VJP: dy times the numeric VJP's factors, from step masks (binary.c) */
void wg_op_minimum_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx) {
  wg_record_pick_vjp(t, row, dy, want, dx, 0);
}

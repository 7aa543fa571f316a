/* div.c - elementwise quotient with 2-D broadcasting.
 *   forward: y = a / b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy / b)   (unbcast: sum over the axes an input was repeated along)
 *            db -= unbcast(dy / b * y)       since d(a/b)/db = -a/b^2 = -y/b
 *   JVP:     ty = ta / b - tb / b * y
 * The loops over the shapes, unbcast and the thread pool are binary.c's (binary.h). */
#include "ops/binary.h"

wg_var wg_div(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_DIV, a, b, "/");
}

static inline wg_real div_y(wg_real a, wg_real b) {
  return a / b;
}
static inline wg_real div_da(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/da = 1/b */
  (void)a, (void)y;
  return g / b;
}
static inline wg_real div_db(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/db = -y/b */
  (void)a;
  return -(g / b * y);
}
WG_BINARY_KERNELS(div);

void wg_op_div_forward(wg_tape *t, wg_row *r) { wg_binary_forward(t, r, &div_kernels); }
void wg_op_div_vjp(wg_tape *t, wg_row *r) { wg_binary_vjp(t, r, &div_kernels); }
void wg_op_div_jvp(wg_tape *t, wg_row *r) { wg_binary_jvp(t, r, &div_kernels); }

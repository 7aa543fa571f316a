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

/* recorded VJP: da = unbcast(dy / b), db = -unbcast(dy / b * y) */
void wg_op_div_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *ra = &t->rows[t->rows[row].in[0]], *rb = &t->rows[t->rows[row].in[1]];
  int am = ra->rows, an = ra->cols, bm = rb->rows, bn = rb->cols;
  wg_var b = wg_in(t, row, 1);
  wg_var q = wg_div(t, dy, b); /* dy / b, shared by both terms */
  if (want[0]) dx[0] = wg_unbcast(t, q, am, an);
  if (want[1]) dx[1] = wg_neg(t, wg_unbcast(t, wg_mul(t, q, wg_handle(t, row)), bm, bn));
}

/* mul.c - elementwise (Hadamard) product with 2-D broadcasting.
 *   forward: y = a * b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy * b)   (unbcast: sum over the axes an input was repeated along)
 *            db += unbcast(dy * a)
 *   JVP:     ty = ta * b + a * tb
 * The loops over the shapes, unbcast and the thread pool are binary.c's (binary.h). */
#include "ops/binary.h"

wg_var wg_mul(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_MUL, a, b, "*");
}

static inline wg_real mul_y(wg_real a, wg_real b) {
  return a * b;
}
static inline wg_real mul_da(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/da = b */
  (void)a, (void)y;
  return g * b;
}
static inline wg_real mul_db(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/db = a */
  (void)b, (void)y;
  return g * a;
}
WG_BINARY_KERNELS(mul);

void wg_op_mul_forward(wg_tape *t, wg_row *r) { wg_binary_forward(t, r, &mul_kernels); }
void wg_op_mul_vjp(wg_tape *t, wg_row *r) { wg_binary_vjp(t, r, &mul_kernels); }
void wg_op_mul_jvp(wg_tape *t, wg_row *r) { wg_binary_jvp(t, r, &mul_kernels); }

/* recorded VJP: da = unbcast(dy * b), db = unbcast(dy * a) */
void wg_op_mul_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *ra = &t->rows[t->rows[row].in[0]], *rb = &t->rows[t->rows[row].in[1]];
  int am = ra->rows, an = ra->cols, bm = rb->rows, bn = rb->cols;
  wg_var a = wg_in(t, row, 0), b = wg_in(t, row, 1);
  if (want[0]) dx[0] = wg_unbcast(t, wg_mul(t, dy, b), am, an);
  if (want[1]) dx[1] = wg_unbcast(t, wg_mul(t, dy, a), bm, bn);
}

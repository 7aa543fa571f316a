/* sub.c - elementwise difference with 2-D broadcasting.
 *   forward: y = a - b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy)       (unbcast: sum over the axes an input was repeated along)
 *            db -= unbcast(dy)
 *   JVP:     ty = ta - tb
 * The loops over the shapes, unbcast and the thread pool are binary.c's (binary.h). */
#include "ops/binary.h"

wg_var wg_sub(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_SUB, a, b, "-");
}

static inline wg_real sub_y(wg_real a, wg_real b) {
  return a - b;
}
static inline wg_real sub_da(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/da = 1 */
  (void)a, (void)b, (void)y;
  return g;
}
static inline wg_real sub_db(wg_real a, wg_real b, wg_real y, wg_real g) { /* dy/db = -1 */
  (void)a, (void)b, (void)y;
  return -g;
}
WG_BINARY_KERNELS(sub);

void wg_op_sub_forward(wg_tape *t, wg_row *r) { wg_binary_forward(t, r, &sub_kernels); }
void wg_op_sub_vjp(wg_tape *t, wg_row *r) { wg_binary_vjp(t, r, &sub_kernels); }
void wg_op_sub_jvp(wg_tape *t, wg_row *r) { wg_binary_jvp(t, r, &sub_kernels); }

/* recorded VJP: da = unbcast(dy), db = -unbcast(dy) */
void wg_op_sub_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *ra = &t->rows[t->rows[row].in[0]], *rb = &t->rows[t->rows[row].in[1]];
  int am = ra->rows, an = ra->cols, bm = rb->rows, bn = rb->cols;
  if (want[0]) dx[0] = wg_unbcast(t, dy, am, an);
  if (want[1]) dx[1] = wg_neg(t, wg_unbcast(t, dy, bm, bn));
}

/* tanh.c - hyperbolic tangent.
 *   forward: y = tanh(x)          (shape of x; libm's tanh saturates to +-1, never overflows)
 *   VJP:     dx += dy * (1 - y^2)
 *   JVP:     ty = tx * (1 - y^2) */
#include "ops/ops.h"
#include "kernels/vmath.h"
#include "par/pool.h"

wg_var wg_tanh(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_TANH, x, 0);
}

void wg_op_tanh_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  wg_vtanh(x, r->val, wg_row_size(r)); /* vectorised, within 3 ulp of libm's tanh */
}

typedef struct {
  wg_row *r, *x;
  int first; /* dx is stale: store 0 + the term (wg_adj_first) */
} tanh_job;

static void vjp_range(void *arg, size_t lo, size_t hi) {
  const tanh_job *j = arg;
  const wg_real *y = j->r->val, *dy = j->r->adj;
  wg_real *dx = j->x->adj;
  if (j->first)
    for (size_t i = lo; i < hi; i++) dx[i] = 0 + dy[i] * (1 - y[i] * y[i]);
  else
    for (size_t i = lo; i < hi; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
}

void wg_op_tanh_vjp(wg_tape *t, wg_row *r) { /* large arrays in element ranges on the pool */
  wg_row *x = wg_input_row(t, r, 0);
  tanh_job j = {r, x, wg_adj_first(x)};
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, vjp_range, &j);
}

void wg_op_tanh_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) {
    wg_real y = r->val[i];
    r->tan[i] = tx[i] * (1 - y * y);
  }
}

/* recorded VJP: dx = dy * (1 - y^2) */
void wg_op_tanh_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  if (!want[0]) return;
  wg_var y = wg_handle(t, row);
  dx[0] = wg_mul(t, dy, wg_sub(t, wg_scalar(t, 1), wg_square(t, y)));
}

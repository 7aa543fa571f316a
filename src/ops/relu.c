/* relu.c - rectified linear unit.
 *   forward: y = max(x, 0)        (shape of x)
 *   VJP:     dx += dy * [x > 0]   (the derivative at the kink x = 0 is taken as 0)
 *   JVP:     ty = tx * [x > 0] */
#include "ops/ops.h"
#include "par/pool.h"

wg_var wg_relu(wg_tape *t, wg_var x) {
  return wg_op_unary(t, WG_OP_RELU, x, 0);
}

/* Large arrays run in element ranges on the pool (wg_par_for): each element by itself, so
 * the bits do not depend on the thread count. */
typedef struct {
  wg_row *r, *x;
  int first; /* VJP: dx is stale, store 0 + the term (wg_adj_first) */
} relu_job;

static void forward_range(void *arg, size_t lo, size_t hi) {
  const relu_job *j = arg;
  const wg_real *x = j->x->val;
  wg_real *y = j->r->val;
  for (size_t i = lo; i < hi; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void wg_op_relu_forward(wg_tape *t, wg_row *r) {
  relu_job j = {r, wg_input_row(t, r, 0), 0};
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, forward_range, &j);
}

static void vjp_range(void *arg, size_t lo, size_t hi) {
  const relu_job *j = arg;
  const wg_real *x = j->x->val, *dy = j->r->adj;
  wg_real *dx = j->x->adj;
  if (j->first) /* branch-free: both loops vectorise */
    for (size_t i = lo; i < hi; i++) dx[i] = 0 + (x[i] > 0 ? dy[i] : 0);
  else
    for (size_t i = lo; i < hi; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
}

void wg_op_relu_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  relu_job j = {r, x, wg_adj_first(x)};
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, vjp_range, &j);
}

void wg_op_relu_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  for (size_t i = 0, n = wg_row_size(r); i < n; i++) r->tan[i] = in->val[i] > 0 ? in->tan[i] : 0;
}

/* recorded VJP: dx = dy * step(x), step(x) = [x > 0] (0 at the kink and for NaN, as above) */
void wg_op_relu_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                           wg_var *dx) {
  if (want[0]) dx[0] = wg_mul(t, dy, wg_step(t, wg_in(t, row, 0)));
}

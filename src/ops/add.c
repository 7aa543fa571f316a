/* add.c - elementwise sum with 2-D broadcasting.
 *   forward: y = a + b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy)       unbcast sums dy over the axes a was repeated along;
 *            db += unbcast(dy)       so a 1xN bias gets the column sums of dy
 *   JVP:     ty = ta + tb */
#include "ops/ops.h"
#include "par/pool.h"

wg_var wg_add(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_ADD, a, b, "+");
}

/* Large outputs run on the pool (wg_par_for): the forward in ranges of rows of y, the VJP in
 * ranges of the elements of dx, each summed over the same terms in the same order as by one
 * thread, so the bits do not depend on the thread count. A VJP range that is the first to
 * reach x's adjoint in the sweep (wg_adj_first) stores 0 + its sum: the same bits as adding
 * into a zeroed buffer, without the pass that zeroes it. */
typedef struct {
  wg_row *r, *a, *b, *x; /* x: the input whose adjoint a VJP range adds to */
  int first;             /* x's adjoint is stale: write it */
} add_job;

static void forward_rows(void *arg, size_t lo, size_t hi) {
  const add_job *j = arg;
  const wg_row *r = j->r, *a = j->a, *b = j->b;
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (size_t i = lo; i < hi; i++) {
    const wg_real *pa = a->val + i * sa.rs, *pb = b->val + i * sb.rs;
    wg_real *y = r->val + i * (size_t)r->cols;
    if (sa.cs && sb.cs) /* both run along the row: a contiguous loop the compiler vectorises */
      for (int c = 0; c < r->cols; c++) y[c] = pa[c] + pb[c];
    else
      for (int c = 0; c < r->cols; c++) y[c] = pa[c * sa.cs] + pb[c * sb.cs];
  }
}

void wg_op_add_forward(wg_tape *t, wg_row *r) {
  add_job j = {r, wg_input_row(t, r, 0), wg_input_row(t, r, 1), NULL, 0};
  size_t n = wg_row_size(r);
  if (wg_row_size(j.a) == n && wg_row_size(j.b) <= 1) { /* x + scalar (a bias of one output) */
    for (size_t i = 0; i < n; i++) r->val[i] = j.a->val[i] + j.b->val[0];
    return;
  }
  wg_par_for((size_t)r->rows, wg_par_grain_of((size_t)r->cols), forward_rows, &j);
}

/* dx += dy, elements lo..hi-1 (x of the shape of y) */
static void same_shape_range(void *arg, size_t lo, size_t hi) {
  const add_job *j = arg;
  const wg_real *dy = j->r->adj;
  wg_real *dx = j->x->adj;
  if (j->first)
    for (size_t i = lo; i < hi; i++) dx[i] = 0 + dy[i]; /* 0 + : -0 becomes +0, as before */
  else
    for (size_t i = lo; i < hi; i++) dx[i] += dy[i];
}

/* x (1 x N) repeated down the rows: dx[c] += sum over i of dy[i][c], i in order, for the
 * columns c in lo..hi-1 */
static void column_sums(void *arg, size_t lo, size_t hi) {
  const add_job *j = arg;
  const wg_row *r = j->r;
  wg_real *dx = j->x->adj;
  if (j->first)
    for (size_t c = lo; c < hi; c++) dx[c] = 0;
  for (int i = 0; i < r->rows; i++) {
    const wg_real *dy = r->adj + (size_t)i * r->cols;
    for (size_t c = lo; c < hi; c++) dx[c] += dy[c];
  }
}

/* x (M x 1) repeated along the columns: dx[i] += sum over c of dy[i][c], c in order, for the
 * rows i in lo..hi-1 */
static void row_sums(void *arg, size_t lo, size_t hi) {
  const add_job *j = arg;
  const wg_row *r = j->r;
  wg_real *dx = j->x->adj;
  for (size_t i = lo; i < hi; i++) {
    const wg_real *dy = r->adj + i * (size_t)r->cols;
    if (j->first) dx[i] = 0;
    for (int c = 0; c < r->cols; c++) dx[i] += dy[c];
  }
}

/* dx += unbcast(dy): each element of dx sums its terms of dy in the order of dy */
static void unbcast_add(wg_row *x, wg_row *r) {
  size_t n = wg_row_size(r);
  add_job j = {r, NULL, NULL, x, wg_adj_first(x)};
  if (wg_row_size(x) == n) { /* same shape: elementwise */
    wg_par_for(n, WG_PAR_GRAIN, same_shape_range, &j);
    return;
  }
  if (wg_row_size(x) == 1) { /* a scalar: the sum of dy, in order, in a register */
    wg_real acc = j.first ? 0 : x->adj[0];
    for (size_t i = 0; i < n; i++) acc += r->adj[i];
    x->adj[0] = acc;
    return;
  }
  size_t span = n / (size_t)(x->rows == 1 ? r->cols : r->rows); /* terms per element of dx */
  if (x->rows == 1) wg_par_for((size_t)r->cols, wg_par_grain_of(span), column_sums, &j);
  else wg_par_for((size_t)r->rows, wg_par_grain_of(span), row_sums, &j);
}

void wg_op_add_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  if (a->needs_grad) unbcast_add(a, r);
  if (b->needs_grad) unbcast_add(b, r);
}

void wg_op_add_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->tan[(size_t)i * r->cols + j] = a->tan[i * sa.rs + j * sa.cs] + b->tan[i * sb.rs + j * sb.cs];
}

/* binary.c - the loops of every binary elementwise op (binary.h): forward, VJP with unbcast,
 * JVP, over the broadcast shapes, on the thread pool. The op's row kernels do the math; these
 * loops cut y into runs for them and say where each run's inputs lie.
 *
 * Large passes run on the pool (wg_par_for): each element of the forward and JVP, and each
 * element of an input's adjoint in the VJP, is computed by one thread from the same terms in
 * the same order as by one thread alone, so the bits do not depend on the thread count. */
#include "ops/binary.h"
#include "par/pool.h"

typedef struct {
  const wg_binary *op;
  wg_row *r, *a, *b;
  wg_bstride sa, sb; /* where element (i, j) of y finds a and b */
  int flat;          /* every input is y's shape or 1x1: a run may cross rows */
  int k, first;      /* VJP: the input whose adjoint is written (0: a, 1: b), and whether its
                        adjoint is stale (wg_adj_first) */
} job;

static job job_of(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = {op, r, wg_input_row(t, r, 0), wg_input_row(t, r, 1), {0, 0}, {0, 0}, 0, 0, 0};
  j.sa = wg_bcast_stride(j.a), j.sb = wg_bcast_stride(j.b);
  size_t n = wg_row_size(r), na = wg_row_size(j.a), nb = wg_row_size(j.b);
  j.flat = (na == n || na == 1) && (nb == n || nb == 1);
  return j;
}

/* The run of n elements of y from its element e = i*cols + c. */
static wg_seg seg_at(const job *j, size_t e, size_t n) {
  const wg_row *r = j->r, *a = j->a, *b = j->b;
  size_t cols = (size_t)r->cols, i = e / cols, c = e % cols;
  size_t ia = i * j->sa.rs + c * j->sa.cs, ib = i * j->sb.rs + c * j->sb.cs;
  wg_seg s = {a->val + ia, b->val + ib, NULL, NULL, r->val + e, NULL, j->sa.cs, j->sb.cs, n};
  if (j->flat) /* an input of y's shape steps by 1 even when it has one column */
    s.as = wg_row_size(a) > 1, s.bs = wg_row_size(b) > 1;
  if (r->adj) s.dy = r->adj + e;
  if (r->tan && a->tan && b->tan) s.ta = a->tan + ia, s.tb = b->tan + ib;
  return s;
}

/* The runs covering y's elements lo..hi-1: one when flat, else one per row (or part of one). */
static size_t run_end(const job *j, size_t e, size_t hi) {
  if (j->flat) return hi;
  size_t cols = (size_t)j->r->cols, end = (e / cols + 1) * cols;
  return end < hi ? end : hi;
}

static void forward_range(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  for (size_t e = lo, end; e < hi; e = end) {
    end = run_end(j, e, hi);
    wg_seg s = seg_at(j, e, end - e);
    j->op->value(&s, j->r->val + e);
  }
}

void wg_binary_forward(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = job_of(t, r, op);
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, forward_range, &j);
}

/* x of y's shape: dx_e (+)= term_e for y's elements lo..hi-1 */
static void grad_range(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj;
  for (size_t e = lo, end; e < hi; e = end) {
    end = run_end(j, e, hi);
    wg_seg s = seg_at(j, e, end - e);
    j->op->grad(&s, j->k, j->first, dx + e);
  }
}

/* x (1 x N) repeated down y's M rows: dx_c (+)= sum over i of term_ic, i in order, for the
 * columns c in lo..hi-1 (row i's run adds into them; the first run writes when x is stale) */
static void column_sums(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj;
  size_t cols = (size_t)j->r->cols;
  for (size_t i = 0; i < (size_t)j->r->rows; i++) {
    wg_seg s = seg_at(j, i * cols + lo, hi - lo);
    j->op->grad(&s, j->k, j->first && i == 0, dx + lo);
  }
}

/* x (M x 1) repeated along y's N columns: dx_i (+)= sum over c of term_ic, c in order, for the
 * rows i in lo..hi-1 */
static void row_sums(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj;
  size_t cols = (size_t)j->r->cols;
  for (size_t i = lo; i < hi; i++) {
    wg_seg s = seg_at(j, i * cols, cols);
    dx[i] = j->op->grad_sum(&s, j->k, j->first ? 0 : dx[i]);
  }
}

/* dx (+)= unbcast(term) for input k (x): each element of dx sums its terms in dy's order */
static void unbcast(job *j, int k) {
  wg_row *x = k ? j->b : j->a, *r = j->r;
  size_t n = wg_row_size(r), nx = wg_row_size(x);
  j->k = k, j->first = wg_adj_first(x);
  if (nx == n) {
    wg_par_for(n, WG_PAR_GRAIN, grad_range, j);
  } else if (nx == 1) { /* one sum over all of dy, in order: one thread */
    wg_real acc = j->first ? 0 : x->adj[0];
    for (size_t e = 0, end; e < n; e = end) {
      end = run_end(j, e, n);
      wg_seg s = seg_at(j, e, end - e);
      acc = j->op->grad_sum(&s, k, acc);
    }
    x->adj[0] = acc;
  } else if (x->rows == 1) {
    wg_par_for((size_t)r->cols, wg_par_grain_of((size_t)r->rows), column_sums, j);
  } else {
    wg_par_for((size_t)r->rows, wg_par_grain_of((size_t)r->cols), row_sums, j);
  }
}

void wg_binary_vjp(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = job_of(t, r, op);
  if (j.a->needs_grad) unbcast(&j, 0);
  if (j.b->needs_grad) unbcast(&j, 1);
}

static void tangent_range(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  for (size_t e = lo, end; e < hi; e = end) {
    end = run_end(j, e, hi);
    wg_seg s = seg_at(j, e, end - e);
    j->op->tangent(&s, j->r->tan + e);
  }
}

void wg_binary_jvp(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = job_of(t, r, op);
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, tangent_range, &j);
}

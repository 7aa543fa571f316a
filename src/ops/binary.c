/* binary.c - the loops of every binary elementwise op (binary.h): forward, VJP with unbcast,
 * JVP, over the broadcast shapes, on the thread pool. The op's kernels do the math; these
 * loops cut y into blocks for them and say where each block's inputs lie.
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
  int flat;          /* every input is y's shape or 1x1: y is one run of elements */
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

/* The elements e .. e+n-1 of y as one run (flat). */
static wg_seg flat_run(const job *j, size_t e, size_t n) {
  const wg_row *r = j->r;
  size_t as = wg_row_size(j->a) > 1, bs = wg_row_size(j->b) > 1;
  wg_seg s = {j->a->val + e * as, j->b->val + e * bs, NULL, NULL, r->val + e, NULL,
              as, bs, 0, 0, 0, 1, n};
  if (r->adj) s.dy = r->adj + e;
  if (r->tan) s.ta = j->a->tan + e * as, s.tb = j->b->tan + e * bs;
  return s;
}

/* Rows i0 .. i0+rows-1 of y, columns c0 .. c0+n-1 of each. */
static wg_seg row_block(const job *j, size_t i0, size_t rows, size_t c0, size_t n) {
  const wg_row *r = j->r;
  size_t cols = (size_t)r->cols, e = i0 * cols + c0;
  size_t ia = i0 * j->sa.rs + c0 * j->sa.cs, ib = i0 * j->sb.rs + c0 * j->sb.cs;
  wg_seg s = {j->a->val + ia, j->b->val + ib, NULL, NULL, r->val + e, NULL,
              j->sa.cs, j->sb.cs, j->sa.rs, j->sb.rs, cols, rows, n};
  if (r->adj) s.dy = r->adj + e;
  if (r->tan) s.ta = j->a->tan + ia, s.tb = j->b->tan + ib;
  return s;
}

/* Over [lo, hi): elements of y when flat, else rows of y. */
static size_t units(const job *j) {
  return j->flat ? wg_row_size(j->r) : (size_t)j->r->rows;
}
static size_t grain(const job *j) {
  return j->flat ? WG_PAR_GRAIN : wg_par_grain_of((size_t)j->r->cols);
}
static wg_seg block(const job *j, size_t lo, size_t hi) {
  return j->flat ? flat_run(j, lo, hi - lo) : row_block(j, lo, hi - lo, 0, (size_t)j->r->cols);
}
static size_t first_element(const job *j, size_t lo) {
  return j->flat ? lo : lo * (size_t)j->r->cols;
}

static void forward_range(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_seg s = block(j, lo, hi);
  j->op->value(&s, j->r->val + first_element(j, lo));
}

void wg_binary_forward(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = job_of(t, r, op);
  wg_par_for(units(&j), grain(&j), forward_range, &j);
}

/* x of y's shape: dx (+)= term, elementwise, over the block lo..hi-1 */
static void grad_range(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj + first_element(j, lo);
  wg_seg s = block(j, lo, hi);
  j->op->grad(&s, j->k, j->first, dx, (size_t)j->r->cols);
}

/* x (1 x N) repeated down y's M rows: dx_c (+)= sum over i of term_ic, i in order, for the
 * columns c in lo..hi-1 (every run adds into the same dx; the first writes when x is stale) */
static void column_sums(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj;
  wg_seg s = row_block(j, 0, (size_t)j->r->rows, lo, hi - lo);
  j->op->grad(&s, j->k, j->first, dx + lo, 0);
}

/* x (M x 1) repeated along y's N columns: dx_i (+)= sum over c of term_ic, c in order, for the
 * rows i in lo..hi-1 */
static void row_sums(void *arg, size_t lo, size_t hi) {
  const job *j = arg;
  wg_real *dx = (j->k ? j->b : j->a)->adj;
  for (size_t i = lo; i < hi; i++) {
    wg_seg s = row_block(j, i, 1, 0, (size_t)j->r->cols);
    dx[i] = j->op->grad_sum(&s, j->k, j->first ? 0 : dx[i]);
  }
}

/* dx (+)= unbcast(term) for input k (x): each element of dx sums its terms in dy's order */
static void unbcast(job *j, int k) {
  wg_row *x = k ? j->b : j->a, *r = j->r;
  size_t n = wg_row_size(r), nx = wg_row_size(x);
  j->k = k, j->first = wg_adj_first(x);
  if (nx == n) {
    wg_par_for(units(j), grain(j), grad_range, j);
  } else if (nx == 1) { /* one sum over all of dy, in order: one thread */
    wg_real acc = j->first ? 0 : x->adj[0];
    if (j->flat) {
      wg_seg s = flat_run(j, 0, n);
      acc = j->op->grad_sum(&s, k, acc);
    } else {
      for (size_t i = 0; i < (size_t)r->rows; i++) {
        wg_seg s = row_block(j, i, 1, 0, (size_t)r->cols);
        acc = j->op->grad_sum(&s, k, acc);
      }
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
  wg_seg s = block(j, lo, hi);
  j->op->tangent(&s, j->r->tan + first_element(j, lo));
}

void wg_binary_jvp(wg_tape *t, wg_row *r, const wg_binary *op) {
  job j = job_of(t, r, op);
  wg_par_for(units(&j), grain(&j), tangent_range, &j);
}

void wg_record_pick_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want, wg_var *dx,
                        int larger) {
  const wg_row *ra = &t->rows[t->rows[row].in[0]], *rb = &t->rows[t->rows[row].in[1]];
  int am = ra->rows, an = ra->cols, bm = rb->rows, bn = rb->cols;
  wg_var a = wg_in(t, row, 0), b = wg_in(t, row, 1), one = wg_scalar(t, 1);
  wg_var d = larger ? wg_sub(t, a, b) : wg_sub(t, b, a);
  wg_var s = wg_step(t, d), r = wg_step(t, wg_neg(t, d));
  wg_var m = wg_scale(t, wg_add(t, s, wg_sub(t, one, r)), 0.5);
  if (want[0]) dx[0] = wg_unbcast(t, wg_mul(t, dy, m), am, an);
  if (want[1]) dx[1] = wg_unbcast(t, wg_mul(t, dy, wg_sub(t, one, m)), bm, bn);
}

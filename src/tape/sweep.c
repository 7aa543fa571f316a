/* sweep.c - the three generic sweeps over the rows: replay (wg_forward), reverse (wg_backward)
 * and forward mode (wg_jvp). They know no op by name: each row's kernels come from wg_ops[]. */
#include <string.h>

#include "ops/ops.h"
#include "par/pool.h"
#include "tape/tape.h"

wg_status wg_forward(wg_tape *t) {
  if (!wg_live(t) || wg_tape_busy(t, "wg_forward")) return wg_tape_status(t);
  for (uint32_t i = 0; i < t->n_rows && t->status == WG_OK; i++) {
    wg_ops[t->rows[i].op].forward(t, &t->rows[i]);
    if (t->checks && !wg_finite_forward(t, i, "wg_forward: ")) break;
  }
  return t->status;
}

typedef struct {
  wg_real *p;
} zero_job;

static void zero_range(void *arg, size_t lo, size_t hi) {
  memset(((zero_job *)arg)->p + lo, 0, (hi - lo) * sizeof(wg_real));
}

/* Zero row r's adjoint if this sweep has not yet (large ones in parts on the pool). Before a
 * row's VJP the sweep zeroes the row's own adjoint if no VJP reached it, and its inputs'
 * stale adjoints unless the op writes them itself (`first` in oplist.h: the first VJP to
 * reach an adjoint stores 0 + its term, saving a pass over the buffer). With a trace or
 * finite checks on, every adjoint is zeroed first, so each VJP adds (what the trace prints);
 * on several threads too (below). The bits are the same either way. */
static void zero_if_stale(wg_row *r) {
  if (!r->adj_stale) return;
  r->adj_stale = 0;
  zero_job j = {r->adj};
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, zero_range, &j);
}

/* Give every row that needs a gradient an adjoint buffer (allocated the first time) and mark
 * it stale: the sweep zeroes it when it is first needed. With `direct`, a leaf with a sink
 * takes the sink as its adjoint instead (not zeroed: it holds the gradient accumulated so
 * far); without, it gets its own buffer back. */
static int prepare_adjoints(wg_tape *t, uint32_t upto, int direct) {
  for (uint32_t i = 0; i <= upto; i++) {
    wg_row *r = &t->rows[i];
    r->adj_stale = 0;
    if (!r->needs_grad) continue;
    if (r->sink && direct) {
      if (r->adj != r->sink) r->own_adj = r->adj, r->adj = r->sink;
      continue;
    }
    if (r->sink && r->adj == r->sink) r->adj = r->own_adj; /* NULL: allocated just below */
    if (!wg_row_ensure_adj(t, r)) return 0;
    r->adj_stale = 1;
  }
  return 1;
}

wg_status wg_backward(wg_tape *t, wg_var loss) {
  if (wg_tape_busy(t, "wg_backward")) return t->status;
  wg_row *l = wg_row_of(t, loss, "wg_backward");
  if (!l) return wg_tape_status(t);
  if (l->rows != 1 || l->cols != 1) {
    char name[WG_NAME_MAX + 16];
    wg_fail(t, WG_ERR_SHAPE, "wg_backward: loss %s is (%dx%d), not (1x1): reduce it first "
            "(wg_sum, wg_mean) (row %u)", wg_row_label(t, loss.row, name, sizeof name),
            l->rows, l->cols, (unsigned)loss.row);
    return t->status;
  }
  const wg_real one = 1;
  return wg_backward_seeded(t, loss.row, &one, 1);
}

wg_status wg_backward_seeded(wg_tape *t, uint32_t top, const wg_real *seed, int into_params) {
  if (!wg_live(t)) return wg_tape_status(t);
  if (!t->rows[top].needs_grad) return WG_OK; /* nothing on the tape leads to a parameter */
  int direct = into_params && !t->trace && !t->checks && !t->rows[top].sink;
  /* First writes only on one thread: on several, a VJP's range of an adjoint may hold lines
   * another core has read since the last sweep (matmul's dW product reads all of dZ), and
   * the zeroing pass's full-line stores take them back for less than the VJP's own stores
   * (measured on W2 at two threads: add's VJP 71 us writing first, 47 us zero + add). */
  int first_writes = !t->trace && !t->checks && wg_par_threads() == 1;
  if (!prepare_adjoints(t, t->n_rows - 1, direct)) {
    /* out of memory half way: the buffers already handed out read zero, not garbage */
    for (uint32_t i = 0; i < t->n_rows; i++) zero_if_stale(&t->rows[i]);
    return t->status;
  }
  wg_row *s = &t->rows[top];
  memcpy(s->adj, seed, wg_row_size(s) * sizeof *seed);
  s->adj_stale = 0;
  for (uint32_t i = top + 1; i-- > 0 && t->status == WG_OK;) {
    wg_row *r = &t->rows[i];
    if (!r->needs_grad || (!into_params && r->n_in == 0)) continue;
    if (r->sink && r->adj == r->sink) continue; /* its consumers added into the sink directly */
    zero_if_stale(r); /* no VJP reached it: it is zero */
    if (!wg_ops[r->op].writes_first || !first_writes)
      for (int k = 0; k < r->n_in; k++) zero_if_stale(wg_input_row(t, r, k));
    if (t->trace) wg_trace_step(t, r); /* print.c: the same VJP, with what it adds */
    else wg_ops[r->op].vjp(t, r);
    if (t->checks && !wg_finite_backward(t, i)) break;
  }
  for (uint32_t i = 0; i < t->n_rows; i++) zero_if_stale(&t->rows[i]); /* rows no VJP reached */
  return t->status;
}

wg_status wg_jvp(wg_tape *t) {
  if (!wg_live(t) || wg_tape_busy(t, "wg_jvp")) return wg_tape_status(t);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    if (!wg_row_ensure_tan(t, r)) return t->status;
    wg_ops[r->op].jvp(t, r);
    if (t->status) break; /* a JVP can fail (a custom op without one): stop at that row */
    if (t->checks && !wg_finite_jvp(t, i)) break;
  }
  return t->status;
}

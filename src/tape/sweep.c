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

/* ---- the reverse sweep ----------------------------------------------------------------------
 *
 * The sweep is the textbook loop: for each row from the loss back to row 0, if the row needs a
 * gradient and the loss depends on it, apply its VJP (adj(input) += J^T adj(row)). A row no
 * VJP has reached yet (its adjoint still stale) is one the loss does not depend on: its
 * adjoint is zero and its VJP is skipped, so a side branch on the same tape (a metric, an
 * evaluation pass) costs nothing and cannot add 0 * NaN = NaN into a shared gradient. Three fast paths keep its memory
 * traffic low (docs/performance.md, "The backward sweep's memory traffic"; docs/design.md,
 * section 6), each in one small function below:
 *   - stale adjoints: an adjoint is zeroed just before the first VJP that adds into it, while
 *     it is about to be used, not all at the start (zero_stale_inputs);
 *   - first writes: an op marked `first` in oplist.h stores 0 + its term into a stale adjoint
 *     itself (wg_adj_first), which saves that zeroing pass (zero_stale_inputs, mode.first);
 *   - parameter sinks: a parameter leaf's adjoint is the parameter's gradient itself, so its
 *     consumers add straight into it and the leaf's own VJP is skipped (prepare_adjoints,
 *     skips_vjp).
 * The first two give the bits of the plain loop (a first write stores 0 + term, as adding
 * into zeros does); a sink sums a gradient as g + c1 + c2 instead of g + (c1 + c2), which
 * may differ in the last bits. */

typedef struct {
  int into_params; /* 0: stop at the leaves, leave the parameters' gradients alone */
  int sinks;       /* parameter leaves use their sink as adjoint */
  int first;       /* `first` ops write the stale adjoints of their inputs themselves */
} sweep_mode;

/* Which fast paths this sweep may take. Sinks: not with a trace or finite checks (which show
 * and check what each leaf's VJP adds), nor when the seeded row is itself a parameter leaf.
 * First writes: on one thread only; on several, a VJP's range of an adjoint may hold lines
 * another core has read since the last sweep, and the zeroing pass's full-line stores take
 * them back for less than the VJP's own stores (docs/performance.md). */
static sweep_mode sweep_mode_of(const wg_tape *t, uint32_t top, int into_params) {
  int plain = !t->trace && !t->checks;
  sweep_mode m = {into_params, into_params && plain && !t->rows[top].sink,
                  plain && wg_par_threads() == 1};
  return m;
}

typedef struct {
  wg_real *p;
} zero_job;

static void zero_range(void *arg, size_t lo, size_t hi) {
  memset(((zero_job *)arg)->p + lo, 0, (hi - lo) * sizeof(wg_real));
}

/* Stale adjoints: zero r's adjoint if this sweep has not yet (large ones in parts on the
 * pool). */
static void zero_if_stale(wg_row *r) {
  if (!r->adj_stale) return;
  r->adj_stale = 0;
  zero_job j = {r->adj};
  wg_par_for(wg_row_size(r), WG_PAR_GRAIN, zero_range, &j);
}

/* Give every row that needs a gradient an adjoint buffer (allocated the first time) and mark
 * it stale: zero_if_stale zeroes it when it is first needed. Parameter sinks: with m.sinks, a
 * leaf with a sink takes the sink as its adjoint instead (not zeroed: it holds the gradient
 * accumulated so far); without, it gets its own buffer back. */
static int prepare_adjoints(wg_tape *t, uint32_t upto, sweep_mode m) {
  for (uint32_t i = 0; i <= upto; i++) {
    wg_row *r = &t->rows[i];
    r->adj_stale = 0;
    if (!r->needs_grad) continue;
    if (r->sink && m.sinks) {
      if (r->adj != r->sink) r->own_adj = r->adj, r->adj = r->sink;
      continue;
    }
    if (r->sink && r->adj == r->sink) r->adj = r->own_adj; /* NULL: allocated just below */
    if (!wg_row_ensure_adj(t, r)) return 0;
    r->adj_stale = 1;
  }
  return 1;
}

/* A row that needs a gradient but whose VJP the sweep skips: a leaf when the sweep stops at
 * the leaves, and (parameter sinks) a leaf whose consumers already added into its sink. */
static int skips_vjp(const wg_row *r, sweep_mode m) {
  return (!m.into_params && r->n_in == 0) || (r->sink && r->adj == r->sink);
}

/* Stale adjoints, first writes: before r's VJP, r's own adjoint is zero if no VJP reached it,
 * and so is each input's that no VJP has reached yet, unless r's op writes it itself. */
static void zero_stale_inputs(wg_tape *t, wg_row *r, sweep_mode m) {
  zero_if_stale(r);
  if (m.first && wg_ops[r->op].writes_first) return;
  for (uint32_t k = 0; k < r->n_in; k++) zero_if_stale(wg_input_row(t, r, k));
}

/* r's VJP; with a trace set, the traced form (teach/print.c): the same VJP, and what it adds. */
static void apply_vjp(wg_tape *t, wg_row *r) {
  if (t->trace) wg_trace_step(t, r);
  else wg_ops[r->op].vjp(t, r);
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
  sweep_mode mode = sweep_mode_of(t, top, into_params);
  if (!prepare_adjoints(t, t->n_rows - 1, mode)) {
    /* out of memory half way: the buffers already handed out read zero, not garbage */
    for (uint32_t i = 0; i < t->n_rows; i++) zero_if_stale(&t->rows[i]);
    return t->status;
  }
  wg_row *s = &t->rows[top];
  memcpy(s->adj, seed, wg_row_size(s) * sizeof *seed);
  s->adj_stale = 0;
  for (uint32_t i = top + 1; i-- > 0 && t->status == WG_OK;) {
    wg_row *r = &t->rows[i];
    if (!r->needs_grad || skips_vjp(r, mode)) continue;
    if (r->adj_stale) continue; /* the loss does not depend on r: its adjoint is zero */
    zero_stale_inputs(t, r, mode);
    apply_vjp(t, r);
    if (t->checks && !wg_finite_backward(t, i)) break;
  }
  for (uint32_t i = 0; i < t->n_rows; i++) zero_if_stale(&t->rows[i]); /* rows no VJP reached */
  return t->status;
}

/* ---- forward mode --------------------------------------------------------------------------
 *
 * Each row's JVP in order. A tangent that is identically zero stays zero through any op (a
 * JVP is linear in the tangents), so a row whose inputs all have zero tangents gets a zeroed
 * tangent without its JVP (tan_zero), and the JVPs that can (matmul, conv2d) skip the products
 * of such inputs: a Hessian-vector product (wg_hvp) over a network does not multiply the
 * data's zero tangent through every layer. Where a JVP would have formed 0 * inf = NaN from a
 * zero tangent, the skipped row has 0, the derivative along a direction that does not move
 * it. Custom ops are always called (their JVP may be missing, which must be reported). */
static int tangent_is_zero(const wg_row *r) {
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    if (r->tan[i] != 0) return 0;
  return 1;
}

static int inputs_tangents_zero(const wg_tape *t, const wg_row *r) {
  for (uint32_t k = 0; k < r->n_in; k++)
    if (!t->rows[r->in[k]].tan_zero) return 0;
  return 1;
}

wg_status wg_jvp(wg_tape *t) {
  if (!wg_live(t) || wg_tape_busy(t, "wg_jvp")) return wg_tape_status(t);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    if (!wg_row_ensure_tan(t, r)) return t->status;
    r->tan_zero = r->n_in > 0 && r->op != WG_OP_CUSTOM && inputs_tangents_zero(t, r);
    if (r->tan_zero) {
      memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
      continue;
    }
    wg_ops[r->op].jvp(t, r); /* a leaf's: the caller's tangent (a scalar's is 0) */
    if (r->n_in == 0) r->tan_zero = (uint8_t)tangent_is_zero(r);
    if (t->status) break; /* a JVP can fail (a custom op without one): stop at that row */
    if (t->checks && !wg_finite_jvp(t, i)) break;
  }
  return t->status;
}

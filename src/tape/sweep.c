/* sweep.c - the three generic sweeps over the rows: replay (wg_forward), reverse (wg_backward)
 * and forward mode (wg_jvp). They know no op by name: each row's kernels come from wg_ops[]. */
#include <string.h>

#include "ops/ops.h"
#include "tape/tape.h"

wg_status wg_forward(wg_tape *t) {
  if (!wg_live(t)) return wg_tape_status(t);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_ops[t->rows[i].op].forward(t, &t->rows[i]);
    if (t->checks && !wg_check_forward(t, i, "wg_forward: ")) break;
  }
  return t->status;
}

/* Zero the adjoint of every row that needs a gradient (allocating it the first time). With
 * `direct`, a leaf with a sink takes the sink as its adjoint instead (not zeroed: it holds the
 * gradient accumulated so far); without, it gets its own buffer back. */
static int zero_adjoints(wg_tape *t, uint32_t upto, int direct) {
  for (uint32_t i = 0; i <= upto; i++) {
    wg_row *r = &t->rows[i];
    if (!r->needs_grad) continue;
    if (r->sink && direct) {
      if (r->adj != r->sink) r->own_adj = r->adj, r->adj = r->sink;
      continue;
    }
    if (r->sink && r->adj == r->sink) r->adj = r->own_adj; /* NULL: allocated just below */
    if (!wg_row_ensure_adj(t, r)) return 0;
    memset(r->adj, 0, wg_row_size(r) * sizeof *r->adj);
  }
  return 1;
}

wg_status wg_backward(wg_tape *t, wg_var loss) {
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
  if (!zero_adjoints(t, t->n_rows - 1, direct)) return t->status;
  wg_row *s = &t->rows[top];
  memcpy(s->adj, seed, wg_row_size(s) * sizeof *seed);
  for (uint32_t i = top + 1; i-- > 0;) {
    wg_row *r = &t->rows[i];
    if (!r->needs_grad || (!into_params && r->n_in == 0)) continue;
    if (r->sink && r->adj == r->sink) continue; /* its consumers added into the sink directly */
    if (t->trace) wg_trace_step(t, r); /* print.c: the same VJP, with what it adds */
    else wg_ops[r->op].vjp(t, r);
    if (t->checks && !wg_check_backward(t, i)) break;
  }
  return t->status;
}

wg_status wg_jvp(wg_tape *t) {
  if (!wg_live(t)) return wg_tape_status(t);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    if (!wg_row_ensure_tan(t, r)) return t->status;
    wg_ops[r->op].jvp(t, r);
    if (t->status) break; /* a JVP can fail (a custom op without one): stop at that row */
    if (t->checks && !wg_check_jvp(t, i)) break;
  }
  return t->status;
}

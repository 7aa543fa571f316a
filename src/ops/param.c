/* param.c - a parameter leaf (wg_use).
 *   forward: y = W (the parameter's value buffer, referenced: replay sees updates)
 *   VJP:     grad(W) += dy   (accumulates across backward calls and across uses)
 *            The row's sink is grad(W): wg_backward normally makes the leaf's adjoint dy BE
 *            grad(W), so its consumers' VJPs accumulate into it and this VJP is skipped; it
 *            runs when the sweep keeps dy apart (trace, finite checks, seeded at the leaf).
 *   JVP:     ty is whatever the caller wrote with wg_tangent (zeros by default) */
#include "ops/ops.h"

wg_var wg_use(wg_tape *t, wg_param *p) {
  if (!wg_live(t)) return wg_none();
  if (!p) return wg_fail(t, WG_ERR_ARG, "param: wg_use of a NULL parameter (row %u)",
                         (unsigned)t->n_rows);
  uint32_t i = wg_row_append(t, WG_OP_PARAM, p->rows, p->cols);
  if (i == UINT32_MAX) return wg_none();
  wg_row *r = &t->rows[i];
  r->val = p->value;
  r->ptr = p;
  r->sink = p->grad; /* the VJP only adds into it: wg_backward may sweep into it directly */
  r->needs_grad = 1;
  if (p->name[0]) r->name = p->name;
  if (t->checks && !wg_finite_forward(t, i, "")) return wg_none();
  return wg_handle(t, i);
}

void wg_op_param_forward(wg_tape *t, wg_row *r) {
  (void)t, (void)r; /* the value is the parameter's buffer */
}

void wg_op_param_vjp(wg_tape *t, wg_row *r) {
  (void)t;
  wg_param *p = r->ptr;
  size_t n = wg_row_size(r);
  for (size_t i = 0; i < n; i++) p->grad[i] += r->adj[i];
}

void wg_op_param_jvp(wg_tape *t, wg_row *r) {
  (void)t, (void)r;
}

/* recorded VJP: none (wg_gradients reads a parameter's adjoint, summed over its uses) */
void wg_op_param_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                            wg_var *dx) {
  (void)t, (void)row, (void)dy, (void)want, (void)dx; /* a leaf: no inputs, never called */
}

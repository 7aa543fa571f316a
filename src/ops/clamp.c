/* clamp.c - elementwise clamp to constant bounds lo <= hi (kept in the arena, r->ptr).
 *   forward: y = min(max(x, lo), hi)          (shape of x; NaN stays NaN)
 *   VJP:     dx += dy * [lo <= x <= hi]
 *   JVP:     ty = tx * [lo <= x <= hi]
 * At the kinks x = lo and x = hi the gradient passes (slope 1), PyTorch's choice (clamp's
 * backward keeps grad where lo <= x <= hi): it lies between the one-sided slopes 0 and 1,
 * so wg_gradcheck reports such an element as a kink (skipped), not a failure. The bounds
 * may be infinite (a one-sided clamp) and equal; NaN or lo > hi is WG_ERR_ARG. Higher order:
 * the mask is recorded with steps (the end of the file). */
#include <math.h>

#include "ops/ops.h"

wg_var wg_clamp(wg_tape *t, wg_var x, wg_real lo, wg_real hi) {
  const wg_row *a = wg_row_of(t, x, "clamp");
  if (!a) return wg_none();
  int rows = a->rows, cols = a->cols;
  char s[WG_SHAPE_TEXT];
  if (isnan(lo) || isnan(hi) || lo > hi)
    return wg_fail(t, WG_ERR_ARG, "clamp: %s: the bounds lo = %g, hi = %g %s (row %u)",
                   wg_row_shape(t, x.row, s, sizeof s), (double)lo, (double)hi,
                   lo > hi ? "are crossed: lo <= hi is needed" : "may not be NaN",
                   (unsigned)t->n_rows);
  const char *outer = t->building; /* an out-of-memory message names clamp and its row */
  if (!outer) t->building = "clamp";
  wg_real *bounds = wg_tape_reals(t, 2);
  t->building = outer;
  if (!bounds) return wg_none();
  bounds[0] = lo, bounds[1] = hi;
  return wg_op_record_ptr(t, WG_OP_CLAMP, 1, &x, rows, cols, 0, bounds);
}

void wg_op_clamp_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val, *b = r->ptr;
  wg_real lo = b[0], hi = b[1];
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->val[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

void wg_op_clamp_vjp(wg_tape *t, wg_row *r) {
  wg_row *in = wg_input_row(t, r, 0);
  const wg_real *b = r->ptr;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    in->adj[i] += in->val[i] >= b[0] && in->val[i] <= b[1] ? r->adj[i] : 0;
}

void wg_op_clamp_jvp(wg_tape *t, wg_row *r) {
  const wg_row *in = wg_input_row(t, r, 0);
  const wg_real *b = r->ptr;
  for (size_t i = 0, n = wg_row_size(r); i < n; i++)
    r->tan[i] = in->val[i] >= b[0] && in->val[i] <= b[1] ? in->tan[i] : 0;
}

/* recorded VJP: dx = dy * m, m = [lo <= x <= hi] = 1 - step(lo - x) - step(x - hi)
 * (lo - x > 0 exactly when x < lo). Infinite bounds: lo = -inf gives lo - x = -inf, or NaN
 * for x = -inf (which lo <= x admits): step 0 either way, as the mask wants, so the step is
 * left out (hi = +inf likewise); lo = hi = +inf keeps it: inf - x > 0 for every x but +inf.
 * A NaN x gets m = 1 where the numeric VJP has 0 (its value is NaN already). */
void wg_op_clamp_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                            wg_var *dx) {
  if (!want[0]) return;
  const wg_real *b = t->rows[row].ptr;
  wg_real lo = b[0], hi = b[1];
  wg_var x = wg_in(t, row, 0), m = wg_scalar(t, 1);
  if (lo != -INFINITY) m = wg_sub(t, m, wg_step(t, wg_sub(t, wg_scalar(t, lo), x)));
  if (hi != INFINITY) m = wg_sub(t, m, wg_step(t, wg_sub(t, x, wg_scalar(t, hi))));
  dx[0] = wg_mul(t, dy, m);
}

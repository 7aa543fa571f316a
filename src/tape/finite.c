/* finite.c - non-finite detection (wg_tape_set_checks(t, WG_CHECK_FINITE)).
 *
 * Anomaly detection that points at the op which produced the first NaN or Inf: the record
 * path and the sweeps call these after each row (one `if (t->checks)` branch per row when the
 * checks are off). The message names the row, its op, where in the matrix the value is, and
 * what the op was given there. Nothing here knows an op by name: the op's name comes from
 * wg_ops[], and the input shown is found from the shapes alone (an input whose shape
 * broadcasts to the row's shape is read at the same [i,j]; any other input is summarised by
 * its largest magnitude). That element is the one the op used for elementwise and
 * broadcasting ops; for an op that mixes elements of equal-shaped inputs (a square matmul or
 * transpose) it is only the input's element at the same place. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/tape.h"

void wg_tape_set_checks(wg_tape *t, unsigned flags) {
  if (t) t->checks = flags & WG_CHECK_FINITE;
}

unsigned wg_tape_checks(const wg_tape *t) {
  return t ? t->checks : 0;
}

/* index of the first NaN or Inf in x[0..n), or n when every element is finite */
static size_t first_nonfinite(const wg_real *x, size_t n) {
  size_t i = 0;
  while (i < n && isfinite(x[i])) i++;
  return i;
}

static double max_abs(const wg_real *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs((double)x[i]) > m) m = fabs((double)x[i]);
  return m;
}

/* 1 when a (rows x cols) matrix broadcasts to `r`'s shape, so its element for r's [i,j] is
 * well defined (each axis equal, or 1) */
static int broadcasts_to(const wg_row *x, const wg_row *r) {
  return (x->rows == r->rows || x->rows == 1) && (x->cols == r->cols || x->cols == 1);
}

static size_t bcast_index(const wg_row *x, int i, int j) {
  return (size_t)(x->rows == 1 ? 0 : i) * (size_t)x->cols + (size_t)(x->cols == 1 ? 0 : j);
}

/* Append "v4 = 0" (the input's element that fed [i,j]) or "v4 (3x2, max |x| = 1e+308)" to
 * buf. `buf` holds `n` chars and already holds a string. */
static void describe_input(const wg_tape *t, const wg_row *r, int k, int i, int j, char *buf,
                           size_t n) {
  const wg_row *x = &t->rows[r->in[k]];
  char lab[WG_NAME_MAX + 16];
  size_t used = strlen(buf);
  wg_row_label(t, r->in[k], lab, sizeof lab);
  if (broadcasts_to(x, r))
    snprintf(buf + used, n - used, "%s%s = %g", k ? ", " : "", lab,
             (double)x->val[bcast_index(x, i, j)]);
  else
    snprintf(buf + used, n - used, "%s%s (%dx%d, max |x| = %g)", k ? ", " : "", lab, x->rows,
             x->cols, max_abs(x->val, wg_row_size(x)));
}

int wg_finite_forward(wg_tape *t, uint32_t row, const char *phase) {
  const wg_row *r = &t->rows[row];
  size_t n = wg_row_size(r), at = first_nonfinite(r->val, n);
  if (at == n) return 1;
  int i = (int)(at / (size_t)r->cols), j = (int)(at % (size_t)r->cols);
  char lab[WG_NAME_MAX + 16], from[160] = "";
  wg_row_label(t, row, lab, sizeof lab);
  if (r->n_in == 0) {
    wg_fail(t, WG_ERR_NONFINITE, "%s%s: row %u (%s) holds %g at [%d,%d]: the leaf's data is not "
            "finite", phase, wg_ops[r->op].name, (unsigned)row, lab, (double)r->val[at], i, j);
    return 0;
  }
  for (uint32_t k = 0; k < r->n_in; k++) describe_input(t, r, k, i, j, from, sizeof from);
  wg_fail(t, WG_ERR_NONFINITE, "%s%s: row %u (%s) produced %g at [%d,%d] from input%s %s", phase,
          wg_ops[r->op].name, (unsigned)row, lab, (double)r->val[at], i, j,
          r->n_in > 1 ? "s" : "", from);
  return 0;
}

int wg_finite_backward(wg_tape *t, uint32_t row) {
  const wg_row *r = &t->rows[row];
  for (uint32_t k = 0; k < r->n_in; k++) {
    const wg_row *x = &t->rows[r->in[k]];
    if (!x->needs_grad) continue;
    size_t n = wg_row_size(x), at = first_nonfinite(x->adj, n);
    if (at == n) continue;
    int i = (int)(at / (size_t)x->cols), j = (int)(at % (size_t)x->cols);
    char lab[WG_NAME_MAX + 16], xlab[WG_NAME_MAX + 16], dy[64];
    wg_row_label(t, row, lab, sizeof lab);
    wg_row_label(t, r->in[k], xlab, sizeof xlab);
    if (x->rows == r->rows && x->cols == r->cols)
      snprintf(dy, sizeof dy, "dy = %g there", (double)r->adj[at]);
    else
      snprintf(dy, sizeof dy, "max |dy| = %g", max_abs(r->adj, wg_row_size(r)));
    wg_fail(t, WG_ERR_NONFINITE, "wg_backward: the VJP of %s row %u (%s) produced %g in the "
            "adjoint of input %s at [%d,%d] (%s = %g there, %s)", wg_ops[r->op].name,
            (unsigned)row, lab, (double)x->adj[at], xlab, i, j, xlab, (double)x->val[at], dy);
    return 0;
  }
  return 1;
}

int wg_finite_jvp(wg_tape *t, uint32_t row) {
  const wg_row *r = &t->rows[row];
  size_t n = wg_row_size(r), at = first_nonfinite(r->tan, n);
  if (at == n) return 1;
  char lab[WG_NAME_MAX + 16];
  wg_row_label(t, row, lab, sizeof lab);
  wg_fail(t, WG_ERR_NONFINITE, "wg_jvp: %s row %u (%s) %s %g in its tangent at [%d,%d]",
          wg_ops[r->op].name, (unsigned)row, lab, r->n_in ? "produced" : "holds",
          (double)r->tan[at], (int)(at / (size_t)r->cols), (int)(at % (size_t)r->cols));
  return 0;
}

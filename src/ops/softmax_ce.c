/* softmax_ce.c - softmax cross-entropy with integer class labels, averaged over the rows:
 * the multi-class twin of bce_logits.
 *
 *   forward: L = (1/m) sum_i [ lse(z_i) - z_i,c_i ]        z (m x n) logits, c (m x 1) labels
 *            lse(z_i) = M_i + log sum_k exp(z_ik - M_i),  M_i = max_k z_ik   (no overflow)
 *            = -(1/m) sum_i log softmax(z_i)_c_i
 *   VJP:     dz_ij += dL (p_ij - [j == c_i]) / m,  p = softmax(z)   (the seed's A - t, per class)
 *            labels get no adjoint: they must not need a gradient.
 *   JVP:     tL = (1/m) sum_ij (p_ij - [j == c_i]) tz_ij   (labels are discrete: no tangent)
 *
 * The labels are checked on every forward (they may change between replays): each must be an
 * integer in 0..n-1, else the tape fails naming the row. p is kept in the arena for the VJP. */
#include <math.h>

#include "ops/ops.h"

wg_var wg_softmax_ce(wg_tape *t, wg_var logits, wg_var labels) {
  const wg_row *z = wg_row_of(t, logits, "softmax_ce");
  const wg_row *c = z ? wg_row_of(t, labels, "softmax_ce") : NULL;
  if (!c) return wg_none();
  char sz[WG_SHAPE_TEXT], sc[WG_SHAPE_TEXT];
  if (c->rows != z->rows || c->cols != 1)
    return wg_fail(t, WG_ERR_SHAPE, "softmax_ce: logits %s, labels %s: labels must be (%dx1), "
                   "one class index per row (row %u)", wg_row_shape(t, logits.row, sz, sizeof sz),
                   wg_row_shape(t, labels.row, sc, sizeof sc), z->rows, (unsigned)t->n_rows);
  if (c->needs_grad)
    return wg_fail(t, WG_ERR_ARG, "softmax_ce: labels (row %u) need a gradient: they must be "
                   "class indices from an input, not a function of a parameter (row %u)",
                   (unsigned)labels.row, (unsigned)t->n_rows);
  wg_var in[2] = {logits, labels};
  return wg_op_record(t, WG_OP_SOFTMAX_CE, 2, in, 1, 1, 0);
}

void wg_op_softmax_ce_forward(wg_tape *t, wg_row *r) {
  const wg_row *z = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  int m = z->rows, n = z->cols;
  if (!r->aux && !(r->aux = wg_tape_reals(t, (size_t)m * n))) return;
  wg_real *p = r->aux, total = 0;
  for (int i = 0; i < m; i++) {
    wg_real label = c->val[i];
    if (!(label >= 0 && label < n && label == floor(label))) {
      wg_fail(t, WG_ERR_ARG, "softmax_ce: label %g in row %d of the labels is not a class index "
              "0..%d (tape row %u)", (double)label, i, n - 1, (unsigned)(r - t->rows));
      return;
    }
    const wg_real *zi = z->val + (size_t)i * n;
    wg_real *pi = p + (size_t)i * n, top = zi[0], s = 0;
    for (int j = 1; j < n; j++) top = zi[j] > top ? zi[j] : top;
    for (int j = 0; j < n; j++) s += pi[j] = exp(zi[j] - top);
    for (int j = 0; j < n; j++) pi[j] /= s;
    total += top + log(s) - zi[(int)label];
  }
  r->val[0] = total / m;
}

void wg_op_softmax_ce_vjp(wg_tape *t, wg_row *r) {
  wg_row *z = wg_input_row(t, r, 0);
  const wg_row *c = wg_input_row(t, r, 1);
  int m = z->rows, n = z->cols;
  const wg_real *p = r->aux;
  wg_real g = r->adj[0] / m;
  for (int i = 0; i < m; i++) {
    int label = (int)c->val[i];
    for (int j = 0; j < n; j++) {
      size_t k = (size_t)i * n + j;
      z->adj[k] += g * (p[k] - (j == label));
    }
  }
}

void wg_op_softmax_ce_jvp(wg_tape *t, wg_row *r) {
  const wg_row *z = wg_input_row(t, r, 0), *c = wg_input_row(t, r, 1);
  int m = z->rows, n = z->cols;
  const wg_real *p = r->aux;
  wg_real s = 0;
  for (int i = 0; i < m; i++) {
    int label = (int)c->val[i];
    for (int j = 0; j < n; j++) {
      size_t k = (size_t)i * n + j;
      s += (p[k] - (j == label)) * z->tan[k];
    }
  }
  r->tan[0] = s / m;
}

/* recorded VJP: dz = (dy / m) (softmax(z) - onehot(c, n)), z (m x n), dy (1x1); the labels
 * get none (they never need a gradient). softmax is the op, onehot the helper op (onehot.c),
 * which checks the labels again on every replay as the forward above does. */
void wg_op_softmax_ce_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                 wg_var *dx) {
  if (!want[0]) return;
  const wg_row *z = &t->rows[t->rows[row].in[0]];
  int m = z->rows, n = z->cols;
  wg_var p = wg_softmax(t, wg_in(t, row, 0)), hot = wg_onehot(t, wg_in(t, row, 1), n);
  dx[0] = wg_mul(t, wg_div(t, dy, wg_scalar(t, (wg_real)m)), wg_sub(t, p, hot));
}

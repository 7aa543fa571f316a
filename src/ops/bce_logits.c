/* bce_logits.c - binary cross-entropy on logits, fused with the sigmoid, averaged over N.
 *
 *   forward: L = (1/N) sum_i [ max(z_i, 0) - z_i t_i + log1p(exp(-|z_i|)) ]   z, t (m x n)
 *            = bce(sigmoid(z), t) written so that no exp overflows and no log sees 0
 *   VJP:     dz_i += dL (sigmoid(z_i) - t_i) / N      (the seed's collapse to A - t)
 *            dt_i -= dL z_i / N
 *   JVP:     tL = (1/N) sum_i [ (sigmoid(z_i) - t_i) tz_i - z_i tt_i ] */
#include <math.h>

#include "ops/ops.h"

wg_var wg_bce_logits(wg_tape *t, wg_var z, wg_var y) {
  return wg_op_pair_loss(t, WG_OP_BCE_LOGITS, z, y);
}

static wg_real stable_sigmoid(wg_real z) {
  if (z >= 0) return 1 / (1 + exp(-z));
  wg_real e = exp(z);
  return e / (1 + e);
}

void wg_op_bce_logits_forward(wg_tape *t, wg_row *r) {
  const wg_row *z = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(z);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) {
    wg_real zi = z->val[i];
    s += (zi > 0 ? zi : 0) - zi * y->val[i] + log1p(exp(-fabs(zi)));
  }
  r->val[0] = s / (wg_real)n;
}

void wg_op_bce_logits_vjp(wg_tape *t, wg_row *r) {
  wg_row *z = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(z);
  wg_real g = r->adj[0] / (wg_real)n;
  for (size_t i = 0; i < n; i++) {
    if (z->needs_grad) z->adj[i] += g * (stable_sigmoid(z->val[i]) - y->val[i]);
    if (y->needs_grad) y->adj[i] -= g * z->val[i];
  }
}

void wg_op_bce_logits_jvp(wg_tape *t, wg_row *r) {
  const wg_row *z = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(z);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++)
    s += (stable_sigmoid(z->val[i]) - y->val[i]) * z->tan[i] - z->val[i] * y->tan[i];
  r->tan[0] = s / (wg_real)n;
}

/* recorded VJP: dz = (dy / N) (sigmoid(z) - t), dt = -(dy / N) z */
void wg_op_bce_logits_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                 wg_var *dx) {
  const wg_row *rz = &t->rows[t->rows[row].in[0]];
  wg_real N = (wg_real)rz->rows * (wg_real)rz->cols;
  wg_var z = wg_in(t, row, 0), y = wg_in(t, row, 1), g = wg_scale(t, dy, 1 / N);
  if (want[0]) dx[0] = wg_mul(t, g, wg_sub(t, wg_sigmoid(t, z), y));
  if (want[1]) dx[1] = wg_neg(t, wg_mul(t, g, z));
}

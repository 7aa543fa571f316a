/* bce.c - binary cross-entropy on probabilities, averaged over all N elements.
 *
 *   forward: L = -(1/N) sum_i [ t_i lp_i + (1 - t_i) lq_i ]     p, t (m x n) -> L (1 x 1)
 *            lp = max(log p, -100), lq = max(log(1 - p), -100)  (the clamp the common
 *            frameworks use, so p = 0 or 1 gives a finite loss: bce(p=0, t=1) = 100)
 *   VJP:     term 1 (the seed's dL/dyhat):  dp_i += dL (-t_i / p_i + (1 - t_i) / (1 - p_i)) / N
 *            where a log is clamped its term is constant and contributes 0
 *            term 2 (targets, if they need a gradient): dt_i += dL (lq_i - lp_i) / N
 *   JVP:     tL = sum_i (dL/dp_i tp_i + dL/dt_i tt_i)                (dL = 1 here) */
#include <math.h>

#include "ops/ops.h"

#define BCE_LOG_FLOOR (-100.0)

wg_var wg_bce(wg_tape *t, wg_var p, wg_var y) {
  return wg_op_pair_loss(t, WG_OP_BCE, p, y);
}

static wg_real clamped_log(wg_real x) {
  wg_real l = log(x);
  return l > BCE_LOG_FLOOR ? l : BCE_LOG_FLOOR; /* also maps NaN-free log(0) = -inf to -100 */
}

/* dL_i/dp_i (times N), zero where the log it comes from is clamped */
static wg_real dloss_dp(wg_real p, wg_real y) {
  wg_real g = 0;
  if (log(p) > BCE_LOG_FLOOR) g -= y / p;
  if (log(1 - p) > BCE_LOG_FLOOR) g += (1 - y) / (1 - p);
  return g;
}

void wg_op_bce_forward(wg_tape *t, wg_row *r) {
  const wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++)
    s += y->val[i] * clamped_log(p->val[i]) + (1 - y->val[i]) * clamped_log(1 - p->val[i]);
  r->val[0] = -s / (wg_real)n;
}

void wg_op_bce_vjp(wg_tape *t, wg_row *r) {
  wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  wg_real g = r->adj[0] / (wg_real)n;
  for (size_t i = 0; i < n; i++) {
    if (p->needs_grad) p->adj[i] += g * dloss_dp(p->val[i], y->val[i]);
    if (y->needs_grad) y->adj[i] += g * (clamped_log(1 - p->val[i]) - clamped_log(p->val[i]));
  }
}

void wg_op_bce_jvp(wg_tape *t, wg_row *r) {
  const wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  wg_real s = 0;
  for (size_t i = 0; i < n; i++)
    s += dloss_dp(p->val[i], y->val[i]) * p->tan[i] +
         (clamped_log(1 - p->val[i]) - clamped_log(p->val[i])) * y->tan[i];
  r->tan[0] = s / (wg_real)n;
}

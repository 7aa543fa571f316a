/* bce.c - binary cross-entropy on probabilities, averaged over all N elements.
 *
 *   forward: L = -(1/N) sum_i [ t_i lp_i + (1 - t_i) lq_i ]     p, t (m x n) -> L (1 x 1)
 *            lp = max(log p, -100), lq = max(log(1 - p), -100)  (the clamp the common
 *            frameworks use, so p = 0 or 1 gives a finite loss: bce(p=0, t=1) = 100)
 *   VJP:     term 1 (the seed's dL/dyhat):  dp_i += dL (-t_i / p_i + (1 - t_i) / (1 - p_i)) / N
 *            where a log is clamped its term is constant and contributes 0
 *            term 2 (targets, if they need a gradient): dt_i += dL (lq_i - lp_i) / N
 *   JVP:     tL = sum_i (dL/dp_i tp_i + dL/dt_i tt_i)                (dL = 1 here) */
#include "ops/ops.h"
#include "kernels/vmath.h"

#define BCE_LOG_FLOOR (-100.0)

wg_var wg_bce(wg_tape *t, wg_var p, wg_var y) {
  return wg_op_pair_loss(t, WG_OP_BCE, p, y);
}

/* The clamped logs of p and 1 - p, for every element: lp = aux[0..n), lq = aux[n..2n).
 * The forward fills them (vectorised log) in the arena at record time and again on each
 * replay; the VJP and JVP read them back instead of calling log again. */
static wg_real *clamped_logs(wg_tape *t, wg_row *r, const wg_row *p) {
  size_t n = wg_row_size(p);
  if (!r->aux) r->aux = wg_tape_reals(t, 2 * n);
  wg_real *lp = r->aux, *lq = lp ? lp + n : NULL;
  if (!lp) return NULL;
  for (size_t i = 0; i < n; i++) lq[i] = 1 - p->val[i];
  wg_vlog(p->val, lp, n);
  wg_vlog(lq, lq, n);
  for (size_t i = 0; i < 2 * n; i++) /* log(0) = -inf and anything below goes to -100 */
    lp[i] = lp[i] > BCE_LOG_FLOOR ? lp[i] : BCE_LOG_FLOOR;
  return lp;
}

/* dL_i/dp_i (times N), zero where the log it comes from is clamped */
static wg_real dloss_dp(wg_real p, wg_real y, wg_real lp, wg_real lq) {
  wg_real g = 0;
  if (lp > BCE_LOG_FLOOR) g -= y / p;
  if (lq > BCE_LOG_FLOOR) g += (1 - y) / (1 - p);
  return g;
}

void wg_op_bce_forward(wg_tape *t, wg_row *r) {
  const wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  const wg_real *lp = clamped_logs(t, r, p);
  if (!lp) return; /* out of memory: the tape has failed */
  const wg_real *lq = lp + n;
  wg_real s = 0;
  for (size_t i = 0; i < n; i++) s += y->val[i] * lp[i] + (1 - y->val[i]) * lq[i];
  r->val[0] = -s / (wg_real)n;
}

void wg_op_bce_vjp(wg_tape *t, wg_row *r) {
  wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  const wg_real *lp = r->aux, *lq = lp + n;
  wg_real g = r->adj[0] / (wg_real)n;
  if (p->needs_grad)
    for (size_t i = 0; i < n; i++) p->adj[i] += g * dloss_dp(p->val[i], y->val[i], lp[i], lq[i]);
  if (y->needs_grad)
    for (size_t i = 0; i < n; i++) y->adj[i] += g * (lq[i] - lp[i]);
}

void wg_op_bce_jvp(wg_tape *t, wg_row *r) {
  const wg_row *p = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  size_t n = wg_row_size(p);
  const wg_real *lp = r->aux, *lq = lp + n;
  (void)t;
  wg_real s = 0;
  for (size_t i = 0; i < n; i++)
    s += dloss_dp(p->val[i], y->val[i], lp[i], lq[i]) * p->tan[i] + (lq[i] - lp[i]) * y->tan[i];
  r->tan[0] = s / (wg_real)n;
}

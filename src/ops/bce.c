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

/* recorded VJP, with g = dy / N and the clamp masks m_p = [log p > -100], m_q = [log(1-p) > -100]
 * (step of the log + 100: a clamped log's term is constant, so it contributes 0):
 *   dp = g ((1 - t) m_q / (q + (1 - m_q)) - t m_p / (p + (1 - m_p))),  q = 1 - p
 *   dt = g (max(log q, -100) - max(log p, -100))
 * Where a mask is 0 the denominator is p + 1 (or q + 1), not p: the masked term is then 0 * a
 * finite number, never 0 * inf = NaN. Where it is 1, p + 0 is p exactly */
void wg_op_bce_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                          wg_var *dx) {
  const wg_row *rp = &t->rows[t->rows[row].in[0]];
  wg_real N = (wg_real)rp->rows * (wg_real)rp->cols;
  wg_var p = wg_in(t, row, 0), y = wg_in(t, row, 1), one = wg_scalar(t, 1);
  wg_var g = wg_scale(t, dy, 1 / N), q = wg_sub(t, one, p);
  wg_var lp = wg_log(t, p), lq = wg_log(t, q), floor = wg_scalar(t, -100);
  if (want[0]) {
    wg_var mp = wg_step(t, wg_sub(t, lp, floor)), mq = wg_step(t, wg_sub(t, lq, floor));
    wg_var pos = wg_div(t, wg_mul(t, wg_sub(t, one, y), mq), wg_add(t, q, wg_sub(t, one, mq)));
    wg_var neg = wg_div(t, wg_mul(t, y, mp), wg_add(t, p, wg_sub(t, one, mp)));
    dx[0] = wg_mul(t, g, wg_sub(t, pos, neg));
  }
  if (want[1])
    dx[1] = wg_mul(t, g, wg_sub(t, wg_clamp(t, lq, -100, INFINITY), wg_clamp(t, lp, -100, INFINITY)));
}

/* check.h - helpers shared by the derivative checks (gradcheck.c, checkrows.c, dottest.c). */
#ifndef WG_CHECK_H
#define WG_CHECK_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/tape.h"

/* Defaults by precision (docs/gradcheck.md, "Why double precision" and "float32"). A central
 * difference errs by h^2 |L'''| / 6 (truncation) plus about eps_mach |L| / h (round-off), least
 * near h = cbrt(eps_mach), where both are ~eps_mach^(2/3) times the scale of L.
 *   double (eps_mach 2.2e-16): h = 1e-6 leaves ~1e-10, far below PyTorch's gradcheck tolerances
 *     atol 1e-5, rtol 1e-3.
 *   float  (eps_mach 1.2e-7):  h = cbrt(eps_mach) = 4.9e-3 leaves ~eps_mach^(2/3) = 2.4e-5 per
 *     unit of |L| and |L'''|; atol 1e-3 and rtol 1e-2 sit 40x above that, so the check passes
 *     correct derivatives of losses up to |L| ~ 10 and still fails a derivative off by 1%. */
#ifdef WG_REAL_FLOAT
#define WG_GC_EPS 4.9e-3 /* finite-difference step h (absolute): cbrt(FLT_EPSILON) */
#define WG_GC_ATOL 1e-3
#define WG_GC_RTOL 1e-2
#else
#define WG_GC_EPS 1e-6  /* finite-difference step h (absolute) */
#define WG_GC_ATOL 1e-5 /* PyTorch's torch.autograd.gradcheck defaults */
#define WG_GC_RTOL 1e-3
#endif

typedef struct {
  double eps, atol, rtol;
  FILE *csv;
  int inputs; /* wg_input rows are variables too */
} wg_gc_cfg;

/* The options with defaults filled in (NULL, or a field <= 0, takes the default). */
static inline wg_gc_cfg wg_gc_config(const wg_gradcheck_opts *o) {
  wg_gc_cfg c = {WG_GC_EPS, WG_GC_ATOL, WG_GC_RTOL, NULL, 0};
  if (o) {
    if (o->eps > 0) c.eps = o->eps;
    if (o->atol > 0) c.atol = o->atol;
    if (o->rtol > 0) c.rtol = o->rtol;
    c.csv = o->csv;
    c.inputs = o->inputs != 0;
  }
  return c;
}

/* opts.inputs: make every wg_input row need a gradient (except the labels of softmax_ce and the
 * indices of gather_rows, which have no derivative), and with it every row downstream, so the VJPs compute the
 * inputs' adjoints. was (n_rows bytes) receives the flags to put back with
 * wg_gc_unmark_inputs. A row is an input variable when it is an input that needs a
 * gradient now and did not before (wg_gc_is_input_var). */
static inline void wg_gc_mark_inputs(wg_tape *t, unsigned char *was) {
  for (uint32_t i = 0; i < t->n_rows; i++) {
    was[i] = t->rows[i].needs_grad;
    if (t->rows[i].op == WG_OP_INPUT) t->rows[i].needs_grad = 1;
  }
  for (uint32_t i = 0; i < t->n_rows; i++)
    if (t->rows[i].op == WG_OP_SOFTMAX_CE || t->rows[i].op == WG_OP_GATHER_ROWS)
      t->rows[t->rows[i].in[1]].needs_grad = 0; /* labels, indices: no derivative */
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    for (uint32_t k = 0; k < r->n_in; k++) r->needs_grad |= t->rows[r->in[k]].needs_grad;
  }
}

static inline void wg_gc_unmark_inputs(wg_tape *t, const unsigned char *was) {
  for (uint32_t i = 0; i < t->n_rows; i++) t->rows[i].needs_grad = was[i];
}

static inline int wg_gc_is_input_var(const wg_tape *t, uint32_t i, const unsigned char *was) {
  return t->rows[i].op == WG_OP_INPUT && t->rows[i].needs_grad && !was[i];
}

/* The pass rule: |analytic - numeric| <= atol + rtol |numeric| (false for NaN). */
static inline int wg_gc_close(const wg_gc_cfg *c, double analytic, double numeric) {
  return fabs(analytic - numeric) <= c->atol + c->rtol * fabs(numeric);
}

/* Finite differences at one step: central, and the one-sided forward and backward ones. */
typedef struct {
  double central, plus, minus;
} wg_gc_fd;

/* A kink (relu at 0) in reach of the step: the one-sided differences disagree beyond the
 * tolerance, and by a jump that keeps its size when the step is halved. On a smooth function
 * their disagreement is h f'' (curvature), which halves with h; across a kink it is the jump
 * in slope, whatever h. at_h and at_half are the differences with steps h and h / 2. */
static inline int wg_gc_kink(const wg_gc_cfg *c, wg_gc_fd at_h, wg_gc_fd at_half) {
  double d = fabs(at_h.plus - at_h.minus), d2 = fabs(at_half.plus - at_half.minus);
  double tol = c->atol + c->rtol * fmax(fabs(at_h.plus), fabs(at_h.minus));
  return d > tol && d2 > 0.75 * d;
}

/* How far past the tolerance a pair is: |a - n| / (atol + rtol |n|); NaN counts as infinite. */
static inline double wg_gc_ratio(const wg_gc_cfg *c, double analytic, double numeric) {
  double r = fabs(analytic - numeric) / (c->atol + c->rtol * fabs(numeric));
  return r == r ? r : INFINITY;
}

/* |a - n| / max(|a|, |n|), 0 when both are 0. */
static inline double wg_gc_rel(double analytic, double numeric) {
  double s = fmax(fabs(analytic), fabs(numeric));
  return s > 0 ? fabs(analytic - numeric) / s : fabs(analytic - numeric);
}

/* Running maxima that let a NaN through (so a NaN error is seen, not hidden). */
static inline void wg_gc_max(double *m, double x) {
  if (!(x <= *m)) *m = x;
}

/* Count one verdict ("kink" is skipped; anything else is checked, its errors kept as running
 * maxima). Failures are counted by the caller, which also names the worst. */
static inline void wg_gc_count(wg_gradcheck_result *res, const char *status, double abs_err,
                                  double rel_err) {
  if (status[0] == 'k') {
    res->skipped++;
    return;
  }
  res->checked++;
  wg_gc_max(&res->max_abs_err, abs_err);
  wg_gc_max(&res->max_rel_err, rel_err);
}

static inline void wg_gc_clear(wg_gradcheck_result *res) {
  if (!res) return;
  memset(res, 0, sizeof *res);
  res->worst_row = -1;
}

/* splitmix64: a small deterministic generator for directions and cotangents. */
typedef struct {
  uint64_t s;
} wg_gc_rng;

static inline double wg_gc_uniform(wg_gc_rng *g) { /* in [-1, 1) */
  uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 4503599627370496.0 - 1.0; /* 2^52 */
}

#endif

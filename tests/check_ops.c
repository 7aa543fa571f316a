/* check_ops.c - every op of the table against independent references.
 *
 * For each op in wg_ops[] (a loop test over op_cases[], which is indexed by the op enum and
 * generated from oplist.h, so an op added there without a run_<name> here does not compile)
 * the cases below
 *   1. compare the forward value with a plain C reference written in this file,
 *   2. compare the VJP with central finite differences (h = 1e-6, pass when
 *      |ad - fd| <= TU_TOL(1e-5) + 1e-3 |fd|): the op's inputs are parameters with random values in a
 *      valid domain, the loss is sum(op(...) * R) with a fixed random input R of the output's
 *      shape, so every entry of the Jacobian is weighted and tested (plus sum(x * R_x) for each
 *      input x, recorded later, which catches a VJP that assigns instead of accumulating);
 *   3. compare the JVP (tangents set on the leaves with wg_tangent, then wg_jvp) with the
 *      central finite-difference directional derivative of the same loss.
 * The numeric side perturbs wg_param_value and replays the tape with wg_forward.
 * The leaf ops (input, scalar, param) get checks of what a leaf promises instead. The last
 * TCase checks the numerical extremes (sigmoid and tanh at +-1e308, bce_logits at +-1000,
 * bce at p = 0) against their closed-form limits. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "testutil.h"

#define FD_H TU_FD_H(1e-6)     /* tests/tol.h: 4.9e-3 in float */
#define FD_ABS TU_FD_TOL(1e-5)  /* 2.4e-3 in float */
#define FD_REL 1e-3
#define FWD_TOL TU_TOL(1e-12) /* forward against the plain C reference, relative with floor 1 */
#define MAX_IN 3

/* ---- case descriptions -------------------------------------------------------------- */

typedef struct {
  int rows, cols;
  double lo, hi; /* values uniform in [lo, hi) */
  int away;      /* 1: magnitude in [lo, hi) with a random sign (keeps away from 0) */
} in_spec;

typedef struct grad_spec grad_spec;
typedef wg_var (*build_fn)(wg_tape *t, const wg_var *in);
/* the forward in plain C from the inputs' values: out is out_rows x out_cols, row-major */
typedef void (*ref_fn)(const grad_spec *s, double **x, double *out);

struct grad_spec {
  build_fn build;
  ref_fn ref;
  int n_in;
  in_spec in[MAX_IN];
  int out_rows, out_cols; /* the shape rule's expected result */
};

static void shape_label(const grad_spec *s, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < s->n_in && used < n; k++)
    used += (size_t)snprintf(buf + used, n - used, "%s(%dx%d)", k ? ", " : "", s->in[k].rows,
                             s->in[k].cols);
}

/* ---- the generic check: forward reference, VJP and JVP against finite differences ----- */

static double fill_value(const in_spec *in, unsigned long long *rng) {
  double v = tu_uniform(rng, in->lo, in->hi);
  if (in->away && tu_uniform(rng, 0, 1) < 0.5) v = -v;
  return v;
}

static double loss_now(wg_tape *t, wg_var L) {
  ck_assert_int_eq(wg_forward(t), WG_OK);
  return wg_value(t, L).data[0];
}

/* central and one-sided differences of L in one element *xe at step h, with the steps actually
 * taken after rounding (x + h - x is not h in float); l0 = L at x; *xe is put back */
typedef struct {
  double central, plus, minus;
} fd_pair;

/* What the finite differences evaluate. float64: the tape's loss L. float: L's terms
 * sum(y R) + sum_k sum(x_k R_k) summed in double by the test from the op's float outputs, so
 * that the outputs a step leaves alone cancel exactly and the round-off is only that of the
 * outputs it moves; `moved` gets the largest |y_j R_j| over those (whose bits differ from
 * y0, the outputs at x). */
typedef struct {
  wg_var L, y;
  const wg_real *R, *y0;
  wg_real *const *x, *const *Rk;
  const grad_spec *s;
  int n_out;
  double moved;
} fd_loss;

static double fd_eval(wg_tape *t, fd_loss *f) {
  if (!TU_F32) return loss_now(t, f->L);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  const wg_real *y = wg_value(t, f->y).data;
  double sum = 0;
  for (int j = 0; j < f->n_out; j++) {
    sum += (double)y[j] * f->R[j];
    if (memcmp(&y[j], &f->y0[j], sizeof y[j]) != 0)
      f->moved = fmax(f->moved, fabs((double)y[j] * f->R[j]));
  }
  for (int k = 0; k < f->s->n_in; k++)
    for (int e = 0; e < f->s->in[k].rows * f->s->in[k].cols; e++)
      sum += (double)f->x[k][e] * f->Rk[k][e];
  return sum;
}

static fd_pair one_sided(wg_tape *t, fd_loss *f, wg_real *xe, double h, double l0) {
  wg_real v = *xe;
  *xe = (wg_real)(v + h);
  double hp = (double)*xe - v, lp = fd_eval(t, f);
  *xe = (wg_real)(v - h);
  double hm = v - (double)*xe, lm = fd_eval(t, f);
  *xe = v;
  return (fd_pair){(lp - lm) / (hp + hm), (lp - l0) / hp, (l0 - lm) / hm};
}

/* the one-sided differences disagree beyond the bound, by a jump that keeps its size at h / 2
 * (on a smooth function they differ by h f'', which halves with h) */
static int is_kink(fd_pair at_h, fd_pair at_half, double roundoff) {
  double jump = fabs(at_h.plus - at_h.minus), jump2 = fabs(at_half.plus - at_half.minus);
  return jump > FD_ABS + FD_REL * fmax(fabs(at_h.plus), fabs(at_h.minus)) + 4 * roundoff &&
         jump2 > 0.75 * jump;
}

static void gradcheck(const char *op, const grad_spec *s, unsigned long long seed) {
  char label[128];
  shape_label(s, label, sizeof label);
  unsigned long long rng = seed;
  wg_param *p[MAX_IN];
  wg_real *x[MAX_IN];
  double *xd[MAX_IN]; /* the same values as doubles, for the plain C reference */
  for (int k = 0; k < s->n_in; k++) {
    p[k] = wg_param_new("x", s->in[k].rows, s->in[k].cols);
    ck_assert_ptr_nonnull(p[k]);
    x[k] = wg_param_value(p[k]).data;
    xd[k] = malloc((size_t)s->in[k].rows * s->in[k].cols * sizeof *xd[k]);
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++)
      x[k][e] = (wg_real)fill_value(&s->in[k], &rng), xd[k][e] = x[k][e];
  }
  wg_tape *t = wg_tape_new();
  wg_var in[MAX_IN];
  for (int k = 0; k < s->n_in; k++) in[k] = wg_use(t, p[k]);
  wg_var y = s->build(t, in);
  ck_assert_msg(wg_tape_status(t) == WG_OK, "%s %s: %s", op, label, wg_tape_error(t));

  /* 1. shape and forward value */
  wg_mat yv = wg_value(t, y);
  ck_assert_msg(yv.rows == s->out_rows && yv.cols == s->out_cols,
                "%s %s: result is (%dx%d), expected (%dx%d)", op, label, yv.rows, yv.cols,
                s->out_rows, s->out_cols);
  int n_out = s->out_rows * s->out_cols;
  double *ref = malloc((size_t)n_out * sizeof *ref);
  wg_real *R = malloc((size_t)n_out * sizeof *R);
  s->ref(s, xd, ref);
  double fwd = tu_max_rel_diff(yv.data, ref, (size_t)n_out, 1.0);
  ck_assert_msg(fwd <= FWD_TOL, "%s %s: forward differs from the reference by %g", op, label,
                fwd);

  /* 2. VJP of L = sum(y * R) + sum_k sum(x_k * R_k) against central differences. The second
   *    term is recorded after the op, so its VJP runs first: an op whose VJP assigns to an
   *    input's adjoint instead of accumulating loses it and fails. */
  for (int e = 0; e < n_out; e++) R[e] = tu_uniform(&rng, -1, 1);
  wg_var L = wg_sum(t, wg_mul(t, y, wg_input(t, s->out_rows, s->out_cols, R)));
  wg_real *Rk[MAX_IN];
  for (int k = 0; k < s->n_in; k++) {
    int nk = s->in[k].rows * s->in[k].cols;
    Rk[k] = malloc((size_t)nk * sizeof *Rk[k]);
    for (int e = 0; e < nk; e++) Rk[k][e] = tu_uniform(&rng, -1, 1);
    wg_var rk = wg_input(t, s->in[k].rows, s->in[k].cols, Rk[k]);
    L = wg_add(t, L, wg_sum(t, wg_mul(t, in[k], rk)));
  }
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  /* In float each output y_j a step moves carries a few ulps of its op (<= 4 for the ops
   * here, the library's vmath bounds), which the central difference divides by 2h: the bound
   * adds 8 eps max|y_j R_j| / h over the moved outputs times their count (0 in float64). */
  wg_real *y0 = malloc((size_t)n_out * sizeof *y0);
  memcpy(y0, yv.data, (size_t)n_out * sizeof *y0);
  fd_loss fl = {L, y, R, y0, x, Rk, s, n_out, 0};
  double l0 = fd_eval(t, &fl), gx = 0;
  for (int k = 0; k < s->n_in; k++) {
    const wg_real *g = wg_param_grad(p[k]).data;
    int n = s->in[k].rows * s->in[k].cols, kinks = 0;
    for (int e = 0; e < n; e++) {
      double v = x[k][e];
      gx += fabs(g[e] * v);
      fl.moved = 0;
      int moved = 0;
      fd_pair at_h = one_sided(t, &fl, &x[k][e], FD_H, l0);
      for (int j = 0; TU_F32 && j < n_out; j++)
        moved += memcmp(&wg_value(t, y).data[j], &y0[j], sizeof *y0) != 0;
      double roundoff = TU_F32 ? 8 * TU_EPS * fl.moved * (moved + 1) / FD_H : 0;
      double fd = at_h.central, ro = roundoff;
      /* float's step is large enough to reach a kink (clamp's edge) that float64's 1e-6 does
       * not: when the one-sided differences jump, the smaller steps h/4, h/16, h/64 (round-off
       * growing as 1/h) may be clear of it; still jumping at h/2: the kink is skipped */
      for (double hs = FD_H / 4; TU_F32 && hs >= FD_H / 64 &&
                                 !(fabs(g[e] - fd) <= FD_ABS + FD_REL * fabs(fd) + ro) &&
                                 fabs(at_h.plus - at_h.minus) > FD_ABS + 4 * roundoff;
           hs /= 4)
        fd = one_sided(t, &fl, &x[k][e], hs, l0).central, ro = roundoff * FD_H / hs;
      if (TU_F32 && !(fabs(g[e] - fd) <= FD_ABS + FD_REL * fabs(fd) + ro) &&
          is_kink(at_h, one_sided(t, &fl, &x[k][e], FD_H / 2, l0), roundoff)) {
        kinks++; /* a kink within the float step: gradcheck's rule (check.h wg_gc_kink) */
        continue;
      }
      ck_assert_msg(fabs(g[e] - fd) <= FD_ABS + FD_REL * fabs(fd) + ro,
                    "%s %s: dL/dx%d[%d]: VJP %.12g, finite difference %.12g", op, label, k, e,
                    g[e], fd);
    }
    ck_assert_msg(kinks <= n / 20, "%s %s: x%d: %d of %d elements at a kink", op, label, k, kinks, n);
  }

  /* 3. JVP along a random direction d against (L(x + h d) - L(x - h d)) / 2h; in float the
   *    rounding of every x + h d adds eps sum |g x| / h to the round-off */
  double S = 0; /* every output moves: all the terms' round-off, and that of x + h d */
  for (int e = 0; e < n_out; e++) S += fabs((double)yv.data[e] * R[e]);
  double roundoff = TU_F32 ? 8 * TU_EPS * (S + gx) / FD_H : 0;
  wg_real *d[MAX_IN];
  for (int k = 0; k < s->n_in; k++) {
    wg_mat tk = wg_tangent(t, in[k]);
    ck_assert_ptr_nonnull(tk.data);
    d[k] = tk.data;
    for (int e = 0; e < tk.rows * tk.cols; e++) d[k][e] = tu_uniform(&rng, -1, 1);
  }
  /* the rows' values at x again: the differences above left those of the last step, which the
   * JVP would use (div's tangent reads y); with float's step that shows */
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  double jv = wg_tangent(t, L).data[0];
  for (int k = 0; k < s->n_in; k++)
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] += FD_H * d[k][e];
  double lp = fd_eval(t, &fl);
  for (int k = 0; k < s->n_in; k++)
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] -= 2 * FD_H * d[k][e];
  double lm = fd_eval(t, &fl);
  double fd = (lp - lm) / (2 * FD_H);
  if (TU_F32) { /* Richardson: (4 D(h/2) - D(h)) / 3 cancels the truncation h^2 L3 / 6 of
                 * float's large step (steep ops: div near 0), for 3 times the round-off */
    for (int k = 0; k < s->n_in; k++)
      for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] += 1.5 * FD_H * d[k][e];
    double lp2 = fd_eval(t, &fl);
    for (int k = 0; k < s->n_in; k++)
      for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] -= FD_H * d[k][e];
    double lm2 = fd_eval(t, &fl);
    fd = (4 * (lp2 - lm2) / FD_H - fd) / 3, roundoff *= 3;
  }
  ck_assert_msg(fabs(jv - fd) <= FD_ABS + FD_REL * fabs(fd) + roundoff,
                "%s %s: JVP %.12g, finite-difference directional derivative %.12g", op, label,
                jv, fd);

  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_tape_free(t);
  for (int k = 0; k < s->n_in; k++) wg_param_free(p[k]), free(Rk[k]), free(xd[k]);
  free(y0);
  free(ref);
  free(R);
}

static void gradcheck_all(const char *op, const grad_spec *s, int n) {
  for (int i = 0; i < n; i++) gradcheck(op, &s[i], 0x9E3779B97F4A7C15ULL + 7919ULL * (unsigned)i);
}

/* ---- plain C references ------------------------------------------------------------- */

/* element (i, j) of an (r x c) matrix broadcast to the output shape */
static double bget(const double *x, const in_spec *in, int i, int j) {
  return x[(in->rows == 1 ? 0 : i) * in->cols + (in->cols == 1 ? 0 : j)];
}

#define REF_BINARY(name, expr)                                           \
  static void ref_##name(const grad_spec *s, double **x, double *out) {  \
    for (int i = 0; i < s->out_rows; i++)                                \
      for (int j = 0; j < s->out_cols; j++) {                            \
        double a = bget(x[0], &s->in[0], i, j), b = bget(x[1], &s->in[1], i, j); \
        out[i * s->out_cols + j] = (expr);                               \
      }                                                                  \
  }
REF_BINARY(add, a + b)
REF_BINARY(sub, a - b)
REF_BINARY(mul, a * b)
REF_BINARY(div, a / b)

#define SCALE_C (-1.7)
#define REF_UNARY(name, expr)                                            \
  static void ref_##name(const grad_spec *s, double **x, double *out) {  \
    for (int i = 0; i < s->in[0].rows * s->in[0].cols; i++) {            \
      double v = x[0][i];                                                \
      out[i] = (expr);                                                   \
    }                                                                    \
  }
REF_UNARY(neg, -v)
REF_UNARY(scale, SCALE_C * v)
REF_UNARY(exp, exp(v))
REF_UNARY(log, log(v))
REF_UNARY(sigmoid, 1.0 / (1.0 + exp(-v)))
REF_UNARY(tanh, (exp(v) - exp(-v)) / (exp(v) + exp(-v)))
REF_UNARY(relu, v > 0 ? v : 0)
REF_UNARY(square, v * v)
/* family B (issue 14): textbook forms, independent of the op files' formulas */
#define POW_C 2.5
#define LEAKY_A 0.1
#define CLAMP_LO (-0.5)
#define CLAMP_HI 0.8
REF_UNARY(pow, pow(v, POW_C))
REF_UNARY(pow3, v * v * v)
REF_UNARY(pow_neg, 1 / (v * sqrt(v)))
REF_UNARY(sqrt, sqrt(v))
REF_UNARY(abs, v < 0 ? -v : v)
REF_UNARY(sin, sin(v))
REF_UNARY(cos, cos(v))
REF_UNARY(softplus, log(1 + exp(v)))               /* safe for |v| <= 4 */
REF_UNARY(gelu, 0.5 * v * (1 + erf(v / sqrt(2.0)))) /* the erf form, |v| <= 4 */
REF_UNARY(leaky_relu, v > 0 ? v : LEAKY_A * v)
REF_UNARY(clamp, v < CLAMP_LO ? CLAMP_LO : v > CLAMP_HI ? CLAMP_HI : v)
REF_BINARY(maximum, a > b ? a : b)
REF_BINARY(minimum, a < b ? a : b)

static void matmul_ref(const double *a, const double *b, int m, int k, int n, double *out) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double acc = 0;
      for (int p = 0; p < k; p++) acc += a[i * k + p] * b[p * n + j];
      out[i * n + j] = acc;
    }
}
static void ref_matmul(const grad_spec *s, double **x, double *out) {
  matmul_ref(x[0], x[1], s->in[0].rows, s->in[0].cols, s->in[1].cols, out);
}
static void ref_matmul_self(const grad_spec *s, double **x, double *out) {
  matmul_ref(x[0], x[0], s->in[0].rows, s->in[0].cols, s->in[0].cols, out);
}
static void ref_mul_self(const grad_spec *s, double **x, double *out) {
  for (int i = 0; i < s->in[0].rows * s->in[0].cols; i++) out[i] = x[0][i] * x[0][i];
}
static void ref_transpose(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) out[j * m + i] = x[0][i * n + j];
}
static void ref_sum(const grad_spec *s, double **x, double *out) {
  out[0] = 0;
  for (int i = 0; i < s->in[0].rows * s->in[0].cols; i++) out[0] += x[0][i];
}
static void ref_mean(const grad_spec *s, double **x, double *out) {
  ref_sum(s, x, out);
  out[0] /= s->in[0].rows * s->in[0].cols;
}
static void ref_sum_rows(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  for (int j = 0; j < n; j++) {
    out[j] = 0;
    for (int i = 0; i < m; i++) out[j] += x[0][i * n + j];
  }
}
static void ref_bce(const grad_spec *s, double **x, double *out) {
  int n = s->in[0].rows * s->in[0].cols;
  double acc = 0;
  for (int i = 0; i < n; i++) acc += x[1][i] * log(x[0][i]) + (1 - x[1][i]) * log(1 - x[0][i]);
  out[0] = -acc / n;
}
static void ref_bce_logits(const grad_spec *s, double **x, double *out) {
  /* the textbook form bce(sigmoid(z), t) = log(1 + exp(z)) - t z, safe for |z| <= 4 */
  int n = s->in[0].rows * s->in[0].cols;
  double acc = 0;
  for (int i = 0; i < n; i++) acc += log(1 + exp(x[0][i])) - x[1][i] * x[0][i];
  out[0] = acc / n;
}
static void ref_mse(const grad_spec *s, double **x, double *out) {
  int n = s->in[0].rows * s->in[0].cols;
  double acc = 0;
  for (int i = 0; i < n; i++) acc += (x[0][i] - x[1][i]) * (x[0][i] - x[1][i]);
  out[0] = acc / n;
}

/* ---- builders: the op under test on the leaves --------------------------------------- */

static wg_var b_matmul(wg_tape *t, const wg_var *x) { return wg_matmul(t, x[0], x[1]); }
static wg_var b_matmul_self(wg_tape *t, const wg_var *x) { return wg_matmul(t, x[0], x[0]); }
static wg_var b_transpose(wg_tape *t, const wg_var *x) { return wg_transpose(t, x[0]); }
static wg_var b_add(wg_tape *t, const wg_var *x) { return wg_add(t, x[0], x[1]); }
static wg_var b_sub(wg_tape *t, const wg_var *x) { return wg_sub(t, x[0], x[1]); }
static wg_var b_mul(wg_tape *t, const wg_var *x) { return wg_mul(t, x[0], x[1]); }
static wg_var b_mul_self(wg_tape *t, const wg_var *x) { return wg_mul(t, x[0], x[0]); }
static wg_var b_div(wg_tape *t, const wg_var *x) { return wg_div(t, x[0], x[1]); }
static wg_var b_neg(wg_tape *t, const wg_var *x) { return wg_neg(t, x[0]); }
static wg_var b_scale(wg_tape *t, const wg_var *x) { return wg_scale(t, x[0], SCALE_C); }
static wg_var b_exp(wg_tape *t, const wg_var *x) { return wg_exp(t, x[0]); }
static wg_var b_log(wg_tape *t, const wg_var *x) { return wg_log(t, x[0]); }
static wg_var b_sigmoid(wg_tape *t, const wg_var *x) { return wg_sigmoid(t, x[0]); }
static wg_var b_tanh(wg_tape *t, const wg_var *x) { return wg_tanh(t, x[0]); }
static wg_var b_relu(wg_tape *t, const wg_var *x) { return wg_relu(t, x[0]); }
static wg_var b_square(wg_tape *t, const wg_var *x) { return wg_square(t, x[0]); }
static wg_var b_sum(wg_tape *t, const wg_var *x) { return wg_sum(t, x[0]); }
static wg_var b_mean(wg_tape *t, const wg_var *x) { return wg_mean(t, x[0]); }
static wg_var b_sum_rows(wg_tape *t, const wg_var *x) { return wg_sum_rows(t, x[0]); }
static wg_var b_bce(wg_tape *t, const wg_var *x) { return wg_bce(t, x[0], x[1]); }
static wg_var b_bce_logits(wg_tape *t, const wg_var *x) { return wg_bce_logits(t, x[0], x[1]); }
static wg_var b_mse(wg_tape *t, const wg_var *x) { return wg_mse(t, x[0], x[1]); }
static wg_var b_pow(wg_tape *t, const wg_var *x) { return wg_pow(t, x[0], POW_C); }
static wg_var b_pow3(wg_tape *t, const wg_var *x) { return wg_pow(t, x[0], 3); }
static wg_var b_pow_neg(wg_tape *t, const wg_var *x) { return wg_pow(t, x[0], -1.5); }
static wg_var b_sqrt(wg_tape *t, const wg_var *x) { return wg_sqrt(t, x[0]); }
static wg_var b_abs(wg_tape *t, const wg_var *x) { return wg_abs(t, x[0]); }
static wg_var b_sin(wg_tape *t, const wg_var *x) { return wg_sin(t, x[0]); }
static wg_var b_cos(wg_tape *t, const wg_var *x) { return wg_cos(t, x[0]); }
static wg_var b_softplus(wg_tape *t, const wg_var *x) { return wg_softplus(t, x[0]); }
static wg_var b_gelu(wg_tape *t, const wg_var *x) { return wg_gelu(t, x[0]); }
static wg_var b_leaky_relu(wg_tape *t, const wg_var *x) { return wg_leaky_relu(t, x[0], LEAKY_A); }
static wg_var b_clamp(wg_tape *t, const wg_var *x) { return wg_clamp(t, x[0], CLAMP_LO, CLAMP_HI); }
static wg_var b_maximum(wg_tape *t, const wg_var *x) { return wg_maximum(t, x[0], x[1]); }
static wg_var b_minimum(wg_tape *t, const wg_var *x) { return wg_minimum(t, x[0], x[1]); }

/* ---- per-op cases -------------------------------------------------------------------- */

#define ANY(r, c) {r, c, -2.0, 2.0, 0}

static void run_matmul(void) {
  static const grad_spec s[] = {
      {b_matmul, ref_matmul, 2, {ANY(3, 4), ANY(4, 2)}, 3, 2},
      {b_matmul, ref_matmul, 2, {ANY(1, 5), ANY(5, 1)}, 1, 1}, /* inner product */
      {b_matmul, ref_matmul, 2, {ANY(4, 1), ANY(1, 3)}, 4, 3}, /* outer product */
      {b_matmul_self, ref_matmul_self, 1, {ANY(3, 3)}, 3, 3},  /* A A: both VJPs into one */
  };
  gradcheck_all("matmul", s, (int)(sizeof s / sizeof s[0]));
}

static void run_transpose(void) {
  static const grad_spec s[] = {
      {b_transpose, ref_transpose, 1, {ANY(3, 4)}, 4, 3},
      {b_transpose, ref_transpose, 1, {ANY(1, 5)}, 5, 1},
  };
  gradcheck_all("transpose", s, (int)(sizeof s / sizeof s[0]));
}

/* The broadcasting pairs, M = 3, N = 4: equal shapes and every side of 1 on either input. */
static void run_bcast(const char *op, build_fn build, ref_fn ref, int away_b) {
  static const int pairs[][4] = {
      {3, 4, 3, 4}, {3, 4, 1, 4}, {1, 4, 3, 4}, {3, 4, 3, 1}, {3, 1, 3, 4},
      {3, 4, 1, 1}, {1, 1, 3, 4}, {1, 4, 3, 1}, {3, 1, 1, 4},
  };
  for (int i = 0; i < (int)(sizeof pairs / sizeof pairs[0]); i++) {
    grad_spec s = {build, ref, 2, {ANY(pairs[i][0], pairs[i][1]), ANY(pairs[i][2], pairs[i][3])},
                   pairs[i][0] > pairs[i][2] ? pairs[i][0] : pairs[i][2],
                   pairs[i][1] > pairs[i][3] ? pairs[i][1] : pairs[i][3]};
    if (away_b) s.in[1] = (in_spec){pairs[i][2], pairs[i][3], 0.5, 2.0, 1}; /* denominators */
    gradcheck(op, &s, 1234567ULL + 31ULL * (unsigned)i);
  }
}
static void run_add(void) { run_bcast("add", b_add, ref_add, 0); }
static void run_sub(void) { run_bcast("sub", b_sub, ref_sub, 0); }
static void run_div(void) { run_bcast("div", b_div, ref_div, 1); }
static void run_mul(void) {
  run_bcast("mul", b_mul, ref_mul, 0);
  static const grad_spec self = {b_mul_self, ref_mul_self, 1, {ANY(3, 4)}, 3, 4}; /* x * x */
  gradcheck("mul", &self, 99);
}

#define UNARY_CASE(name, lo, hi, away)                                              \
  static void run_##name(void) {                                                        \
    static const grad_spec s[] = {                                                      \
        {b_##name, ref_##name, 1, {{3, 4, lo, hi, away}}, 3, 4},                        \
        {b_##name, ref_##name, 1, {{1, 1, lo, hi, away}}, 1, 1},                        \
    };                                                                                  \
    gradcheck_all(#name, s, 2);                                                         \
  }
UNARY_CASE(neg, -2.0, 2.0, 0)
UNARY_CASE(scale, -2.0, 2.0, 0)
UNARY_CASE(exp, -2.0, 2.0, 0)
UNARY_CASE(log, 0.2, 3.0, 0)       /* positive */
UNARY_CASE(sigmoid, -4.0, 4.0, 0)
UNARY_CASE(tanh, -2.0, 2.0, 0)
UNARY_CASE(relu, 0.1, 2.0, 1)     /* away from the kink at 0 */
UNARY_CASE(square, -2.0, 2.0, 0)

/* Family B (issue 14): the unary ops over 3x4, 1x1, 1xN, Nx1 and a 40x30 block, with values
 * in the op's domain and, for the ops with kinks (abs at 0, leaky_relu at 0, clamp at its
 * bounds), where finite differences see no kink (abs, leaky_relu: |x| >= 0.1; clamp: random
 * values, none within 1e-6 of a bound for these seeds). */
#define UNARY_SHAPES(b, ref, lo, hi, away)                                               \
  {b, ref, 1, {{3, 4, lo, hi, away}}, 3, 4}, {b, ref, 1, {{1, 1, lo, hi, away}}, 1, 1},  \
  {b, ref, 1, {{1, 7, lo, hi, away}}, 1, 7}, {b, ref, 1, {{6, 1, lo, hi, away}}, 6, 1},  \
  {b, ref, 1, {{40, 30, lo, hi, away}}, 40, 30}
#define UNARY_CASE_B(name, lo, hi, away)                                                 \
  static void run_##name(void) {                                                         \
    static const grad_spec s[] = {UNARY_SHAPES(b_##name, ref_##name, lo, hi, away)};     \
    gradcheck_all(#name, s, (int)(sizeof s / sizeof s[0]));                              \
  }
UNARY_CASE_B(sqrt, 0.2, 3.0, 0)       /* positive */
UNARY_CASE_B(abs, 0.1, 2.0, 1)        /* both signs, away from the kink at 0 */
UNARY_CASE_B(sin, -4.0, 4.0, 0)
UNARY_CASE_B(cos, -4.0, 4.0, 0)
UNARY_CASE_B(softplus, -4.0, 4.0, 0)
UNARY_CASE_B(gelu, -4.0, 4.0, 0)
UNARY_CASE_B(leaky_relu, 0.1, 2.0, 1) /* both signs, away from the kink at 0 */
UNARY_CASE_B(clamp, -2.0, 2.0, 0)     /* below, inside and above [-0.5, 0.8] */
static void run_pow(void) {
  static const grad_spec s[] = {
      UNARY_SHAPES(b_pow, ref_pow, 0.2, 3.0, 0),        /* c = 2.5 on x > 0 */
      {b_pow3, ref_pow3, 1, {ANY(3, 4)}, 3, 4},          /* c = 3 on both signs */
      {b_pow_neg, ref_pow_neg, 1, {{2, 5, 0.3, 3.0, 0}}, 2, 5}, /* c = -1.5 */
  };
  gradcheck_all("pow", s, (int)(sizeof s / sizeof s[0]));
}
static void run_maximum(void) { run_bcast("maximum", b_maximum, ref_maximum, 0); }
static void run_minimum(void) { run_bcast("minimum", b_minimum, ref_minimum, 0); }

static void run_sum(void) {
  static const grad_spec s[] = {{b_sum, ref_sum, 1, {ANY(3, 4)}, 1, 1}};
  gradcheck_all("sum", s, 1);
}
static void run_mean(void) {
  static const grad_spec s[] = {{b_mean, ref_mean, 1, {ANY(3, 4)}, 1, 1}};
  gradcheck_all("mean", s, 1);
}
static void run_sum_rows(void) {
  static const grad_spec s[] = {
      {b_sum_rows, ref_sum_rows, 1, {ANY(3, 4)}, 1, 4},
      {b_sum_rows, ref_sum_rows, 1, {ANY(5, 1)}, 1, 1},
  };
  gradcheck_all("sum_rows", s, 2);
}
static void run_bce(void) {
  /* p in (0.05, 0.95), targets in [0, 1] (soft targets test the targets' VJP too) */
  static const grad_spec s[] = {
      {b_bce, ref_bce, 2, {{3, 2, 0.05, 0.95, 0}, {3, 2, 0.0, 1.0, 0}}, 1, 1}};
  gradcheck_all("bce", s, 1);
}
static void run_bce_logits(void) {
  static const grad_spec s[] = {
      {b_bce_logits, ref_bce_logits, 2, {{3, 2, -4.0, 4.0, 0}, {3, 2, 0.0, 1.0, 0}}, 1, 1}};
  gradcheck_all("bce_logits", s, 1);
}
static void run_mse(void) {
  static const grad_spec s[] = {{b_mse, ref_mse, 2, {ANY(3, 2), ANY(3, 2)}, 1, 1}};
  gradcheck_all("mse", s, 1);
}

/* ---- the leaves ---------------------------------------------------------------------- */

/* param: the gradient of sum(W * R) is R; it accumulates across two backward calls and
 * across two wg_use of the same parameter; wg_param_zero_grad clears it. The leaf refers
 * to the parameter's buffer, no copy. */
static void run_param(void) {
  wg_real R[6] = {0.5, -1.25, 2.0, 3.5, -0.75, 1.0};
  wg_param *W = wg_param_new("W", 2, 3);
  for (int i = 0; i < 6; i++) wg_param_value(W).data[i] = 0.1 * (i + 1);
  wg_tape *t = wg_tape_new();
  wg_var w = wg_use(t, W), r = wg_input(t, 2, 3, R);
  wg_var L = wg_sum(t, wg_mul(t, w, r));
  ck_assert_ptr_eq(wg_value(t, w).data, wg_param_value(W).data);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(W).data[i], R[i]);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 2 * R[i]);
  wg_param_zero_grad(W);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 0);

  wg_tape_reset(t);
  wg_var w1 = wg_use(t, W), w2 = wg_use(t, W);
  r = wg_input(t, 2, 3, R);
  L = wg_add(t, wg_sum(t, wg_mul(t, w1, r)), wg_sum(t, wg_mul(t, w2, r)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 2 * R[i]);
  wg_tape_free(t);
  wg_param_free(W);
}

/* input: referenced (no copy), read again on replay, and never given an adjoint. */
static void run_input(void) {
  wg_real X[4] = {1, 2, 3, 4};
  wg_param *W = wg_param_new("W", 2, 2);
  for (int i = 0; i < 4; i++) wg_param_value(W).data[i] = 0.5 - i;
  wg_tape *t = wg_tape_new();
  wg_var x = wg_input(t, 2, 2, X);
  wg_var L = wg_sum(t, wg_mul(t, x, wg_use(t, W)));
  ck_assert_ptr_eq(wg_value(t, x).data, X);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_ptr_null(wg_grad(t, x).data); /* no dX for the data matrix */
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_param_grad(W).data[i], X[i]);
  X[0] = 10; /* L = sum(X * W) by hand: 10*0.5 + 2*(-0.5) + 3*(-1.5) + 4*(-2.5) = -10.5 */
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_double_eq_tol(wg_value(t, L).data[0], -10.5, TU_TOL(1e-15));
  wg_tape_free(t);
  wg_param_free(W);
}

/* scalar: a 1x1 constant with value c; d(sum(c W))/dW = c; no adjoint, zero tangent. */
static void run_scalar(void) {
  wg_param *W = wg_param_new("W", 2, 2);
  for (int i = 0; i < 4; i++) wg_param_value(W).data[i] = i;
  wg_tape *t = wg_tape_new();
  wg_var c = wg_scalar(t, 2.5), w = wg_use(t, W);
  ck_assert_int_eq(wg_value(t, c).rows, 1);
  ck_assert_int_eq(wg_value(t, c).cols, 1);
  ck_assert_double_eq(wg_value(t, c).data[0], 2.5);
  wg_var L = wg_sum(t, wg_mul(t, c, w));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_ptr_null(wg_grad(t, c).data);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 2.5);
  wg_mat tw = wg_tangent(t, w);
  for (int i = 0; i < 4; i++) tw.data[i] = 1;
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  ck_assert_double_eq(wg_tangent(t, c).data[0], 0);
  ck_assert_double_eq(wg_tangent(t, L).data[0], 10.0); /* d/ds sum(2.5 (W + s)) = 2.5 * 4 */
  wg_tape_free(t);
  wg_param_free(W);
}

/* custom: a user op y = a * sin(b) (equal shapes) with its own VJP and JVP, recorded through
 * wg_custom; the engine's generic checks apply to it like to a built-in op. */
static void cu_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)ctx;
  for (int i = 0; i < out.rows * out.cols; i++) out.data[i] = in[0].data[i] * sin(in[1].data[i]);
}
static void cu_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *din, void *ctx) {
  (void)n, (void)ctx;
  for (int i = 0; i < out.rows * out.cols; i++) {
    if (din[0].data) din[0].data[i] += dy.data[i] * sin(in[1].data[i]);
    if (din[1].data) din[1].data[i] += dy.data[i] * in[0].data[i] * cos(in[1].data[i]);
  }
}
static void cu_jvp(int n, const wg_mat *in, const wg_mat *tin, wg_mat out, wg_mat tout, void *ctx) {
  (void)n, (void)ctx;
  for (int i = 0; i < out.rows * out.cols; i++)
    tout.data[i] = tin[0].data[i] * sin(in[1].data[i]) +
                   in[0].data[i] * cos(in[1].data[i]) * tin[1].data[i];
}
static wg_var b_custom(wg_tape *t, const wg_var *in) {
  static const wg_custom_op op = {"a_sin_b", NULL, cu_forward, cu_vjp, cu_jvp, NULL};
  return wg_custom(t, &op, NULL, 2, in);
}
static void ref_custom(const grad_spec *s, double **x, double *out) {
  for (int i = 0; i < s->out_rows * s->out_cols; i++) out[i] = x[0][i] * sin(x[1][i]);
}
static void run_custom(void) {
  static const grad_spec s[] = {
      {b_custom, ref_custom, 2, {ANY(3, 4), ANY(3, 4)}, 3, 4},
      {b_custom, ref_custom, 2, {ANY(1, 1), ANY(1, 1)}, 1, 1},
  };
  gradcheck_all("custom", s, 2);
}

/* softmax (row-wise) and softmax_ce against plain C: y_ij = exp(x_ij) / sum_k exp(x_ik) and
 * L = mean_i(log sum_k exp(z_ik) - z_i,c_i). The class labels of softmax_ce are data (a constant
 * input recorded inside the builder), so only the logits are perturbed. A plain sum of softmax
 * would have gradient 0 (rows sum to 1): the generic loss sum(y * R) weights every entry. */
static wg_var b_softmax(wg_tape *t, const wg_var *in) { return wg_softmax(t, in[0]); }
static void ref_softmax(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  for (int i = 0; i < m; i++) {
    double z = 0;
    for (int j = 0; j < n; j++) z += exp(x[0][i * n + j]);
    for (int j = 0; j < n; j++) out[i * n + j] = exp(x[0][i * n + j]) / z;
  }
}
static const wg_real ce_labels[4] = {2, 0, 1, 2};
static wg_var b_softmax_ce(wg_tape *t, const wg_var *in) {
  return wg_softmax_ce(t, in[0], wg_input(t, 4, 1, ce_labels));
}
static void ref_softmax_ce(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  double total = 0;
  for (int i = 0; i < m; i++) {
    double z = 0;
    for (int j = 0; j < n; j++) z += exp(x[0][i * n + j]);
    total += log(z) - x[0][i * n + (int)ce_labels[i]];
  }
  out[0] = total / m;
}
static void run_softmax(void) {
  static const grad_spec s[] = {
      {b_softmax, ref_softmax, 1, {ANY(3, 4)}, 3, 4},
      {b_softmax, ref_softmax, 1, {ANY(1, 5)}, 1, 5},
  };
  gradcheck_all("softmax", s, 2);
}
static void run_softmax_ce(void) {
  static const grad_spec s[] = {{b_softmax_ce, ref_softmax_ce, 1, {{4, 3, -3.0, 3.0, 0}}, 1, 1}};
  gradcheck_all("softmax_ce", s, 1);
}

/* ---- family C: axis reductions, log_softmax, layernorm, dropout ------------------------ */

/* Each axis op over the shapes 3x4, 1x5, 5x1 and 1x1, on both axes. The reference reduces
 * group g (a column for axis 0, a row for axis 1) in plain C. */
typedef double (*group_fn)(const double *v, int k, int step);
static double g_sum(const double *v, int k, int step) {
  double s = 0;
  for (int i = 0; i < k; i++) s += v[i * step];
  return s;
}
static double g_mean(const double *v, int k, int step) { return g_sum(v, k, step) / k; }
static double g_max(const double *v, int k, int step) {
  double m = v[0];
  for (int i = 1; i < k; i++) m = v[i * step] > m ? v[i * step] : m;
  return m;
}
static double g_lse(const double *v, int k, int step) { /* the textbook form, |x| <= 2 */
  double s = 0;
  for (int i = 0; i < k; i++) s += exp(v[i * step]);
  return log(s);
}
static void ref_axis(const grad_spec *s, double **x, double *out, group_fn f, int axis) {
  int m = s->in[0].rows, n = s->in[0].cols;
  if (axis == 0)
    for (int j = 0; j < n; j++) out[j] = f(x[0] + j, m, n);
  else
    for (int i = 0; i < m; i++) out[i] = f(x[0] + i * n, n, 1);
}
#define AXIS_CASE(name, fn)                                                                   \
  static void ref_##name##0(const grad_spec *s, double **x, double *o) { ref_axis(s, x, o, fn, 0); } \
  static void ref_##name##1(const grad_spec *s, double **x, double *o) { ref_axis(s, x, o, fn, 1); } \
  static wg_var b_##name##0(wg_tape *t, const wg_var *x) { return wg_##name(t, x[0], 0); }    \
  static wg_var b_##name##1(wg_tape *t, const wg_var *x) { return wg_##name(t, x[0], 1); }    \
  static void run_##name(void) {                                                              \
    static const int shapes[][2] = {{3, 4}, {1, 5}, {5, 1}, {1, 1}};                           \
    for (int i = 0; i < 4; i++) {                                                             \
      int m = shapes[i][0], n = shapes[i][1];                                                 \
      grad_spec s0 = {b_##name##0, ref_##name##0, 1, {ANY(m, n)}, 1, n};                       \
      grad_spec s1 = {b_##name##1, ref_##name##1, 1, {ANY(m, n)}, m, 1};                       \
      gradcheck(#name, &s0, 4242ULL + 17ULL * (unsigned)i);                                   \
      gradcheck(#name, &s1, 5353ULL + 19ULL * (unsigned)i);                                   \
    }                                                                                         \
  }
AXIS_CASE(sum_axis, g_sum)
AXIS_CASE(mean_axis, g_mean)
AXIS_CASE(max_axis, g_max)
AXIS_CASE(logsumexp_axis, g_lse)

static wg_var b_log_softmax(wg_tape *t, const wg_var *in) { return wg_log_softmax(t, in[0]); }
static void ref_log_softmax(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  for (int i = 0; i < m; i++) {
    double z = 0;
    for (int j = 0; j < n; j++) z += exp(x[0][i * n + j]);
    for (int j = 0; j < n; j++) out[i * n + j] = x[0][i * n + j] - log(z);
  }
}
static void run_log_softmax(void) {
  static const grad_spec s[] = {
      {b_log_softmax, ref_log_softmax, 1, {ANY(3, 4)}, 3, 4},
      {b_log_softmax, ref_log_softmax, 1, {ANY(1, 5)}, 1, 5},
      {b_log_softmax, ref_log_softmax, 1, {ANY(5, 1)}, 5, 1}, /* y = 0, gradient 0 */
      {b_log_softmax, ref_log_softmax, 1, {ANY(1, 1)}, 1, 1},
  };
  gradcheck_all("log_softmax", s, 4);
}

#define LN_EPS 1e-3
static wg_var b_layernorm(wg_tape *t, const wg_var *in) { return wg_layernorm(t, in[0], LN_EPS); }
static void ref_layernorm(const grad_spec *s, double **x, double *out) {
  int m = s->in[0].rows, n = s->in[0].cols;
  for (int i = 0; i < m; i++) {
    double mu = 0, var = 0;
    for (int j = 0; j < n; j++) mu += x[0][i * n + j] / n;
    for (int j = 0; j < n; j++) var += (x[0][i * n + j] - mu) * (x[0][i * n + j] - mu) / n;
    for (int j = 0; j < n; j++) out[i * n + j] = (x[0][i * n + j] - mu) / sqrt(var + LN_EPS);
  }
}
static void run_layernorm(void) {
  static const grad_spec s[] = {
      {b_layernorm, ref_layernorm, 1, {ANY(3, 4)}, 3, 4},
      {b_layernorm, ref_layernorm, 1, {ANY(1, 5)}, 1, 5},
      {b_layernorm, ref_layernorm, 1, {ANY(5, 1)}, 5, 1}, /* y = 0, gradient 0 */
      {b_layernorm, ref_layernorm, 1, {ANY(1, 1)}, 1, 1},
      {b_layernorm, ref_layernorm, 1, {ANY(2, 9)}, 2, 9},
  };
  gradcheck_all("layernorm", s, 5);
}

/* dropout: the builder draws from a generator seeded here, the reference draws the same
 * sequence from its own copy (u >= p keeps, scaled by 1/(1-p)) */
#define DROP_P 0.4
#define DROP_SEED 77
static wg_rng drop_rng;
static wg_var b_dropout(wg_tape *t, const wg_var *in) {
  wg_rng_seed(&drop_rng, DROP_SEED);
  return wg_dropout(t, in[0], DROP_P, &drop_rng);
}
static void ref_dropout(const grad_spec *s, double **x, double *out) {
  wg_rng r;
  wg_rng_seed(&r, DROP_SEED);
  for (int e = 0; e < s->in[0].rows * s->in[0].cols; e++)
    out[e] = wg_rng_uniform(&r) >= DROP_P ? x[0][e] / (1 - DROP_P) : 0;
}
static void run_dropout(void) {
  static const grad_spec s[] = {
      {b_dropout, ref_dropout, 1, {ANY(3, 4)}, 3, 4},
      {b_dropout, ref_dropout, 1, {ANY(1, 5)}, 1, 5},
      {b_dropout, ref_dropout, 1, {ANY(5, 1)}, 5, 1},
      {b_dropout, ref_dropout, 1, {ANY(1, 1)}, 1, 1},
  };
  gradcheck_all("dropout", s, 4);
}

/* dropout_apply: x times the mask of a dropout row drawn from the same seed as b_dropout's, so
 * ref_dropout is its reference; then by hand: evaluation mode (y = x, then the mask again),
 * wg_dropout_resample (the new mask in both rows), a chain of two, and the errors */
static wg_var b_dropout_apply(wg_tape *t, const wg_var *in) {
  return wg_dropout_apply(t, in[0], b_dropout(t, in));
}
static void run_dropout_apply(void) {
  static const grad_spec s[] = {
      {b_dropout_apply, ref_dropout, 1, {ANY(3, 4)}, 3, 4},
      {b_dropout_apply, ref_dropout, 1, {ANY(1, 5)}, 1, 5},
      {b_dropout_apply, ref_dropout, 1, {ANY(5, 1)}, 5, 1},
  };
  gradcheck_all("dropout_apply", s, 3);
  wg_real x[12], z[12];
  for (int e = 0; e < 12; e++) x[e] = 1 + e, z[e] = -0.5 * e;
  wg_rng r;
  wg_rng_seed(&r, 5);
  wg_tape *t = wg_tape_new();
  wg_var d = wg_dropout(t, wg_input(t, 3, 4, x), 0.5, &r);
  wg_var a = wg_dropout_apply(t, wg_input(t, 3, 4, z), d);
  wg_var a2 = wg_dropout_apply(t, wg_input(t, 3, 4, x), a); /* the mask through a */
  double first[12];
  for (int round = 0; round < 3; round++) {
    int kept = 0, moved = 0;
    for (int e = 0; e < 12; e++) {
      double m = wg_value(t, d).data[e] / x[e]; /* the mask, 0 or 2 (1 in evaluation) */
      ck_assert(round == 1 ? m == 1 : (m == 0 || m == 2));
      kept += m == 2;
      if (round == 0) first[e] = m;
      moved += round == 2 && m != first[e];
      ck_assert(wg_value(t, a).data[e] == z[e] * m);
      ck_assert(wg_value(t, a2).data[e] == wg_value(t, d).data[e]);
    }
    if (round != 1) ck_assert(kept > 0 && kept < 12); /* seed 5 drops some, keeps some */
    if (round == 2) ck_assert(moved > 0);             /* the resampled mask differs */
    wg_tape_set_training(t, round != 0);             /* round 1: evaluation */
    if (round == 1) ck_assert_int_eq(wg_dropout_resample(t), WG_OK);
    ck_assert_int_eq(wg_forward(t), WG_OK);
  }
  wg_dropout_apply(t, wg_input(t, 3, 4, x), wg_input(t, 3, 4, z));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "is a 'input' row"), "%s", wg_tape_error(t));
  wg_tape_reset(t);
  d = wg_dropout(t, wg_input(t, 3, 4, x), 0.5, &r);
  wg_dropout_apply(t, wg_input(t, 4, 3, x), d);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  wg_tape_free(t);
}
/* conv2d, maxpool2d, avgpool2d against direct loops over the image (the 7-deep loop the op
 * avoids), on the shapes below: 1x1, 1xN and Nx1 images, stride 1 and 2, padding 0 and 1. The
 * builders read the case's shape from cur_conv / cur_pool (set before each gradcheck). */
static wg_conv2d_shape cur_conv;
static wg_pool2d_shape cur_pool;
static int conv_out(int n, int k) { return (n + 2 * cur_conv.padding - k) / cur_conv.stride + 1; }
static wg_var b_conv2d(wg_tape *t, const wg_var *in) { return wg_conv2d(t, in[0], in[1], cur_conv); }
static void ref_conv2d(const grad_spec *s, double **x, double *out) {
  const wg_conv2d_shape c = cur_conv;
  int B = s->in[0].rows, O = s->in[1].cols, ho = conv_out(c.height, c.kernel_h),
      wo = conv_out(c.width, c.kernel_w);
  for (int b = 0; b < B; b++)
    for (int o = 0; o < O; o++)
      for (int p = 0; p < ho; p++)
        for (int q = 0; q < wo; q++) {
          double acc = 0;
          for (int ch = 0; ch < c.channels; ch++)
            for (int i = 0; i < c.kernel_h; i++)
              for (int j = 0; j < c.kernel_w; j++) {
                int y = p * c.stride - c.padding + i, z = q * c.stride - c.padding + j;
                if (y < 0 || y >= c.height || z < 0 || z >= c.width) continue;
                acc += x[0][b * s->in[0].cols + (ch * c.height + y) * c.width + z] *
                       x[1][((ch * c.kernel_h + i) * c.kernel_w + j) * O + o];
              }
          out[b * s->out_cols + (o * ho + p) * wo + q] = acc;
        }
}
static wg_var b_maxpool2d(wg_tape *t, const wg_var *in) { return wg_maxpool2d(t, in[0], cur_pool); }
static wg_var b_avgpool2d(wg_tape *t, const wg_var *in) { return wg_avgpool2d(t, in[0], cur_pool); }
static void ref_pool(const grad_spec *s, double **x, double *out, int is_max) {
  const wg_pool2d_shape c = cur_pool;
  int ho = (c.height - c.kernel) / c.stride + 1, wo = (c.width - c.kernel) / c.stride + 1;
  for (int b = 0; b < s->in[0].rows; b++)
    for (int ch = 0; ch < c.channels; ch++)
      for (int p = 0; p < ho; p++)
        for (int q = 0; q < wo; q++) {
          double acc = is_max ? -INFINITY : 0;
          for (int i = 0; i < c.kernel; i++)
            for (int j = 0; j < c.kernel; j++) {
              double v = x[0][b * s->in[0].cols + (ch * c.height + p * c.stride + i) * c.width +
                              q * c.stride + j];
              acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
          out[b * s->out_cols + (ch * ho + p) * wo + q] = is_max ? acc : acc / (c.kernel * c.kernel);
        }
}
static void ref_maxpool2d(const grad_spec *s, double **x, double *out) { ref_pool(s, x, out, 1); }
static void ref_avgpool2d(const grad_spec *s, double **x, double *out) { ref_pool(s, x, out, 0); }

static void run_conv2d(void) {
  /* {batch, channels, height, width, kernel_h, kernel_w, stride, padding, C_out} */
  static const int cases[][9] = {
      {2, 2, 4, 5, 3, 2, 1, 0, 3}, {1, 1, 1, 1, 1, 1, 1, 0, 1}, /* a 1x1 image */
      {3, 1, 1, 6, 1, 3, 2, 0, 2}, /* 1xN */ {2, 3, 5, 1, 3, 1, 2, 1, 2}, /* Nx1, padded */
      {2, 2, 5, 5, 3, 3, 2, 1, 4}, {1, 3, 4, 4, 2, 2, 1, 1, 2}};
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int *c = cases[n];
    cur_conv = (wg_conv2d_shape){c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
    int ho = conv_out(c[2], c[4]), wo = conv_out(c[3], c[5]);
    grad_spec s = {b_conv2d, ref_conv2d, 2, {ANY(c[0], c[1] * c[2] * c[3]),
                   ANY(c[1] * c[4] * c[5], c[8])}, c[0], c[8] * ho * wo};
    gradcheck("conv2d", &s, 0x5EED0000ULL + n);
  }
}
/* conv2d's helper ops (issue 16) against direct loops over run_conv2d's shapes: the
 * transposed convolution adds y[b][o][p][q] w[(c, i, j)][o] onto pixel (c, p*stride - padding
 * + i, q*stride - padding + j) of image b; the weight gradient sums x_b's pixel times y over
 * the images and positions */
static wg_var b_conv2d_transpose(wg_tape *t, const wg_var *in) {
  return wg_conv2d_transpose(t, in[0], in[1], cur_conv);
}
static wg_var b_conv2d_weight_grad(wg_tape *t, const wg_var *in) {
  return wg_conv2d_weight_grad(t, in[0], in[1], cur_conv);
}
/* transpose 1: out (B x C*H*W) from y = x[0], w = x[1]; 0: out (K x O) from x = x[0], y = x[1] */
static void ref_conv_helper(const grad_spec *s, double **x, double *out, int transpose) {
  const wg_conv2d_shape c = cur_conv;
  int B = s->in[0].rows, ho = conv_out(c.height, c.kernel_h), wo = conv_out(c.width, c.kernel_w);
  int O = transpose ? s->in[1].cols : s->out_cols, chw = c.channels * c.height * c.width;
  for (int e = 0; e < s->out_rows * s->out_cols; e++) out[e] = 0;
  for (int b = 0; b < B; b++)
    for (int o = 0; o < O; o++)
      for (int p = 0; p < ho; p++)
        for (int q = 0; q < wo; q++)
          for (int ch = 0; ch < c.channels; ch++)
            for (int i = 0; i < c.kernel_h; i++)
              for (int j = 0; j < c.kernel_w; j++) {
                int yy = p * c.stride - c.padding + i, zz = q * c.stride - c.padding + j;
                if (yy < 0 || yy >= c.height || zz < 0 || zz >= c.width) continue;
                int pix = b * chw + (ch * c.height + yy) * c.width + zz;
                int wi = ((ch * c.kernel_h + i) * c.kernel_w + j) * O + o;
                int yi = b * O * ho * wo + (o * ho + p) * wo + q;
                if (transpose) out[pix] += x[0][yi] * x[1][wi];
                else out[wi] += x[0][pix] * x[1][yi];
              }
}
static void ref_conv2d_transpose(const grad_spec *s, double **x, double *out) { ref_conv_helper(s, x, out, 1); }
static void ref_conv2d_weight_grad(const grad_spec *s, double **x, double *out) { ref_conv_helper(s, x, out, 0); }
static void run_conv_helper(const char *op, build_fn build, ref_fn ref, int transpose) {
  /* {batch, channels, height, width, kernel_h, kernel_w, stride, padding, C_out} */
  static const int cases[][9] = {
      {2, 2, 4, 5, 3, 2, 1, 0, 3}, {1, 1, 1, 1, 1, 1, 1, 0, 1}, {3, 1, 1, 6, 1, 3, 2, 0, 2},
      {2, 3, 5, 1, 3, 1, 2, 1, 2}, {2, 2, 5, 5, 3, 3, 2, 1, 4}, {1, 3, 4, 4, 2, 2, 1, 1, 2}};
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int *c = cases[n];
    cur_conv = (wg_conv2d_shape){c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
    int op_cols = c[8] * conv_out(c[2], c[4]) * conv_out(c[3], c[5]);
    int chw = c[1] * c[2] * c[3], k = c[1] * c[4] * c[5];
    grad_spec s = {build, ref, 2, {ANY(c[0], op_cols), ANY(k, c[8])}, c[0], chw};
    if (!transpose) s = (grad_spec){build, ref, 2, {ANY(c[0], chw), ANY(c[0], op_cols)}, k, c[8]};
    gradcheck(op, &s, 0x5EED1000ULL + n);
  }
}
static void run_conv2d_transpose(void) {
  run_conv_helper("conv2d_transpose", b_conv2d_transpose, ref_conv2d_transpose, 1);
}
static void run_conv2d_weight_grad(void) {
  run_conv_helper("conv2d_weight_grad", b_conv2d_weight_grad, ref_conv2d_weight_grad, 0);
}
static void run_pool(const char *op, build_fn build, ref_fn ref) {
  /* {batch, channels, height, width, kernel, stride} */
  static const int cases[][6] = {{2, 2, 4, 4, 2, 2}, {1, 1, 1, 1, 1, 1}, {3, 1, 1, 5, 1, 2},
                                 {2, 3, 4, 1, 1, 1}, {2, 1, 5, 5, 3, 1}, {1, 2, 5, 6, 2, 2}};
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int *c = cases[n];
    cur_pool = (wg_pool2d_shape){c[1], c[2], c[3], c[4], c[5]};
    int ho = (c[2] - c[4]) / c[5] + 1, wo = (c[3] - c[4]) / c[5] + 1;
    grad_spec s = {build, ref, 1, {ANY(c[0], c[1] * c[2] * c[3])}, c[0], c[1] * ho * wo};
    gradcheck(op, &s, 0x9001ULL + n);
  }
}
static void run_maxpool2d(void) { run_pool("maxpool2d", b_maxpool2d, ref_maxpool2d); }
static void run_avgpool2d(void) { run_pool("avgpool2d", b_avgpool2d, ref_avgpool2d); }
/* the pools' helper ops (issue 16) on run_pool's shapes. The references find each window's
 * first maximum with their own loop (strictly greater wins, row-major) and place or pick by it;
 * the average's transpose spreads y / kernel^2 over every pixel of each window. */
static wg_var b_maxpool2d_scatter(wg_tape *t, const wg_var *in) {
  return wg_maxpool2d_scatter(t, in[0], in[1], cur_pool);
}
static wg_var b_maxpool2d_gather(wg_tape *t, const wg_var *in) {
  return wg_maxpool2d_gather(t, in[0], in[1], cur_pool);
}
static wg_var b_avgpool2d_transpose(wg_tape *t, const wg_var *in) {
  return wg_avgpool2d_transpose(t, in[0], cur_pool);
}
/* mode 0: scatter x[1] (pooled) at the maxima of x[0]; 1: gather x[1] (image) there; 2: the
 * average's transpose of x[0] (pooled) */
static void ref_pool_helper(const grad_spec *s, double **x, double *out, int mode) {
  const wg_pool2d_shape c = cur_pool;
  int ho = (c.height - c.kernel) / c.stride + 1, wo = (c.width - c.kernel) / c.stride + 1;
  int ni = c.channels * c.height * c.width, np = c.channels * ho * wo;
  if (mode != 1)
    for (int e = 0; e < s->out_rows * s->out_cols; e++) out[e] = 0;
  for (int b = 0; b < s->out_rows; b++)
    for (int ch = 0; ch < c.channels; ch++)
      for (int p = 0; p < ho; p++)
        for (int q = 0; q < wo; q++) {
          int o = b * np + (ch * ho + p) * wo + q, best = -1;
          for (int i = 0; i < c.kernel; i++)
            for (int j = 0; j < c.kernel; j++) {
              int e = b * ni + (ch * c.height + p * c.stride + i) * c.width + q * c.stride + j;
              if (mode == 2) out[e] += x[0][o] / (c.kernel * c.kernel);
              else if (best < 0 || x[0][e] > x[0][best]) best = e;
            }
          if (mode == 0) out[best] += x[1][o];
          if (mode == 1) out[o] = x[1][best];
        }
}
static void ref_maxpool2d_scatter(const grad_spec *s, double **x, double *out) { ref_pool_helper(s, x, out, 0); }
static void ref_maxpool2d_gather(const grad_spec *s, double **x, double *out) { ref_pool_helper(s, x, out, 1); }
static void ref_avgpool2d_transpose(const grad_spec *s, double **x, double *out) { ref_pool_helper(s, x, out, 2); }
static void run_pool_helper(const char *op, build_fn build, ref_fn ref, int mode) {
  static const int cases[][6] = {{2, 2, 4, 4, 2, 2}, {1, 1, 1, 1, 1, 1}, {3, 1, 1, 5, 1, 2},
                                 {2, 3, 4, 1, 1, 1}, {2, 1, 5, 5, 3, 1}, {1, 2, 5, 6, 2, 2}};
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int *c = cases[n];
    cur_pool = (wg_pool2d_shape){c[1], c[2], c[3], c[4], c[5]};
    int ni = c[1] * c[2] * c[3], np = c[1] * ((c[2] - c[4]) / c[5] + 1) * ((c[3] - c[4]) / c[5] + 1);
    grad_spec s = {build, ref, 2, {ANY(c[0], ni), ANY(c[0], mode == 0 ? np : ni)}, c[0],
                   mode == 0 ? ni : np};
    if (mode == 2) s = (grad_spec){build, ref, 1, {ANY(c[0], np)}, c[0], ni};
    gradcheck(op, &s, 0x9002ULL + n);
  }
}
static void run_maxpool2d_scatter(void) {
  run_pool_helper("maxpool2d_scatter", b_maxpool2d_scatter, ref_maxpool2d_scatter, 0);
}
static void run_maxpool2d_gather(void) {
  run_pool_helper("maxpool2d_gather", b_maxpool2d_gather, ref_maxpool2d_gather, 1);
}
static void run_avgpool2d_transpose(void) {
  run_pool_helper("avgpool2d_transpose", b_avgpool2d_transpose, ref_avgpool2d_transpose, 2);
}
/* ---- family A: reshape, slice, concat_rows, concat_cols, gather_rows --------------------- */

/* Each op over fixed shapes (1x1, 1xN, Nx1, a general one) and 8 random ones (dimensions
 * 1..7 from a seeded generator). The block, the target shape and the indices of the case
 * being run live in these statics (the builders take only the leaves). */
static int fa_r0, fa_c0, fa_rows, fa_cols;
static wg_real fa_idx[16];
static int fa_n_idx;

static int fa_dim(unsigned long long *rng, int hi) { return 1 + (int)tu_uniform(rng, 0, hi); }

static wg_var b_reshape(wg_tape *t, const wg_var *x) { return wg_reshape(t, x[0], fa_rows, fa_cols); }
static void ref_reshape(const grad_spec *s, double **x, double *out) {
  memcpy(out, x[0], (size_t)s->in[0].rows * (size_t)s->in[0].cols * sizeof *out);
}
static void run_reshape(void) {
  static const int fixed[][4] = {{1, 1, 1, 1}, {1, 6, 6, 1}, {6, 1, 2, 3}, {3, 4, 2, 6}, {3, 4, 4, 3}};
  unsigned long long rng = 0xA11CEULL;
  for (int i = 0; i < 13; i++) {
    int m, n;
    if (i < 5) m = fixed[i][0], n = fixed[i][1], fa_rows = fixed[i][2], fa_cols = fixed[i][3];
    else { /* a random shape, then a random factorisation of its count */
      m = fa_dim(&rng, 7), n = fa_dim(&rng, 7);
      do fa_rows = fa_dim(&rng, m * n); while ((m * n) % fa_rows);
      fa_cols = m * n / fa_rows;
    }
    grad_spec sp = {b_reshape, ref_reshape, 1, {ANY(m, n)}, fa_rows, fa_cols};
    gradcheck("reshape", &sp, 555ULL + (unsigned)i);
  }
}

static wg_var b_slice(wg_tape *t, const wg_var *x) {
  return wg_slice(t, x[0], fa_r0, fa_c0, fa_rows, fa_cols);
}
static void ref_slice(const grad_spec *s, double **x, double *out) {
  for (int i = 0; i < fa_rows; i++)
    for (int j = 0; j < fa_cols; j++)
      out[i * fa_cols + j] = x[0][(fa_r0 + i) * s->in[0].cols + fa_c0 + j];
}
static void run_slice(void) {
  /* x shape, corner, block: the whole of a 1x1, one element, a row, a column, an inner block */
  static const int fixed[][6] = {{1, 1, 0, 0, 1, 1}, {3, 4, 2, 3, 1, 1}, {1, 6, 0, 2, 1, 3},
                                 {6, 1, 1, 0, 4, 1}, {4, 5, 1, 2, 2, 3}, {3, 4, 0, 0, 3, 4}};
  unsigned long long rng = 0x511CEULL;
  for (int i = 0; i < 14; i++) {
    int m, n;
    if (i < 6) {
      m = fixed[i][0], n = fixed[i][1], fa_r0 = fixed[i][2], fa_c0 = fixed[i][3];
      fa_rows = fixed[i][4], fa_cols = fixed[i][5];
    } else {
      m = fa_dim(&rng, 7), n = fa_dim(&rng, 7);
      fa_r0 = fa_dim(&rng, m) - 1, fa_c0 = fa_dim(&rng, n) - 1;
      fa_rows = fa_dim(&rng, m - fa_r0), fa_cols = fa_dim(&rng, n - fa_c0);
    }
    grad_spec sp = {b_slice, ref_slice, 1, {ANY(m, n)}, fa_rows, fa_cols};
    gradcheck("slice", &sp, 777ULL + (unsigned)i);
  }
}

/* concat over the list (x0, x1, x0, x2): four inputs, x0 twice (its adjoint gets both runs) */
static wg_var b_concat_rows(wg_tape *t, const wg_var *x) {
  wg_var in[4] = {x[0], x[1], x[0], x[2]};
  return wg_concat_rows(t, 4, in);
}
static wg_var b_concat_cols(wg_tape *t, const wg_var *x) {
  wg_var in[4] = {x[0], x[1], x[0], x[2]};
  return wg_concat_cols(t, 4, in);
}
static wg_var b_concat_rows_one(wg_tape *t, const wg_var *x) { return wg_concat_rows(t, 1, x); }
static wg_var b_concat_cols_one(wg_tape *t, const wg_var *x) { return wg_concat_cols(t, 1, x); }
static const int fa_list[4] = {0, 1, 0, 2};
static void ref_concat_rows(const grad_spec *s, double **x, double *out) {
  int n_list = s->n_in == 1 ? 1 : 4, at = 0;
  for (int k = 0; k < n_list; k++) {
    const in_spec *in = &s->in[fa_list[k]];
    memcpy(out + at, x[fa_list[k]], (size_t)in->rows * (size_t)in->cols * sizeof *out);
    at += in->rows * in->cols;
  }
}
static void ref_concat_cols(const grad_spec *s, double **x, double *out) {
  int n_list = s->n_in == 1 ? 1 : 4, o = 0;
  for (int k = 0; k < n_list; k++) {
    const in_spec *in = &s->in[fa_list[k]];
    for (int i = 0; i < in->rows; i++)
      for (int j = 0; j < in->cols; j++) out[i * s->out_cols + o + j] = x[fa_list[k]][i * in->cols + j];
    o += in->cols;
  }
}
/* by_rows: the inputs share a column count n and have rows m0, m1, m2 (or the transpose) */
static void run_concat(const char *op, int by_rows) {
  build_fn b = by_rows ? b_concat_rows : b_concat_cols, b1 = by_rows ? b_concat_rows_one : b_concat_cols_one;
  ref_fn ref = by_rows ? ref_concat_rows : ref_concat_cols;
  static const int fixed[][4] = {{1, 1, 1, 1}, {1, 1, 1, 6}, {2, 1, 3, 1}, {2, 3, 1, 4}};
  unsigned long long rng = by_rows ? 0xC0ECA7ULL : 0xC0ECA8ULL;
  for (int i = 0; i < 12; i++) {
    int m[3], n;
    if (i < 4) m[0] = fixed[i][0], m[1] = fixed[i][1], m[2] = fixed[i][2], n = fixed[i][3];
    else m[0] = fa_dim(&rng, 5), m[1] = fa_dim(&rng, 5), m[2] = fa_dim(&rng, 5), n = fa_dim(&rng, 6);
    int total = 2 * m[0] + m[1] + m[2];
    grad_spec sp = {b, ref, 3, {ANY(m[0], n), ANY(m[1], n), ANY(m[2], n)}, total, n};
    if (!by_rows) {
      for (int k = 0; k < 3; k++) sp.in[k] = (in_spec)ANY(n, m[k]);
      sp.out_rows = n, sp.out_cols = total;
    }
    gradcheck(op, &sp, 4242ULL + (unsigned)i);
  }
  grad_spec one = {b1, ref, 1, {ANY(3, 2)}, 3, 2}; /* n = 1: a copy */
  gradcheck(op, &one, 17);
}
static void run_concat_rows(void) { run_concat("concat_rows", 1); }
static void run_concat_cols(void) { run_concat("concat_cols", 0); }

static wg_var b_gather_rows(wg_tape *t, const wg_var *x) { /* the indices are data */
  return wg_gather_rows(t, x[0], wg_input(t, fa_n_idx, 1, fa_idx));
}
static void ref_gather_rows(const grad_spec *s, double **x, double *out) {
  int n = s->in[0].cols;
  for (int i = 0; i < fa_n_idx; i++)
    for (int j = 0; j < n; j++) out[i * n + j] = x[0][(int)fa_idx[i] * n + j];
}
static void run_gather_rows(void) {
  static const int fixed[][3] = {{1, 1, 1}, {1, 5, 3}, {6, 1, 4}, {5, 3, 7}}; /* table, m */
  unsigned long long rng = 0x6A7E5ULL;
  for (int i = 0; i < 12; i++) {
    int r, n;
    if (i < 4) r = fixed[i][0], n = fixed[i][1], fa_n_idx = fixed[i][2];
    else r = fa_dim(&rng, 7), n = fa_dim(&rng, 7), fa_n_idx = fa_dim(&rng, 16);
    for (int k = 0; k < fa_n_idx; k++) fa_idx[k] = (int)tu_uniform(&rng, 0, r); /* repeats */
    grad_spec sp = {b_gather_rows, ref_gather_rows, 1, {ANY(r, n)}, fa_n_idx, n};
    gradcheck("gather_rows", &sp, 999ULL + (unsigned)i);
  }
}

/* ---- the ops the recorded VJPs are made of (issue 16) ----------------------------------- */

/* broadcast to (3 x 4) from each shape that broadcasts there; the reference is bget */
static wg_var b_broadcast(wg_tape *t, const wg_var *x) { return wg_broadcast(t, x[0], 3, 4); }
static void ref_broadcast(const grad_spec *s, double **x, double *out) {
  for (int i = 0; i < s->out_rows; i++)
    for (int j = 0; j < s->out_cols; j++) out[i * s->out_cols + j] = bget(x[0], &s->in[0], i, j);
}
static void run_broadcast(void) {
  static const grad_spec s[] = {
      {b_broadcast, ref_broadcast, 1, {ANY(1, 4)}, 3, 4},
      {b_broadcast, ref_broadcast, 1, {ANY(3, 1)}, 3, 4},
      {b_broadcast, ref_broadcast, 1, {ANY(1, 1)}, 3, 4},
      {b_broadcast, ref_broadcast, 1, {ANY(3, 4)}, 3, 4},
  };
  gradcheck_all("broadcast", s, 4);
}

/* step: values kept 0.1 or more away from the jump at 0, where the slope is 0 */
static wg_var b_step(wg_tape *t, const wg_var *x) { return wg_step(t, x[0]); }
REF_UNARY(step, v > 0 ? 1.0 : 0.0)
static void run_step(void) {
  static const grad_spec s[] = {{b_step, ref_step, 1, {{3, 4, 0.1, 2.0, 1}}, 3, 4}};
  gradcheck_all("step", s, 1);
}

/* pad: x (m x n) at [fa_r0, fa_c0] in a (fa_rows x fa_cols) result, the reference fills
 * zeros and copies; fixed shapes (the whole result, a 1x1 in a corner, a row, a column, an
 * inner block) and random ones */
static wg_var b_pad(wg_tape *t, const wg_var *x) {
  return wg_pad(t, x[0], fa_rows, fa_cols, fa_r0, fa_c0);
}
static void ref_pad(const grad_spec *s, double **x, double *out) {
  for (int i = 0; i < fa_rows * fa_cols; i++) out[i] = 0;
  for (int i = 0; i < s->in[0].rows; i++)
    for (int j = 0; j < s->in[0].cols; j++)
      out[(fa_r0 + i) * fa_cols + fa_c0 + j] = x[0][i * s->in[0].cols + j];
}
static void run_pad(void) {
  /* x shape, corner, result */
  static const int fixed[][6] = {{1, 1, 0, 0, 1, 1}, {1, 1, 2, 3, 3, 4}, {1, 3, 0, 2, 1, 6},
                                 {4, 1, 1, 0, 6, 1}, {2, 3, 1, 2, 4, 5}, {3, 4, 0, 0, 3, 4}};
  unsigned long long rng = 0x9ADULL;
  for (int i = 0; i < 14; i++) {
    int m, n;
    if (i < 6) {
      m = fixed[i][0], n = fixed[i][1], fa_r0 = fixed[i][2], fa_c0 = fixed[i][3];
      fa_rows = fixed[i][4], fa_cols = fixed[i][5];
    } else {
      fa_rows = fa_dim(&rng, 7), fa_cols = fa_dim(&rng, 7);
      fa_r0 = fa_dim(&rng, fa_rows) - 1, fa_c0 = fa_dim(&rng, fa_cols) - 1;
      m = fa_dim(&rng, fa_rows - fa_r0), n = fa_dim(&rng, fa_cols - fa_c0);
    }
    grad_spec sp = {b_pad, ref_pad, 1, {ANY(m, n)}, fa_rows, fa_cols};
    gradcheck("pad", &sp, 0x9AD0ULL + (unsigned)i);
  }
}

/* scatter_rows: m rows into a table of fa_rows rows at fa_idx (repeats, rows not named) */
static wg_var b_scatter_rows(wg_tape *t, const wg_var *x) {
  return wg_scatter_rows(t, x[0], wg_input(t, fa_n_idx, 1, fa_idx), fa_rows);
}
static void ref_scatter_rows(const grad_spec *s, double **x, double *out) {
  int n = s->in[0].cols;
  for (int i = 0; i < fa_rows * n; i++) out[i] = 0;
  for (int i = 0; i < fa_n_idx; i++)
    for (int j = 0; j < n; j++) out[(int)fa_idx[i] * n + j] += x[0][i * n + j];
}
static void run_scatter_rows(void) {
  static const int fixed[][3] = {{1, 1, 1}, {1, 5, 3}, {6, 1, 4}, {5, 3, 7}}; /* rows, n, m */
  unsigned long long rng = 0x5CA7ULL;
  for (int i = 0; i < 12; i++) {
    int n;
    if (i < 4) fa_rows = fixed[i][0], n = fixed[i][1], fa_n_idx = fixed[i][2];
    else fa_rows = fa_dim(&rng, 7), n = fa_dim(&rng, 7), fa_n_idx = fa_dim(&rng, 16);
    for (int k = 0; k < fa_n_idx; k++) fa_idx[k] = (int)tu_uniform(&rng, 0, fa_rows);
    grad_spec sp = {b_scatter_rows, ref_scatter_rows, 1, {ANY(fa_n_idx, n)}, fa_rows, n};
    gradcheck("scatter_rows", &sp, 0x5CA70ULL + (unsigned)i);
  }
}
/* normal_cdf: the textbook erf form, both tails and the middle (|x| <= 6) */
static wg_var b_normal_cdf(wg_tape *t, const wg_var *x) { return wg_normal_cdf(t, x[0]); }
REF_UNARY(normal_cdf, 0.5 * (1 + erf(v / sqrt(2.0))))
static void run_normal_cdf(void) {
  static const grad_spec s[] = {UNARY_SHAPES(b_normal_cdf, ref_normal_cdf, -6.0, 6.0, 0)};
  gradcheck_all("normal_cdf", s, (int)(sizeof s / sizeof s[0]));
}

/* onehot: x * onehot(labels) against [j == label_i] written here (the labels of softmax_ce's
 * case, n = 3 and n = 5); then the checks: a label out of range, NaN or fractional (also when
 * changed before a replay), labels not one column, labels that need a gradient */
static wg_var b_onehot3(wg_tape *t, const wg_var *in) {
  return wg_mul(t, in[0], wg_onehot(t, wg_input(t, 4, 1, ce_labels), 3));
}
static wg_var b_onehot5(wg_tape *t, const wg_var *in) {
  return wg_mul(t, in[0], wg_onehot(t, wg_input(t, 4, 1, ce_labels), 5));
}
static void ref_onehot(const grad_spec *s, double **x, double *out) {
  int m = s->out_rows, n = s->out_cols;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) out[i * n + j] = j == (int)ce_labels[i] ? x[0][i * n + j] : 0;
}
/* argmax_mask: x * argmax_mask(x) against x kept only at each group's largest element, found
 * here; then ties (the first wins) and NaN (the first NaN wins) by hand */
static wg_var b_amask0(wg_tape *t, const wg_var *x) { return wg_mul(t, x[0], wg_argmax_mask(t, x[0], 0)); }
static wg_var b_amask1(wg_tape *t, const wg_var *x) { return wg_mul(t, x[0], wg_argmax_mask(t, x[0], 1)); }
static void ref_amask(const grad_spec *s, double **x, double *out, int axis) {
  int m = s->in[0].rows, n = s->in[0].cols, groups = axis ? m : n, k = axis ? n : m;
  for (int e = 0; e < m * n; e++) out[e] = 0;
  for (int g = 0; g < groups; g++) {
    int best = axis ? g * n : g, step = axis ? 1 : n;
    for (int i = 1; i < k; i++)
      if (x[0][best] < x[0][(axis ? g * n : g) + i * step]) best = (axis ? g * n : g) + i * step;
    out[best] = x[0][best];
  }
}
static void ref_amask0(const grad_spec *s, double **x, double *o) { ref_amask(s, x, o, 0); }
static void ref_amask1(const grad_spec *s, double **x, double *o) { ref_amask(s, x, o, 1); }
static void run_argmax_mask(void) {
  static const grad_spec s[] = {
      {b_amask0, ref_amask0, 1, {ANY(3, 4)}, 3, 4}, {b_amask1, ref_amask1, 1, {ANY(3, 4)}, 3, 4},
      {b_amask0, ref_amask0, 1, {ANY(1, 5)}, 1, 5}, {b_amask1, ref_amask1, 1, {ANY(1, 5)}, 1, 5},
      {b_amask0, ref_amask0, 1, {ANY(5, 1)}, 5, 1}, {b_amask1, ref_amask1, 1, {ANY(5, 1)}, 5, 1},
  };
  gradcheck_all("argmax_mask", s, 6);
  static const wg_real x[8] = {1, 3, 3, 2, 1, NAN, 5, NAN}; /* rows: a tie, NaNs */
  static const wg_real want1[8] = {0, 1, 0, 0, 0, 1, 0, 0};
  static const wg_real want0[8] = {1, 0, 0, 0, 0, 1, 1, 1}; /* columns: 1 = 1 keeps the first */
  wg_tape *t = wg_tape_new();
  wg_var in = wg_input(t, 2, 4, x);
  wg_var m1 = wg_argmax_mask(t, in, 1), m0 = wg_argmax_mask(t, in, 0);
  for (int e = 0; e < 8; e++) {
    ck_assert(wg_value(t, m1).data[e] == want1[e]);
    ck_assert(wg_value(t, m0).data[e] == want0[e]);
  }
  wg_argmax_mask(t, in, 2);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "argmax_mask: axis 2"), "%s", wg_tape_error(t));
  wg_tape_free(t);
}

static void run_onehot(void) {
  static const grad_spec s[] = {{b_onehot3, ref_onehot, 1, {ANY(4, 3)}, 4, 3},
                                {b_onehot5, ref_onehot, 1, {ANY(4, 5)}, 4, 5}};
  gradcheck_all("onehot", s, 2);
  static const wg_real bad[][2] = {{0, 3}, {0, -1}, {0, NAN}, {2, 0.5}};
  for (int k = 0; k < 4; k++) { /* at record */
    wg_tape *t = wg_tape_new();
    wg_onehot(t, wg_input(t, 2, 1, bad[k]), 3);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
    ck_assert_msg(strstr(wg_tape_error(t), "onehot: label") &&
                  strstr(wg_tape_error(t), "not a class index 0..2"), "%s", wg_tape_error(t));
    wg_tape_free(t);
  }
  wg_real lab[2] = {1, 2};
  wg_tape *t = wg_tape_new();
  wg_var h = wg_onehot(t, wg_input(t, 2, 1, lab), 3);
  const wg_real want[6] = {0, 1, 0, 0, 0, 1};
  for (int e = 0; e < 6; e++) ck_assert(wg_value(t, h).data[e] == want[e]);
  lab[1] = 3; /* before a replay */
  ck_assert_int_eq(wg_forward(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "label 3 in row 1"), "%s", wg_tape_error(t));
  wg_tape_reset(t);
  wg_real two[4] = {0, 1, 1, 0};
  wg_onehot(t, wg_input(t, 2, 2, two), 3);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  wg_tape_reset(t);
  wg_onehot(t, wg_input(t, 2, 1, lab), 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  wg_tape_reset(t);
  wg_param *P = wg_param_new("c", 2, 1);
  wg_onehot(t, wg_use(t, P), 3);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "need a gradient"), "%s", wg_tape_error(t));
  wg_tape_free(t);
  wg_param_free(P);
}

/* ---- the table of cases, indexed by the op enum ------------------------------------------ */

/* Generated from the op list: an op of src/ops/oplist.h without a run_<name> above is a
 * compile error ("'run_<name>' undeclared"), so every op has its case. */
static void (*const op_cases[WG_OP_COUNT])(void) = {
#define WG_OP(E, name, ...) [WG_OP_##E] = run_##name,
#include "ops/oplist.h"
#undef WG_OP
};

START_TEST(every_op_has_a_passing_gradient_test) {
  ck_assert_msg(op_cases[_i] != NULL, "no gradient test for op %s", wg_ops[_i].name);
  op_cases[_i]();
}
END_TEST

/* Every table entry is complete: a unique name, the three kernels and the three rules. */
START_TEST(op_table_entries_are_complete) {
  for (int i = 0; i < WG_OP_COUNT; i++) {
    const wg_op_info *o = &wg_ops[i];
    ck_assert_msg(o->name && o->name[0], "op %d has no name", i);
    ck_assert_msg(o->forward && o->vjp && o->jvp, "op %s lacks a kernel", o->name);
    ck_assert_msg(o->forward_rule[0] && o->vjp_rule[0] && o->jvp_rule[0], "op %s lacks a rule",
                  o->name);
    /* -1: a variable number of inputs (custom ops 1..WG_MAX_INPUTS, concat any n >= 1) */
    ck_assert_msg(o->n_in >= -1 && o->n_in <= WG_MAX_INPUTS, "op %s: n_in %d", o->name, o->n_in);
    for (int j = 0; j < i; j++)
      ck_assert_msg(strcmp(o->name, wg_ops[j].name) != 0, "op name %s twice", o->name);
  }
}
END_TEST

/* ---- numerical extremes -------------------------------------------------------------- */

/* Records f over the leaf values v (a parameter 1 x n), backward from sum(f(v)). */
typedef wg_var (*unary_fn)(wg_tape *, wg_var);
static void extreme_unary(unary_fn f, const double *v, int n, const double *expect,
                          const char *what) {
  wg_param *P = wg_param_new("x", 1, n);
  tu_to_real(wg_param_value(P).data, v, (size_t)n);
  wg_tape *t = wg_tape_new();
  wg_var y = f(t, wg_use(t, P));
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  for (int i = 0; i < n; i++) {
    double yi = wg_value(t, y).data[i], gi = wg_param_grad(P).data[i];
    ck_assert_msg(yi == expect[i], "%s(%g) = %.17g, expected %g", what, v[i], yi, expect[i]);
    ck_assert_msg(isfinite(gi), "%s'(%g) = %g is not finite", what, v[i], gi);
  }
  wg_tape_free(t);
  wg_param_free(P);
}

/* the limits: sigmoid(+-1e308) = 1, 0 and tanh(+-1e308) = +-1, exactly in double (1e38 in float:
 * TU_BIG, tests/tol.h) */
START_TEST(sigmoid_at_plus_minus_1e308_is_exact_and_finite) {
  double v[4] = {TU_BIG, -TU_BIG, 800, -800}, e[4] = {1, 0, 1, 0};
  extreme_unary(wg_sigmoid, v, 4, e, "sigmoid");
}
END_TEST

START_TEST(tanh_at_plus_minus_1e308_is_exact_and_finite) {
  double v[2] = {TU_BIG, -TU_BIG}, e[2] = {1, -1};
  extreme_unary(wg_tanh, v, 2, e, "tanh");
}
END_TEST

/* bce_logits at z = +-1000: per element max(z,0) - z y + log1p(exp(-|z|)) with exp(-1000)
 * = 0 in double, so (1000,0) -> 1000, (1000,1) -> 0, (-1000,0) -> 0, (-1000,1) -> 1000, mean
 * 500; the z gradient (sigmoid(z) - y)/4 = (1/4, 0, 0, -1/4), the y gradient -z/4. */
START_TEST(bce_logits_at_plus_minus_1000_is_finite) {
  double z[4] = {1000, 1000, -1000, -1000}, y[4] = {0, 1, 0, 1};
  double gz[4] = {0.25, 0, 0, -0.25}, gy[4] = {-250, -250, 250, 250}, each[4] = {1000, 0, 0, 1000};
  wg_param *Z = wg_param_new("z", 1, 4), *Y = wg_param_new("y", 1, 4);
  tu_to_real(wg_param_value(Z).data, z, sizeof z / sizeof z[0]);
  tu_to_real(wg_param_value(Y).data, y, sizeof y / sizeof y[0]);
  wg_tape *t = wg_tape_new();
  wg_var L = wg_bce_logits(t, wg_use(t, Z), wg_use(t, Y));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq_tol(wg_value(t, L).data[0], 500, 500 * 1e-15);
  for (int i = 0; i < 4; i++) {
    ck_assert(isfinite(wg_param_grad(Z).data[i]) && isfinite(wg_param_grad(Y).data[i]));
    ck_assert_double_eq_tol(wg_param_grad(Z).data[i], gz[i], TU_TOL(1e-15));
    ck_assert_double_eq_tol(wg_param_grad(Y).data[i], gy[i], TU_TOL(1e-12));
  }
  for (int i = 0; i < 4; i++) { /* each case alone */
    wg_tape_reset(t);
    wg_var Li = wg_bce_logits(t, wg_scalar(t, z[i]), wg_scalar(t, y[i]));
    ck_assert_double_eq_tol(wg_value(t, Li).data[0], each[i], TU_TOL(1e-12));
  }
  wg_tape_free(t);
  wg_param_free(Z);
  wg_param_free(Y);
}
END_TEST

/* bce on probabilities clamps each log at -100: bce(p=0, y=1) = -log-clamp = 100 exactly,
 * bce(p=1, y=0) = 100, and the gradient stays finite. */
START_TEST(bce_at_p_zero_is_100_with_finite_gradient) {
  double p[2] = {0, 1}, y[2] = {1, 0};
  for (int i = 0; i < 2; i++) {
    wg_param *P = wg_param_new("p", 1, 1);
    wg_param_value(P).data[0] = p[i];
    wg_tape *t = wg_tape_new();
    wg_var L = wg_bce(t, wg_use(t, P), wg_scalar(t, y[i]));
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    ck_assert_double_eq(wg_value(t, L).data[0], 100);
    ck_assert(isfinite(wg_param_grad(P).data[0]));
    wg_tape_free(t);
    wg_param_free(P);
  }
}
END_TEST

/* the seed's composition bce(sigmoid(z)) at a saturated logit stays finite through the clamp */
START_TEST(bce_of_saturated_sigmoid_is_finite) {
  wg_param *Z = wg_param_new("z", 1, 2);
  wg_param_value(Z).data[0] = TU_BIG;
  wg_param_value(Z).data[1] = -TU_BIG;
  wg_real y[2] = {0, 1}; /* both maximally wrong: each term clamps at 100 */
  wg_tape *t = wg_tape_new();
  wg_var L = wg_bce(t, wg_sigmoid(t, wg_use(t, Z)), wg_input(t, 1, 2, y));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_value(t, L).data[0], 100);
  ck_assert(isfinite(wg_param_grad(Z).data[0]) && isfinite(wg_param_grad(Z).data[1]));
  wg_tape_free(t);
  wg_param_free(Z);
}
END_TEST

/* ---- family B (issue 14): closed forms, domain edges, kinks, bad arguments ------------------ */

/* gelu(x) and gelu'(x) against values written from Python's math module (libm's erfc):
 *   python3 -c "import math; [print('%.17g %.17g' % (x*0.5*math.erfc(-x/math.sqrt(2)),
 *     0.5*math.erfc(-x/math.sqrt(2)) + x*math.exp(-x*x/2)/math.sqrt(2*math.pi)))
 *     for x in (-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0)]"
 * (at x = -6 the form x/2 (1 + erf(x/sqrt 2)) gives -5.9195258694799691e-09, wrong in the
 * ninth digit from cancellation; the erfc form keeps the relative precision). Tolerance
 * 2e-14 relative: erfc(z) near z = 6/sqrt 2 has condition number about 2 z^2 = 36, so the
 * rounding of x/sqrt 2 alone moves it by some 1e-14; a 50-digit series (Python's decimal)
 * gives gelu(-6) = -5.91952587022618854e-09, and libm and Python's erfc are 4.5e-15 and
 * 3.1e-15 from it, on either side. */
START_TEST(gelu_against_erf_values) {
  static const double x[8] = {-6, -3, -1, -0.5, 0, 0.5, 1, 3};
  static const double y[8] = {-5.9195258702262067e-09, -0.004049694094890287,
                              -0.15865525393145707,    -0.15426876936299344,
                              0,                       0.34573123063700656,
                              0.84134474606854293,     2.9959503059051098};
  static const double g[8] = {-3.5468709453902015e-08, -0.011945647204183927,
                              -0.083315470587686291,   0.13250487534383712,
                              0.5,                     0.86749512465616285,
                              1.0833154705876864,      1.0119456472041839};
  wg_param *P = wg_param_new("x", 1, 8);
  tu_to_real(wg_param_value(P).data, x, sizeof x / sizeof x[0]);
  wg_tape *t = wg_tape_new();
  wg_var v = wg_gelu(t, wg_use(t, P));
  ck_assert_int_eq(wg_backward(t, wg_sum(t, v)), WG_OK);
  for (int i = 0; i < 8; i++) {
    double yi = wg_value(t, v).data[i], gi = wg_param_grad(P).data[i];
    ck_assert_msg(fabs(yi - y[i]) <= TU_TOL(2e-14) * fabs(y[i]), "gelu(%g) = %.17g, expected %.17g",
                  x[i], yi, y[i]);
    ck_assert_msg(fabs(gi - g[i]) <= TU_TOL(2e-14) * fabs(g[i]), "gelu'(%g) = %.17g, expected %.17g",
                  x[i], gi, g[i]);
  }
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* softplus at +-750 and +-1e308: log(1 + exp(x)) would overflow; max(x, 0) + log1p(exp(-|x|))
 * gives x and exp(-750) = 0 exactly in double, and the slope sigmoid(x) is 1 and 0 exactly. */
START_TEST(softplus_at_plus_minus_750_is_exact_and_finite) {
  double v[4] = {750, -750, TU_BIG, -TU_BIG}, e[4] = {750, 0, (wg_real)TU_BIG, 0};
  extreme_unary(wg_softplus, v, 4, e, "softplus");
  wg_param *P = wg_param_new("x", 1, 4);
  tu_to_real(wg_param_value(P).data, v, sizeof v / sizeof v[0]);
  wg_tape *t = wg_tape_new();
  ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_softplus(t, wg_use(t, P)))), WG_OK);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_param_grad(P).data[i], e[i] > 0 ? 1 : 0);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* Records op over a (1x1) parameter of value x with WG_CHECK_FINITE on, backward from the
 * sum; returns the tape (status and message to inspect) and the gradient in *g. */
static wg_tape *edge_case(wg_var (*op)(wg_tape *, wg_var, wg_real), wg_real c, double x,
                          wg_param **P, int checks) {
  *P = wg_param_new("x", 1, 1);
  wg_param_value(*P).data[0] = x;
  wg_tape *t = wg_tape_new();
  if (checks) wg_tape_set_checks(t, WG_CHECK_FINITE);
  wg_var y = op(t, wg_use(t, *P), c);
  wg_name(t, y, "y");
  wg_backward(t, wg_sum(t, y));
  return t;
}
static wg_var op_sqrt(wg_tape *t, wg_var x, wg_real c) { (void)c; return wg_sqrt(t, x); }

/* sqrt and pow at 0 and below: the value and slope of libm and PyTorch, and under
 * WG_CHECK_FINITE a non-finite value or adjoint is reported naming the op and the row. */
START_TEST(sqrt_and_pow_at_zero_and_below) {
  static const struct {
    wg_var (*op)(wg_tape *, wg_var, wg_real);
    double c, x, y, g; /* value and dL/dx without checks; NaN: not finite */
    int bad;           /* 0: finite; 1: the forward is reported; 2: the backward */
  } k[] = {
      {op_sqrt, 0, 0, 0, INFINITY, 2}, /* slope +inf at 0 */
      {op_sqrt, 0, -1, NAN, NAN, 1},   /* sqrt(-1) = NaN */
      {wg_pow, 0.5, 0, 0, INFINITY, 2},
      {wg_pow, -1, 0, INFINITY, NAN, 1},
      {wg_pow, 0.5, -4, NAN, NAN, 1},
      {wg_pow, 0, 0, 1, 0, 0}, /* 0^0 = 1, slope taken as 0 */
      {wg_pow, 1, 0, 0, 1, 0},
      {wg_pow, 2, 0, 0, 0, 0},
      {wg_pow, 3, -2, -8, 12, 0}, /* integer exponents take negative bases */
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    wg_param *P;
    wg_tape *t = edge_case(k[i].op, k[i].c, k[i].x, &P, 0);
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
    double y = t->rows[1].val[0], g = wg_param_grad(P).data[0];
    ck_assert_msg(isnan(k[i].y) ? isnan(y) : y == k[i].y, "case %zu: y = %g", i, y);
    ck_assert_msg(isnan(k[i].g) ? !isfinite(g) : g == k[i].g, "case %zu: dx = %g", i, g);
    wg_tape_free(t);
    wg_param_free(P);
    t = edge_case(k[i].op, k[i].c, k[i].x, &P, 1);
    const char *name = k[i].op == op_sqrt ? "sqrt" : "pow", *e = wg_tape_error(t);
    if (!k[i].bad) {
      ck_assert_msg(wg_tape_status(t) == WG_OK, "case %zu: %s", i, e);
    } else {
      ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
      char want[64]; /* the forward: "sqrt: row 1 (v1) produced nan at [0,0] from input x
                        = -1"; the backward: "wg_backward: the VJP of sqrt row 1 (y) ..." */
      if (k[i].bad == 1) snprintf(want, sizeof want, "%s: row 1 (v1) produced ", name);
      else snprintf(want, sizeof want, "wg_backward: the VJP of %s row 1 (y) produced ", name);
      ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "case %zu: %s", i, e);
    }
    wg_tape_free(t);
    wg_param_free(P);
  }
}
END_TEST

/* The slopes chosen at the kinks, by hand: abs'(0) = 0, leaky_relu'(0) = alpha, clamp' = 1
 * at both bounds, maximum and minimum split a tie in half. wg_gradcheck fails none of them:
 * where the chosen slope is not the central difference (leaky_relu: alpha vs (1 + alpha)/2,
 * clamp: 1 vs 1/2) the element is reported as a kink (skipped); where it is (abs: 0, a tie
 * of maximum or minimum: 1/2, the mean of the one-sided slopes) it passes as checked. */
START_TEST(kinks_take_pytorch_slopes_and_gradcheck_skips_them) {
  wg_param *P = wg_param_new("P", 1, 4), *Q = wg_param_new("Q", 1, 4);
  const wg_real p[4] = {0.0, 0.7, -0.4, 1.3}, q[4] = {0.0, 0.2, -0.4, 1.5};
  memcpy(wg_param_value(P).data, p, sizeof p);
  memcpy(wg_param_value(Q).data, q, sizeof q);
  wg_tape *t = wg_tape_new();
  for (int op = 0; op < 5; op++) {
    wg_tape_reset(t);
    wg_param_zero_grad(P);
    wg_param_zero_grad(Q);
    wg_var a = wg_use(t, P), b = wg_use(t, Q), y;
    static const double slope[5][4] = {
        {0, 1, -1, 1},         /* abs at 0, 0.7, -0.4, 1.3 */
        {0.25, 1, 0.25, 1},    /* leaky_relu, alpha 0.25 */
        {1, 1, 1, 0},          /* clamp to [-0.4, 0.7]: 0 inside, both bounds, 1.3 above */
        {0.5, 1, 0.5, 0},      /* maximum(P, Q): ties at 0 and -0.4 */
        {0.5, 0, 0.5, 1},      /* minimum(P, Q) */
    };
    int kinks = op == 1 ? 1 : op == 2 ? 2 : 0; /* skipped elements */
    y = op == 0 ? wg_abs(t, a) : op == 1 ? wg_leaky_relu(t, a, 0.25)
      : op == 2 ? wg_clamp(t, a, -0.4, 0.7) : op == 3 ? wg_maximum(t, a, b) : wg_minimum(t, a, b);
    wg_var L = wg_sum(t, y);
    if (op < 3) L = wg_add(t, L, wg_sum(t, b)); /* Q on every tape: 4 smooth elements */
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    for (int i = 0; i < 4; i++)
      ck_assert_msg(wg_param_grad(P).data[i] == slope[op][i], "op %d: dP[%d] = %g", op, i,
                    wg_param_grad(P).data[i]);
    if (op >= 3)
      for (int i = 0; i < 4; i++)
        ck_assert_double_eq(wg_param_grad(Q).data[i], 1 - slope[op][i]);
    wg_gradcheck_result r;
    ck_assert_int_eq(wg_gradcheck(t, L, NULL, &r), 0);
    ck_assert_msg(r.skipped == kinks && r.failed == 0 && r.checked == 8 - kinks,
                  "op %d: %d skipped, %d failed, %d checked", op, r.skipped, r.failed, r.checked);
  }
  wg_tape_free(t);
  wg_param_free(P);
  wg_param_free(Q);
}
END_TEST

/* maximum and minimum by hand with broadcasting: a (2x2) = [1 5; 3 2], b (1x2) = [3 2],
 * max = [3 5; 3 2] with ties at (1,0) and (1,1); L = sum(max): da = [0 1; 1/2 1/2],
 * db = [1 + 1/2, 0 + 1/2]; min = [1 2; 3 2]: da = [1 0; 1/2 1/2], db = [0 + 1/2, 1 + 1/2]. */
START_TEST(maximum_minimum_by_hand_with_broadcasting) {
  const wg_real av[4] = {1, 5, 3, 2}, bv[2] = {3, 2};
  const wg_real y[2][4] = {{3, 5, 3, 2}, {1, 2, 3, 2}};
  const double da[2][4] = {{0, 1, 0.5, 0.5}, {1, 0, 0.5, 0.5}};
  const double db[2][2] = {{1.5, 0.5}, {0.5, 1.5}};
  for (int op = 0; op < 2; op++) {
    wg_param *A = wg_param_new("A", 2, 2), *B = wg_param_new("B", 1, 2);
    memcpy(wg_param_value(A).data, av, sizeof av);
    memcpy(wg_param_value(B).data, bv, sizeof bv);
    wg_tape *t = wg_tape_new();
    wg_var a = wg_use(t, A), b = wg_use(t, B);
    wg_var m = op == 0 ? wg_maximum(t, a, b) : wg_minimum(t, a, b);
    ck_assert_int_eq(wg_backward(t, wg_sum(t, m)), WG_OK);
    for (int i = 0; i < 4; i++) {
      ck_assert_double_eq(wg_value(t, m).data[i], y[op][i]);
      ck_assert_double_eq(wg_param_grad(A).data[i], da[op][i]);
    }
    for (int j = 0; j < 2; j++) ck_assert_double_eq(wg_param_grad(B).data[j], db[op][j]);
    /* forward mode: tangents 1 on a and b give ty = 1 everywhere (the halves add up) */
    wg_mat ta = wg_tangent(t, a), tb = wg_tangent(t, b);
    for (int i = 0; i < 4; i++) ta.data[i] = 1;
    for (int j = 0; j < 2; j++) tb.data[j] = 1;
    ck_assert_int_eq(wg_jvp(t), WG_OK);
    for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_tangent(t, m).data[i], 1);
    wg_tape_free(t);
    wg_param_free(A);
    wg_param_free(B);
  }
}
END_TEST

/* NaN passes through maximum, minimum and clamp (as torch.maximum, torch.clamp), and
 * WG_CHECK_FINITE names the leaf it came from. */
START_TEST(nan_propagates_through_maximum_minimum_clamp) {
  const wg_real a[3] = {NAN, 1, 2}, b[3] = {0, NAN, 1};
  wg_tape *t = wg_tape_new();
  wg_var x = wg_input(t, 1, 3, a), z = wg_input(t, 1, 3, b);
  wg_mat mx = wg_value(t, wg_maximum(t, x, z)), mn = wg_value(t, wg_minimum(t, x, z));
  wg_mat c = wg_value(t, wg_clamp(t, x, -1, 1));
  ck_assert(isnan(mx.data[0]) && isnan(mx.data[1]) && mx.data[2] == 2);
  ck_assert(isnan(mn.data[0]) && isnan(mn.data[1]) && mn.data[2] == 1);
  ck_assert(isnan(c.data[0]) && c.data[1] == 1 && c.data[2] == 1);
  wg_tape_reset(t);
  wg_tape_set_checks(t, WG_CHECK_FINITE);
  x = wg_input(t, 1, 3, a);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_msg(strstr(wg_tape_error(t), "input"), "%s", wg_tape_error(t));
  wg_tape_free(t);
}
END_TEST

/* Bad arguments: a clear status naming the op, the input's name and shape, and the row. */
START_TEST(family_b_bad_arguments) {
  const wg_real v[6] = {1, 2, 3, 4, 5, 6};
  static const struct {
    int which;
    double c1, c2;
    const char *expect;
  } k[] = {
      {0, NAN, 0, "pow: X (2x3) ^ c: the exponent c = nan must be a finite number (row 1)"},
      {0, INFINITY, 0, "pow: X (2x3) ^ c: the exponent c = inf must be a finite number (row 1)"},
      {1, -INFINITY, 0, "leaky_relu: X (2x3): the slope alpha = -inf must be a finite number (row 1)"},
      {2, 1, -1, "clamp: X (2x3): the bounds lo = 1, hi = -1 are crossed: lo <= hi is needed (row 1)"},
      {2, NAN, 1, "clamp: X (2x3): the bounds lo = nan, hi = 1 may not be NaN (row 1)"},
      {3, 0, 0, "maximum: X (2x3) vs (3x2): shapes do not broadcast (each axis must be equal or 1) (row 2)"},
      {4, 0, 0, "minimum: X (2x3) vs (3x2): shapes do not broadcast (each axis must be equal or 1) (row 2)"},
  };
  wg_tape *t = wg_tape_new();
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    wg_tape_reset(t);
    wg_var x = wg_input(t, 2, 3, v), y;
    wg_name(t, x, "X");
    switch (k[i].which) {
    case 0: y = wg_pow(t, x, k[i].c1); break;
    case 1: y = wg_leaky_relu(t, x, k[i].c1); break;
    case 2: y = wg_clamp(t, x, k[i].c1, k[i].c2); break;
    case 3: y = wg_maximum(t, x, wg_input(t, 3, 2, v)); break;
    default: y = wg_minimum(t, x, wg_input(t, 3, 2, v)); break;
    }
    ck_assert_uint_eq(y.gen, 0);
    ck_assert_int_eq(wg_tape_status(t), k[i].which >= 3 ? WG_ERR_SHAPE : WG_ERR_ARG);
    ck_assert_str_eq(wg_tape_error(t), k[i].expect);
  }
  /* a failed handle: each constructor names itself */
  static const char *names[11] = {"pow", "sqrt", "abs", "sin", "cos", "softplus", "gelu",
                                  "leaky_relu", "clamp", "maximum", "minimum"};
  for (int i = 0; i < 11; i++) {
    wg_tape_reset(t);
    wg_var n = wg_none(), x = wg_input(t, 1, 1, v), y;
    switch (i) {
    case 0: y = wg_pow(t, n, 2); break;
    case 1: y = wg_sqrt(t, n); break;
    case 2: y = wg_abs(t, n); break;
    case 3: y = wg_sin(t, n); break;
    case 4: y = wg_cos(t, n); break;
    case 5: y = wg_softplus(t, n); break;
    case 6: y = wg_gelu(t, n); break;
    case 7: y = wg_leaky_relu(t, n, 0.1); break;
    case 8: y = wg_clamp(t, n, 0, 1); break;
    case 9: y = wg_maximum(t, x, n); break;
    default: y = wg_minimum(t, n, x); break;
    }
    ck_assert_uint_eq(y.gen, 0);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
    char want[96];
    snprintf(want, sizeof want, "%s: input is the none handle (an earlier call failed?)", names[i]);
    ck_assert_str_eq(wg_tape_error(t), want);
  }
  wg_tape_free(t);
  ck_assert_uint_eq(wg_sqrt(NULL, wg_none()).gen, 0); /* a NULL tape */
  ck_assert_uint_eq(wg_clamp(NULL, wg_none(), 0, 1).gen, 0);
}
END_TEST

/* maximum over (200x100) with a (1x100) and a (200x1) operand runs binary.c's parallel
 * loops: with 2 threads the values and gradients have the bits of 1 thread. */
START_TEST(maximum_bits_do_not_depend_on_threads) {
  unsigned long long rng = 77;
  wg_param *A = wg_param_new("A", 200, 100), *B = wg_param_new("B", 1, 100),
           *C = wg_param_new("C", 200, 1);
  for (int i = 0; i < 20000; i++) wg_param_value(A).data[i] = tu_uniform(&rng, -1, 1);
  for (int i = 0; i < 100; i++) wg_param_value(B).data[i] = tu_uniform(&rng, -1, 1);
  for (int i = 0; i < 200; i++) wg_param_value(C).data[i] = tu_uniform(&rng, -1, 1);
  wg_real *save[2] = {malloc(20300 * sizeof(wg_real)), malloc(20300 * sizeof(wg_real))};
  for (int run = 0; run < 2; run++) {
    ck_assert_int_ge(wg_set_threads(run ? 2 : 1), 1);
    wg_param_zero_grad(A), wg_param_zero_grad(B), wg_param_zero_grad(C);
    wg_tape *t = wg_tape_new();
    wg_var m = wg_minimum(t, wg_maximum(t, wg_use(t, A), wg_use(t, B)), wg_use(t, C));
    ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_square(t, m))), WG_OK);
    memcpy(save[run], wg_param_grad(A).data, 20000 * sizeof(wg_real));
    memcpy(save[run] + 20000, wg_param_grad(B).data, 100 * sizeof(wg_real));
    memcpy(save[run] + 20100, wg_param_grad(C).data, 200 * sizeof(wg_real));
    wg_tape_free(t);
  }
  wg_set_threads(1);
  ck_assert_mem_eq(save[0], save[1], 20300 * sizeof(wg_real));
  free(save[0]), free(save[1]);
  wg_param_free(A), wg_param_free(B), wg_param_free(C);
}
END_TEST

/* ---- forward mode beyond single ops --------------------------------------------------- */

/* A small network of many ops, every leaf a parameter (handles in u), loss 1x1. */
static wg_var mixed_net(wg_tape *t, wg_param *const *p, wg_var *u, const wg_real *x,
                        const wg_real *y) {
  wg_var X = wg_input(t, 5, 3, x), Y = wg_input(t, 5, 1, y);
  for (int k = 0; k < 4; k++) u[k] = wg_use(t, p[k]);
  wg_var h = wg_tanh(t, wg_add(t, wg_matmul(t, X, u[0]), u[1]));
  wg_var h2 = wg_mul(t, wg_relu(t, h), wg_exp(t, wg_scale(t, h, 0.5)));
  wg_var z = wg_add(t, wg_matmul(t, h2, u[2]), u[3]);
  wg_var L = wg_add(t, wg_bce(t, wg_sigmoid(t, z), Y), wg_mse(t, z, Y));
  return wg_add(t, L, wg_mean(t, wg_square(t, wg_sum_rows(t, wg_transpose(t, h)))));
}

/* Forward and reverse mode agree on a whole network: the JVP along d equals <grad L, d>
 * (the gradient from wg_backward), to rounding. */
START_TEST(jvp_along_d_equals_gradient_dot_d_on_a_network) {
  unsigned long long rng = 4711;
  wg_real x[15], y[5];
  for (int i = 0; i < 15; i++) x[i] = tu_uniform(&rng, -1, 1);
  for (int i = 0; i < 5; i++) y[i] = i % 2;
  const int shape[4][2] = {{3, 4}, {1, 4}, {4, 1}, {1, 1}};
  wg_param *p[4];
  for (int k = 0; k < 4; k++) {
    p[k] = wg_param_new("p", shape[k][0], shape[k][1]);
    for (int i = 0; i < shape[k][0] * shape[k][1]; i++)
      wg_param_value(p[k]).data[i] = tu_uniform(&rng, -1, 1);
  }
  wg_tape *t = wg_tape_new();
  wg_var u[4];
  wg_var L = mixed_net(t, p, u, x, y);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  double dot = 0, scale = 0;
  for (int k = 0; k < 4; k++) {
    wg_mat tk = wg_tangent(t, u[k]);
    for (int i = 0; i < tk.rows * tk.cols; i++) {
      tk.data[i] = tu_uniform(&rng, -1, 1);
      double g = wg_param_grad(p[k]).data[i];
      dot += g * tk.data[i];
      scale += fabs(g * tk.data[i]);
    }
  }
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  double jv = wg_tangent(t, L).data[0];
  ck_assert_msg(scale > 0.1, "a degenerate network: |grad| |d| = %g", scale);
  ck_assert_msg(fabs(jv - dot) <= TU_TOL(1e-13) * scale, "JVP %.17g, <grad, d> %.17g", jv, dot);
  wg_tape_free(t);
  for (int k = 0; k < 4; k++) wg_param_free(p[k]);
}
END_TEST

/* Tangents may sit on data inputs too (they get no adjoint, but forward mode sees them):
 * the JVP along a direction in X equals the central difference of replays on moved data. */
START_TEST(jvp_through_an_input_leaf_matches_finite_differences) {
  unsigned long long rng = 99;
  wg_real x[12], w[4];
  for (int i = 0; i < 12; i++) x[i] = tu_uniform(&rng, -1, 1);
  for (int i = 0; i < 4; i++) w[i] = tu_uniform(&rng, -1, 1);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 3, 4, x);
  wg_var L = wg_sum(t, wg_sigmoid(t, wg_matmul(t, X, wg_input(t, 4, 1, w))));
  wg_mat tx = wg_tangent(t, X);
  double d[12];
  for (int i = 0; i < 12; i++) tx.data[i] = d[i] = tu_uniform(&rng, -1, 1);
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  double jv = wg_tangent(t, L).data[0];
  for (int i = 0; i < 12; i++) x[i] += FD_H * d[i];
  double lp = loss_now(t, L);
  for (int i = 0; i < 12; i++) x[i] -= 2 * FD_H * d[i];
  double lm = loss_now(t, L), fd = (lp - lm) / (2 * FD_H);
  ck_assert_msg(fabs(jv - fd) <= FD_ABS + FD_REL * fabs(fd), "JVP %.12g, fd %.12g", jv, fd);
  wg_tape_free(t);
}
END_TEST

/* With no tangent set, every leaf's tangent is zero, so every row's is. */
START_TEST(jvp_without_tangents_is_zero) {
  wg_param *W = wg_param_new("W", 2, 2);
  for (int i = 0; i < 4; i++) wg_param_value(W).data[i] = i + 1;
  wg_tape *t = wg_tape_new();
  wg_var L = wg_sum(t, wg_exp(t, wg_use(t, W)));
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  ck_assert_double_eq(wg_tangent(t, L).data[0], 0);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* ---- family C beyond the generic gradient test ------------------------------------------- */

static wg_param *param_of(const char *name, int rows, int cols, const wg_real *v) {
  wg_param *P = wg_param_new(name, rows, cols);
  memcpy(wg_param_value(P).data, v, (size_t)rows * (size_t)cols * sizeof *v);
  return P;
}

/* x = [1 5 3; 4 2 6] by hand: sums [5 7 9] and [9; 12], means [2.5 3.5 4.5] and [3; 4],
 * maxima [4 5 6] and [5; 6]; with L = sum(y) the max's gradient marks where each maximum is. */
START_TEST(axis_reductions_by_hand) {
  static const wg_real x[6] = {1, 5, 3, 4, 2, 6};
  static const double want[3][2][3] = {{{5, 7, 9}, {9, 12}}, {{2.5, 3.5, 4.5}, {3, 4}},
                                       {{4, 5, 6}, {5, 6}}};
  static const double grad_max[2][6] = {{0, 1, 0, 1, 0, 1}, {0, 1, 0, 0, 0, 1}};
  wg_var (*const f[3])(wg_tape *, wg_var, int) = {wg_sum_axis, wg_mean_axis, wg_max_axis};
  for (int k = 0; k < 3; k++)
    for (int axis = 0; axis < 2; axis++) {
      wg_param *X = param_of("X", 2, 3, x);
      wg_tape *t = wg_tape_new();
      wg_var y = f[k](t, wg_use(t, X), axis);
      wg_mat v = wg_value(t, y);
      ck_assert_int_eq(v.rows, axis ? 2 : 1);
      ck_assert_int_eq(v.cols, axis ? 1 : 3);
      for (int e = 0; e < (axis ? 2 : 3); e++) ck_assert_double_eq(v.data[e], want[k][axis][e]);
      ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
      for (int e = 0; e < 6; e++) {
        double g = k == 0 ? 1 : k == 1 ? 1.0 / (axis ? 3 : 2) : grad_max[axis][e];
        ck_assert_double_eq_tol(wg_param_grad(X).data[e], g, TU_TOL(1e-16));
      }
      wg_tape_free(t);
      wg_param_free(X);
    }
}
END_TEST

/* ties: the subgradient goes to the first maximum only (x = [2 2; 2 1]) */
/* max_axis's forward takes fast paths (a column-wise running maximum for axis 0, lanes for
 * long rows on axis 1): against the plain walk written here (the first maximum, the first NaN
 * winning), bit for bit, over values drawn from a few that tie, with -0 and +0, infinities
 * and NaN deep in long rows and columns */
static double first_max_ref(const wg_real *x, int k, size_t step) {
  double best = x[0];
  for (int i = 1; i < k && best == best; i++)
    if (x[i * step] > best || x[i * step] != x[i * step]) best = x[i * step];
  return best;
}

START_TEST(max_axis_fast_paths_match_the_walk) {
  static const double pool[8] = {1, 0, -0.0, 2, 2, -INFINITY, INFINITY, -3};
  static const int shapes[5][2] = {{3, 40}, {40, 3}, {5, 17}, {17, 5}, {2, 100}};
  unsigned long long rng = 0xACE5ULL;
  for (int round = 0; round < 60; round++) {
    int m = shapes[round % 5][0], n = shapes[round % 5][1];
    static wg_real x[400];
    /* every other round from the non-positive values only: the maximum is then often a
     * 0 = -0 tie, whose sign must be the first one's */
    int from = round % 2 ? 0 : 1, to = round % 2 ? 8 : 3;
    static const double low[3] = {0, -0.0, -1};
    for (int i = 0; i < m * n; i++)
      x[i] = (wg_real)(from ? low[(int)tu_uniform(&rng, 0, to)] : pool[(int)tu_uniform(&rng, 0, to)]);
    if (round % 3 == 1) x[(int)tu_uniform(&rng, 0, m * n)] = NAN; /* sometimes one NaN */
    wg_tape *t = wg_tape_new();
    wg_var X = wg_input(t, m, n, x);
    for (int axis = 0; axis <= 1; axis++) {
      wg_mat y = wg_value(t, wg_max_axis(t, X, axis));
      int groups = axis ? m : n, k = axis ? n : m;
      for (int g = 0; g < groups; g++) {
        double want = first_max_ref(x + (axis ? (size_t)g * n : (size_t)g), k, axis ? 1 : n);
        double got = y.data[g];
        ck_assert_msg((isnan(want) && isnan(got)) || (want == got && signbit(want) == signbit(got)),
                      "round %d, %dx%d, axis %d, group %d: %g, the walk gives %g", round, m, n,
                      axis, g, got, want);
      }
    }
    wg_tape_free(t);
  }
}
END_TEST

START_TEST(max_axis_ties_go_to_the_first) {
  static const wg_real x[4] = {2, 2, 2, 1};
  static const double want[2][4] = {{1, 1, 0, 0}, {1, 0, 1, 0}};
  for (int axis = 0; axis < 2; axis++) {
    wg_param *X = param_of("X", 2, 2, x);
    wg_tape *t = wg_tape_new();
    ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_max_axis(t, wg_use(t, X), axis))), WG_OK);
    for (int e = 0; e < 4; e++) ck_assert_double_eq(wg_param_grad(X).data[e], want[axis][e]);
    wg_tape_free(t);
    wg_param_free(X);
  }
}
END_TEST

/* wg_sum_rows stays its own op (row sum_rows) with the numbers of wg_sum_axis(x, 0), bit for
 * bit, in value and gradient */
START_TEST(sum_rows_is_sum_axis_0) {
  unsigned long long rng = 5;
  wg_real x[35];
  for (int e = 0; e < 35; e++) x[e] = tu_uniform(&rng, -3, 3);
  wg_param *A = param_of("A", 7, 5, x), *B = param_of("B", 7, 5, x);
  wg_tape *t = wg_tape_new();
  wg_var a = wg_sum_rows(t, wg_use(t, A)), b = wg_sum_axis(t, wg_use(t, B), 0);
  ck_assert_mem_eq(wg_value(t, a).data, wg_value(t, b).data, 5 * sizeof(wg_real));
  wg_real r[5] = {1, -2, 0.5, 3, -1};
  wg_var R = wg_input(t, 1, 5, r);
  wg_var L = wg_add(t, wg_sum(t, wg_mul(t, a, R)), wg_sum(t, wg_mul(t, b, R)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_mem_eq(wg_param_grad(A).data, wg_param_grad(B).data, 35 * sizeof(wg_real));
  ck_assert_str_eq(wg_ops[t->rows[a.row].op].name, "sum_rows");
  wg_tape_free(t);
  wg_param_free(A);
  wg_param_free(B);
}
END_TEST

/* logsumexp and log_softmax subtract the maximum: huge logits give the closed forms
 * 1000 + log 3, -1000 + log 2 and log_softmax([1000 0]) = [0 -1000] with finite gradients;
 * a row of -inf gives -inf with a zero gradient. */
START_TEST(logsumexp_and_log_softmax_are_stable) {
  static const wg_real x[6] = {1000, 1000, 1000, -1000, -1000, -1000};
  wg_param *X = param_of("X", 2, 3, x);
  wg_tape *t = wg_tape_new();
  wg_var y = wg_logsumexp_axis(t, wg_use(t, X), 1);
  ck_assert_double_eq_tol(wg_value(t, y).data[0], 1000 + log(3.0), TU_TOL(1e-12));
  ck_assert_double_eq_tol(wg_value(t, y).data[1], -1000 + log(3.0), TU_TOL(1e-12));
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  /* exp(x - y) with y = 1000 + log 3 rounded to the ulp of 1000 (1.1e-13) */
  for (int e = 0; e < 6; e++) ck_assert_double_eq_tol(wg_param_grad(X).data[e], 1.0 / 3, TU_TOL(1e-12));
  wg_tape_free(t);
  wg_param_free(X);

  static const wg_real z[2] = {1000, 0};
  wg_param *Z = param_of("Z", 1, 2, z);
  t = wg_tape_new();
  y = wg_log_softmax(t, wg_use(t, Z));
  ck_assert_double_eq(wg_value(t, y).data[0], 0);
  ck_assert_double_eq(wg_value(t, y).data[1], -1000);
  wg_real pick[2] = {0, 1}; /* L = y_1: dL/dz = [0 1] - softmax = [-1 1] */
  ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_mul(t, y, wg_input(t, 1, 2, pick)))), WG_OK);
  ck_assert_double_eq(wg_param_grad(Z).data[0], -1);
  ck_assert_double_eq(wg_param_grad(Z).data[1], 1);
  wg_tape_free(t);
  wg_param_free(Z);

  wg_real ninf[2] = {-INFINITY, -INFINITY};
  wg_param *N = param_of("N", 2, 1, ninf);
  t = wg_tape_new();
  y = wg_logsumexp_axis(t, wg_use(t, N), 0);
  ck_assert(wg_value(t, y).data[0] == -INFINITY);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  ck_assert(wg_param_grad(N).data[0] == 0 && wg_param_grad(N).data[1] == 0);
  wg_tape_free(t);
  wg_param_free(N);
}
END_TEST

/* logsumexp over long groups (1003 elements: several 256-element chunks, 8-lane passes and
 * their tails), along the rows (contiguous) and the columns (strided), against the textbook
 * form in long double: y_g = M + log sum exp(x - M); the VJP of L = sum_g w_g y_g is
 * w_g exp(x_gk - y_g), the JVP sum_k exp(x_gk - y_g) tx_gk. Element k of group g is
 * 400 sin(0.37 (g K + k)), but 2000 at k = 543 of group 0 and 1500 at k = 100 of group 1:
 * a shift more than 709 below the maximum would overflow exp. */
static void lse_long_reference(const double *x, const double *tx, int groups, int k, int gs,
                               int ks, long double *y, long double *ty) {
  for (int g = 0; g < groups; g++) {
    long double top = x[g * gs], s = 0, ts = 0;
    for (int i = 1; i < k; i++) top = x[g * gs + i * ks] > top ? x[g * gs + i * ks] : top;
    for (int i = 0; i < k; i++) s += expl((long double)x[g * gs + i * ks] - top);
    y[g] = top + logl(s);
    for (int i = 0; i < k; i++) ts += expl(x[g * gs + i * ks] - y[g]) * tx[g * gs + i * ks];
    ty[g] = ts;
  }
}

START_TEST(logsumexp_axis_long_groups) {
  enum { K = 1003 };
  static double x[2 * K], tx[2 * K];
  const double w[2] = {1, -2};
  for (int axis = 0; axis <= 1; axis++) {
    int rows = axis ? 2 : K, cols = axis ? K : 2; /* groups along axis: 2 of K elements */
    int gs = axis ? K : 1, ks = axis ? 1 : 2;      /* where group g's element k is */
    for (int g = 0; g < 2; g++)
      for (int k = 0; k < K; k++) {
        x[g * gs + k * ks] = 400 * sin(0.37 * (g * K + k));
        tx[g * gs + k * ks] = cos(1.3 * (g * K + k));
      }
    x[543 * ks] = 2000;
    x[gs + 100 * ks] = 1500;
    /* the library's copies, rounded in the float build; the reference reads the same numbers */
    static wg_real xr[2 * K], txr[2 * K];
    wg_real wr[2] = {(wg_real)w[0], (wg_real)w[1]};
    tu_to_real(xr, x, 2 * K);
    tu_to_real(txr, tx, 2 * K);
    tu_to_double(x, xr, 2 * K);
    tu_to_double(tx, txr, 2 * K);
    long double y[2], ty[2];
    lse_long_reference(x, tx, 2, K, gs, ks, y, ty);
    wg_param *X = param_of("X", rows, cols, xr);
    wg_tape *t = wg_tape_new();
    wg_var xv = wg_use(t, X), yv = wg_logsumexp_axis(t, xv, axis);
    wg_var L = wg_sum(t, wg_mul(t, yv, wg_input(t, axis ? 2 : 1, axis ? 1 : 2, wr)));
    memcpy(wg_tangent(t, xv).data, txr, sizeof txr);
    ck_assert_int_eq(wg_jvp(t), WG_OK);
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    for (int g = 0; g < 2; g++) {
      ck_assert_double_eq_tol(wg_value(t, yv).data[g], (double)y[g], TU_TOL(1e-13) * fabsl(y[g]));
      ck_assert_double_eq_tol(wg_tangent(t, yv).data[g], (double)ty[g], TU_TOL(1e-13));
      for (int i = 0; i < K; i++) {
        double want = (double)(w[g] * expl(x[g * gs + i * ks] - y[g]));
        ck_assert_double_eq_tol(wg_param_grad(X).data[g * gs + i * ks], want,
                                TU_TOL(1e-15) + TU_TOL(1e-13) * fabs(want));
      }
    }
    wg_tape_free(t);
    wg_param_free(X);
  }
}
END_TEST

/* special values deep in a group of 20 (past the first 8-lane pass): a NaN gives NaN; +inf
 * gives +inf, and NaN with a NaN after it; all -inf but one finite v gives v exactly */
START_TEST(logsumexp_axis_special_values_in_long_groups) {
  wg_real x[4 * 20];
  for (int i = 0; i < 80; i++) x[i] = (wg_real)(0.1 * (i % 20));
  x[13] = NAN;                        /* row 0: finite, NaN at 13 */
  x[20 + 11] = INFINITY;              /* row 1: +inf at 11 */
  x[40 + 11] = INFINITY;              /* row 2: +inf at 11, NaN at 15 */
  x[40 + 15] = NAN;
  for (int i = 60; i < 80; i++) x[i] = -INFINITY; /* row 3: -inf but x_17 = -3.25 */
  x[60 + 17] = -3.25;
  wg_tape *t = wg_tape_new();
  wg_mat y = wg_value(t, wg_logsumexp_axis(t, wg_input(t, 4, 20, x), 1));
  ck_assert(isnan(y.data[0]));
  ck_assert(y.data[1] == INFINITY);
  ck_assert(isnan(y.data[2]));
  ck_assert_double_eq(y.data[3], -3.25);
  wg_tape_free(t);
}
END_TEST

/* log_softmax against log(softmax) on an ordinary row, and exp(y) sums to 1 */
START_TEST(log_softmax_is_log_of_softmax) {
  static const wg_real x[8] = {0.5, -1, 2, 0.25, 3, 3, -2, 0};
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 2, 4, x);
  wg_mat a = wg_value(t, wg_log_softmax(t, X)), b = wg_value(t, wg_softmax(t, X));
  for (int i = 0; i < 2; i++) {
    double s = 0;
    for (int j = 0; j < 4; j++) {
      ck_assert_double_eq_tol(a.data[i * 4 + j], log(b.data[i * 4 + j]), TU_TOL(1e-15));
      s += exp(a.data[i * 4 + j]);
    }
    ck_assert_double_eq_tol(s, 1, TU_TOL(1e-15));
  }
  wg_tape_free(t);
}
END_TEST

/* layernorm by hand: x = [1 3], eps = 1: mu = 2, var = 1, s = 1/sqrt(2), y = [-s s];
 * J = s (I - 1/2 - y y^T / 2) = [1 -1; -1 1] / (4 sqrt 2), so dy = [1 0] gives
 * dx = [1 -1] / (4 sqrt 2). And each row of a larger x has mean 0 and variance var/(var+eps). */
START_TEST(layernorm_by_hand) {
  static const wg_real x[2] = {1, 3};
  wg_param *X = param_of("X", 1, 2, x);
  wg_tape *t = wg_tape_new();
  wg_var y = wg_layernorm(t, wg_use(t, X), 1.0);
  ck_assert_double_eq_tol(wg_value(t, y).data[0], -1 / sqrt(2.0), TU_TOL(1e-16));
  ck_assert_double_eq_tol(wg_value(t, y).data[1], 1 / sqrt(2.0), TU_TOL(1e-16));
  wg_real pick[2] = {1, 0};
  ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_mul(t, y, wg_input(t, 1, 2, pick)))), WG_OK);
  ck_assert_double_eq_tol(wg_param_grad(X).data[0], 1 / (4 * sqrt(2.0)), TU_TOL(1e-16));
  ck_assert_double_eq_tol(wg_param_grad(X).data[1], -1 / (4 * sqrt(2.0)), TU_TOL(1e-16));
  wg_tape_free(t);
  wg_param_free(X);

  static const wg_real r[6] = {3, -1, 2, 10, 10, 40}; /* var 8/3 and 200 */
  t = wg_tape_new();
  wg_mat v = wg_value(t, wg_layernorm(t, wg_input(t, 2, 3, r), 1e-5));
  const double var[2] = {26.0 / 9, 200};
  for (int i = 0; i < 2; i++) {
    double mu = 0, sq = 0;
    for (int j = 0; j < 3; j++) mu += v.data[i * 3 + j] / 3, sq += v.data[i * 3 + j] * v.data[i * 3 + j] / 3;
    ck_assert_double_eq_tol(mu, 0, TU_TOL(1e-15));
    ck_assert_double_eq_tol(sq, var[i] / (var[i] + 1e-5), TU_TOL(1e-14));
  }
  wg_tape_free(t);
}
END_TEST

/* bad arguments: each a clear status naming the op, the input (by name) and the row */
START_TEST(family_c_bad_arguments) {
  wg_real x[12] = {0};
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 3, 4, x);
  wg_name(t, X, "X");
  static const char *const names[4] = {"sum_axis", "mean_axis", "max_axis", "logsumexp_axis"};
  wg_var (*const f[4])(wg_tape *, wg_var, int) = {wg_sum_axis, wg_mean_axis, wg_max_axis,
                                                  wg_logsumexp_axis};
  char want[256];
  for (int k = 0; k < 4; k++)
    for (int axis = -1; axis <= 2; axis += 3) {
      ck_assert_int_eq(f[k](t, X, axis).gen, 0);
      ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
      snprintf(want, sizeof want, "%s: axis %d for X (3x4): the axis must be 0 (over the rows, "
               "result 1x4) or 1 (over the columns, result 3x1) (row 1)", names[k], axis);
      ck_assert_str_eq(wg_tape_error(t), want);
      ck_assert_str_eq(wg_last_error(), want);
      wg_tape_reset(t);
      X = wg_input(t, 3, 4, x);
      wg_name(t, X, "X");
    }
  static const double eps[3] = {0, -1e-5, NAN};
  for (int k = 0; k < 3; k++) {
    ck_assert_int_eq(wg_layernorm(t, X, eps[k]).gen, 0);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
    snprintf(want, sizeof want, "layernorm: eps %g for X (3x4): eps must be finite and > 0 "
             "(1e-5 is PyTorch's default) (row 1)", eps[k]);
    ck_assert_str_eq(wg_tape_error(t), want);
    wg_tape_reset(t);
    X = wg_input(t, 3, 4, x);
    wg_name(t, X, "X");
  }
  wg_rng r;
  wg_rng_seed(&r, 1);
  static const double p[4] = {1, -0.1, NAN, 2};
  for (int k = 0; k < 4; k++) {
    ck_assert_int_eq(wg_dropout(t, X, p[k], &r).gen, 0);
    snprintf(want, sizeof want, "dropout: p = %g for X (3x4): the drop probability must be in "
             "[0, 1) (row 1)", p[k]);
    ck_assert_str_eq(wg_tape_error(t), want);
    wg_tape_reset(t);
    X = wg_input(t, 3, 4, x);
    wg_name(t, X, "X");
  }
  ck_assert_int_eq(wg_dropout(t, X, 0.5, NULL).gen, 0);
  ck_assert_str_eq(wg_tape_error(t), "dropout: the generator is NULL for X (3x4) (p = 0.5): "
                   "the mask is drawn from it (row 1)");
  wg_tape_reset(t);
  /* the none handle and a stale one: the ops name themselves */
  wg_var stale = X;
  ck_assert_int_eq(wg_log_softmax(t, stale).gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_msg(strncmp(wg_tape_error(t), "log_softmax: stale or foreign handle", 36) == 0, "%s",
                wg_tape_error(t));
  wg_tape_reset(t);
  ck_assert_int_eq(wg_layernorm(t, wg_none(), 1e-5).gen, 0);
  ck_assert_str_eq(wg_tape_error(t), "layernorm: input is the none handle (an earlier call failed?)");
  wg_tape_reset(t);
  ck_assert_int_eq(wg_max_axis(t, wg_none(), 0).gen, 0);
  ck_assert_str_eq(wg_tape_error(t), "max_axis: input is the none handle (an earlier call failed?)");
  wg_tape_reset(t);
  ck_assert_int_eq(wg_dropout(t, wg_none(), 0.5, &r).gen, 0);
  ck_assert_str_eq(wg_tape_error(t), "dropout: input is the none handle (an earlier call failed?)");
  ck_assert_int_eq(wg_dropout_resample(t), WG_ERR_HANDLE); /* a tape in error stays so */
  ck_assert_int_eq(wg_dropout_resample(NULL), WG_ERR_NOMEM);
  wg_tape_set_training(NULL, 0);
  ck_assert_int_eq(wg_tape_training(NULL), 0);
  wg_tape_free(t);
}
END_TEST

/* NaN and Inf. Without finite checks a NaN propagates: max_axis picks it (gradient to it),
 * log_softmax and layernorm make its row NaN. With WG_CHECK_FINITE the first row that turns
 * finite inputs into Inf is named: sum_axis and mean_axis overflowing, log_softmax at
 * [TU_MAX -TU_MAX] (-TU_MAX - TU_MAX = -inf), dropout scaling TU_MAX by 1/(1-p). */
START_TEST(family_c_nan_and_finite_checks) {
  wg_real x[6] = {1, NAN, 3, 4, 5, 6};
  wg_param *X = param_of("X", 2, 3, x);
  wg_tape *t = wg_tape_new();
  wg_var u = wg_use(t, X);
  wg_var m0 = wg_max_axis(t, u, 0), m1 = wg_max_axis(t, u, 1);
  ck_assert(isnan(wg_value(t, m0).data[1]) && wg_value(t, m0).data[0] == 4);
  ck_assert(isnan(wg_value(t, m1).data[0]) && wg_value(t, m1).data[1] == 6);
  wg_mat ls = wg_value(t, wg_log_softmax(t, u)), ln = wg_value(t, wg_layernorm(t, u, 1e-5));
  for (int j = 0; j < 3; j++) {
    ck_assert(isnan(ls.data[j]) && isnan(ln.data[j]));
    ck_assert(isfinite(ls.data[3 + j]) && isfinite(ln.data[3 + j]));
  }
  wg_tape_reset(t); /* alone: the rows above would add their NaN terms (0 * NaN) to dX */
  ck_assert_int_eq(wg_backward(t, wg_sum(t, wg_max_axis(t, wg_use(t, X), 1))), WG_OK);
  ck_assert(wg_param_grad(X).data[1] == 1 && wg_param_grad(X).data[0] == 0);
  ck_assert(wg_param_grad(X).data[5] == 1);
  wg_tape_free(t);
  wg_param_free(X);

  wg_real big[2] = {TU_MAX, TU_MAX}, pm[2] = {TU_MAX, -TU_MAX};
  wg_rng r;
  wg_rng_seed(&r, 1);
  const char *want[4] = {
      "sum_axis: row 1 (v1) produced inf at [0,0] from input v0",
      "mean_axis: row 1 (v1) produced inf at [0,0] from input v0",
      "log_softmax: row 1 (v1) produced -inf at [0,1] from input v0",
      "dropout: row 1 (v1) produced inf at [0,"};
  for (int k = 0; k < 4; k++) {
    t = wg_tape_new();
    wg_tape_set_checks(t, WG_CHECK_FINITE);
    wg_var in = wg_input(t, 1, 2, k == 2 ? pm : big);
    wg_var y = k == 0 ? wg_sum_axis(t, in, 1) : k == 1 ? wg_mean_axis(t, in, 1)
             : k == 2 ? wg_log_softmax(t, in) : wg_dropout(t, in, 0.25, &r);
    ck_assert_int_eq(y.gen, 0);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
    ck_assert_msg(strncmp(wg_tape_error(t), want[k], strlen(want[k])) == 0, "%s",
                  wg_tape_error(t));
    wg_tape_free(t);
  }
  /* logsumexp at [TU_MAX TU_MAX] stays finite: TU_MAX + log 2 rounds to TU_MAX */
  t = wg_tape_new();
  wg_tape_set_checks(t, WG_CHECK_FINITE);
  wg_var y = wg_logsumexp_axis(t, wg_input(t, 1, 2, big), 1);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert(wg_value(t, y).data[0] == TU_MAX);
  wg_tape_free(t);
}
END_TEST

/* ---- dropout's mask ---------------------------------------------------------------------- */

static int mask_differs(const wg_real *a, const wg_real *b, int n) {
  int d = 0;
  for (int e = 0; e < n; e++) d += (a[e] == 0) != (b[e] == 0);
  return d;
}

/* A new mask per step, as designed: recording again draws a new one (the generator moved on),
 * wg_dropout_resample draws a new one for the next wg_forward; wg_forward alone keeps it. */
START_TEST(dropout_masks_change_per_step_not_per_replay) {
  enum { N = 400 };
  wg_real x[N], before[N], after[N];
  for (int e = 0; e < N; e++) x[e] = 1;
  wg_rng r;
  wg_rng_seed(&r, 11);
  wg_tape *t = wg_tape_new();
  wg_var y = wg_dropout(t, wg_input(t, 20, 20, x), 0.5, &r);
  memcpy(before, wg_value(t, y).data, sizeof before);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_mem_eq(wg_value(t, y).data, before, sizeof before); /* a replay: the same mask */
  ck_assert_int_eq(wg_dropout_resample(t), WG_OK);
  ck_assert_mem_eq(wg_value(t, y).data, before, sizeof before); /* not yet: until wg_forward */
  ck_assert_int_eq(wg_forward(t), WG_OK);
  memcpy(after, wg_value(t, y).data, sizeof after);
  ck_assert_int_gt(mask_differs(before, after, N), N / 4); /* about N/2 positions differ */
  wg_tape_reset(t); /* record again: the generator has moved on */
  y = wg_dropout(t, wg_input(t, 20, 20, x), 0.5, &r);
  ck_assert_int_gt(mask_differs(after, wg_value(t, y).data, N), N / 4);
  wg_tape_free(t);
}
END_TEST

/* The checks replay with wg_forward, so they see one fixed mask: they pass, and leave the
 * values and the generator as they were. */
START_TEST(dropout_mask_is_fixed_during_the_checks) {
  enum { N = 24 };
  unsigned long long s = 3;
  wg_real w[N], R[N], before[N];
  for (int e = 0; e < N; e++) w[e] = tu_uniform(&s, -1, 1), R[e] = tu_uniform(&s, -1, 1);
  wg_param *W = param_of("W", 4, 6, w);
  wg_rng r;
  wg_rng_seed(&r, 12);
  wg_tape *t = wg_tape_new();
  wg_var y = wg_dropout(t, wg_tanh(t, wg_use(t, W)), 0.3, &r);
  wg_var L = wg_sum(t, wg_mul(t, y, wg_input(t, 4, 6, R)));
  memcpy(before, wg_value(t, y).data, sizeof before);
  wg_rng saved = r;
  wg_gradcheck_result g;
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, &g), 0);
  ck_assert_int_eq(g.checked, N);
  ck_assert_int_eq(wg_check_rows(t, NULL, &g), 0);
  double d = wg_dot_test(t, y, 5);
  ck_assert_msg(d >= 0 && d < TU_TOL(1e-13), "dot test %g", d);
  ck_assert_mem_eq(wg_value(t, y).data, before, sizeof before);
  ck_assert_mem_eq(&r, &saved, sizeof r);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* Evaluation (training off): y = x exactly and dx = dy; back on, the kept mask applies again.
 * And p = 0 in training is the identity too (scale 1/(1-0) = 1, every u >= 0). */
START_TEST(dropout_evaluation_is_the_identity) {
  enum { N = 50 };
  wg_real w[N], masked[N];
  for (int e = 0; e < N; e++) w[e] = 0.1 * e - 2;
  wg_param *W = param_of("W", 5, 10, w);
  wg_rng r;
  wg_rng_seed(&r, 13);
  wg_tape *t = wg_tape_new();
  ck_assert_int_eq(wg_tape_training(t), 1);
  wg_var y = wg_dropout(t, wg_use(t, W), 0.5, &r);
  memcpy(masked, wg_value(t, y).data, sizeof masked);
  wg_var L = wg_sum(t, y);
  wg_tape_set_training(t, 0);
  ck_assert_int_eq(wg_tape_training(t), 0);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_mem_eq(wg_value(t, y).data, w, sizeof w);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int e = 0; e < N; e++) ck_assert_double_eq(wg_param_grad(W).data[e], 1);
  wg_tape_reset(t); /* the mode is kept by reset: a record in evaluation is the identity */
  ck_assert_int_eq(wg_tape_training(t), 0);
  ck_assert_mem_eq(wg_value(t, wg_dropout(t, wg_use(t, W), 0.9, &r)).data, w, sizeof w);
  wg_tape_reset(t);
  wg_tape_set_training(t, 1);
  wg_rng_seed(&r, 13);
  y = wg_dropout(t, wg_use(t, W), 0.5, &r);
  ck_assert_mem_eq(wg_value(t, y).data, masked, sizeof masked);
  wg_tape_set_training(t, 0);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  wg_tape_set_training(t, 1);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_mem_eq(wg_value(t, y).data, masked, sizeof masked); /* the same mask again */
  wg_tape_reset(t);
  y = wg_dropout(t, wg_use(t, W), 0, &r);
  ck_assert_mem_eq(wg_value(t, y).data, w, sizeof w);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* Over n = 10^6 elements with p = 0.3 the kept count is Binomial(n, 0.7): mean 700000, standard
 * deviation sqrt(n 0.3 0.7) = 458.3; the test allows 6 of them (|kept - 700000| <= 2750; a
 * fair generator misses that about twice in 10^9 seeds). Every kept element is x / 0.7, and the
 * gradient of sum(y) is the mask / (1 - p): 1 / 0.7 where kept, 0 where dropped. */
START_TEST(dropout_keep_rate_and_gradient) {
  enum { M = 1000, N = 1000 };
  wg_param *W = wg_param_new("W", M, N);
  wg_mat w = wg_param_value(W);
  for (size_t e = 0; e < (size_t)M * N; e++) w.data[e] = 1 + (double)(e % 7);
  wg_rng r;
  wg_rng_seed(&r, 2024);
  wg_tape *t = wg_tape_new();
  wg_var y = wg_dropout(t, wg_use(t, W), 0.3, &r);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, y)), WG_OK);
  const wg_real *v = wg_value(t, y).data, *g = wg_param_grad(W).data;
  const wg_real keep = 1 / (1 - (wg_real)0.3); /* the mask's value, in wg_real (dropout.c) */
  long kept = 0;
  for (size_t e = 0; e < (size_t)M * N; e++) {
    if (v[e] != 0) {
      kept++;
      ck_assert(v[e] == w.data[e] * keep);
      ck_assert(g[e] == keep);
    } else {
      ck_assert(g[e] == 0);
    }
  }
  printf("dropout p = 0.3 over %d elements: kept %ld (expected 700000 +- 2750)\n", M * N, kept);
  ck_assert_int_le(labs(kept - 700000L), 2750);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("ops");
  TCase *g = tcase_create("gradients");
  tcase_set_timeout(g, 60);
  tcase_add_loop_test(g, every_op_has_a_passing_gradient_test, 0, WG_OP_COUNT);
  tcase_add_test(g, op_table_entries_are_complete);
  suite_add_tcase(s, g);
  TCase *x = tcase_create("extremes");
  tcase_add_test(x, sigmoid_at_plus_minus_1e308_is_exact_and_finite);
  tcase_add_test(x, tanh_at_plus_minus_1e308_is_exact_and_finite);
  tcase_add_test(x, bce_logits_at_plus_minus_1000_is_finite);
  tcase_add_test(x, bce_at_p_zero_is_100_with_finite_gradient);
  tcase_add_test(x, bce_of_saturated_sigmoid_is_finite);
  suite_add_tcase(s, x);
  TCase *b = tcase_create("family B");
  tcase_add_test(b, gelu_against_erf_values);
  tcase_add_test(b, softplus_at_plus_minus_750_is_exact_and_finite);
  tcase_add_test(b, sqrt_and_pow_at_zero_and_below);
  tcase_add_test(b, kinks_take_pytorch_slopes_and_gradcheck_skips_them);
  tcase_add_test(b, maximum_minimum_by_hand_with_broadcasting);
  tcase_add_test(b, nan_propagates_through_maximum_minimum_clamp);
  tcase_add_test(b, family_b_bad_arguments);
  tcase_add_test(b, maximum_bits_do_not_depend_on_threads);
  suite_add_tcase(s, b);
  TCase *f = tcase_create("forward mode");
  tcase_add_test(f, jvp_along_d_equals_gradient_dot_d_on_a_network);
  tcase_add_test(f, jvp_through_an_input_leaf_matches_finite_differences);
  tcase_add_test(f, jvp_without_tangents_is_zero);
  suite_add_tcase(s, f);
  TCase *c = tcase_create("family C");
  tcase_set_timeout(c, 60);
  tcase_add_test(c, axis_reductions_by_hand);
  tcase_add_test(c, max_axis_ties_go_to_the_first);
  tcase_add_test(c, max_axis_fast_paths_match_the_walk);
  tcase_add_test(c, sum_rows_is_sum_axis_0);
  tcase_add_test(c, logsumexp_and_log_softmax_are_stable);
  tcase_add_test(c, logsumexp_axis_long_groups);
  tcase_add_test(c, logsumexp_axis_special_values_in_long_groups);
  tcase_add_test(c, log_softmax_is_log_of_softmax);
  tcase_add_test(c, layernorm_by_hand);
  tcase_add_test(c, family_c_bad_arguments);
  tcase_add_test(c, family_c_nan_and_finite_checks);
  tcase_add_test(c, dropout_masks_change_per_step_not_per_replay);
  tcase_add_test(c, dropout_mask_is_fixed_during_the_checks);
  tcase_add_test(c, dropout_evaluation_is_the_identity);
  tcase_add_test(c, dropout_keep_rate_and_gradient);
  suite_add_tcase(s, c);
  return s;
}

WG_TEST_MAIN()

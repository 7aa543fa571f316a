/* check_ops.c - every op of the table against independent references.
 *
 * For each op in wg_ops[] (a loop test over op_cases[], which is indexed by the op enum and
 * generated from oplist.h, so an op added there without a run_<name> here does not compile)
 * the cases below
 *   1. compare the forward value with a plain C reference written in this file,
 *   2. compare the VJP with central finite differences (h = 1e-6, pass when
 *      |ad - fd| <= 1e-5 + 1e-3 |fd|): the op's inputs are parameters with random values in a
 *      valid domain, the loss is sum(op(...) * R) with a fixed random input R of the output's
 *      shape, so every entry of the Jacobian is weighted and tested (plus sum(x * R_x) for each
 *      input x, recorded later, which catches a VJP that assigns instead of accumulating);
 *   3. compare the JVP (tangents set on the leaves with wg_tangent, then wg_jvp) with the
 *      central finite-difference directional derivative of the same loss.
 * The numeric side perturbs wg_param_value and replays the tape with wg_forward.
 * The leaf ops (input, scalar, param) get checks of what a leaf promises instead. The last
 * TCase checks the numerical extremes (sigmoid and tanh at +-1e308, bce_logits at +-1000,
 * bce at p = 0) against their closed-form limits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "testutil.h"

#define FD_H 1e-6
#define FD_ABS 1e-5
#define FD_REL 1e-3
#define FWD_TOL 1e-12 /* forward against the plain C reference, relative with floor 1 */
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

static void gradcheck(const char *op, const grad_spec *s, unsigned long long seed) {
  char label[128];
  shape_label(s, label, sizeof label);
  unsigned long long rng = seed;
  wg_param *p[MAX_IN];
  double *x[MAX_IN];
  for (int k = 0; k < s->n_in; k++) {
    p[k] = wg_param_new("x", s->in[k].rows, s->in[k].cols);
    ck_assert_ptr_nonnull(p[k]);
    x[k] = wg_param_value(p[k]).data;
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] = fill_value(&s->in[k], &rng);
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
  double *ref = malloc((size_t)n_out * sizeof *ref), *R = malloc((size_t)n_out * sizeof *R);
  s->ref(s, x, ref);
  double fwd = tu_max_rel_diff(yv.data, ref, (size_t)n_out, 1.0);
  ck_assert_msg(fwd <= FWD_TOL, "%s %s: forward differs from the reference by %g", op, label,
                fwd);

  /* 2. VJP of L = sum(y * R) + sum_k sum(x_k * R_k) against central differences. The second
   *    term is recorded after the op, so its VJP runs first: an op whose VJP assigns to an
   *    input's adjoint instead of accumulating loses it and fails. */
  for (int e = 0; e < n_out; e++) R[e] = tu_uniform(&rng, -1, 1);
  wg_var L = wg_sum(t, wg_mul(t, y, wg_input(t, s->out_rows, s->out_cols, R)));
  double *Rk[MAX_IN];
  for (int k = 0; k < s->n_in; k++) {
    int nk = s->in[k].rows * s->in[k].cols;
    Rk[k] = malloc((size_t)nk * sizeof *Rk[k]);
    for (int e = 0; e < nk; e++) Rk[k][e] = tu_uniform(&rng, -1, 1);
    wg_var rk = wg_input(t, s->in[k].rows, s->in[k].cols, Rk[k]);
    L = wg_add(t, L, wg_sum(t, wg_mul(t, in[k], rk)));
  }
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int k = 0; k < s->n_in; k++) {
    const double *g = wg_param_grad(p[k]).data;
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) {
      double v = x[k][e];
      x[k][e] = v + FD_H;
      double lp = loss_now(t, L);
      x[k][e] = v - FD_H;
      double lm = loss_now(t, L);
      x[k][e] = v;
      double fd = (lp - lm) / (2 * FD_H);
      ck_assert_msg(fabs(g[e] - fd) <= FD_ABS + FD_REL * fabs(fd),
                    "%s %s: dL/dx%d[%d]: VJP %.12g, finite difference %.12g", op, label, k, e,
                    g[e], fd);
    }
  }

  /* 3. JVP along a random direction d against (L(x + h d) - L(x - h d)) / 2h */
  double *d[MAX_IN];
  for (int k = 0; k < s->n_in; k++) {
    wg_mat tk = wg_tangent(t, in[k]);
    ck_assert_ptr_nonnull(tk.data);
    d[k] = tk.data;
    for (int e = 0; e < tk.rows * tk.cols; e++) d[k][e] = tu_uniform(&rng, -1, 1);
  }
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  double jv = wg_tangent(t, L).data[0];
  for (int k = 0; k < s->n_in; k++)
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] += FD_H * d[k][e];
  double lp = loss_now(t, L);
  for (int k = 0; k < s->n_in; k++)
    for (int e = 0; e < s->in[k].rows * s->in[k].cols; e++) x[k][e] -= 2 * FD_H * d[k][e];
  double lm = loss_now(t, L);
  double fd = (lp - lm) / (2 * FD_H);
  ck_assert_msg(fabs(jv - fd) <= FD_ABS + FD_REL * fabs(fd),
                "%s %s: JVP %.12g, finite-difference directional derivative %.12g", op, label,
                jv, fd);

  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_tape_free(t);
  for (int k = 0; k < s->n_in; k++) wg_param_free(p[k]), free(Rk[k]);
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
  double R[6] = {0.5, -1.25, 2.0, 3.5, -0.75, 1.0};
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
  double X[4] = {1, 2, 3, 4};
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
  ck_assert_double_eq_tol(wg_value(t, L).data[0], -10.5, 1e-15);
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
  static const wg_custom_op op = {"a_sin_b", NULL, cu_forward, cu_vjp, cu_jvp};
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
  memcpy(wg_param_value(P).data, v, (size_t)n * sizeof *v);
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

/* the limits: sigmoid(+-1e308) = 1, 0 and tanh(+-1e308) = +-1, exactly in double */
START_TEST(sigmoid_at_plus_minus_1e308_is_exact_and_finite) {
  double v[4] = {1e308, -1e308, 800, -800}, e[4] = {1, 0, 1, 0};
  extreme_unary(wg_sigmoid, v, 4, e, "sigmoid");
}
END_TEST

START_TEST(tanh_at_plus_minus_1e308_is_exact_and_finite) {
  double v[2] = {1e308, -1e308}, e[2] = {1, -1};
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
  memcpy(wg_param_value(Z).data, z, sizeof z);
  memcpy(wg_param_value(Y).data, y, sizeof y);
  wg_tape *t = wg_tape_new();
  wg_var L = wg_bce_logits(t, wg_use(t, Z), wg_use(t, Y));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq_tol(wg_value(t, L).data[0], 500, 500 * 1e-15);
  for (int i = 0; i < 4; i++) {
    ck_assert(isfinite(wg_param_grad(Z).data[i]) && isfinite(wg_param_grad(Y).data[i]));
    ck_assert_double_eq_tol(wg_param_grad(Z).data[i], gz[i], 1e-15);
    ck_assert_double_eq_tol(wg_param_grad(Y).data[i], gy[i], 1e-12);
  }
  for (int i = 0; i < 4; i++) { /* each case alone */
    wg_tape_reset(t);
    wg_var Li = wg_bce_logits(t, wg_scalar(t, z[i]), wg_scalar(t, y[i]));
    ck_assert_double_eq_tol(wg_value(t, Li).data[0], each[i], 1e-12);
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
  wg_param_value(Z).data[0] = 1e308;
  wg_param_value(Z).data[1] = -1e308;
  double y[2] = {0, 1}; /* both maximally wrong: each term clamps at 100 */
  wg_tape *t = wg_tape_new();
  wg_var L = wg_bce(t, wg_sigmoid(t, wg_use(t, Z)), wg_input(t, 1, 2, y));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_value(t, L).data[0], 100);
  ck_assert(isfinite(wg_param_grad(Z).data[0]) && isfinite(wg_param_grad(Z).data[1]));
  wg_tape_free(t);
  wg_param_free(Z);
}
END_TEST

/* ---- forward mode beyond single ops --------------------------------------------------- */

/* A small network of many ops, every leaf a parameter (handles in u), loss 1x1. */
static wg_var mixed_net(wg_tape *t, wg_param *const *p, wg_var *u, const double *x,
                        const double *y) {
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
  double x[15], y[5];
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
  ck_assert_msg(fabs(jv - dot) <= 1e-13 * scale, "JVP %.17g, <grad, d> %.17g", jv, dot);
  wg_tape_free(t);
  for (int k = 0; k < 4; k++) wg_param_free(p[k]);
}
END_TEST

/* Tangents may sit on data inputs too (they get no adjoint, but forward mode sees them):
 * the JVP along a direction in X equals the central difference of replays on moved data. */
START_TEST(jvp_through_an_input_leaf_matches_finite_differences) {
  unsigned long long rng = 99;
  double x[12], w[4];
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
  TCase *f = tcase_create("forward mode");
  tcase_add_test(f, jvp_along_d_equals_gradient_dot_d_on_a_network);
  tcase_add_test(f, jvp_through_an_input_leaf_matches_finite_differences);
  tcase_add_test(f, jvp_without_tangents_is_zero);
  suite_add_tcase(s, f);
  return s;
}

WG_TEST_MAIN()

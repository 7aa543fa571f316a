/* op_cases.h - one small graph per op of the op list, shared by the suites that check every
 * op: the three first-order oracles (check_gradcheck.c) and the recorded VJPs, second order
 * (check_higher.c). Each case_<name> records its op between parameters (values uniform in a
 * domain away from kinks and edges) and returns the op's output; op_cases[] is generated from
 * src/ops/oplist.h, so an op without a case is a compile error. Also the custom op sinmul
 * (y = sin(a) * b) with its VJP, JVP and recorded VJP; its ctx plants a mistake. */
#ifndef TESTS_OP_CASES_H
#define TESTS_OP_CASES_H
#include <math.h>

#include "ops/ops.h"
#include "tape/tape.h"
#include "testutil.h"

/* ---- a custom op: y = sin(a) * b, elementwise, a and b of one shape ------------------------
 *   VJP: da += dy cos(a) b;  db += dy sin(a)
 *   JVP: ty = cos(a) b ta + sin(a) tb
 * ctx (optional) plants a mistake: a sign error in da, or in the JVP's first term. */
typedef struct {
  int wrong_vjp, wrong_jvp;
} sinmul_ctx;

static int sinmul_shape(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)ctx;
  if (n != 2 || in[0].rows != in[1].rows || in[0].cols != in[1].cols) return 1;
  *rows = in[0].rows;
  *cols = in[0].cols;
  return 0;
}

static void sinmul_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)ctx;
  for (int e = 0; e < out.rows * out.cols; e++) out.data[e] = sin(in[0].data[e]) * in[1].data[e];
}

static void sinmul_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)out;
  const sinmul_ctx *c = ctx;
  double sign = c && c->wrong_vjp ? -1 : 1;
  for (int e = 0; e < dy.rows * dy.cols; e++) {
    double a = in[0].data[e], b = in[1].data[e];
    if (dx[0].data) dx[0].data[e] += sign * dy.data[e] * cos(a) * b;
    if (dx[1].data) dx[1].data[e] += dy.data[e] * sin(a);
  }
}

static void sinmul_jvp(int n, const wg_mat *in, const wg_mat *tin, wg_mat out, wg_mat tout,
                       void *ctx) {
  (void)n, (void)out;
  const sinmul_ctx *c = ctx;
  double sign = c && c->wrong_jvp ? -1 : 1;
  for (int e = 0; e < tout.rows * tout.cols; e++) {
    double a = in[0].data[e], b = in[1].data[e];
    tout.data[e] = sign * cos(a) * b * tin[0].data[e] + sin(a) * tin[1].data[e];
  }
}

/* the VJP recorded with ops, for wg_gradients: da = dy * (cos(a) * b), db = dy * sin(a) */
static void sinmul_record_vjp(wg_tape *t, int n, const wg_var *in, wg_var out, wg_var dy,
                              wg_var *dx, void *ctx) {
  (void)n, (void)out, (void)ctx;
  dx[0] = wg_mul(t, dy, wg_mul(t, wg_cos(t, in[0]), in[1]));
  dx[1] = wg_mul(t, dy, wg_sin(t, in[0]));
}

static const wg_custom_op sinmul_op = {"sinmul", sinmul_shape, sinmul_forward, sinmul_vjp,
                                       sinmul_jvp, sinmul_record_vjp};

static void fill(wg_real *x, size_t n, unsigned long long *s, double lo, double hi) {
  for (size_t i = 0; i < n; i++) x[i] = tu_uniform(s, lo, hi);
}

typedef struct {
  wg_tape *t;
  wg_param *p[3];
  unsigned long long s;
  wg_real data[64], r[64];
} op_env;

/* a fresh parameter with values uniform in [lo, hi) */
static wg_var prm(op_env *e, int rows, int cols, double lo, double hi) {
  int k = 0;
  while (e->p[k]) k++;
  ck_assert_int_lt(k, 3);
  char name[4] = {'P', (char)('0' + k), 0, 0};
  e->p[k] = wg_param_new(name, rows, cols);
  fill(wg_param_value(e->p[k]).data, (size_t)rows * (size_t)cols, &e->s, lo, hi);
  return wg_use(e->t, e->p[k]);
}

/* a fresh parameter whose values are distinct by at least 2 / (rows cols): a shuffled grid in
 * [-1, 1). For the ops that pick a maximum, so that no central difference (float's step is
 * 4.9e-3) moves an element past another and changes the pick */
static wg_var prm_distinct(op_env *e, int rows, int cols) {
  wg_var v = prm(e, rows, cols, 0, 1);
  int k = 0;
  while (k < 3 && e->p[k]) k++; /* prm filled the first free slot: k - 1 */
  wg_real *x = wg_param_value(e->p[k - 1]).data;
  int n = rows * cols;
  for (int i = 0; i < n; i++) x[i] = (wg_real)(-1 + 2.0 * i / n);
  for (int i = n - 1; i > 0; i--) { /* Fisher-Yates with the case's generator */
    int j = (int)tu_uniform(&e->s, 0, i + 1);
    wg_real tmp = x[i];
    x[i] = x[j], x[j] = tmp;
  }
  return v;
}

static wg_var inp(op_env *e, int rows, int cols) {
  fill(e->data, (size_t)rows * (size_t)cols, &e->s, -1, 1);
  return wg_input(e->t, rows, cols, e->data);
}

static wg_var case_input(op_env *e) { return wg_matmul(e->t, inp(e, 3, 4), prm(e, 4, 2, -1, 1)); }
static wg_var case_scalar(op_env *e) { return wg_mul(e->t, prm(e, 3, 2, -1, 1), wg_scalar(e->t, 1.7)); }
static wg_var case_param(op_env *e) { return prm(e, 3, 2, -1, 1); }
static wg_var case_matmul(op_env *e) { return wg_matmul(e->t, prm(e, 3, 4, -1, 1), prm(e, 4, 2, -1, 1)); }
static wg_var case_transpose(op_env *e) { return wg_transpose(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_add(op_env *e) { return wg_add(e->t, prm(e, 3, 4, -1, 1), prm(e, 1, 4, -1, 1)); }
static wg_var case_sub(op_env *e) { return wg_sub(e->t, prm(e, 3, 4, -1, 1), prm(e, 3, 1, -1, 1)); }
static wg_var case_mul(op_env *e) { return wg_mul(e->t, prm(e, 3, 4, -1, 1), prm(e, 1, 1, -1, 1)); }
static wg_var case_div(op_env *e) { return wg_div(e->t, prm(e, 3, 4, -1, 1), prm(e, 1, 4, 0.5, 2)); }
static wg_var case_neg(op_env *e) { return wg_neg(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_scale(op_env *e) { return wg_scale(e->t, prm(e, 3, 4, -1, 1), -2.5); }
static wg_var case_exp(op_env *e) { return wg_exp(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_log(op_env *e) { return wg_log(e->t, prm(e, 3, 4, 0.5, 2)); }
static wg_var case_sigmoid(op_env *e) { return wg_sigmoid(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_tanh(op_env *e) { return wg_tanh(e->t, prm(e, 3, 4, -2, 2)); }
static wg_var case_relu(op_env *e) { return wg_relu(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_square(op_env *e) { return wg_square(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_sum(op_env *e) { return wg_sum(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_mean(op_env *e) { return wg_mean(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_sum_rows(op_env *e) { return wg_sum_rows(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_bce(op_env *e) { /* probabilities and targets both in (0.2, 0.8) */
  return wg_bce(e->t, wg_sigmoid(e->t, prm(e, 3, 2, -1.4, 1.4)),
                wg_sigmoid(e->t, prm(e, 3, 2, -1.4, 1.4)));
}
static wg_var case_bce_logits(op_env *e) {
  return wg_bce_logits(e->t, prm(e, 3, 2, -3, 3), wg_sigmoid(e->t, prm(e, 3, 2, -1, 1)));
}
static wg_var case_mse(op_env *e) { return wg_mse(e->t, prm(e, 3, 4, -1, 1), prm(e, 3, 4, -1, 1)); }
static wg_var case_custom(op_env *e) {
  wg_var in[2] = {prm(e, 3, 4, -2, 2), prm(e, 3, 4, -1, 1)};
  return wg_custom(e->t, &sinmul_op, NULL, 2, in);
}

/* family B (issue 14): domains away from kinks and edges (sqrt, pow: x > 0); random values
 * put no element on a kink (abs at 0, clamp's bounds, a tie of maximum / minimum) */
static wg_var case_pow(op_env *e) { return wg_pow(e->t, prm(e, 3, 4, 0.5, 2), 1.5); }
static wg_var case_sqrt(op_env *e) { return wg_sqrt(e->t, prm(e, 3, 4, 0.5, 2)); }
static wg_var case_abs(op_env *e) { return wg_abs(e->t, prm(e, 3, 4, -1, 1)); }
static wg_var case_sin(op_env *e) { return wg_sin(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_cos(op_env *e) { return wg_cos(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_softplus(op_env *e) { return wg_softplus(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_gelu(op_env *e) { return wg_gelu(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_leaky_relu(op_env *e) { return wg_leaky_relu(e->t, prm(e, 3, 4, -1, 1), 0.2); }
static wg_var case_clamp(op_env *e) { return wg_clamp(e->t, prm(e, 3, 4, -1, 1), -0.5, 0.5); }
static wg_var case_maximum(op_env *e) { return wg_maximum(e->t, prm(e, 3, 4, -1, 1), prm(e, 1, 4, -1, 1)); }
static wg_var case_minimum(op_env *e) { return wg_minimum(e->t, prm(e, 3, 1, -1, 1), prm(e, 3, 4, -1, 1)); }

static wg_var case_softmax(op_env *e) { return wg_softmax(e->t, prm(e, 3, 4, -2, 2)); }
static wg_var case_softmax_ce(op_env *e) { /* class labels are data: a constant 4x1 input */
  static const wg_real labels[4] = {2, 0, 1, 2};
  return wg_softmax_ce(e->t, prm(e, 4, 3, -3, 3), wg_input(e->t, 4, 1, labels));
}
/* family A: each op between parameters, with a later op so the adjoint flowing in is not 1 */
static wg_var case_reshape(op_env *e) {
  return wg_tanh(e->t, wg_reshape(e->t, prm(e, 3, 4, -1, 1), 2, 6));
}
static wg_var case_slice(op_env *e) {
  return wg_mul(e->t, wg_slice(e->t, prm(e, 4, 5, -1, 1), 1, 2, 2, 3), prm(e, 2, 3, -1, 1));
}
static wg_var case_concat_rows(op_env *e) { /* 6 inputs, one of them three times */
  wg_var a = prm(e, 2, 3, -1, 1), b = prm(e, 1, 3, -1, 1), c = prm(e, 3, 3, -1, 1);
  wg_var in[6] = {a, b, a, c, wg_tanh(e->t, b), a};
  return wg_concat_rows(e->t, 6, in);
}
static wg_var case_concat_cols(op_env *e) {
  wg_var a = prm(e, 3, 2, -1, 1), b = prm(e, 3, 1, -1, 1), c = prm(e, 3, 4, -1, 1);
  wg_var in[6] = {a, b, a, c, wg_tanh(e->t, b), a};
  return wg_concat_cols(e->t, 6, in);
}
static wg_var case_gather_rows(op_env *e) { /* rows 3 and 0 twice: the scatter-add sums them */
  static const wg_real idx[5] = {3, 0, 4, 0, 3};
  return wg_gather_rows(e->t, prm(e, 5, 3, -1, 1), wg_input(e->t, 5, 1, idx));
}

/* family C: the axis reductions on both axes (axis 1 here, axis 0 in the gradient-test table
 * of check_ops.c and below in test_family_c_shapes_three_oracles), log_softmax, layernorm and
 * dropout with its mask fixed across the checks' replays */
static wg_var case_sum_axis(op_env *e) { return wg_sum_axis(e->t, prm(e, 3, 4, -1, 1), 1); }
static wg_var case_mean_axis(op_env *e) { return wg_mean_axis(e->t, prm(e, 3, 4, -1, 1), 0); }
static wg_var case_max_axis(op_env *e) { return wg_max_axis(e->t, prm_distinct(e, 3, 4), 1); }
static wg_var case_logsumexp_axis(op_env *e) {
  return wg_logsumexp_axis(e->t, prm(e, 3, 4, -2, 2), 0);
}
static wg_var case_log_softmax(op_env *e) { return wg_log_softmax(e->t, prm(e, 3, 4, -2, 2)); }
static wg_var case_layernorm(op_env *e) { return wg_layernorm(e->t, prm(e, 3, 4, -2, 2), 1e-5); }
static wg_rng case_rng;
static wg_var case_dropout(op_env *e) {
  wg_rng_seed(&case_rng, 3);
  return wg_dropout(e->t, prm(e, 3, 4, -2, 2), 0.5, &case_rng);
}

/* 2 images of 2x4x4 (padding 1, stride 2) through a 2 -> 3 channel 3x3 convolution; pools
 * over 2 images of 2x4x4 with overlapping 3x3 windows (max) and 2x2 windows (average) */
static wg_var case_conv2d(op_env *e) {
  wg_conv2d_shape s = {2, 4, 4, 3, 3, 2, 1};
  return wg_conv2d(e->t, prm(e, 2, 32, -1, 1), prm(e, 18, 3, -1, 1), s);
}
static wg_var case_maxpool2d(op_env *e) {
  wg_pool2d_shape s = {2, 4, 4, 3, 1};
  return wg_maxpool2d(e->t, prm_distinct(e, 2, 32), s);
}
static wg_var case_avgpool2d(op_env *e) {
  wg_pool2d_shape s = {2, 4, 4, 2, 2};
  return wg_avgpool2d(e->t, prm(e, 2, 32, -1, 1), s);
}

/* the ops the recorded VJPs are made of: broadcast from a row; step away from its jump, with
 * a later op so its (zero) slope meets a non-trivial adjoint */
static wg_var case_broadcast(op_env *e) { return wg_broadcast(e->t, prm(e, 1, 4, -1, 1), 3, 4); }
static wg_var case_step(op_env *e) {
  wg_var x = prm(e, 3, 4, -1, 1);
  return wg_mul(e->t, wg_step(e->t, x), wg_sin(e->t, x));
}
/* the adjoints of slice and gather_rows, each times a parameter of its result's shape so the
 * loss is not linear in the first one (a pad's zeros and the rows no index names included) */
static wg_var case_pad(op_env *e) {
  return wg_mul(e->t, wg_pad(e->t, prm(e, 2, 3, -1, 1), 4, 5, 1, 2), prm(e, 4, 5, -1, 1));
}
static wg_var case_scatter_rows(op_env *e) { /* rows 3 and 0 twice, rows 1, 2 and 5 none */
  static const wg_real idx[5] = {3, 0, 4, 0, 3};
  wg_var y = wg_scatter_rows(e->t, prm(e, 5, 3, -1, 1), wg_input(e->t, 5, 1, idx), 6);
  return wg_mul(e->t, y, prm(e, 6, 3, -1, 1));
}

/* the pools' helper ops on the pools' shapes above (2 images of 2x4x4; 3x3 windows at stride
 * 1 for max, 2x2 at stride 2 for the average: 2x2 outputs per channel), times a parameter of
 * the result's shape so the loss is not linear in the input that carries values */
static wg_var case_maxpool2d_scatter(op_env *e) {
  wg_pool2d_shape s = {2, 4, 4, 3, 1};
  wg_var y = wg_maxpool2d_scatter(e->t, prm_distinct(e, 2, 32), prm(e, 2, 8, -1, 1), s);
  return wg_mul(e->t, y, prm(e, 2, 32, -1, 1));
}
static wg_var case_maxpool2d_gather(op_env *e) {
  wg_pool2d_shape s = {2, 4, 4, 3, 1};
  wg_var y = wg_maxpool2d_gather(e->t, prm_distinct(e, 2, 32), prm(e, 2, 32, -1, 1), s);
  return wg_mul(e->t, y, prm(e, 2, 8, -1, 1));
}
static wg_var case_avgpool2d_transpose(op_env *e) {
  wg_pool2d_shape s = {2, 4, 4, 2, 2};
  return wg_mul(e->t, wg_avgpool2d_transpose(e->t, prm(e, 2, 8, -1, 1), s), prm(e, 2, 32, -1, 1));
}

/* conv2d's two helper ops on case_conv2d's shape (2 -> 3 channels, 2x2 outputs per channel:
 * y is 2 x 12), times a parameter of the result's shape: the loss is then trilinear */
static wg_var case_conv2d_transpose(op_env *e) {
  wg_conv2d_shape s = {2, 4, 4, 3, 3, 2, 1};
  wg_var x = wg_conv2d_transpose(e->t, prm(e, 2, 12, -1, 1), prm(e, 18, 3, -1, 1), s);
  return wg_mul(e->t, x, prm(e, 2, 32, -1, 1));
}
static wg_var case_conv2d_weight_grad(op_env *e) {
  wg_conv2d_shape s = {2, 4, 4, 3, 3, 2, 1};
  wg_var w = wg_conv2d_weight_grad(e->t, prm(e, 2, 32, -1, 1), prm(e, 2, 12, -1, 1), s);
  return wg_mul(e->t, w, prm(e, 18, 3, -1, 1));
}
static wg_var case_normal_cdf(op_env *e) { return wg_normal_cdf(e->t, prm(e, 3, 4, -3, 3)); }
static wg_var case_argmax_mask(op_env *e) { /* the mask times sin(P): H is not 0 */
  wg_var x = prm_distinct(e, 3, 4);
  return wg_mul(e->t, wg_argmax_mask(e->t, x, 1), wg_sin(e->t, x));
}
static wg_var case_dropout_apply(op_env *e) { /* dropout's mask on sin(P): H is not 0 */
  wg_rng_seed(&case_rng, 4);
  wg_var x = prm(e, 3, 4, -2, 2);
  return wg_dropout_apply(e->t, wg_sin(e->t, x), wg_dropout(e->t, x, 0.5, &case_rng));
}
static wg_var case_onehot(op_env *e) { /* the mask times sin(P): H is not 0 */
  static const wg_real labels[4] = {2, 0, 1, 2};
  wg_var hot = wg_onehot(e->t, wg_input(e->t, 4, 1, labels), 3);
  return wg_mul(e->t, hot, wg_sin(e->t, prm(e, 4, 3, -2, 2)));
}

/* Generated from the op list: an op of src/ops/oplist.h without a case_<name> above is a
 * compile error ("'case_<name>' undeclared"), so every op has its case. */
static wg_var (*const op_cases[WG_OP_COUNT])(op_env *) = {
#define WG_OP(E, name, ...) [WG_OP_##E] = case_##name,
#include "ops/oplist.h"
#undef WG_OP
};

#endif

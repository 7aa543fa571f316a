/* check_reliability_ops.c - every op through the three sweeps, so that the sanitizers,
 * valgrind and coverage see every forward, VJP and JVP kernel run.
 *
 * For each case below, params A (and B) feed the op; the test records
 *   L = sum(y * Wt)          (Wt a fixed input of y's shape, so every adjoint entry differs)
 * and checks, against references from outside the kernels under test:
 *   - elementwise ops: the forward value against libm applied by the test itself;
 *   - replay: wg_forward gives back the recorded value bit for bit;
 *   - VJP: dL/dA, dL/dB against central finite differences of L (replayed with A, B
 *     perturbed by h = 1e-6: truncation error O(h^2) ~ 1e-12, rounding ~ 1e-16/h = 1e-10, so a
 *     relative tolerance of 1e-6 with a floor of 1 separates right from wrong);
 *   - JVP: with tangents u on A and v on B, wg_jvp gives tL = <dL/dA, u> + <dL/dB, v>
 *     (the dot-product test: forward and reverse mode must agree to rounding). */
#include <math.h>
#include <string.h>

#include "testutil.h"

typedef wg_var (*build_fn)(wg_tape *t, wg_var a, wg_var b);
typedef double (*ref_fn)(double x);

typedef struct {
  const char *name;
  build_fn build;
  int ar, ac, br, bc; /* shapes of A and B (br = 0: unary, no B) */
  double lo, hi;      /* values of A and B drawn from [lo, hi) */
  ref_fn ref;         /* elementwise forward reference (unary ops), or NULL */
} op_case;

static const wg_real wt_data[64] = {0.3, -1.2, 0.7, 1.9, -0.4, 1.1, 0.25, -0.8, 1.3, 0.6,
                                    -1.7, 0.9, 0.15, -0.35, 1.45, -0.95, 0.55, 1.05};
static wg_real wt_full[64];

static wg_var b_matmul(wg_tape *t, wg_var a, wg_var b) { return wg_matmul(t, a, b); }
static wg_var b_transpose(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_transpose(t, a); }
static wg_var b_add(wg_tape *t, wg_var a, wg_var b) { return wg_add(t, a, b); }
static wg_var b_sub(wg_tape *t, wg_var a, wg_var b) { return wg_sub(t, a, b); }
static wg_var b_mul(wg_tape *t, wg_var a, wg_var b) { return wg_mul(t, a, b); }
static wg_var b_div(wg_tape *t, wg_var a, wg_var b) { return wg_div(t, a, b); }
static wg_var b_neg(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_neg(t, a); }
static wg_var b_scale(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_scale(t, a, -1.7); }
static wg_var b_exp(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_exp(t, a); }
static wg_var b_log(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_log(t, a); }
static wg_var b_sigmoid(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_sigmoid(t, a); }
static wg_var b_tanh(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_tanh(t, a); }
static wg_var b_relu(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_relu(t, a); }
static wg_var b_square(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_square(t, a); }
static wg_var b_sum(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_sum(t, a); }
static wg_var b_mean(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_mean(t, a); }
static wg_var b_sum_rows(wg_tape *t, wg_var a, wg_var b) { (void)b; return wg_sum_rows(t, a); }
static wg_var b_bce(wg_tape *t, wg_var a, wg_var b) { return wg_bce(t, a, b); }
static wg_var b_bce_logits(wg_tape *t, wg_var a, wg_var b) { return wg_bce_logits(t, a, b); }
static wg_var b_mse(wg_tape *t, wg_var a, wg_var b) { return wg_mse(t, a, b); }
/* leaves: a constant and a data input, each combined with A (they need no gradient) */
static wg_var b_scalar(wg_tape *t, wg_var a, wg_var b) {
  (void)b;
  return wg_mul(t, a, wg_scalar(t, 2.5));
}
static const wg_real x_data[12] = {0.5, -1, 2, 0.25, 1.5, -0.75, 3, -2, 1, 0.1, -0.3, 0.8};
static wg_var b_input(wg_tape *t, wg_var a, wg_var b) {
  (void)b;
  return wg_add(t, wg_input(t, 3, 4, x_data), a);
}
/* a parameter used twice: its gradient accumulates both uses */
static wg_var b_reuse(wg_tape *t, wg_var a, wg_var b) {
  return wg_mul(t, wg_matmul(t, a, b), wg_matmul(t, a, b));
}

static double neg1(double x) { return -x; }
static double scale1(double x) { return -1.7 * x; }
static double sigmoid1(double x) { return 1 / (1 + exp(-x)); }
static double relu1(double x) { return x > 0 ? x : 0; }
static double square1(double x) { return x * x; }

static const op_case cases[] = {
    {"matmul", b_matmul, 3, 4, 4, 2, -1, 1, NULL},
    {"transpose", b_transpose, 3, 4, 0, 0, -1, 1, NULL},
    {"add (1xN bias)", b_add, 3, 4, 1, 4, -1, 1, NULL},
    {"add (Mx1 left)", b_add, 3, 1, 3, 4, -1, 1, NULL},
    {"sub (Mx1 right)", b_sub, 3, 4, 3, 1, -1, 1, NULL},
    {"sub (1x1 left)", b_sub, 1, 1, 3, 4, -1, 1, NULL},
    {"mul (1x1 right)", b_mul, 3, 4, 1, 1, -1, 1, NULL},
    {"mul (equal)", b_mul, 3, 4, 3, 4, -1, 1, NULL},
    {"div (1xN right)", b_div, 3, 4, 1, 4, 0.5, 2, NULL},
    {"div (Mx1 left)", b_div, 3, 1, 3, 4, 0.5, 2, NULL},
    {"neg", b_neg, 3, 4, 0, 0, -1, 1, neg1},
    {"scale", b_scale, 3, 4, 0, 0, -1, 1, scale1},
    {"exp", b_exp, 3, 4, 0, 0, -2, 2, exp},
    {"log", b_log, 3, 4, 0, 0, 0.2, 3, log},
    {"sigmoid", b_sigmoid, 3, 4, 0, 0, -4, 4, sigmoid1},
    {"tanh", b_tanh, 3, 4, 0, 0, -2, 2, tanh},
    {"relu", b_relu, 3, 4, 0, 0, -2, 2, relu1},
    {"square", b_square, 3, 4, 0, 0, -2, 2, square1},
    {"sum", b_sum, 3, 4, 0, 0, -1, 1, NULL},
    {"mean", b_mean, 3, 4, 0, 0, -1, 1, NULL},
    {"sum_rows", b_sum_rows, 3, 4, 0, 0, -1, 1, NULL},
    {"bce", b_bce, 3, 4, 3, 4, 0.1, 0.9, NULL},
    {"bce_logits", b_bce_logits, 3, 4, 3, 4, -3, 3, NULL},
    {"mse", b_mse, 3, 4, 3, 4, -1, 1, NULL},
    {"scalar", b_scalar, 3, 4, 0, 0, -1, 1, NULL},
    {"input", b_input, 3, 4, 0, 0, -1, 1, NULL},
    {"reuse", b_reuse, 3, 4, 4, 2, -1, 1, NULL},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

typedef struct {
  wg_tape *t;
  wg_param *P[2];
  wg_var leaf[2], y, L;
  int np;
} rig;

static void rig_record(rig *g, const op_case *c) {
  g->leaf[0] = wg_use(g->t, g->P[0]);
  g->leaf[1] = g->np > 1 ? wg_use(g->t, g->P[1]) : (wg_var){0, 0};
  g->y = c->build(g->t, g->leaf[0], g->leaf[1]);
  wg_mat y = wg_value(g->t, g->y);
  ck_assert_msg(y.data != NULL, "%s: %s", c->name, wg_tape_error(g->t));
  g->L = wg_sum(g->t, wg_mul(g->t, g->y, wg_input(g->t, y.rows, y.cols, wt_full)));
}

static double loss_now(rig *g) {
  ck_assert_int_eq(wg_forward(g->t), WG_OK);
  return wg_value(g->t, g->L).data[0];
}

START_TEST(test_op_sweeps) {
  const op_case *c = &cases[_i];
  for (int i = 0; i < 64; i++) wt_full[i] = wt_data[i % 18];
  rig g = {.t = wg_tape_new(), .np = c->br ? 2 : 1};
  unsigned long long seed = 1234 + (unsigned long long)_i;
  g.P[0] = wg_param_new("A", c->ar, c->ac);
  g.P[1] = c->br ? wg_param_new("B", c->br, c->bc) : NULL;
  for (int k = 0; k < g.np; k++) {
    wg_mat w = wg_param_value(g.P[k]);
    for (int i = 0; i < w.rows * w.cols; i++) w.data[i] = tu_uniform(&seed, c->lo, c->hi);
  }
  rig_record(&g, c);
  ck_assert_msg(wg_tape_status(g.t) == WG_OK, "%s: %s", c->name, wg_tape_error(g.t));

  /* forward against libm, elementwise */
  wg_mat y = wg_value(g.t, g.y), a = wg_param_value(g.P[0]);
  if (c->ref)
    for (int i = 0; i < a.rows * a.cols; i++)
      ck_assert_msg(fabs(y.data[i] - c->ref(a.data[i])) <= 1e-15 * (1 + fabs(y.data[i])),
                    "%s: y[%d] = %.17g, libm says %.17g", c->name, i, y.data[i], c->ref(a.data[i]));

  /* replay reproduces the recorded value exactly */
  size_t ny = (size_t)y.rows * (size_t)y.cols;
  wg_real y0[64];
  memcpy(y0, y.data, ny * sizeof *y0);
  double L0 = wg_value(g.t, g.L).data[0];
  ck_assert(loss_now(&g) == L0);
  ck_assert(memcmp(y0, wg_value(g.t, g.y).data, ny * sizeof *y0) == 0);

  /* VJP against central differences */
  ck_assert_int_eq(wg_backward(g.t, g.L), WG_OK);
  for (int k = 0; k < g.np; k++) {
    wg_mat w = wg_param_value(g.P[k]), gr = wg_param_grad(g.P[k]);
    wg_real fd[64];
    for (int i = 0; i < w.rows * w.cols; i++) {
      wg_real keep = w.data[i], h = 1e-6;
      w.data[i] = keep + h;
      double lp = loss_now(&g);
      w.data[i] = keep - h;
      double lm = loss_now(&g);
      w.data[i] = keep;
      fd[i] = (lp - lm) / (2 * h);
    }
    double d = tu_max_rel_diff(gr.data, fd, (size_t)w.rows * (size_t)w.cols, 1);
    ck_assert_msg(d < 1e-6, "%s: dL/d%s differs from finite differences by %g", c->name,
                  k ? "B" : "A", d);
  }

  /* JVP against the VJP (dot-product test), at the unperturbed point: the JVP reads the values
   * of the latest forward, so replay once more after the finite differences */
  ck_assert(loss_now(&g) == L0);
  double expect = 0;
  for (int k = 0; k < g.np; k++) {
    wg_mat tv = wg_tangent(g.t, g.leaf[k]), gr = wg_param_grad(g.P[k]);
    for (int i = 0; i < tv.rows * tv.cols; i++) {
      tv.data[i] = tu_uniform(&seed, -1, 1);
      expect += gr.data[i] * tv.data[i];
    }
  }
  ck_assert_int_eq(wg_jvp(g.t), WG_OK);
  double got = wg_tangent(g.t, g.L).data[0];
  ck_assert_msg(fabs(got - expect) <= 1e-12 * (1 + fabs(expect)), "%s: JVP %.17g, VJP says %.17g",
                c->name, got, expect);

  wg_tape_free(g.t);
  wg_param_free(g.P[0]);
  wg_param_free(g.P[1]);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("reliability_ops");
  TCase *tc = tcase_create("every op, three sweeps");
  tcase_add_loop_test(tc, test_op_sweeps, 0, N_CASES);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

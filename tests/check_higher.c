/* check_higher.c - higher-order derivatives: wg_gradients (the reverse sweep recorded as rows)
 * and wg_hvp.
 *
 * Oracles, each independent of the others:
 *   - closed forms: the seed network's Hessian in W, (1/m) X^T diag(a (1 - a)) X, computed here
 *     in plain C from the values of A; third derivatives of sin;
 *   - the numeric sweep: the recorded gradient's values against wg_backward's;
 *   - finite differences: of the gradient rows along v (replayed with wg_forward), and
 *     wg_gradcheck on sum(grad * v) ("gradgradcheck");
 *   - the two Hessian-vector products against each other: reverse over reverse (wg_backward of
 *     sum(grad * v)) and forward over reverse (wg_jvp with tangent v, wg_hvp);
 *   - the dot-product test (forward against reverse mode) on the gradient rows;
 *   - H v recorded as rows (wg_gradients of sum(grad * v): the third-order machinery) against
 *     reverse over reverse.
 * Every op of the op list is checked in all of these ways (op_cases.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/tape.h"
#include "testutil.h"
#include "op_cases.h"

#define N_PARAMS 3

/* ---- helpers ------------------------------------------------------------------------------ */

/* the first use row of each parameter of the case: the variables asked for */
static int param_rows(const op_env *e, wg_var *wrt) {
  int n = 0;
  for (int k = 0; k < N_PARAMS && e->p[k]; k++)
    for (uint32_t i = 0; i < e->t->n_rows; i++)
      if (e->t->rows[i].op == WG_OP_PARAM && e->t->rows[i].ptr == e->p[k]) {
        wrt[n++] = wg_handle(e->t, i);
        break;
      }
  return n;
}

static size_t count_of(wg_param *p) {
  wg_mat v = wg_param_value(p);
  return (size_t)v.rows * (size_t)v.cols;
}

/* max |a - b| / (1 + max |b|) */
static double scaled_diff(const wg_real *a, const wg_real *b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    if (fabs(a[i] - b[i]) > d || a[i] != a[i]) d = a[i] != a[i] ? INFINITY : fabs(a[i] - b[i]);
    if (fabs(b[i]) > s) s = fabs(b[i]);
  }
  return d / (1 + s);
}

/* ---- every op: the recorded VJP gives first and second derivatives ----------------------- */

START_TEST(test_op_table_second_order) {
  const char *name = wg_ops[_i].name;
  op_env e = {.t = wg_tape_new(), .s = 5000 + (unsigned long long)_i};
  wg_var out = op_cases[_i](&e);
  ck_assert_msg(wg_tape_status(e.t) == WG_OK, "%s: %s", name, wg_tape_error(e.t));
  wg_mat ov = wg_value(e.t, out);
  fill(e.r, (size_t)ov.rows * (size_t)ov.cols, &e.s, -1, 1);
  wg_var L = wg_sum(e.t, wg_mul(e.t, out, wg_input(e.t, ov.rows, ov.cols, e.r)));
  wg_var wrt[N_PARAMS], G[N_PARAMS];
  int n = param_rows(&e, wrt);
  ck_assert_int_gt(n, 0);
  ck_assert_msg(wg_gradients(e.t, L, n, wrt, G) == WG_OK, "%s: %s", name, wg_tape_error(e.t));

  /* 1. first order: the recorded gradient has wg_backward's numbers */
  for (int k = 0; k < n; k++) wg_param_zero_grad(e.p[k]);
  ck_assert_int_eq(wg_backward(e.t, L), WG_OK);
  double first = 0;
  for (int k = 0; k < n; k++) {
    double d = scaled_diff(wg_value(e.t, G[k]).data, wg_param_grad(e.p[k]).data, count_of(e.p[k]));
    if (d > first) first = d;
  }
  ck_assert_msg(first < TU_TOL(1e-13), "%s: recorded gradient differs from wg_backward's by %g", name,
                first);

  /* 2. H v two ways: reverse over reverse (backward of S = sum_k sum(G_k * V_k)) and forward
   *    over reverse (wg_hvp) */
  static wg_real v[N_PARAMS][64], hv_fr[N_PARAMS][64], hv_rr[N_PARAMS][64];
  const wg_real *vp[N_PARAMS];
  wg_real *hp[N_PARAMS];
  wg_var S = wg_none();
  for (int k = 0; k < n; k++) {
    ck_assert_uint_le(count_of(e.p[k]), 64);
    fill(v[k], count_of(e.p[k]), &e.s, -1, 1);
    wg_mat g = wg_value(e.t, G[k]);
    wg_var term = wg_sum(e.t, wg_mul(e.t, G[k], wg_input(e.t, g.rows, g.cols, v[k])));
    S = k == 0 ? term : wg_add(e.t, S, term);
    vp[k] = v[k], hp[k] = hv_fr[k];
  }
  ck_assert_msg(wg_hvp(e.t, n, wrt, G, vp, hp) == WG_OK, "%s: %s", name, wg_tape_error(e.t));
  for (int k = 0; k < n; k++) wg_param_zero_grad(e.p[k]);
  ck_assert_int_eq(wg_backward(e.t, S), WG_OK);
  double two_ways = 0, hv_max = 0;
  for (int k = 0; k < n; k++) {
    size_t c = count_of(e.p[k]);
    memcpy(hv_rr[k], wg_param_grad(e.p[k]).data, c * sizeof(wg_real));
    double d = scaled_diff(hv_fr[k], hv_rr[k], c);
    if (d > two_ways) two_ways = d;
    for (size_t i = 0; i < c; i++) hv_max = fmax(hv_max, fabs(hv_rr[k][i]));
  }
  ck_assert_msg(two_ways < TU_TOL(1e-12), "%s: H v forward over reverse and reverse over reverse differ "
                "by %g", name, two_ways);

  /* 3. H v against central differences of the gradient rows along v */
  const double h = TU_FD_H(1e-5); /* tests/tol.h: 4.9e-3 in float */
  double fd_err = 0;
  static wg_real gp[N_PARAMS][64], gm[N_PARAMS][64];
  for (int sign = 1; sign >= -1; sign -= 2) {
    for (int k = 0; k < n; k++) {
      wg_real *x = wg_param_value(e.p[k]).data;
      for (size_t i = 0; i < count_of(e.p[k]); i++) x[i] += sign * h * v[k][i];
    }
    ck_assert_int_eq(wg_forward(e.t), WG_OK);
    for (int k = 0; k < n; k++)
      memcpy(sign > 0 ? gp[k] : gm[k], wg_value(e.t, G[k]).data,
             count_of(e.p[k]) * sizeof(wg_real));
    for (int k = 0; k < n; k++) {
      wg_real *x = wg_param_value(e.p[k]).data;
      for (size_t i = 0; i < count_of(e.p[k]); i++) x[i] -= sign * h * v[k][i];
    }
  }
  ck_assert_int_eq(wg_forward(e.t), WG_OK);
  for (int k = 0; k < n; k++)
    for (size_t i = 0; i < count_of(e.p[k]); i++) {
      double fd = (gp[k][i] - gm[k][i]) / (2 * h);
      fd_err = fmax(fd_err, fabs(fd - hv_rr[k][i]) / (1 + fabs(hv_rr[k][i])));
    }
  ck_assert_msg(fd_err < TU_FD_TOL(1e-6), "%s: H v differs from differences of the gradient by %g", name,
                fd_err);

  /* 4. gradgradcheck: wg_gradcheck on S, when S depends on a parameter at all (a linear op's
   *    gradient is constant: then no row of S needs a gradient and H v is exactly 0) */
  int needs = e.t->rows[S.row].needs_grad;
  if (needs) {
    wg_gradcheck_result r;
    ck_assert_msg(wg_gradcheck(e.t, S, NULL, &r) == 0, "%s: gradcheck of sum(grad * v): %s",
                  name, r.worst);
    ck_assert_int_gt(r.checked, 0);
  } else {
    ck_assert_msg(hv_max == 0, "%s: S needs no gradient but H v is %g", name, hv_max);
  }

  /* 5. the dot-product test on each gradient row (its JVPs against its VJPs) */
  double dot = 0;
  for (int k = 0; k < n && e.t->rows[G[k].row].needs_grad; k++) {
    double d = wg_dot_test(e.t, G[k], 7);
    ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "%s: dot test on gradient %d: %g (%s)", name, k, d,
                  wg_tape_error(e.t));
    dot = fmax(dot, d);
  }
  /* 6. the gradient rows' own VJPs are recorded too (helper ops included): wg_gradients of S
   *    records H v as rows, with the numbers of reverse over reverse above */
  double rec = 0;
  if (needs) {
    wg_var H[N_PARAMS];
    ck_assert_msg(wg_gradients(e.t, S, n, wrt, H) == WG_OK, "%s: recording H v: %s", name,
                  wg_tape_error(e.t));
    for (int k = 0; k < n; k++)
      rec = fmax(rec, scaled_diff(wg_value(e.t, H[k]).data, hv_rr[k], count_of(e.p[k])));
    ck_assert_msg(rec < TU_TOL(1e-12), "%s: recorded H v differs from reverse over reverse by %g", name,
                  rec);
  }
  printf("second order: %-18s grad vs backward %.1e  H v two ways %.1e  vs differences %.1e  "
         "dot %.1e  recorded H v %.1e%s\n", name, first, two_ways, fd_err, dot, rec,
         needs ? "" : "  (H = 0)");
  wg_tape_free(e.t);
  for (int k = 0; k < N_PARAMS; k++) wg_param_free(e.p[k]);
}
END_TEST

/* ---- the seed's network: the Hessian in closed form --------------------------------------- */

#define SM 24 /* samples */
#define SD 5  /* features */

typedef struct {
  wg_tape *t;
  wg_param *W, *b;
  wg_real x[SM * SD], y[SM];
  wg_var A, L, Wu, G;
} seed_net;

/* A = sigmoid(X W + b), L = bce(A, y): fused (wg_bce) or composed from primitives as the demo
 * does, L = -mean(y log A + (1 - y) log(1 - A)) */
static void seed_build(seed_net *s, int fused) {
  unsigned long long r = 77;
  s->t = wg_tape_new();
  s->W = wg_param_new("W", SD, 1);
  s->b = wg_param_new("b", 1, 1);
  fill(s->x, SM * SD, &r, -1.5, 1.5);
  for (int i = 0; i < SM; i++) s->y[i] = tu_uniform(&r, 0, 1) < 0.5 ? 0 : 1;
  fill(wg_param_value(s->W).data, SD, &r, -1, 1);
  wg_param_value(s->b).data[0] = 0.3;
  wg_tape *t = s->t;
  wg_var X = wg_input(t, SM, SD, s->x), Y = wg_input(t, SM, 1, s->y);
  s->Wu = wg_use(t, s->W);
  s->A = wg_sigmoid(t, wg_add(t, wg_matmul(t, X, s->Wu), wg_use(t, s->b)));
  wg_name(t, s->A, "A");
  if (fused) {
    s->L = wg_bce(t, s->A, Y);
  } else {
    wg_var one = wg_scalar(t, 1);
    wg_var ll = wg_add(t, wg_mul(t, Y, wg_log(t, s->A)),
                       wg_mul(t, wg_sub(t, one, Y), wg_log(t, wg_sub(t, one, s->A))));
    s->L = wg_neg(t, wg_mean(t, ll));
  }
  wg_name(t, s->L, "L");
  ck_assert_int_eq(wg_gradients(t, s->L, 1, &s->Wu, &s->G), WG_OK);
}

static void seed_free(seed_net *s) {
  wg_tape_free(s->t);
  wg_param_free(s->W);
  wg_param_free(s->b);
}

/* (1/m) X^T (a (1 - a) * (X v)), in plain C from the values of A */
static void seed_hv_closed_form(seed_net *s, const wg_real *v, double *out) {
  const wg_real *a = wg_value(s->t, s->A).data;
  for (int j = 0; j < SD; j++) out[j] = 0;
  for (int i = 0; i < SM; i++) {
    double xv = 0;
    for (int j = 0; j < SD; j++) xv += s->x[i * SD + j] * v[j];
    double w = a[i] * (1 - a[i]) * xv / SM;
    for (int j = 0; j < SD; j++) out[j] += s->x[i * SD + j] * w;
  }
}

START_TEST(test_seed_hvp_closed_form_two_ways) {
  for (int fused = 0; fused <= 1; fused++) {
    seed_net s;
    seed_build(&s, fused);
    /* the gradient itself: (1/m) X^T (A - y) */
    const wg_real *a = wg_value(s.t, s.A).data;
    wg_real v[SD], hv_fr[SD];
    double g_ref[SD] = {0}, hv_ref[SD];
    for (int i = 0; i < SM; i++)
      for (int j = 0; j < SD; j++) g_ref[j] += s.x[i * SD + j] * (a[i] - s.y[i]) / SM;
    double dg = tu_max_rel_diff(wg_value(s.t, s.G).data, g_ref, SD, 1e-3);
    ck_assert_msg(dg < TU_TOL(1e-12), "fused %d: gradient differs from (1/m) X^T (A - y) by %g", fused,
                  dg);
    unsigned long long r = 5;
    fill(v, SD, &r, -1, 1);
    seed_hv_closed_form(&s, v, hv_ref);
    /* forward over reverse */
    const wg_real *vp[1] = {v};
    wg_real *hp[1] = {hv_fr};
    ck_assert_int_eq(wg_hvp(s.t, 1, &s.Wu, &s.G, vp, hp), WG_OK);
    double d1 = tu_max_rel_diff(hv_fr, hv_ref, SD, 1e-3);
    /* reverse over reverse */
    wg_var S = wg_sum(s.t, wg_mul(s.t, s.G, wg_input(s.t, SD, 1, v)));
    wg_param_zero_grad(s.W);
    ck_assert_int_eq(wg_backward(s.t, S), WG_OK);
    double d2 = tu_max_rel_diff(wg_param_grad(s.W).data, hv_ref, SD, 1e-3);
    printf("seed HVP (%s loss): forward over reverse %.2e, reverse over reverse %.2e relative "
           "to (1/m) X^T (a (1 - a) * (X v))\n", fused ? "fused bce" : "composed", d1, d2);
    ck_assert_msg(d1 < TU_TOL(1e-12) && d2 < TU_TOL(1e-12), "fused %d: H v off by %g and %g", fused, d1, d2);
    seed_free(&s);
  }
}
END_TEST

/* The full Hessian, column by column with v = e_j, against (1/m) X^T diag(a (1 - a)) X */
START_TEST(test_seed_full_hessian_closed_form) {
  for (int fused = 0; fused <= 1; fused++) {
    seed_net s;
    seed_build(&s, fused);
    const wg_real *a = wg_value(s.t, s.A).data;
    double worst = 0;
    for (int j = 0; j < SD; j++) {
      wg_real e[SD] = {0}, col[SD];
      e[j] = 1;
      const wg_real *vp[1] = {e};
      wg_real *hp[1] = {col};
      ck_assert_int_eq(wg_hvp(s.t, 1, &s.Wu, &s.G, vp, hp), WG_OK);
      for (int i = 0; i < SD; i++) {
        double h = 0; /* H_ij = (1/m) sum_s x_si a_s (1 - a_s) x_sj */
        for (int k = 0; k < SM; k++) h += s.x[k * SD + i] * a[k] * (1 - a[k]) * s.x[k * SD + j];
        h /= SM;
        worst = fmax(worst, fabs(col[i] - h) / fabs(h));
      }
    }
    ck_assert_msg(worst < TU_TOL(1e-12), "fused %d: Hessian off by %g relative", fused, worst);
    seed_free(&s);
  }
}
END_TEST

/* The recorded gradient follows new parameter values through wg_forward; the bias's own
 * Hessian entry (1/m) sum a (1 - a) comes out of a gradient asked for b alone. */
START_TEST(test_gradient_rows_replay) {
  seed_net s;
  seed_build(&s, 0);
  wg_real *w = wg_param_value(s.W).data;
  for (int j = 0; j < SD; j++) w[j] = -w[j] * 0.5;
  ck_assert_int_eq(wg_forward(s.t), WG_OK);
  wg_param_zero_grad(s.W);
  ck_assert_int_eq(wg_backward(s.t, s.L), WG_OK);
  double fresh[SD];
  tu_to_double(fresh, wg_param_grad(s.W).data, SD);
  double d = tu_max_rel_diff(wg_value(s.t, s.G).data, fresh, SD, 1e-3);
  ck_assert_msg(d < TU_TOL(1e-13), "replayed gradient differs from a fresh backward by %g", d);
  /* the gradient of b, then its derivative in b: d2L/db2 = (1/m) sum a (1 - a) */
  wg_var bu = wg_none(), Gb;
  for (uint32_t i = 0; i < s.t->n_rows; i++)
    if (s.t->rows[i].op == WG_OP_PARAM && s.t->rows[i].ptr == s.b) bu = wg_handle(s.t, i);
  ck_assert_int_eq(wg_gradients(s.t, s.L, 1, &bu, &Gb), WG_OK);
  wg_var Hb;
  ck_assert_int_eq(wg_gradients(s.t, Gb, 1, &bu, &Hb), WG_OK);
  const wg_real *a = wg_value(s.t, s.A).data;
  double ref = 0;
  for (int i = 0; i < SM; i++) ref += a[i] * (1 - a[i]) / SM;
  double hb = wg_value(s.t, Hb).data[0];
  ck_assert_msg(fabs(hb - ref) <= TU_TOL(1e-13) * ref, "d2L/db2 = %.17g, closed form %.17g", hb, ref);
  seed_free(&s);
}
END_TEST

/* sin, differentiated three times by recording: cos, -sin, -cos, exactly libm's numbers up to
 * the one rounding of a negation */
START_TEST(test_third_derivative_of_sin) {
  wg_param *P = wg_param_new("x", 1, 4);
  wg_real *x = wg_param_value(P).data;
  x[0] = -2.5, x[1] = 0.1, x[2] = 1.0, x[3] = 3.0;
  wg_tape *t = wg_tape_new();
  wg_var u = wg_use(t, P), g1, g2, g3;
  ck_assert_int_eq(wg_gradients(t, wg_sum(t, wg_sin(t, u)), 1, &u, &g1), WG_OK);
  ck_assert_int_eq(wg_gradients(t, wg_sum(t, g1), 1, &u, &g2), WG_OK);
  ck_assert_int_eq(wg_gradients(t, wg_sum(t, g2), 1, &u, &g3), WG_OK);
  for (int i = 0; i < 4; i++) {
    ck_assert_double_eq_tol(wg_value(t, g1).data[i], cos(x[i]), TU_TOL(1e-15));
    ck_assert_double_eq_tol(wg_value(t, g2).data[i], -sin(x[i]), TU_TOL(1e-15));
    ck_assert_double_eq_tol(wg_value(t, g3).data[i], -cos(x[i]), TU_TOL(1e-15));
  }
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* A parameter used twice: its gradient sums both uses; asked through either use row. An
 * intermediate row: its gradient is its adjoint. An unused variable: zeros. */
START_TEST(test_uses_intermediates_and_unused) {
  wg_param *P = wg_param_new("p", 2, 2), *Q = wg_param_new("q", 2, 2);
  wg_real *p = wg_param_value(P).data;
  p[0] = 0.5, p[1] = -1, p[2] = 2, p[3] = 0.25;
  wg_tape *t = wg_tape_new();
  wg_var u1 = wg_use(t, P), u2 = wg_use(t, P), q = wg_use(t, Q);
  wg_var h = wg_mul(t, u1, wg_exp(t, u2)); /* L = sum(p exp(p)) */
  wg_var L = wg_sum(t, wg_square(t, h));   /* L = sum(h^2), dL/dh = 2 h */
  wg_var wrt[4] = {u1, u2, h, q}, G[4];
  ck_assert_int_eq(wg_gradients(t, L, 4, wrt, G), WG_OK);
  for (int i = 0; i < 4; i++) {
    double hv = p[i] * exp(p[i]);
    double g = 2 * hv * (exp(p[i]) + p[i] * exp(p[i])); /* d/dp (p e^p)^2 */
    ck_assert_double_eq_tol(wg_value(t, G[0]).data[i], g, TU_TOL(1e-13) * (1 + fabs(g)));
    ck_assert_double_eq(wg_value(t, G[1]).data[i], wg_value(t, G[0]).data[i]);
    ck_assert_double_eq_tol(wg_value(t, G[2]).data[i], 2 * hv, TU_TOL(1e-15) * (1 + fabs(2 * hv)));
    ck_assert(wg_value(t, G[3]).data[i] == 0);
  }
  wg_mat z = wg_value(t, G[3]);
  ck_assert_int_eq(z.rows, 2);
  ck_assert_int_eq(z.cols, 2);
  wg_tape_free(t);
  wg_param_free(P);
  wg_param_free(Q);
}
END_TEST

/* The recorded rows print as a Wengert table with the adjoints named after their rows. */
START_TEST(test_gradient_rows_are_named_and_printable) {
  seed_net s;
  seed_build(&s, 1);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  wg_tape_print(s.t, f);
  fclose(f);
  ck_assert_msg(strstr(buf, "adj(L)") && strstr(buf, "adj(A)"), "%s", buf);
  free(buf);
  seed_free(&s);
}
END_TEST

/* ---- kinks, ties, infinities: the recorded VJPs keep the numeric VJPs' conventions -------- */

/* x and y (2 x 4) hold kinks (0, -0), ties (x = y, among them -inf, +inf and 0 = -0), values
 * on clamp's bounds and infinities; xn adds a NaN for the ops whose rule keeps NaN's 0 */
static const wg_real kx[8] = {-1, 0, 0.5, -0.5, 2, -INFINITY, INFINITY, -0.0};
static const wg_real ky[8] = {-1, 0, 1, -0.5, 3, -INFINITY, INFINITY, 0.0};
static const wg_real kn[8] = {0.5, NAN, 0.5, -1, 0, 0, 3, NAN};

static wg_var k_relu(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_relu(t, x); }
static wg_var k_abs(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_abs(t, x); }
static wg_var k_leaky(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_leaky_relu(t, x, 0.3); }
static wg_var k_max0(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_max_axis(t, x, 0); }
static wg_var k_max1(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_max_axis(t, x, 1); }
static wg_var k_clamp(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_clamp(t, x, -0.5, 0.5); }
static wg_var k_clamp_lo(wg_tape *t, wg_var x, wg_var y) {
  (void)y;
  return wg_clamp(t, x, -INFINITY, 0.5);
}
static wg_var k_clamp_eq(wg_tape *t, wg_var x, wg_var y) { (void)y; return wg_clamp(t, x, 0.5, 0.5); }
static wg_var k_clamp_inf(wg_tape *t, wg_var x, wg_var y) {
  (void)y;
  return wg_add(t, wg_clamp(t, x, INFINITY, INFINITY), wg_clamp(t, x, -INFINITY, -INFINITY));
}
static wg_var k_maximum(wg_tape *t, wg_var x, wg_var y) { return wg_maximum(t, x, y); }
static wg_var k_minimum(wg_tape *t, wg_var x, wg_var y) { return wg_minimum(t, x, y); }
static wg_var k_maximum_row(wg_tape *t, wg_var x, wg_var y) { /* a row broadcast: y's column */
  return wg_maximum(t, x, wg_max_axis(t, y, 0));                 /* maxima 3, 0, inf, 0 tie x */
}

START_TEST(test_kinks_ties_and_infinities) {
  static const struct {
    const char *name;
    wg_var (*f)(wg_tape *, wg_var, wg_var);
    int nan_too; /* also on kn, with a NaN */
  } cases[] = {{"relu", k_relu, 1},       {"abs", k_abs, 1},           {"leaky_relu", k_leaky, 1},
               {"max_axis 0", k_max0, 1}, {"max_axis 1", k_max1, 1},   {"clamp", k_clamp, 0},
               {"clamp -inf", k_clamp_lo, 0}, {"clamp lo = hi", k_clamp_eq, 0},
               {"clamp at +-inf", k_clamp_inf, 0}, {"maximum", k_maximum, 0},
               {"minimum", k_minimum, 0}, {"maximum broadcast", k_maximum_row, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int nan = 0; nan <= cases[c].nan_too; nan++) {
      wg_param *P = wg_param_new("x", 2, 4), *Q = wg_param_new("y", 2, 4);
      memcpy(wg_param_value(P).data, nan ? kn : kx, sizeof kx);
      memcpy(wg_param_value(Q).data, ky, sizeof ky);
      wg_tape *t = wg_tape_new();
      wg_var x = wg_use(t, P), y = wg_use(t, Q), out = cases[c].f(t, x, y);
      wg_mat o = wg_value(t, out);
      wg_real r[8] = {0.7, -1.3, 0.4, 2.1, -0.6, 1.7, -0.9, 1.1};
      wg_var L = wg_sum(t, wg_mul(t, out, wg_input(t, o.rows, o.cols, r)));
      wg_var wrt[2] = {x, y}, G[2];
      ck_assert_msg(wg_gradients(t, L, 2, wrt, G) == WG_OK, "%s: %s", cases[c].name,
                    wg_tape_error(t));
      ck_assert_int_eq(wg_backward(t, L), WG_OK);
      for (int k = 0; k < 2; k++) {
        const wg_real *rec = wg_value(t, G[k]).data, *num = wg_param_grad(k ? Q : P).data;
        for (int e = 0; e < 8; e++)
          ck_assert_msg(rec[e] == num[e], "%s%s: d/d%c element %d: recorded %g, numeric %g",
                        cases[c].name, nan ? " (NaN)" : "", k ? 'y' : 'x', e, rec[e], num[e]);
      }
      wg_tape_free(t);
      wg_param_free(P);
      wg_param_free(Q);
    }
}
END_TEST


/* Forward mode skips what an identically zero tangent would multiply (tan_zero in sweep.c):
 * X W with the data X (tangent 0) and tangent U on W gives exactly X U, one product; a row
 * whose inputs do not move gets tangent 0 even where its JVP would form 0 * inf (log at 0). */
START_TEST(test_jvp_skips_zero_tangents) {
  wg_real x[6] = {1, -2, 0.5, 3, 0, -1}, zero[2] = {0, 1};
  wg_param *W = wg_param_new("W", 3, 2);
  wg_real *w = wg_param_value(W).data;
  for (int i = 0; i < 6; i++) w[i] = 0.25 * (i + 1);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 2, 3, x), Wu = wg_use(t, W);
  wg_var Y = wg_matmul(t, X, Wu);
  wg_var Z = wg_log(t, wg_input(t, 1, 2, zero)); /* log(0) = -inf: its JVP would give NaN */
  wg_mat u = wg_tangent(t, Wu);
  for (int i = 0; i < 6; i++) u.data[i] = 0.5 - 0.125 * i;
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      double xu = 0; /* X U by hand */
      for (int k = 0; k < 3; k++) xu += x[i * 3 + k] * u.data[k * 2 + j];
      ck_assert_double_eq_tol(wg_tangent(t, Y).data[i * 2 + j], xu, TU_TOL(1e-15));
    }
  ck_assert(wg_tangent(t, Z).data[0] == 0 && wg_tangent(t, Z).data[1] == 0);
  /* the data's tangent set non-zero: both products count again */
  wg_tangent(t, X).data[0] = 1;
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  double xu0 = 0;
  for (int k = 0; k < 3; k++) xu0 += x[k] * u.data[k * 2];
  ck_assert_double_eq_tol(wg_tangent(t, Y).data[0], xu0 + w[0], TU_TOL(1e-15));
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* ---- errors --------------------------------------------------------------------------- */

static void none_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)ctx;
  memcpy(out.data, in[0].data, (size_t)out.rows * (size_t)out.cols * sizeof *out.data);
}
static void none_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)in, (void)out, (void)ctx;
  for (int i = 0; i < dy.rows * dy.cols; i++)
    if (dx[0].data) dx[0].data[i] += dy.data[i];
}

/* a recorded VJP that returns a term of the wrong shape: caught, naming the op */
static void bad_record(wg_tape *t, int n, const wg_var *in, wg_var out, wg_var dy, wg_var *dx,
                       void *ctx) {
  (void)n, (void)in, (void)out, (void)ctx;
  dx[0] = wg_sum(t, dy);
}

START_TEST(test_gradients_errors) {
  wg_param *P = wg_param_new("p", 2, 3);
  wg_tape *t = wg_tape_new();
  wg_var u = wg_use(t, P), G;
  wg_var y = wg_sigmoid(t, u);
  /* a loss that is not 1x1 */
  ck_assert_int_eq(wg_gradients(t, y, 1, &u, &G), WG_ERR_SHAPE);
  ck_assert_msg(strstr(wg_tape_error(t), "not (1x1)"), "%s", wg_tape_error(t));
  ck_assert(wg_is_none(G));
  wg_tape_reset(t);
  u = wg_use(t, P);
  wg_var L = wg_sum(t, wg_sigmoid(t, u));
  ck_assert_int_eq(wg_gradients(t, L, 0, &u, &G), WG_ERR_ARG);
  wg_tape_reset(t);
  u = wg_use(t, P);
  L = wg_sum(t, wg_sigmoid(t, u));
  wg_var stale = {u.gen + 7, u.row};
  ck_assert_int_eq(wg_gradients(t, L, 1, &stale, &G), WG_ERR_HANDLE);
  /* a custom op without record_vjp: named */
  wg_tape_reset(t);
  u = wg_use(t, P);
  wg_custom_op op = {"plain", NULL, none_forward, none_vjp, NULL, NULL};
  L = wg_sum(t, wg_custom(t, &op, NULL, 1, &u));
  ck_assert_int_eq(wg_gradients(t, L, 1, &u, &G), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "custom op 'plain'") &&
                strstr(wg_tape_error(t), "record_vjp"), "%s", wg_tape_error(t));
  /* one whose record_vjp gives a wrong shape */
  wg_tape_reset(t);
  u = wg_use(t, P);
  op.name = "wrongshape";
  op.record_vjp = bad_record;
  L = wg_sum(t, wg_custom(t, &op, NULL, 1, &u));
  ck_assert_int_eq(wg_gradients(t, L, 1, &u, &G), WG_ERR_STATE);
  ck_assert_msg(strstr(wg_tape_error(t), "wrongshape") && strstr(wg_tape_error(t), "(1x1) term"),
                "%s", wg_tape_error(t));
  /* wg_hvp needs leaves and matching gradients */
  wg_tape_reset(t);
  u = wg_use(t, P);
  y = wg_sigmoid(t, u);
  L = wg_sum(t, y);
  ck_assert_int_eq(wg_gradients(t, L, 1, &u, &G), WG_OK);
  wg_real v[6] = {0}, hv[6];
  const wg_real *vp[1] = {v};
  wg_real *hp[1] = {hv};
  ck_assert_int_eq(wg_hvp(t, 1, &y, &G, vp, hp), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "must be a leaf"), "%s", wg_tape_error(t));
  wg_tape_free(t);
  /* a NULL tape */
  ck_assert_int_ne(wg_gradients(NULL, L, 1, &u, &G), WG_OK);
  wg_param_free(P);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("higher");
  TCase *tc = tcase_create("seed");
  tcase_add_test(tc, test_seed_hvp_closed_form_two_ways);
  tcase_add_test(tc, test_seed_full_hessian_closed_form);
  tcase_add_test(tc, test_gradient_rows_replay);
  tcase_add_test(tc, test_third_derivative_of_sin);
  tcase_add_test(tc, test_uses_intermediates_and_unused);
  tcase_add_test(tc, test_gradient_rows_are_named_and_printable);
  tcase_add_test(tc, test_gradients_errors);
  tcase_add_test(tc, test_jvp_skips_zero_tangents);
  tcase_add_test(tc, test_kinks_ties_and_infinities);
  suite_add_tcase(s, tc);
  tc = tcase_create("op table");
  tcase_add_loop_test(tc, test_op_table_second_order, 0, WG_OP_COUNT);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

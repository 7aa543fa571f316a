/* wengert-gb: the compute side of the GradBench tool (bench/gradbench/wengert-tool).
 *
 *   wengert-gb EVAL FUNCTION MIN_RUNS MIN_SECONDS < numbers
 *
 * Reads the eval's input as whitespace-separated numbers (the layout per eval is below and in
 * wengert-tool), records the objective with wengert's ops, and repeats the evaluation until it
 * has run MIN_RUNS times and for MIN_SECONDS in total. Run 0 records the tape; later runs
 * replay it (wg_forward) on the same leaves. A gradient is one wg_backward on the recorded
 * objective. Prints the output numbers on line 1 and the nanoseconds of each run on line 2. */
#include "wengert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WGB_PI 3.14159265358979323846

static double *read_n(size_t n) {
  double *v = calloc(n ? n : 1, sizeof *v);
  if (!v) { fprintf(stderr, "wengert-gb: out of memory\n"); exit(2); }
  for (size_t i = 0; i < n; i++)
    if (scanf("%lf", &v[i]) != 1) { fprintf(stderr, "wengert-gb: short input\n"); exit(2); }
  return v;
}
static long read_int(void) {
  double d = 0;
  if (scanf("%lf", &d) != 1) { fprintf(stderr, "wengert-gb: short input\n"); exit(2); }
  return (long)d;
}
static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static wg_param *param_from(const char *name, int r, int c, const double *v) {
  wg_param *p = wg_param_new(name, r, c);
  if (!p) { fprintf(stderr, "wengert-gb: %s\n", wg_last_error()); exit(2); }
  memcpy(wg_param_value(p).data, v, (size_t)r * (size_t)c * sizeof(double));
  return p;
}
static void check(wg_tape *t) {
  if (wg_tape_status(t)) { fprintf(stderr, "wengert-gb: %s\n", wg_tape_error(t)); exit(3); }
}

/* One eval's objective: record(t) appends its rows and returns the 1x1 loss. */
typedef struct problem {
  wg_var (*record)(struct problem *pb, wg_tape *t);
  wg_param *params[4];
  int nparams;
  double *in[4]; /* constant inputs the objective reads (kept alive while the tape is) */
  long d, k, n, m;
  double gamma;
  int grad; /* 1 when the function is a gradient (ode: the loss is then y_n only) */
} problem;

/* hello: square(x) = x * x; double is its derivative 2x, through wg_backward. */
static wg_var rec_hello(problem *pb, wg_tape *t) {
  wg_var x = wg_use(t, pb->params[0]);
  return wg_mul(t, x, x);
}

/* lse: log sum_i exp(x_i), x an n x 1 column. */
static wg_var rec_lse(problem *pb, wg_tape *t) {
  return wg_logsumexp_axis(t, wg_use(t, pb->params[0]), 0);
}

/* llsq: 1/2 sum_i (s(t_i) - sum_j x_j t_i^j)^2 with t_i = -1 + 2i/(n-1) and s the sign. The
 * powers T_ij = t_i^j and the signs are constants of the objective (they do not depend on x):
 * built once, as inputs. */
static wg_var rec_llsq(problem *pb, wg_tape *t) {
  wg_var T = wg_input(t, (int)pb->n, (int)pb->m, pb->in[0]);
  wg_var s = wg_input(t, (int)pb->n, 1, pb->in[1]);
  wg_var r = wg_sub(t, s, wg_matmul(t, T, wg_use(t, pb->params[0])));
  return wg_scale(t, wg_sum(t, wg_square(t, r)), 0.5);
}

/* gmm: ADBench's Gaussian mixture log-posterior. params: alpha (1 x k), mu (k x d),
 * q (k x d), l (k x d(d-1)/2). in[0]: x (n x d); in[1]: gather indices that lay each l_k out
 * as the d x d matrix M_k with (xc M_k)_j = sum_{i<j} l_k[idx(i,j)] xc_i (index k*lsz points
 * at an appended zero). */
static wg_var rec_gmm(problem *pb, wg_tape *t) {
  int d = (int)pb->d, k = (int)pb->k, n = (int)pb->n, lsz = d * (d - 1) / 2;
  wg_var alpha = wg_use(t, pb->params[0]), mu = wg_use(t, pb->params[1]);
  wg_var q = wg_use(t, pb->params[2]), l = wg_use(t, pb->params[3]);
  wg_var X = wg_input(t, n, d, pb->in[0]);
  wg_var Qdiag = wg_exp(t, q);
  wg_var sum_qs = wg_sum_axis(t, q, 1); /* k x 1 */
  wg_var Ms = {0, 0};
  if (lsz > 0) {
    wg_var parts[2] = {wg_reshape(t, l, k * lsz, 1), wg_scalar(t, 0.0)};
    wg_var table = wg_concat_rows(t, 2, parts);
    Ms = wg_gather_rows(t, table, wg_input(t, k * d * d, 1, pb->in[1]));
  }
  wg_var *cols = malloc((size_t)k * sizeof *cols);
  if (!cols) exit(2);
  for (int ik = 0; ik < k; ik++) {
    wg_var xc = wg_sub(t, X, wg_slice(t, mu, ik, 0, 1, d));
    wg_var Qx = wg_mul(t, xc, wg_slice(t, Qdiag, ik, 0, 1, d));
    if (lsz > 0) {
      wg_var M = wg_reshape(t, wg_slice(t, Ms, ik * d * d, 0, d * d, 1), d, d);
      Qx = wg_add(t, Qx, wg_matmul(t, xc, M));
    }
    cols[ik] = wg_scale(t, wg_sum_axis(t, wg_square(t, Qx), 1), -0.5); /* n x 1 */
  }
  wg_var main_term = wg_concat_cols(t, k, cols);
  free(cols);
  main_term = wg_add(t, main_term, wg_add(t, alpha, wg_transpose(t, sum_qs)));
  wg_var slse = wg_sum(t, wg_logsumexp_axis(t, main_term, 1));
  wg_var lse_alpha = wg_logsumexp_axis(t, alpha, 1);
  double g = pb->gamma;
  int wn = d + (int)pb->m + 1;
  double lgd = 0.25 * d * (d - 1) * log(WGB_PI);
  for (int j = 1; j <= d; j++) lgd += lgamma(0.5 * wn + 0.5 * (1 - j));
  double C = wn * d * (log(g) - 0.5 * log(2.0)) - lgd;
  double cst = -n * d * 0.5 * log(2 * WGB_PI) + k * C;
  wg_var frob = wg_sum(t, wg_square(t, Qdiag));
  if (lsz > 0) frob = wg_add(t, frob, wg_sum(t, wg_square(t, l)));
  wg_var prior = wg_sub(t, wg_scale(t, frob, 0.5 * g * g), wg_scale(t, wg_sum(t, q), (double)pb->m));
  wg_var err = wg_sub(t, slse, wg_scale(t, lse_alpha, (double)n));
  err = wg_sub(t, err, prior);
  return wg_add(t, err, wg_scalar(t, cst));
}

/* ode: s explicit fourth-order Runge-Kutta steps of y' = f(x, y) from y = 0 over [0, 2], with
 * f(x, y)_0 = x_0 and f(x, y)_i = x_i y_{i-1}: f = x * [1; y_0..y_{n-2}]. The primal is the
 * final y (n x 1); the gradient is that of its last element with respect to x. */
static wg_var ode_f(wg_tape *t, wg_var x, wg_var y, int n) {
  if (n == 1) return x;
  wg_var parts[2] = {wg_scalar(t, 1.0), wg_slice(t, y, 0, 0, n - 1, 1)};
  return wg_mul(t, x, wg_concat_rows(t, 2, parts));
}
static wg_var rec_ode(problem *pb, wg_tape *t) {
  int n = (int)pb->n;
  long s = pb->k;
  double h = 2.0 / (double)s;
  wg_var x = wg_use(t, pb->params[0]);
  wg_var y = wg_scale(t, x, 0.0); /* y(0) = 0, n x 1 */
  for (long step = 0; step < s; step++) {
    wg_var k1 = ode_f(t, x, y, n);
    wg_var k2 = ode_f(t, x, wg_add(t, y, wg_scale(t, k1, h / 2)), n);
    wg_var k3 = ode_f(t, x, wg_add(t, y, wg_scale(t, k2, h / 2)), n);
    wg_var k4 = ode_f(t, x, wg_add(t, y, wg_scale(t, k3, h)), n);
    wg_var inc = wg_add(t, wg_add(t, k1, k4), wg_scale(t, wg_add(t, k2, k3), 2.0));
    y = wg_add(t, y, wg_scale(t, inc, h / 6));
  }
  return pb->grad ? wg_slice(t, y, n - 1, 0, 1, 1) : y;
}

/* det: the determinant of the l x l matrix A by Gaussian elimination without pivoting: the
 * product of the pivots, each step replacing the trailing block by its Schur complement
 * B - c r / p (p the pivot, c the column below it, r the row right of it). */
static wg_var rec_det(problem *pb, wg_tape *t) {
  int l = (int)pb->n;
  wg_var M = wg_use(t, pb->params[0]);
  wg_var det = wg_slice(t, M, 0, 0, 1, 1);
  for (int m = l; m > 1; m--) {
    wg_var p = wg_slice(t, M, 0, 0, 1, 1);
    wg_var c = wg_div(t, wg_slice(t, M, 1, 0, m - 1, 1), p);
    wg_var r = wg_slice(t, M, 0, 1, 1, m - 1);
    M = wg_sub(t, wg_slice(t, M, 1, 1, m - 1, m - 1), wg_matmul(t, c, r));
    det = wg_mul(t, det, wg_slice(t, M, 0, 0, 1, 1));
  }
  return det;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: wengert-gb EVAL FUNCTION MIN_RUNS MIN_SECONDS < numbers\n");
    return 2;
  }
  const char *ev = argv[1], *fn = argv[2];
  long min_runs = atol(argv[3]);
  double min_seconds = atof(argv[4]);
  problem pb;
  memset(&pb, 0, sizeof pb);
  int grad;
  if (!strcmp(ev, "hello")) {
    double *x = read_n(1);
    pb.params[0] = param_from("x", 1, 1, x);
    pb.nparams = 1;
    pb.record = rec_hello;
    grad = !strcmp(fn, "double");
    free(x);
  } else if (!strcmp(ev, "lse")) {
    long n = read_int();
    double *x = read_n((size_t)n);
    pb.params[0] = param_from("x", (int)n, 1, x);
    pb.nparams = 1;
    pb.record = rec_lse;
    grad = !strcmp(fn, "gradient");
    free(x);
  } else if (!strcmp(ev, "llsq")) {
    pb.n = read_int();
    pb.m = read_int();
    double *x = read_n((size_t)pb.m);
    pb.params[0] = param_from("x", (int)pb.m, 1, x);
    pb.nparams = 1;
    free(x);
    pb.in[0] = malloc((size_t)(pb.n * pb.m) * sizeof(double));
    pb.in[1] = malloc((size_t)pb.n * sizeof(double));
    if (!pb.in[0] || !pb.in[1]) return 2;
    for (long i = 0; i < pb.n; i++) {
      double ti = -1 + (double)i * 2 / ((double)pb.n - 1), mul = 1;
      pb.in[1][i] = (ti > 0) - (ti < 0);
      for (long j = 0; j < pb.m; j++) { pb.in[0][i * pb.m + j] = mul; mul *= ti; }
    }
    pb.record = rec_llsq;
    grad = !strcmp(fn, "gradient");
  } else if (!strcmp(ev, "gmm")) {
    pb.d = read_int(); pb.k = read_int(); pb.n = read_int(); pb.m = read_int();
    double *gm = read_n(1);
    pb.gamma = gm[0];
    free(gm);
    int d = (int)pb.d, k = (int)pb.k, lsz = d * (d - 1) / 2;
    double *v = read_n((size_t)k);
    pb.params[0] = param_from("alpha", 1, k, v); free(v);
    v = read_n((size_t)(k * d));
    pb.params[1] = param_from("mu", k, d, v); free(v);
    v = read_n((size_t)(k * d));
    pb.params[2] = param_from("q", k, d, v); free(v);
    v = read_n((size_t)(k * lsz));
    pb.params[3] = lsz > 0 ? param_from("l", k, lsz, v) : NULL; free(v);
    pb.nparams = lsz > 0 ? 4 : 3;
    if (lsz == 0) { fprintf(stderr, "wengert-gb: gmm needs d >= 2\n"); return 2; }
    pb.in[0] = read_n((size_t)(pb.n * d));
    pb.in[1] = malloc((size_t)(k * d * d) * sizeof(double));
    if (!pb.in[1]) return 2;
    for (int ik = 0; ik < k; ik++) {
      double *M = pb.in[1] + (size_t)ik * d * d;
      for (int e = 0; e < d * d; e++) M[e] = k * lsz; /* the zero row */
      int li = 0;
      for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) M[i * d + j] = ik * lsz + li++;
    }
    pb.record = rec_gmm;
    grad = !strcmp(fn, "jacobian");
  } else if (!strcmp(ev, "ode")) {
    pb.n = read_int();
    pb.k = read_int(); /* s, the number of steps */
    if (pb.n < 1 || pb.k < 1) { fprintf(stderr, "wengert-gb: ode needs n, s >= 1\n"); return 2; }
    double *x = read_n((size_t)pb.n);
    pb.params[0] = param_from("x", (int)pb.n, 1, x);
    pb.nparams = 1;
    free(x);
    pb.record = rec_ode;
    grad = !strcmp(fn, "gradient");
  } else if (!strcmp(ev, "det")) {
    pb.n = read_int(); /* ell */
    if (pb.n < 1) { fprintf(stderr, "wengert-gb: det needs ell >= 1\n"); return 2; }
    double *a = read_n((size_t)(pb.n * pb.n));
    pb.params[0] = param_from("A", (int)pb.n, (int)pb.n, a);
    pb.nparams = 1;
    free(a);
    pb.record = rec_det;
    grad = !strcmp(fn, "gradient");
  } else {
    fprintf(stderr, "wengert-gb: unknown eval %s\n", ev);
    return 2;
  }

  pb.grad = grad;
  wg_tape *t = wg_tape_new();
  if (!t) { fprintf(stderr, "wengert-gb: %s\n", wg_last_error()); return 2; }
  long long *ns = NULL;
  long runs = 0, cap = 0;
  double total = 0;
  wg_var loss = {0, 0};
  while (runs < min_runs || total < min_seconds) {
    long long t0 = now_ns();
    if (runs == 0) loss = pb.record(&pb, t);
    else wg_forward(t);
    if (grad) {
      for (int i = 0; i < pb.nparams; i++) wg_param_zero_grad(pb.params[i]);
      wg_backward(t, loss);
    }
    long long t1 = now_ns();
    check(t);
    if (runs == cap) {
      cap = cap ? 2 * cap : 64;
      ns = realloc(ns, (size_t)cap * sizeof *ns);
      if (!ns) return 2;
    }
    ns[runs++] = t1 - t0;
    total += (double)(t1 - t0) / 1e9;
  }
  if (!grad) {
    wg_mat y = wg_value(t, loss);
    for (int e = 0; e < y.rows * y.cols; e++) printf("%s%.17g", e ? " " : "", y.data[e]);
    printf("\n");
  } else {
    const char *sep = "";
    for (int i = 0; i < pb.nparams; i++) {
      wg_mat g = wg_param_grad(pb.params[i]);
      for (int e = 0; e < g.rows * g.cols; e++) { printf("%s%.17g", sep, g.data[e]); sep = " "; }
    }
    printf("\n");
  }
  for (long i = 0; i < runs; i++) printf("%s%lld", i ? " " : "", ns[i]);
  printf("\n");
  free(ns);
  wg_tape_free(t);
  for (int i = 0; i < pb.nparams; i++) wg_param_free(pb.params[i]);
  for (int i = 0; i < 4; i++) free(pb.in[i]);
  return 0;
}

/* newton.c - Newton's method without forming the Hessian, beside gradient descent, for the
 * seed's logistic regression on the breast-cancer data.
 *
 *   A = sigmoid(X W + b),  L = bce(A, t)                X (m x 30), W (30 x 1), b (1 x 1)
 *
 * Both methods run on one recorded tape: the loss, and its gradient recorded as rows by
 * wg_gradients (g = (1/m) [X^T (A - t); sum(A - t)]). wg_forward replays both for new
 * parameter values, so nothing is recorded again.
 *   - Gradient descent: theta <- theta - lr g.
 *   - Newton: solve H p = -g by conjugate gradients, where each product H v comes from wg_hvp
 *     (forward mode over the gradient rows: H = (1/m) [X 1]^T diag(a (1 - a)) [X 1] is never
 *     formed), then theta <- theta + alpha p, alpha halved from 1 until the loss decreases
 *     enough (Armijo: L(theta + alpha p) <= L + 1e-4 alpha g.p).
 * A small ridge term (lambda/2) |W|^2 keeps the minimum finite: the standardised data are
 * nearly separable, and without it the loss falls toward 0 as |W| grows without bound.
 *
 *   build/examples/newton [--data PATH] [--steps N] [--lr X] [--lambda X] [--plot FILE]
 *   --plot FILE writes "step gd_loss newton_loss" lines for gnuplot (docs/tools/newton.gp). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"

#define FEATURES_MAX 64
/* stopping tolerances, by the precision of wg_real: conjugate gradients stop at a residual
 * CG_TOL |g|; Newton stops when |g| < GRAD_TOL (float carries about 7 digits, double 16) */
#define F32 (sizeof(wg_real) == sizeof(float))
#define CG_TOL (F32 ? 1e-5 : 1e-10)
#define GRAD_TOL (F32 ? 1e-6 : 1e-12)

typedef struct {
  wg_tape *t;
  wg_param *W, *b;
  wg_var uses[2], grads[2], L;
  int n;          /* parameters: features + 1 */
  long hvps;      /* Hessian-vector products so far */
} problem;

_Noreturn static void die(const char *prog, const char *msg) {
  fprintf(stderr, "%s: %s\n", prog, msg);
  exit(1);
}

static double parse_number(const char *prog, const char *opt, const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !isfinite(v)) {
    fprintf(stderr, "%s: %s expects a number, got '%s'\n", prog, opt, s);
    exit(2);
  }
  return v;
}

static void check(const char *prog, wg_tape *t) {
  if (wg_tape_status(t) != WG_OK) die(prog, wg_tape_error(t));
}

/* record L = bce(sigmoid(X W + b), t) + (lambda/2) sum(W^2), then its gradient as rows */
static void record(const char *prog, problem *p, const wg_dataset *d, double lambda) {
  wg_tape *t = p->t;
  wg_var X = wg_input(t, d->rows, d->cols, d->x), Y = wg_input(t, d->rows, 1, d->y);
  p->uses[0] = wg_use(t, p->W);
  p->uses[1] = wg_use(t, p->b);
  wg_var A = wg_sigmoid(t, wg_add(t, wg_matmul(t, X, p->uses[0]), p->uses[1]));
  wg_var ridge = wg_scale(t, wg_sum(t, wg_square(t, p->uses[0])), (wg_real)(lambda / 2));
  p->L = wg_add(t, wg_bce(t, A, Y), ridge);
  wg_gradients(t, p->L, 2, p->uses, p->grads);
  check(prog, t);
}

/* theta = [W; b] as one vector of n reals, into the parameters */
static void set_theta(problem *p, const wg_real *th) {
  int f = p->n - 1;
  memcpy(wg_param_value(p->W).data, th, (size_t)f * sizeof *th);
  wg_param_value(p->b).data[0] = th[f];
}

/* loss and gradient at the parameters' current values (a replay) */
static double evaluate(const char *prog, problem *p, wg_real *g) {
  if (wg_forward(p->t) != WG_OK) die(prog, wg_tape_error(p->t));
  int f = p->n - 1;
  if (g) {
    memcpy(g, wg_value(p->t, p->grads[0]).data, (size_t)f * sizeof *g);
    g[f] = wg_value(p->t, p->grads[1]).data[0];
  }
  return wg_value(p->t, p->L).data[0];
}

/* hv = H v at the values of the last replay */
static void hessian_times(const char *prog, problem *p, const wg_real *v, wg_real *hv) {
  int f = p->n - 1;
  const wg_real *vs[2] = {v, v + f};
  wg_real *hs[2] = {hv, hv + f};
  if (wg_hvp(p->t, 2, p->uses, p->grads, vs, hs) != WG_OK) die(prog, wg_tape_error(p->t));
  p->hvps++;
}

static double dot(const wg_real *a, const wg_real *b, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* conjugate gradients for H x = -g from x = 0, until |r| <= tol |g| or n iterations */
static int solve_newton(const char *prog, problem *p, const wg_real *g, wg_real *x) {
  int n = p->n, it = 0;
  wg_real r[FEATURES_MAX + 1], d[FEATURES_MAX + 1], hd[FEATURES_MAX + 1];
  for (int i = 0; i < n; i++) x[i] = 0, r[i] = -g[i], d[i] = r[i];
  double rr = dot(r, r, n), stop = CG_TOL * CG_TOL * dot(g, g, n);
  while (it < n && rr > stop) {
    hessian_times(prog, p, d, hd);
    double alpha = rr / dot(d, hd, n);
    for (int i = 0; i < n; i++) x[i] += (wg_real)(alpha * d[i]), r[i] -= (wg_real)(alpha * hd[i]);
    double rr_new = dot(r, r, n);
    for (int i = 0; i < n; i++) d[i] = (wg_real)(r[i] + rr_new / rr * d[i]);
    rr = rr_new;
    it++;
  }
  return it;
}

static double accuracy(const char *prog, problem *p, const wg_dataset *d) {
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, d->rows, d->cols, d->x);
  wg_var z = wg_add(t, wg_matmul(t, X, wg_use(t, p->W)), wg_use(t, p->b));
  check(prog, t);
  double a = wg_accuracy(wg_value(t, z), (wg_mat){d->rows, 1, d->y}, 0.0);
  wg_tape_free(t);
  return a;
}

int main(int argc, char **argv) {
  const char *prog = argv[0], *data = "examples/data/breast_cancer.csv", *plot = NULL;
  long steps = 200;
  double lr = 0.5, lambda = 1e-3;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "usage: %s [--data PATH] [--steps N] [--lr X] [--lambda X] "
              "[--plot FILE]\n", prog);
      return 2;
    }
    const char *v = argv[++i];
    if (strcmp(a, "--data") == 0) data = v;
    else if (strcmp(a, "--steps") == 0) steps = (long)parse_number(prog, a, v);
    else if (strcmp(a, "--lr") == 0) lr = parse_number(prog, a, v);
    else if (strcmp(a, "--lambda") == 0) lambda = parse_number(prog, a, v);
    else if (strcmp(a, "--plot") == 0) plot = v;
    else {
      fprintf(stderr, "%s: unknown option %s\n", prog, a);
      return 2;
    }
  }
  if (!(lr > 0) || !(lambda >= 0) || steps < 1 || steps > 1000000)
    die(prog, "--lr must be > 0, --lambda >= 0 and --steps in 1..1000000");

  char err[512];
  wg_dataset d;
  if (wg_csv_load(&d, data, NULL, -1, err, sizeof err)) die(prog, err);
  if (d.cols > FEATURES_MAX) die(prog, "too many features for this example");
  wg_scaler sc = {0, NULL, NULL};
  if (wg_scaler_fit(&sc, &d, err, sizeof err) || wg_scaler_apply(&sc, &d, err, sizeof err))
    die(prog, err);
  wg_scaler_free(&sc);

  problem p = {wg_tape_new(), wg_param_new("W", d.cols, 1), wg_param_new("b", 1, 1),
               {{0, 0}}, {{0, 0}}, {0, 0}, d.cols + 1, 0};
  if (!p.t || !p.W || !p.b) die(prog, "out of memory");
  record(prog, &p, &d, lambda);
  printf("%s: %d samples, %d features, standardised; loss = bce + (%g/2)|W|^2, from W = 0, "
         "b = 0\n", data, d.rows, d.cols, lambda);

  /* gradient descent */
  wg_real th[FEATURES_MAX + 1] = {0}, g[FEATURES_MAX + 1], step[FEATURES_MAX + 1];
  double *gd_loss = malloc((size_t)(steps + 1) * sizeof *gd_loss);
  if (!gd_loss) die(prog, "out of memory");
  set_theta(&p, th);
  for (long s = 0; s <= steps; s++) {
    gd_loss[s] = evaluate(prog, &p, g);
    if (s == steps) break;
    for (int i = 0; i < p.n; i++) th[i] -= (wg_real)(lr * g[i]);
    set_theta(&p, th);
  }
  double gd_acc = accuracy(prog, &p, &d);

  /* Newton with conjugate gradients on Hessian-vector products */
  enum { NEWTON_MAX = 20 };
  double nt_loss[NEWTON_MAX + 1];
  int nt_cg[NEWTON_MAX + 1] = {0}, nt_steps = 0;
  double nt_alpha[NEWTON_MAX + 1] = {0};
  memset(th, 0, sizeof th);
  set_theta(&p, th);
  nt_loss[0] = evaluate(prog, &p, g);
  int reached = -1;
  for (int s = 1; s <= NEWTON_MAX; s++) {
    nt_cg[s] = solve_newton(prog, &p, g, step);
    double slope = dot(g, step, p.n), alpha = 1, L0 = nt_loss[s - 1];
    wg_real base[FEATURES_MAX + 1];
    memcpy(base, th, sizeof base);
    for (;;) {
      for (int i = 0; i < p.n; i++) th[i] = (wg_real)(base[i] + alpha * step[i]);
      set_theta(&p, th);
      nt_loss[s] = evaluate(prog, &p, g);
      if (nt_loss[s] <= L0 + 1e-4 * alpha * slope || alpha < 1e-8) break;
      alpha /= 2;
    }
    nt_alpha[s] = alpha;
    nt_steps = s;
    if (reached < 0 && nt_loss[s] <= gd_loss[steps]) reached = s;
    if (sqrt(dot(g, g, p.n)) < GRAD_TOL) break;
  }
  double nt_acc = accuracy(prog, &p, &d);

  printf("\n step | gradient descent (lr %g) | Newton-CG: loss, CG iterations, step length\n", lr);
  long show[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 50, 100, 200, 500, 1000};
  for (size_t k = 0; k < sizeof show / sizeof show[0]; k++) {
    long s = show[k];
    if (s > steps && s > nt_steps) break;
    printf(" %4ld | ", s);
    if (s <= steps) printf("%24.12f | ", gd_loss[s]);
    else printf("%24s | ", "");
    if (s <= nt_steps) printf("%.12f  %2d  %g\n", nt_loss[s], nt_cg[s], s ? nt_alpha[s] : 0.0);
    else printf("\n");
  }
  printf("\ngradient descent, %ld steps: loss %.12f, accuracy %.1f%% (training set)\n", steps,
         gd_loss[steps], 100 * gd_acc);
  printf("Newton-CG, %d steps (%ld Hessian-vector products): loss %.12f, accuracy %.1f%%, "
         "|g| = %.1e\n", nt_steps, p.hvps, nt_loss[nt_steps], 100 * nt_acc, sqrt(dot(g, g, p.n)));
  if (reached > 0)
    printf("Newton reached gradient descent's %ld-step loss at step %d\n", steps, reached);
  else
    printf("Newton did not reach gradient descent's %ld-step loss\n", steps);

  if (plot) {
    FILE *f = fopen(plot, "w");
    if (!f) die(prog, "cannot write the --plot file");
    fprintf(f, "# step gd_loss newton_loss (newton: - after it stopped)\n");
    for (long s = 0; s <= steps; s++) {
      fprintf(f, "%ld %.17g ", s, gd_loss[s]);
      if (s <= nt_steps) fprintf(f, "%.17g\n", nt_loss[s]);
      else fprintf(f, "-\n");
    }
    fclose(f);
  }
  free(gd_loss);
  wg_tape_free(p.t);
  wg_param_free(p.W);
  wg_param_free(p.b);
  wg_dataset_free(&d);
  return 0;
}

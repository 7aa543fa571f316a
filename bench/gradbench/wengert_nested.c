/* wengert-nested: the GradBench evals that need derivatives of derivatives (kmeans, saddle,
 * particle), the compute side of bench/gradbench/wengert-tool like wengert-gb.
 *
 *   wengert-nested EVAL FUNCTION MIN_RUNS MIN_SECONDS < numbers
 *
 * Input (whitespace-separated numbers): kmeans: n k d, the n x d points, the k x d centroids;
 * saddle: the start point (2 numbers); particle: the start w. Repeats the evaluation until it
 * has run MIN_RUNS times and for MIN_SECONDS in total; prints the output numbers on line 1 and
 * the nanoseconds of each run on line 2.
 *
 * Every derivative comes from the engine. kmeans records its cost with ops, takes the
 * gradient J as rows (wg_gradients) and the Hessian's diagonal by a Hessian-vector product
 * (wg_hvp). saddle and particle run gradient descent inside gradient descent: the inner
 * gradient is RECORDED as rows (wg_gradients), so the outer derivative (wg_backward or
 * wg_jvp) differentiates through it. How each of the four variants (outer mode, inner mode)
 * gets its derivatives is written at rec_gradient and outer_gradient. */
#include "wengert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXN 2               /* the most variables a descent here runs over (saddle: 2) */
#define MAX_STEPS 100000000L /* a descent or Euler loop this long has gone wrong: stop */

static void die(const char *what, const char *why) {
  fprintf(stderr, "wengert-nested: %s: %s\n", what, why);
  exit(2);
}
static double *read_n(size_t n) {
  double *v = calloc(n ? n : 1, sizeof *v);
  if (!v) die("input", "out of memory");
  for (size_t i = 0; i < n; i++)
    if (scanf("%lf", &v[i]) != 1) die("input", "short input");
  return v;
}
static long read_int(void) {
  double d = 0;
  if (scanf("%lf", &d) != 1) die("input", "short input");
  return (long)d;
}
static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static void check(wg_tape *t) {
  if (wg_tape_status(t)) die("tape", wg_tape_error(t));
}
static double val(wg_tape *t, wg_var v) {
  wg_mat m = wg_value(t, v);
  return m.data ? m.data[0] : NAN;
}
static wg_param *param1(const char *name, double v) {
  wg_param *p = wg_param_new(name, 1, 1);
  if (!p) die("parameter", wg_last_error());
  wg_param_value(p).data[0] = v;
  return p;
}

/* ---- gradient descent, as GradBench's gd.hpp runs it ---------------------------------------
 * From x: stop when |g| <= 1e-5; after 10 accepted steps double the step size eta (from 1e-5);
 * try x' = x - eta g, stop when |x' - x| <= 1e-5; accept x' when f(x') < f(x), else halve eta.
 * The argmax runs the same on -f and -g. Two copies of this loop: on numbers (the outer
 * descent, whose derivatives come from a fresh tape per call) and on rows (the inner descent,
 * recorded so that the outer derivative goes through it). */

typedef struct numeric_fn {
  int n;
  double (*objective)(void *ctx, const double *x);
  void (*gradient)(void *ctx, const double *x, double *g);
  void *ctx;
} numeric_fn;

static double norm(int n, const double *v) {
  double s = 0;
  for (int j = 0; j < n; j++) s += v[j] * v[j];
  return sqrt(s);
}

/* x (n numbers): the start on entry, the argmin on return */
static void argmin_numeric(const numeric_fn *f, double *x) {
  double g[MAXN], x2[MAXN], d[MAXN], eta = 1e-5;
  double fx = f->objective(f->ctx, x);
  f->gradient(f->ctx, x, g);
  for (long i = 0, steps = 0; steps < MAX_STEPS; steps++) {
    if (norm(f->n, g) <= 1e-5) return;
    if (i == 10) {
      eta *= 2;
      i = 0;
      continue;
    }
    for (int j = 0; j < f->n; j++) {
      x2[j] = x[j] - eta * g[j];
      d[j] = x[j] - x2[j];
    }
    if (norm(f->n, d) <= 1e-5) return;
    double fx2 = f->objective(f->ctx, x2);
    if (fx2 < fx) {
      memcpy(x, x2, (size_t)f->n * sizeof *x);
      fx = fx2;
      f->gradient(f->ctx, x, g);
      i++;
    } else {
      eta /= 2;
      i = 0;
    }
  }
  die("gradient descent", "no convergence");
}

/* An objective recorded from n 1x1 rows y: returns its 1x1 row. */
typedef wg_var (*rec_objective)(wg_tape *t, const wg_var *y, void *ctx);

/* The inner gradient, RECORDED: g[j] = d f / d y[j] as rows of t, so that whatever is
 * computed from g can be differentiated again.
 * mode 'r' (reverse): wg_gradients(f; y), the reverse sweep recorded as rows.
 * mode 'f' (forward): wengert's forward mode (wg_jvp) gives numbers, not rows, so it cannot
 *   be nested as is. A recorded JVP is obtained instead by transposing the recorded VJP
 *   ("double-VJP trick"): with a fresh 1x1 row w, G(w) = J^T w = wg_gradients(f w; y) is
 *   linear in w, and the JVP J u = d <G(w), u> / d w is one more wg_gradients, here with
 *   u = e_j for each direction j, as forward mode takes one pass per input direction. This
 *   is forward mode by transposition (two reverse sweeps recorded), not a tangent sweep:
 *   same numbers, different cost. */
static void rec_gradient(wg_tape *t, wg_var f, int n, const wg_var *y, char mode, wg_var *g) {
  if (mode == 'r') {
    wg_gradients(t, f, n, y, g);
    return;
  }
  wg_var w = wg_scalar(t, 1.0), Gw[MAXN];
  wg_gradients(t, wg_mul(t, f, w), n, y, Gw); /* Gw[j] = w df/dy_j */
  for (int j = 0; j < n; j++) wg_gradients(t, Gw[j], 1, &w, &g[j]); /* J e_j */
}

/* The inner descent on rows: y (n rows) the start on entry, the arg-optimum on return. sign
 * +1 for the argmin of f, -1 for its argmax (the argmin of -f). The steps' decisions read the
 * rows' values; the step itself, y - eta sign g, is recorded. Rejected tries stay on the tape
 * as rows nothing depends on. */
static void argmin_recorded(wg_tape *t, int n, wg_var *y, double sign, char mode,
                            rec_objective f, void *ctx) {
  wg_var g[MAXN], y2[MAXN];
  double gv[MAXN], d[MAXN], eta = 1e-5;
  wg_var fy = f(t, y, ctx);
  double fx = sign * val(t, fy);
  rec_gradient(t, fy, n, y, mode, g);
  for (long i = 0, steps = 0; steps < MAX_STEPS; steps++) {
    check(t);
    for (int j = 0; j < n; j++) gv[j] = sign * val(t, g[j]);
    if (norm(n, gv) <= 1e-5) return;
    if (i == 10) {
      eta *= 2;
      i = 0;
      continue;
    }
    for (int j = 0; j < n; j++) {
      y2[j] = wg_sub(t, y[j], wg_scale(t, g[j], eta * sign));
      d[j] = val(t, y[j]) - val(t, y2[j]);
    }
    if (norm(n, d) <= 1e-5) return;
    wg_var f2 = f(t, y2, ctx);
    double fx2 = sign * val(t, f2);
    if (fx2 < fx) {
      memcpy(y, y2, (size_t)n * sizeof *y);
      fx = fx2;
      rec_gradient(t, f2, n, y, mode, g);
      i++;
    } else {
      eta /= 2;
      i = 0;
    }
  }
  die("recorded gradient descent", "no convergence");
}

/* ---- the outer level: a fresh tape per call ---------------------------------------------
 * The outer objective F(p) is recorded from the parameters p (1x1 each) on a reset tape. Its
 * gradient: outer mode 'r' is wg_backward (numbers, reverse over the recorded inner rows);
 * 'f' is wg_jvp with tangent e_j on p_j, one pass per parameter (numbers, forward over them). */

typedef struct outer {
  wg_tape *t;
  int n;
  wg_param *p[MAXN];
  char mode, inner; /* the variant: outer and inner mode, 'f' or 'r' */
  wg_var (*record)(struct outer *o, const wg_var *p); /* F's 1x1 row */
  const double *start;                                /* saddle's start point */
  wg_var use[MAXN];
} outer;

static wg_var outer_record(outer *o, const double *x) {
  wg_tape_reset(o->t);
  for (int j = 0; j < o->n; j++) {
    wg_param_value(o->p[j]).data[0] = x[j];
    o->use[j] = wg_use(o->t, o->p[j]);
  }
  wg_var F = o->record(o, o->use);
  check(o->t);
  return F;
}
static double outer_objective(void *ctx, const double *x) {
  outer *o = ctx;
  return val(o->t, outer_record(o, x));
}
static void outer_gradient(void *ctx, const double *x, double *g) {
  outer *o = ctx;
  wg_var F = outer_record(o, x);
  if (o->mode == 'r') {
    for (int j = 0; j < o->n; j++) wg_param_zero_grad(o->p[j]);
    wg_backward(o->t, F);
    check(o->t);
    for (int j = 0; j < o->n; j++) g[j] = wg_param_grad(o->p[j]).data[0];
    return;
  }
  for (int j = 0; j < o->n; j++) {
    for (int k = 0; k < o->n; k++) wg_tangent(o->t, o->use[k]).data[0] = j == k;
    wg_jvp(o->t);
    check(o->t);
    g[j] = wg_tangent(o->t, F).data[0];
  }
}

/* ---- saddle: min over p1 of max over p2 of f(p1, p2) = (p1_0^2 + p1_1^2) - (p2_0^2 + p2_1^2)
 * (GradBench's objective(x1, y1, x2, y2) = (x1^2 + y1^2) - (x2^2 + y2^2) called with p1, p2). */
static wg_var saddle_f(wg_tape *t, const wg_var *p1, const wg_var *p2) {
  wg_var a = wg_add(t, wg_square(t, p1[0]), wg_square(t, p1[1]));
  wg_var b = wg_add(t, wg_square(t, p2[0]), wg_square(t, p2[1]));
  return wg_sub(t, a, b);
}
static wg_var saddle_in_p2(wg_tape *t, const wg_var *p2, void *ctx) {
  return saddle_f(t, (const wg_var *)ctx, p2);
}
/* p2* = argmax_p2 f(p1, p2) from the start, recorded (p2 rows returned in p2) */
static void saddle_argmax(wg_tape *t, const wg_var *p1, const double *start, char inner,
                          wg_var *p2) {
  wg_var fixed[2] = {p1[0], p1[1]};
  p2[0] = wg_scalar(t, start[0]);
  p2[1] = wg_scalar(t, start[1]);
  argmin_recorded(t, 2, p2, -1.0, inner, saddle_in_p2, fixed);
}
/* F(p1) = max_p2 f(p1, p2) = f(p1, p2*(p1)), p2* found by the recorded inner descent */
static wg_var saddle_outer(outer *o, const wg_var *p1) {
  wg_var p2[2];
  saddle_argmax(o->t, p1, o->start, o->inner, p2);
  return saddle_f(o->t, p1, p2);
}
/* out: p1 = argmin F, then p2 = argmax f(p1, .) (both from the start; the second descent is
 * not nested and uses the inner mode) */
static void saddle_run(outer *o, double *out) {
  out[0] = o->start[0];
  out[1] = o->start[1];
  numeric_fn f = {2, outer_objective, outer_gradient, o};
  argmin_numeric(&f, out);
  wg_tape_reset(o->t);
  wg_var p1[2] = {wg_scalar(o->t, out[0]), wg_scalar(o->t, out[1])}, p2[2];
  saddle_argmax(o->t, p1, o->start, o->inner, p2);
  check(o->t);
  out[2] = val(o->t, p2[0]);
  out[3] = val(o->t, p2[1]);
}

/* ---- particle: a charged particle from x = (0, 8), velocity (0.75, 0), pushed by charges at
 * (10, 10 - w) and (10, 0) with potential p(x) = sum_c 1 / |x - c|; naive Euler steps of 0.1
 * until it crosses the x axis, then the crossing x_f by linear interpolation; F(w) = x_f0^2.
 * The force is -grad_x p, recorded (inner mode); F is minimised over w (outer mode). */
typedef struct charges {
  wg_var cx[2], cy[2];
} charges;

/* p(x) = sum_c 1 / sqrt((c_x - x_0)^2 + (c_y - x_1)^2), from the rows x[0], x[1] */
static wg_var potential(wg_tape *t, const wg_var *x, void *ctx) {
  const charges *c = ctx;
  wg_var p = {0, 0};
  for (int k = 0; k < 2; k++) {
    wg_var dx = wg_sub(t, c->cx[k], x[0]), dy = wg_sub(t, c->cy[k], x[1]);
    wg_var dist = wg_sqrt(t, wg_add(t, wg_square(t, dx), wg_square(t, dy)));
    wg_var inv = wg_div(t, wg_scalar(t, 1.0), dist);
    p = k ? wg_add(t, p, inv) : inv;
  }
  return p;
}
static wg_var particle_outer(outer *o, const wg_var *w) {
  wg_tape *t = o->t;
  const double dt = 0.1;
  charges c = {{wg_scalar(t, 10.0), wg_scalar(t, 10.0)},
               {wg_sub(t, wg_scalar(t, 10.0), w[0]), wg_scalar(t, 0.0)}};
  wg_var x[2] = {wg_scalar(t, 0.0), wg_scalar(t, 8.0)};
  wg_var v[2] = {wg_scalar(t, 0.75), wg_scalar(t, 0.0)};
  for (long step = 0; step < MAX_STEPS; step++) {
    wg_var g[2]; /* grad_x p: the acceleration is -g */
    rec_gradient(t, potential(t, x, &c), 2, x, o->inner, g);
    for (int j = 0; j < 2; j++) x[j] = wg_add(t, x[j], wg_scale(t, v[j], dt));
    check(t);
    if (val(t, x[1]) <= 0) { /* crossed: back up to y = 0 along the velocity */
      wg_var dtf = wg_neg(t, wg_div(t, x[1], v[1]));
      return wg_square(t, wg_add(t, x[0], wg_mul(t, dtf, v[0])));
    }
    for (int j = 0; j < 2; j++) v[j] = wg_sub(t, v[j], wg_scale(t, g[j], dt));
  }
  die("particle", "the particle never crossed the x axis");
  return (wg_var){0, 0};
}

/* ---- kmeans: cost f(C) = sum_i min_j |C_j - P_i|^2 over the n x d points P and k x d
 * centroids C. With |C_j - P_i|^2 = |P_i|^2 - (2 P_i . C_j - |C_j|^2), and |P_i|^2 the same for
 * every j, min_j |C_j - P_i|^2 = |P_i|^2 - max_j S_ij, S = P (2C)^T - |C|^2 (n x k: one matmul
 * and one subtraction are the only n x k rows of the cost). dir = J / diag(H): J as rows
 * (wg_gradients), then diag(H) by one Hessian-vector product: H is diagonal (each centroid's
 * cost is a sum of squares of its own coordinates over its points, and no term mixes two
 * coordinates), so H 1 is its diagonal. */
typedef struct kmeans {
  long n, k, d;
  double *points, *ones;
  wg_param *C;
  wg_var use, cost, J;
} kmeans;

static void kmeans_record(wg_tape *t, kmeans *km) {
  int n = (int)km->n, d = (int)km->d;
  wg_var P = wg_input(t, n, d, km->points);
  wg_var C = km->use = wg_use(t, km->C);
  wg_var cross2 = wg_matmul(t, P, wg_transpose(t, wg_scale(t, C, 2.0))); /* n x k: 2 P_i.C_j */
  wg_var cn = wg_transpose(t, wg_sum_axis(t, wg_square(t, C), 1));       /* 1 x k: |C_j|^2 */
  wg_var pn = wg_sum_axis(t, wg_square(t, P), 1);                        /* n x 1: |P_i|^2 */
  wg_var nearest = wg_sub(t, pn, wg_max_axis(t, wg_sub(t, cross2, cn), 1)); /* n x 1 */
  km->cost = wg_sum(t, nearest);
}

static void kmeans_run(wg_tape *t, kmeans *km, int dir, long run, double *out) {
  size_t kd = (size_t)(km->k * km->d);
  if (run == 0) {
    kmeans_record(t, km);
    if (dir) wg_gradients(t, km->cost, 1, &km->use, &km->J);
  } else {
    wg_forward(t); /* replays the cost and, for dir, the gradient rows */
  }
  check(t);
  if (!dir) {
    out[0] = val(t, km->cost);
    return;
  }
  const wg_real *v[1] = {km->ones};
  wg_real *hv[1] = {out}; /* diag(H) first, then divided into J in place */
  wg_hvp(t, 1, &km->use, &km->J, v, hv);
  check(t);
  const double *J = wg_value(t, km->J).data;
  for (size_t e = 0; e < kd; e++) out[e] = J[e] / out[e];
}

/* ---- main: the timed repetitions ------------------------------------------------------- */
typedef struct job {
  const char *ev;
  int dir;
  kmeans km;
  outer o;
  double start[2];
} job;

static void run_once(job *jb, wg_tape *t, long run, double *out) {
  if (!strcmp(jb->ev, "kmeans")) kmeans_run(t, &jb->km, jb->dir, run, out);
  else if (!strcmp(jb->ev, "saddle")) saddle_run(&jb->o, out);
  else {
    double w = jb->start[0];
    numeric_fn f = {1, outer_objective, outer_gradient, &jb->o};
    argmin_numeric(&f, &w);
    out[0] = w;
  }
}

int main(int argc, char **argv) {
  if (argc != 5) die("usage", "wengert-nested EVAL FUNCTION MIN_RUNS MIN_SECONDS < numbers");
  job jb;
  memset(&jb, 0, sizeof jb);
  jb.ev = argv[1];
  const char *fn = argv[2];
  long min_runs = atol(argv[3]);
  double min_seconds = atof(argv[4]);
  wg_tape *t = wg_tape_new();
  if (!t) die("tape", wg_last_error());
  size_t n_out = 1;
  if (!strcmp(jb.ev, "kmeans")) {
    kmeans *km = &jb.km;
    km->n = read_int(); km->k = read_int(); km->d = read_int();
    if (km->n < 1 || km->k < 1 || km->d < 1) die("kmeans", "needs n, k, d >= 1");
    km->points = read_n((size_t)(km->n * km->d));
    double *c = read_n((size_t)(km->k * km->d));
    km->C = wg_param_new("C", (int)km->k, (int)km->d);
    if (!km->C) die("kmeans", wg_last_error());
    memcpy(wg_param_value(km->C).data, c, (size_t)(km->k * km->d) * sizeof *c);
    free(c);
    km->ones = malloc((size_t)(km->k * km->d) * sizeof *km->ones);
    if (!km->ones) die("kmeans", "out of memory");
    for (long e = 0; e < km->k * km->d; e++) km->ones[e] = 1.0;
    jb.dir = !strcmp(fn, "dir");
    if (!jb.dir && strcmp(fn, "cost")) die("kmeans", "function must be cost or dir");
    n_out = jb.dir ? (size_t)(km->k * km->d) : 1;
  } else if (!strcmp(jb.ev, "saddle") || !strcmp(jb.ev, "particle")) {
    int saddle = !strcmp(jb.ev, "saddle");
    if (strlen(fn) != 2 || !strchr("fr", fn[0]) || !strchr("fr", fn[1]))
      die(jb.ev, "function must be ff, fr, rf or rr");
    double *s = read_n(saddle ? 2 : 1);
    memcpy(jb.start, s, (saddle ? 2 : 1) * sizeof *s);
    free(s);
    outer *o = &jb.o;
    o->t = t;
    o->mode = fn[0];
    o->inner = fn[1];
    o->n = saddle ? 2 : 1;
    o->start = jb.start;
    o->record = saddle ? saddle_outer : particle_outer;
    for (int j = 0; j < o->n; j++) o->p[j] = param1(saddle ? "p1" : "w", 0.0);
    n_out = saddle ? 4 : 1;
  } else {
    die(jb.ev, "unknown eval (this program has kmeans, saddle, particle)");
  }

  double *out = calloc(n_out, sizeof *out);
  long long *ns = NULL;
  long runs = 0, cap = 0;
  double total = 0;
  if (!out) die("output", "out of memory");
  while (runs < min_runs || total < min_seconds) {
    long long t0 = now_ns();
    run_once(&jb, t, runs, out);
    long long t1 = now_ns();
    if (runs == cap) {
      cap = cap ? 2 * cap : 64;
      ns = realloc(ns, (size_t)cap * sizeof *ns);
      if (!ns) die("timings", "out of memory");
    }
    ns[runs++] = t1 - t0;
    total += (double)(t1 - t0) / 1e9;
  }
  for (size_t e = 0; e < n_out; e++) printf("%s%.17g", e ? " " : "", out[e]);
  printf("\n");
  for (long i = 0; i < runs; i++) printf("%s%lld", i ? " " : "", ns[i]);
  printf("\n");
  free(ns);
  free(out);
  wg_tape_free(t);
  wg_param_free(jb.km.C);
  free(jb.km.points);
  free(jb.km.ones);
  for (int j = 0; j < MAXN; j++) wg_param_free(jb.o.p[j]);
  return 0;
}

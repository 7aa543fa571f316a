/* eps_sweep.c - how the finite-difference step h decides the error of a numerical gradient.
 *
 * The seed's model: one sigmoid unit with binary cross-entropy on the breast-cancer data
 * (569 samples x 30 features, standardized), samples as rows:
 *   A = sigmoid(X W + b),  L = bce(A, t) = -(1/m) sum [t log A + (1 - t) log(1 - A)], t the labels
 * W (30x1) and b (1x1) are taken after 20 steps of gradient descent from zero (rate 0.5), a
 * point where the loss is curved in every direction. For h = 1e-1 down to 1e-12 (half
 * decades) it prints and writes, against the analytic gradient g from wg_backward, the largest
 * error over the 31 parameters of
 *   forward   (L(x + h e_i) - L(x)) / h                 truncation ~ h |L''| / 2
 *   central   (L(x + h e_i) - L(x - h e_i)) / 2h        truncation ~ h^2 |L'''| / 6
 *   central in float: the same loss evaluated in single precision (plain C, not the engine)
 * plus each column's local slope d log(err) / d log(h): +1 and +2 where truncation rules,
 * -1 where round-off (~ eps_mach |L| / h) does.
 *
 * usage: eps_sweep [--data examples/data/breast_cancer.csv] [--csv out.csv] [--steps 20]
 *                  [--blocks]
 * Replays the tape (wg_forward) for every perturbation: nothing is recorded twice.
 *
 * --blocks prints the table as docs/gradcheck.md quotes it (`make docs` splices it in between
 * "@@ begin eps-sweep" / "@@ end eps-sweep"; tests/check_print.c compares), the same with any
 * compiler. The engine's loss (the double columns) is rounded differently by each compiler
 * (clang contracts a * b + c into one fused multiply-add, gcc -std=c11 does not), so where
 * round-off can reach the printed digits its error is shown as a bound. Round-off in a
 * difference of two losses is taken as at most 10 eps |L| / h; an error is printed in full only
 * when it is 2000 times larger, so that round-off moves it by less than one unit of its 4th
 * digit. Otherwise it is printed as the power of ten above twice the error ("< 1e-09"): the
 * factor 2 keeps an error near a power of ten (9.7e-11 with gcc, 1.04e-10 with clang at
 * h = 1e-6) on one side of it. A slope is printed only between two full errors. The float
 * column is this file's plain C, compiled without contraction (FP_CONTRACT OFF below; gcc's
 * -std=c11 default): the same operations in the same order with either compiler, printed in
 * full. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"

/* no fused multiply-adds in this file (gcc -std=c11 does not contract; clang would) */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define MAX_ROWS 1024
#define N_FEAT 30

static void die(const char *what, const char *detail) {
  fprintf(stderr, "eps_sweep: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

/* Read the CSV (a header, then 30 features and the 0/1 label per line); return the rows. */
static int read_data(const char *path, wg_real *x, wg_real *y) {
  FILE *f = fopen(path, "r");
  if (!f) die("cannot open the data file", path);
  char line[4096];
  if (!fgets(line, sizeof line, f)) die("empty data file", path);
  int m = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '\n' || line[0] == '\0') continue;
    if (m == MAX_ROWS) die("too many rows in", path);
    char *p = line, *end;
    for (int j = 0; j <= N_FEAT; j++) {
      errno = 0;
      double v = strtod(p, &end);
      if (end == p || errno) die("malformed number in", path);
      if (j < N_FEAT) x[m * N_FEAT + j] = v;
      else y[m] = v;
      p = end + (*end == ',');
    }
    m++;
  }
  fclose(f);
  if (m == 0) die("no data rows in", path);
  return m;
}

/* Each column to mean 0 and standard deviation 1 (population std). */
static void standardize(wg_real *x, int m) {
  for (int j = 0; j < N_FEAT; j++) {
    double mu = 0, var = 0;
    for (int i = 0; i < m; i++) mu += x[i * N_FEAT + j];
    mu /= m;
    for (int i = 0; i < m; i++) var += (x[i * N_FEAT + j] - mu) * (x[i * N_FEAT + j] - mu);
    double sd = sqrt(var / m);
    for (int i = 0; i < m; i++) x[i * N_FEAT + j] = (x[i * N_FEAT + j] - mu) / (sd > 0 ? sd : 1);
  }
}

/* The same loss in single precision, written out by hand: what a float engine would see. */
static float loss_float(const wg_real *x, const wg_real *y, int m, const float *w, float b) {
  float s = 0;
  for (int i = 0; i < m; i++) {
    float z = b;
    for (int j = 0; j < N_FEAT; j++) z += (float)x[i * N_FEAT + j] * w[j];
    float a = 1.0f / (1.0f + expf(-z));
    float lp = fmaxf(logf(a), -100.0f), lq = fmaxf(logf(1.0f - a), -100.0f);
    s += (float)y[i] * lp + (1.0f - (float)y[i]) * lq;
  }
  return -s / (float)m;
}

/* parameter k of 31: W[0..29], then b */
static wg_real *param_slot(wg_param *W, wg_param *b, int k) {
  return k < N_FEAT ? &wg_param_value(W).data[k] : &wg_param_value(b).data[0];
}

/* An error as --blocks prints it (see the top); *full says whether it is printed in full. */
static void err_cell(char *buf, size_t n, double err, double h, double eps, double absL,
                     int *full) {
  *full = err > 2000 * (10 * eps * absL / h);
  if (*full) snprintf(buf, n, "%.3e", err);
  else snprintf(buf, n, "< %.0e", pow(10, ceil(log10(2 * err))));
}

static double loss_at(wg_tape *t, wg_var L) {
  if (wg_forward(t) != WG_OK) die("replay failed", wg_tape_error(t));
  return wg_value(t, L).data[0];
}

/* The program, writing its report to out (main passes stdout; tests/check_print.c includes this
 * file with EPS_SWEEP_NO_MAIN and calls it with --blocks). */
static int eps_sweep_main(FILE *out, int argc, char **argv) {
  const char *data = "examples/data/breast_cancer.csv", *csv_path = NULL;
  int steps = 20, blocks = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv_path = argv[++i];
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--blocks")) blocks = 1;
    else {
      fprintf(stderr, "usage: eps_sweep [--data file.csv] [--csv out.csv] [--steps N] "
                      "[--blocks]\n");
      return 2;
    }
  }
  static wg_real x[MAX_ROWS * N_FEAT], y[MAX_ROWS];
  int m = read_data(data, x, y);
  standardize(x, m);

  wg_param *W = wg_param_new("W", N_FEAT, 1), *b = wg_param_new("b", 1, 1);
  wg_tape *t = wg_tape_new();
  if (!W || !b || !t) die("out of memory", NULL);
  wg_var X = wg_input(t, m, N_FEAT, x), Y = wg_input(t, m, 1, y);
  wg_var A = wg_sigmoid(t, wg_add(t, wg_matmul(t, X, wg_use(t, W)), wg_use(t, b)));
  wg_var L = wg_bce(t, A, Y);
  for (int s = 0; s < steps; s++) { /* gradient descent from zero, rate 0.5 */
    wg_param_zero_grad(W);
    wg_param_zero_grad(b);
    if (s > 0) wg_forward(t);
    wg_backward(t, L);
    for (int k = 0; k <= N_FEAT; k++)
      *param_slot(W, b, k) -= 0.5 * (k < N_FEAT ? wg_param_grad(W).data[k] : wg_param_grad(b).data[0]);
  }
  wg_param_zero_grad(W);
  wg_param_zero_grad(b);
  double L0 = loss_at(t, L);
  wg_backward(t, L);
  if (wg_tape_status(t)) die("backward failed", wg_tape_error(t));
  double g[N_FEAT + 1];
  for (int k = 0; k <= N_FEAT; k++)
    g[k] = k < N_FEAT ? wg_param_grad(W).data[k] : wg_param_grad(b).data[0];

  float wf[N_FEAT], bf;
  for (int j = 0; j < N_FEAT; j++) wf[j] = (float)wg_param_value(W).data[j];
  bf = (float)wg_param_value(b).data[0];

  FILE *csv = NULL;
  if (csv_path && !(csv = fopen(csv_path, "w"))) die("cannot write", csv_path);
  if (csv) fprintf(csv, "h,forward_err,central_err,central_float_err\n");
  double gmax = 0;
  for (int k = 0; k <= N_FEAT; k++) gmax = fmax(gmax, fabs(g[k]));
  if (blocks) fprintf(out, "@@ begin eps-sweep\n");
  fprintf(out, "eps_sweep: %d samples x %d features, loss %.6f after %d steps, max |dL/dparam| %.3e\n",
         m, N_FEAT, L0, steps, gmax);
  fprintf(out, "max over the 31 parameters of |finite difference - analytic|\n");
  fprintf(out, "%9s  %11s %6s  %11s %6s  %13s %6s\n", "h", "forward", "slope", "central", "slope",
         "central float", "slope");
  enum { NH = 23 };
  double hs[NH], ef[NH], ec[NH], el[NH];
  int full[NH][3]; /* --blocks: which errors are printed in full */
  int best_f = 0, best_c = 0;
  for (int s = 0; s < NH; s++) {
    double h = pow(10.0, -1.0 - 0.5 * s);
    double worst_f = 0, worst_c = 0, worst_l = 0;
    for (int k = 0; k <= N_FEAT; k++) {
      wg_real *p = param_slot(W, b, k), v = *p;
      *p = v + h;
      double hp = *p - v, Lp = loss_at(t, L);
      *p = v - h;
      double hm = v - *p, Lm = loss_at(t, L);
      *p = v;
      worst_f = fmax(worst_f, fabs((Lp - L0) / hp - g[k]));
      worst_c = fmax(worst_c, fabs((Lp - Lm) / (hp + hm) - g[k]));
      float *q = k < N_FEAT ? &wf[k] : &bf, qv = *q; /* the float loss, same step */
      *q = qv + (float)h;
      float qp = *q - qv, Lfp = loss_float(x, y, m, wf, bf);
      *q = qv - (float)h;
      float qm = qv - *q, Lfm = loss_float(x, y, m, wf, bf);
      *q = qv;
      /* a step below float's resolution leaves q unchanged: the difference is 0/0 */
      double dl = qp + qm > 0 ? ((double)Lfp - (double)Lfm) / ((double)qp + (double)qm) : NAN;
      worst_l = dl == dl && worst_l == worst_l ? fmax(worst_l, fabs(dl - g[k])) : NAN;
    }
    hs[s] = h, ef[s] = worst_f, ec[s] = worst_c, el[s] = worst_l;
    if (worst_f < ef[best_f]) best_f = s;
    if (worst_c < ec[best_c]) best_c = s;
    char tf[24], tc[24], lf[24] = "h < float ulp"; /* x + h rounds to x in float */
    full[s][0] = full[s][1] = full[s][2] = 1;
    snprintf(tf, sizeof tf, "%.3e", worst_f);
    snprintf(tc, sizeof tc, "%.3e", worst_c);
    if (worst_l == worst_l) snprintf(lf, sizeof lf, "%.3e", worst_l);
    if (blocks) {
      err_cell(tf, sizeof tf, worst_f, h, DBL_EPSILON, fabs(L0), &full[s][0]);
      err_cell(tc, sizeof tc, worst_c, h, DBL_EPSILON, fabs(L0), &full[s][1]);
    }
    char sf[16] = "", sc[16] = "", sl[16] = "";
    if (s > 0) { /* local slope of log(err) against log(h), from the previous row */
      double dh = log10(hs[s]) - log10(hs[s - 1]);
      if (full[s][0] && full[s - 1][0])
        snprintf(sf, sizeof sf, "%+.2f", (log10(ef[s]) - log10(ef[s - 1])) / dh);
      if (full[s][1] && full[s - 1][1])
        snprintf(sc, sizeof sc, "%+.2f", (log10(ec[s]) - log10(ec[s - 1])) / dh);
      if (isfinite(el[s]) && isfinite(el[s - 1]) && full[s][2] && full[s - 1][2])
        snprintf(sl, sizeof sl, "%+.2f", (log10(el[s]) - log10(el[s - 1])) / dh);
    }
    char line[128];
    int n = snprintf(line, sizeof line, "%9.2e  %11s %6s  %11s %6s  %13s %6s", h, tf, sf, tc,
                     sc, lf, sl);
    while (n > 0 && line[n - 1] == ' ') line[--n] = '\0'; /* no trailing blanks */
    fprintf(out, "%s\n", line);
    if (csv) fprintf(csv, "%.6e,%.6e,%.6e,%.6e\n", h, worst_f, worst_c, worst_l);
  }
  char mf[24], mc[24];
  int unused;
  snprintf(mf, sizeof mf, "%.3e", ef[best_f]);
  snprintf(mc, sizeof mc, "%.3e", ec[best_c]);
  if (blocks) { /* at a minimum round-off is as large as truncation: always a bound */
    err_cell(mf, sizeof mf, ef[best_f], 1, 1, 1, &unused);
    err_cell(mc, sizeof mc, ec[best_c], 1, 1, 1, &unused);
  }
  fprintf(out, "minimum: forward %s at h = %.2e (sqrt(eps) = %.2e); central %s at h = %.2e "
         "(cbrt(eps) = %.2e)\n", mf, hs[best_f], sqrt(DBL_EPSILON), mc, hs[best_c],
         cbrt(DBL_EPSILON));
  if (blocks) fprintf(out, "@@ end eps-sweep\n");
  if (csv && fclose(csv) != 0) die("error writing", csv_path);
  if (wg_tape_status(t)) die("tape error", wg_tape_error(t));
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(b);
  return 0;
}

#ifndef EPS_SWEEP_NO_MAIN
int main(int argc, char **argv) {
  return eps_sweep_main(stdout, argc, argv);
}
#endif

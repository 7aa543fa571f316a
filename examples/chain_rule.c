/* chain_rule.c - the seed's derivation, term by term, next to the tape that computes it.
 *
 *   build/examples/chain_rule            every block of docs/chain-rule.md, each under its
 *                                        marker's name, for reading beside the doc
 *   build/examples/chain_rule --blocks   the same blocks between "@@ begin NAME" / "@@ end NAME"
 *                                        lines: `make docs` splices them into docs/chain-rule.md
 *   build/examples/chain_rule --timing   also time wg_forward and wg_backward on this machine
 *                                        (a block the doc does not hold: timings vary)
 *
 * Every number in docs/chain-rule.md comes from here. tests/check_print.c includes this file
 * (with CHAIN_RULE_NO_MAIN) and checks the doc's blocks equal what it prints now. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seed_tiny.h"
#include "wengert.h"

static int cr_markers; /* 1: "@@ begin NAME" lines; 0: headings for a reader */

static void cr_begin(FILE *o, const char *name) {
  if (cr_markers) fprintf(o, "@@ begin %s\n", name);
  else fprintf(o, "---- %s ----\n", name);
}

static void cr_end(FILE *o, const char *name) {
  if (cr_markers) fprintf(o, "@@ end %s\n", name);
  else fprintf(o, "\n");
}

/* Copy the lines of `trace` (rewound) that belong to the steps of the given rows: a step is
 * a line starting with "LABEL op:" and the indented lines under it. */
static void cr_trace_steps(FILE *o, FILE *trace, const char *const *labels, int n) {
  char line[1024];
  int on = 0;
  rewind(trace);
  while (fgets(line, sizeof line, trace)) {
    if (line[0] != ' ') {
      on = 0;
      for (int k = 0; k < n; k++) {
        size_t len = strlen(labels[k]);
        if (strncmp(line, labels[k], len) == 0 && line[len] == ' ') on = 1;
      }
    }
    if (on) fputs(line, o);
  }
}

/* ---- the seed network, samples as rows ------------------------------------------------ */

static void cr_rows(FILE *o) {
  wg_tape *t = wg_tape_new();
  FILE *trace = tmpfile();
  seed_net s;
  seed_record(t, &s);

  cr_begin(o, "forward-table");
  wg_tape_print(t, o);
  cr_end(o, "forward-table");

  wg_tape_trace(t, trace ? trace : o);
  wg_backward(t, s.L);
  wg_tape_trace(t, NULL);

  if (trace) {
    static const char *const steps[][2] = {{"L", NULL}, {"A", NULL}, {"Z", NULL},
                                           {"XW", NULL}, {"W", "b"}};
    static const char *const names[] = {"trace-L", "trace-A", "trace-Z", "trace-XW",
                                        "trace-params"};
    cr_begin(o, "trace");
    cr_trace_steps(o, trace, (const char *const[]){"L", "A", "Z", "XW", "W", "b"}, 6);
    cr_end(o, "trace");
    for (int k = 0; k < 5; k++) {
      cr_begin(o, names[k]);
      cr_trace_steps(o, trace, steps[k], steps[k][1] ? 2 : 1);
      cr_end(o, names[k]);
    }
    fclose(trace);
  }

  cr_begin(o, "backward-table");
  wg_tape_print(t, o);
  cr_end(o, "backward-table");

  /* The seed's terms, computed here from the forward values with the seed's formulas, next
   * to the adjoints the sweep left on the tape. */
  const wg_real *A = wg_value(t, s.A).data, *y = seed_t, *x = seed_x;
  const wg_real *dA = wg_grad(t, s.A).data, *dZ = wg_grad(t, s.Z).data;
  const wg_real *gW = wg_param_grad(s.W).data, *gb = wg_param_grad(s.b).data;
  if (!A || !dA || !dZ || !gW || !gb) {
    fprintf(o, "error: %s\n", wg_tape_error(t));
    goto out;
  }
  int m = SEED_M;

  cr_begin(o, "bce-check");
  fprintf(o, "%-3s %4s %8s   %-26s %-16s %s\n", "i", "t", "yhat", "-t/yhat + (1-t)/(1-yhat)",
          "... / m (m = 4)", "adj(A) on the tape");
  for (int i = 0; i < m; i++) {
    double d = -y[i] / A[i] + (1 - y[i]) / (1 - A[i]);
    fprintf(o, "%-3d %4g %8.4f   %-26.4f %-16.4f %.4f\n", i + 1, y[i], A[i], d, d / m, dA[i]);
  }
  cr_end(o, "bce-check");

  cr_begin(o, "sigmoid-check");
  fprintf(o, "%-3s %14s %24s %14s %20s\n", "i", "yhat(1-yhat)", "adj(A) * yhat(1-yhat)",
          "(yhat - t)/m", "adj(Z) on the tape");
  for (int i = 0; i < m; i++)
    fprintf(o, "%-3d %14.4f %24.4f %14.4f %20.4f\n", i + 1, A[i] * (1 - A[i]),
            dA[i] * A[i] * (1 - A[i]), (A[i] - y[i]) / m, dZ[i]);
  cr_end(o, "sigmoid-check");

  cr_begin(o, "weight-check");
  fprintf(o, "%-3s %30s %18s\n", "k", "(1/m) sum_i X_ik (A_i - t_i)", "grad(W) (tape)");
  for (int k = 0; k < SEED_N; k++) {
    double g = 0;
    for (int i = 0; i < m; i++) g += x[i * SEED_N + k] * (A[i] - y[i]);
    fprintf(o, "%-3d %30.6f %18.6f\n", k + 1, g / m, gW[k]);
  }
  cr_end(o, "weight-check");

  cr_begin(o, "bias-check");
  double sb = 0;
  for (int i = 0; i < m; i++) sb += A[i] - y[i];
  fprintf(o, "(1/m) sum_i (A_i - t_i) = %.6f\n", sb / m);
  fprintf(o, "grad(b) on the tape     = %.6f\n", gb[0]);
  cr_end(o, "bias-check");

out:
  wg_tape_free(t);
  wg_param_free(s.W);
  wg_param_free(s.b);
}

/* ---- BCE composed of elementary ops: the two terms of dL/dyhat arrive separately -------- */

static void cr_composed(FILE *o) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record_predictions(t, &s); /* X, t, W, b, XW, Z, A as before, no wg_bce row */
  /* L = -mean(t log A + (1 - t) log(1 - A)), one elementary op per row */
  wg_var one = wg_scalar(t, 1);
  wg_var logA = wg_log(t, s.A);
  wg_var t1 = wg_mul(t, s.t, logA);
  wg_var omt = wg_sub(t, one, s.t);
  wg_var omA = wg_sub(t, one, s.A);
  wg_var log_omA = wg_log(t, omA);
  wg_var t2 = wg_mul(t, omt, log_omA);
  wg_var sum = wg_add(t, t1, t2);
  wg_var mean = wg_mean(t, sum);
  wg_var L = wg_neg(t, mean);
  static const char *const names[] = {"1", "log(A)", "t*log(A)", "1-t", "1-A", "log(1-A)",
                                      "(1-t)*log(1-A)", "sum", "mean", "L"};
  wg_var rows[] = {one, logA, t1, omt, omA, log_omA, t2, sum, mean, L};
  for (int k = 0; k < 10; k++) wg_name(t, rows[k], names[k]);
  cr_begin(o, "composed-table");
  wg_tape_print(t, o);
  cr_end(o, "composed-table");
  cr_begin(o, "composed-trace");
  wg_tape_trace(t, o);
  wg_backward(t, L);
  wg_tape_trace(t, NULL);
  cr_end(o, "composed-trace");
  wg_tape_free(t);
  wg_param_free(s.W);
  wg_param_free(s.b);
}

/* ---- the other convention: samples as columns, Z = W X^T + b ---------------------------- */

static void cr_columns(FILE *o) {
  wg_real xt[SEED_N * SEED_M]; /* X^T: feature k of sample i at [k][i] */
  for (int i = 0; i < SEED_M; i++)
    for (int k = 0; k < SEED_N; k++) xt[k * SEED_M + i] = seed_x[i * SEED_N + k];
  wg_param *W = wg_param_new("W", 1, SEED_N), *b = wg_param_new("b", 1, 1);
  wg_tape *t = wg_tape_new();
  if (W && b) {
    wg_param_value(W).data[0] = 0.5;
    wg_param_value(W).data[1] = -0.25;
    wg_param_value(b).data[0] = 0.1;
  }
  wg_var Xc = wg_input(t, SEED_N, SEED_M, xt), tc = wg_input(t, 1, SEED_M, seed_t);
  wg_name(t, Xc, "Xc");
  wg_name(t, tc, "t");
  wg_var WX = wg_matmul(t, wg_use(t, W), Xc);
  wg_var Z = wg_add(t, WX, wg_use(t, b));
  wg_var A = wg_sigmoid(t, Z);
  wg_var L = wg_bce(t, A, tc);
  wg_name(t, WX, "WX");
  wg_name(t, Z, "Z");
  wg_name(t, A, "A");
  wg_name(t, L, "L");
  cr_begin(o, "columns-trace");
  wg_tape_trace(t, o);
  wg_backward(t, L);
  wg_tape_trace(t, NULL);
  cr_end(o, "columns-trace");
  cr_begin(o, "columns-table");
  wg_tape_print(t, o);
  cr_end(o, "columns-table");
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(b);
}

/* ---- what a backward sweep costs -------------------------------------------------------- */

/* The seed's net on m samples of P synthetic features (deterministic, in [-1, 1)). */
typedef struct {
  int m, P;
  wg_real *x, *y;
  wg_param *W, *b;
  wg_tape *t;
  wg_var L;
} cr_net;

static int cr_net_new(cr_net *n, int m, int P) {
  memset(n, 0, sizeof *n);
  n->m = m, n->P = P;
  n->x = malloc((size_t)m * (size_t)P * sizeof *n->x);
  n->y = malloc((size_t)m * sizeof *n->y);
  n->W = wg_param_new("W", P, 1);
  n->b = wg_param_new("b", 1, 1);
  n->t = wg_tape_new();
  if (!n->x || !n->y || !n->W || !n->b || !n->t) return 0;
  unsigned long s = 12345;
  for (size_t i = 0; i < (size_t)m * (size_t)P; i++) {
    s = s * 1103515245u + 12345u;
    n->x[i] = (wg_real)((s >> 8) % 2000) / 1000.0 - 1.0;
  }
  for (int i = 0; i < m; i++) n->y[i] = i % 2;
  for (int k = 0; k < P; k++) wg_param_value(n->W).data[k] = 0.01 * (k % 7 - 3);
  wg_var X = wg_input(n->t, m, P, n->x), y = wg_input(n->t, m, 1, n->y);
  wg_var A = wg_sigmoid(n->t, wg_add(n->t, wg_matmul(n->t, X, wg_use(n->t, n->W)),
                                     wg_use(n->t, n->b)));
  n->L = wg_bce(n->t, A, y);
  return wg_tape_status(n->t) == WG_OK;
}

static void cr_net_free(cr_net *n) {
  free(n->x);
  free(n->y);
  wg_param_free(n->W);
  wg_param_free(n->b);
  wg_tape_free(n->t);
}

static double cr_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per call of wg_forward (which = 0) or wg_backward (which = 1): the best of 5
 * batches, each batch long enough (about 20 ms) for the clock. */
static double cr_time(cr_net *n, int which) {
  double best = INFINITY;
  int reps = 1;
  for (int batch = 0; batch < 5; batch++) {
    double t0, dt;
    for (;;) {
      t0 = cr_now();
      for (int r = 0; r < reps; r++) {
        if (which) wg_backward(n->t, n->L);
        else wg_forward(n->t);
      }
      dt = cr_now() - t0;
      if (dt > 0.02 || reps > (1 << 20)) break;
      reps *= 2;
    }
    if (dt / reps < best) best = dt / reps;
  }
  return best;
}

static const int cr_sizes[] = {30, 300, 3000}; /* P: 30 is the breast cancer data's width */
enum { CR_M = 569 };                          /* m: its number of samples */

static void cr_cost(FILE *o, int measure) {
  cr_begin(o, "cost-rows");
  fprintf(o, "%6s %6s %8s %10s %9s %13s %14s\n", "P", "m", "params", "tape rows", "VJPs run",
          "value bytes", "adjoint bytes");
  for (size_t k = 0; k < sizeof cr_sizes / sizeof cr_sizes[0]; k++) {
    cr_net n;
    FILE *trace = tmpfile();
    if (!cr_net_new(&n, CR_M, cr_sizes[k]) || !trace) {
      fprintf(o, "error: out of memory\n");
      cr_net_free(&n);
      if (trace) fclose(trace);
      continue;
    }
    size_t before = wg_tape_bytes(n.t);
    wg_tape_trace(n.t, trace);
    wg_backward(n.t, n.L);
    wg_tape_trace(n.t, NULL);
    int steps = 0;
    char line[1024];
    rewind(trace);
    while (fgets(line, sizeof line, trace))
      if (line[0] != ' ' && strchr(line, '\n')) steps++;
    fclose(trace);
    fprintf(o, "%6d %6d %8d %10d %9d %13zu %14zu\n", n.P, n.m, n.P + 1, wg_tape_rows(n.t),
            steps, before, wg_tape_bytes(n.t) - before);
    cr_net_free(&n);
  }
  cr_end(o, "cost-rows");
  if (!measure) return;

  cr_begin(o, "measured-cost");
  fprintf(o, "%6s %14s %15s %12s %18s\n", "P", "forward (us)", "backward (us)",
          "bwd / fwd", "2P forwards (us)");
  for (size_t k = 0; k < sizeof cr_sizes / sizeof cr_sizes[0]; k++) {
    cr_net n;
    if (!cr_net_new(&n, CR_M, cr_sizes[k])) {
      fprintf(o, "error: out of memory\n");
      cr_net_free(&n);
      continue;
    }
    double f = cr_time(&n, 0), b = cr_time(&n, 1);
    fprintf(o, "%6d %14.1f %15.1f %12.2f %18.0f\n", n.P, 1e6 * f, 1e6 * b, b / f,
            1e6 * f * 2 * n.P);
    cr_net_free(&n);
  }
  cr_end(o, "measured-cost");
}

/* Write every block to o; the timing block only when measure is set. */
static void chain_rule_blocks(FILE *o, int markers, int measure) {
  cr_markers = markers;
  cr_rows(o);
  cr_composed(o);
  cr_columns(o);
  cr_cost(o, measure);
}

#ifndef CHAIN_RULE_NO_MAIN
int main(int argc, char **argv) {
  int markers = 0, measure = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--blocks") == 0) markers = 1;
    else if (strcmp(argv[i], "--timing") == 0) measure = 1;
    else {
      fprintf(stderr, "usage: %s [--blocks] [--timing]\n", argv[0]);
      return 2;
    }
  }
  chain_rule_blocks(stdout, markers, measure);
  return 0;
}
#endif

/* gradcheck_custom.c - catching a wrong derivative in a user-defined op, and finding its row.
 *
 * A two-layer network with a custom softplus hidden layer, on deterministic data:
 *   H = softplus(X W1 + b1)      X (16x4), W1 (4x3), b1 (1x3)      <- wg_custom
 *   P = sigmoid(H W2 + b2)       W2 (3x1), b2 (1x1)
 *   L = bce(P, t)                t (16x1): the labels, 0 or 1
 * softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)); its derivative is
 * sigmoid(x), so the VJP is dx += dy * sigmoid(x). With --wrong the VJP forgets the incoming
 * adjoint dy (dx += sigmoid(x)), a classic chain-rule slip. The three checks then say:
 *   wg_gradcheck   which parameters' gradients are wrong (finite differences of the loss)
 *   wg_check_rows  which row has the wrong derivative (finite differences of each row alone)
 *   wg_dot_test    that forward mode (the op's JVP, right) and reverse mode disagree
 *
 * usage: gradcheck_custom [--wrong] [--csv gradcheck.csv] | --blocks
 *   --blocks prints the output docs/gradcheck.md quotes, between "@@ begin NAME" / "@@ end NAME"
 *   lines: both runs, and lines of the --wrong run's CSV. `make docs` splices them into the doc
 *   and tests/check_print.c (which includes this file with GRADCHECK_CUSTOM_NO_MAIN) fails when
 *   the doc differs from what this prints now. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"

typedef struct {
  int forget_dy; /* plant the mistake */
} softplus_ctx;

static double sigmoid(double x) {
  return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

static void softplus_forward(int n_in, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n_in, (void)ctx;
  for (int e = 0; e < out.rows * out.cols; e++) {
    double x = in[0].data[e];
    out.data[e] = fmax(x, 0) + log1p(exp(-fabs(x)));
  }
}

static void softplus_vjp(int n_in, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx,
                         void *ctx) {
  (void)n_in, (void)out;
  const softplus_ctx *c = ctx;
  if (!dx[0].data) return; /* the input needs no gradient */
  for (int e = 0; e < dy.rows * dy.cols; e++) {
    double s = sigmoid(in[0].data[e]);
    dx[0].data[e] += c->forget_dy ? s : dy.data[e] * s;
  }
}

static void softplus_jvp(int n_in, const wg_mat *in, const wg_mat *tin, wg_mat out,
                         wg_mat tout, void *ctx) {
  (void)n_in, (void)out, (void)ctx;
  for (int e = 0; e < tout.rows * tout.cols; e++)
    tout.data[e] = sigmoid(in[0].data[e]) * tin[0].data[e];
}

/* deterministic numbers in [-1, 1) */
static double lcg(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* An error as printed: the number when something failed or it is not below `bound`; else
 * "< bound". A passing error's last digits depend on the compiler and its flags (gcc and
 * clang contract different multiply-adds, a 32-bit build differs again), so a fixed bound,
 * well above every build's value, keeps the printed text the same on all of them. */
static const char *err_text(char *buf, double err, int failed, double bound) {
  if (failed || !(err < bound)) snprintf(buf, 32, "%.3g", err);
  else snprintf(buf, 32, "< %.0e", bound);
  return buf;
}

/* The network, the three checks, their report on out; with csv, wg_gradcheck's CSV there.
 * Returns 0, or 1 when the tape failed. */
static int gradcheck_custom_run(FILE *out, int forget_dy, FILE *csv) {
  softplus_ctx ctx = {forget_dy};
  enum { M = 16, D = 4, K = 3 };
  unsigned long long s = 2024;
  wg_real x[M * D], labels[M];
  for (int i = 0; i < M; i++) {
    double sum = 0;
    for (int j = 0; j < D; j++) sum += x[i * D + j] = lcg(&s);
    labels[i] = sum > 0;
  }
  wg_param *W1 = wg_param_new("W1", D, K), *b1 = wg_param_new("b1", 1, K);
  wg_param *W2 = wg_param_new("W2", K, 1), *b2 = wg_param_new("b2", 1, 1);
  wg_tape *t = wg_tape_new();
  if (!W1 || !b1 || !W2 || !b2 || !t) {
    fprintf(stderr, "gradcheck_custom: out of memory\n");
    return 1;
  }
  wg_param *ps[4] = {W1, b1, W2, b2};
  for (int k = 0; k < 4; k++) {
    wg_mat v = wg_param_value(ps[k]);
    for (int e = 0; e < v.rows * v.cols; e++) v.data[e] = lcg(&s);
  }

  const wg_custom_op softplus = {"softplus", NULL, softplus_forward, softplus_vjp,
                                 softplus_jvp, NULL};
  /* one statement per row, so the row numbers do not depend on argument evaluation order */
  wg_var X = wg_input(t, M, D, x), T = wg_input(t, M, 1, labels); /* rows 0, 1 */
  wg_var w1 = wg_use(t, W1), c1 = wg_use(t, b1);                /* rows 2, 3 */
  wg_var Z1 = wg_add(t, wg_matmul(t, X, w1), c1);               /* rows 4, 5 */
  wg_var H = wg_custom(t, &softplus, &ctx, 1, &Z1);             /* row 6 */
  wg_name(t, H, "H");
  wg_var w2 = wg_use(t, W2), c2 = wg_use(t, b2);                /* rows 7, 8 */
  wg_var P = wg_sigmoid(t, wg_add(t, wg_matmul(t, H, w2), c2)); /* rows 9, 10, 11 */
  wg_var L = wg_bce(t, P, T);                                   /* row 12 */
  wg_backward(t, L);
  if (wg_tape_status(t)) {
    fprintf(stderr, "gradcheck_custom: %s\n", wg_tape_error(t));
    return 1;
  }
  fprintf(out, "softplus VJP: %s; loss %.6f, %d rows on the tape\n",
         ctx.forget_dy ? "WRONG (forgets dy)" : "right", wg_value(t, L).data[0], wg_tape_rows(t));

  wg_gradcheck_result r;
  wg_gradcheck_opts opts = {.csv = csv};
  char e1[32], e2[32];
  int failed = wg_gradcheck(t, L, &opts, &r);
  fprintf(out, "wg_gradcheck:  %d of %d elements failed (%d skipped), max abs err %s, max rel err "
         "%s\n", failed, r.checked, r.skipped, err_text(e1, r.max_abs_err, failed, 1e-8),
         err_text(e2, r.max_rel_err, failed, 1e-6));
  if (failed > 0) fprintf(out, "               worst: %s (leaf row %d)\n", r.worst, r.worst_row);

  failed = wg_check_rows(t, NULL, &r);
  fprintf(out, "wg_check_rows: %d of %d rows failed (%d skipped), max abs err %s\n", failed,
         r.checked, r.skipped, err_text(e1, r.max_abs_err, failed, 1e-8));
  if (failed > 0) fprintf(out, "               first failing: %s\n", r.worst);

  double d = wg_dot_test(t, L, 1);
  fprintf(out, "wg_dot_test:   <w, J u> vs <J^T w, u>: relative discrepancy %s\n",
         err_text(e1, d, d > 1e-10, 1e-13));
  int bad = wg_tape_status(t) != WG_OK;
  if (bad) fprintf(stderr, "gradcheck_custom: %s\n", wg_tape_error(t));
  wg_tape_free(t);
  for (int k = 0; k < 4; k++) wg_param_free(ps[k]);
  return bad;
}

/* One line of wg_gradcheck's CSV as the doc shows it: analytic and numeric cut to 6 significant
 * digits, and the errors of a passing element as a bound (their last digits, like all of a
 * rounding-level error, depend on the compiler); a failing element's errors as written. */
static void csv_line_for_doc(FILE *out, const char *line) {
  char f[9][64];
  int n = sscanf(line, "%63[^,],%63[^,],%63[^,],%63[^,],%63[^,],%63[^,],%63[^,],%63[^,],%63s",
                 f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
  if (n != 9) {
    fprintf(out, "(unexpected CSV line: %s)", line);
    return;
  }
  int ok = strcmp(f[8], "FAIL") != 0;
  char e1[32], e2[32];
  fprintf(out, "%s,%s,%s,%s,%.6g,%.6g,%s,%s,%s\n", f[0], f[1], f[2], f[3], strtod(f[4], NULL),
          strtod(f[5], NULL), ok ? err_text(e1, strtod(f[6], NULL), 0, 1e-8) : f[6],
          ok ? err_text(e2, strtod(f[7], NULL), 0, 1e-6) : f[7], f[8]);
}

/* What docs/gradcheck.md quotes: the right run, the wrong run, and the wrong run's CSV lines
 * for W1[0,0], b1[0,1] and W2[0,0] under its header. Returns 0, or 1 on a failure. */
static int gradcheck_custom_blocks(FILE *out) {
  FILE *csv = tmpfile();
  if (!csv) return 1;
  fprintf(out, "@@ begin gradcheck-custom-right\n");
  int bad = gradcheck_custom_run(out, 0, NULL);
  fprintf(out, "@@ end gradcheck-custom-right\n@@ begin gradcheck-custom-wrong\n");
  bad |= gradcheck_custom_run(out, 1, csv);
  fprintf(out, "@@ end gradcheck-custom-wrong\n@@ begin gradcheck-custom-wrong-csv\n");
  const char *want[] = {"parameter,", "W1,0,", "...", "b1,1,", "W2,0,"};
  char line[512];
  for (int k = 0; k < 5; k++) {
    if (!strcmp(want[k], "...")) {
      fprintf(out, "...\n");
      continue;
    }
    int found = 0;
    rewind(csv);
    while (!found && fgets(line, sizeof line, csv))
      if (!strncmp(line, want[k], strlen(want[k]))) found = 1;
    if (!found) {
      fprintf(out, "(no line %s in the CSV)\n", want[k]);
      bad = 1;
    } else if (k == 0) fputs(line, out);
    else csv_line_for_doc(out, line);
  }
  fprintf(out, "@@ end gradcheck-custom-wrong-csv\n");
  fclose(csv);
  return bad;
}

#ifndef GRADCHECK_CUSTOM_NO_MAIN
int main(int argc, char **argv) {
  int forget_dy = 0, blocks = 0;
  FILE *csv = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--wrong")) forget_dy = 1;
    else if (!strcmp(argv[i], "--blocks")) blocks = 1;
    else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
      if (!(csv = fopen(argv[++i], "w"))) {
        fprintf(stderr, "gradcheck_custom: cannot write %s\n", argv[i]);
        return 1;
      }
    } else {
      fprintf(stderr, "usage: gradcheck_custom [--wrong] [--csv gradcheck.csv] | --blocks\n");
      return 2;
    }
  }
  if (blocks) return gradcheck_custom_blocks(stdout);
  int bad = gradcheck_custom_run(stdout, forget_dy, csv);
  if (csv && fclose(csv) != 0) {
    fprintf(stderr, "gradcheck_custom: error writing the CSV\n");
    return 1;
  }
  return bad;
}
#endif

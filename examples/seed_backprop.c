/* seed_backprop.c - the seed's derivation, run on a tape.
 *
 * One sigmoid unit, binary cross-entropy averaged over m samples (samples as rows):
 *
 *   Z = X W + b         X (m x n), W (n x 1), b (1 x 1, broadcast down the m rows)
 *   A = sigmoid(Z)      A = yhat (m x 1)
 *   L = -(1/m) sum_i [ t_i log a_i + (1 - t_i) log(1 - a_i) ]
 *
 * The labels (targets, 0 or 1) are t; the seed's derivation writes them y, but in wengert's
 * rules y is a row's own output (docs/chain-rule.md, "Names"). By hand, the chain rule gives,
 * per sample,
 *
 *   dL/dyhat = (-t/yhat + (1-t)/(1-yhat)) / m      dyhat/dz = yhat (1 - yhat)
 *   dL/dz    = (yhat - t) / m                      dz/dW    = A_prev^T = X^T
 *
 * so dL/dW = (1/m) X^T (A - t) and dL/db = (1/m) sum(A - t). The program records the loss
 * from primitives (log, mul, sub, mean, neg) so that the engine knows none of this, runs
 * wg_backward, and prints each factor as the tape computed it next to the formula. Then it
 * checks the fused wg_bce_logits and trains the unit with wg_forward replay.
 *
 * usage: seed_backprop [--steps N] [--lr X] [DATA.csv]
 *   DATA.csv: a header row, then rows of numbers, the 0/1 label in the last column
 *   (default examples/data/breast_cancer.csv). Every 5th sample is held out as a test set. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wengert.h"

#define DEFAULT_DATA "examples/data/breast_cancer.csv"
#define SHOW 5 /* how many samples to print in the per-sample tables */

/* ---- small helpers that end the program (an example may; the library never does) ---- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
_Noreturn static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "seed_backprop: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static void check_tape(wg_tape *t, const char *when) {
  if (wg_tape_status(t) != WG_OK) die("tape error %s: %s", when, wg_tape_error(t));
}

/* ---- the data: a CSV of numbers with a header row, the label in the last column ---- */

typedef struct {
  int m, n;     /* samples, features */
  wg_real *x;   /* m x n, row-major */
  wg_real *t;   /* m labels (targets), 0 or 1 */
} dataset;

/* Parse one line of comma-separated numbers into out[0..cap); returns the count, or -1 and
 * sets *bad to the offending text when a field is not a number. */
static int parse_numbers(char *line, double *out, int cap, char **bad) {
  int k = 0;
  char *p = line;
  for (;;) {
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == p || errno == ERANGE || (*end != ',' && *end != '\0')) {
      *bad = p;
      return -1;
    }
    if (k < cap) out[k] = v;
    k++;
    if (*end == '\0') return k;
    p = end + 1;
  }
}

/* 1-based number of the field that starts at `at` in `line` */
static int nfield(const char *line, const char *at) {
  int k = 1;
  for (; line < at; line++) k += *line == ',';
  return k;
}

static dataset read_csv(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die("cannot open '%s': %s", path, strerror(errno));
  dataset d = {0, 0, NULL, NULL};
  char *line = NULL, *bad = NULL;
  size_t len = 0;
  int cap = 0, lineno = 0, cols = 0;
  double *row = NULL;
  while (getline(&line, &len, f) != -1) {
    lineno++;
    line[strcspn(line, "\r\n")] = '\0';
    if (lineno == 1) { /* header: count the columns */
      cols = 1;
      for (char *c = line; *c; c++) cols += *c == ',';
      if (cols < 2) die("%s: the header names one column; need features and a label", path);
      d.n = cols - 1;
      row = xmalloc((size_t)cols * sizeof *row);
      continue;
    }
    if (line[0] == '\0') continue; /* tolerate blank lines */
    int k = parse_numbers(line, row, cols, &bad);
    if (k < 0) die("%s:%d: field %d is not a number: '%.*s'", path, lineno, nfield(line, bad),
                   (int)strcspn(bad, ","), bad);
    if (k != cols) die("%s:%d: %d fields, the header has %d", path, lineno, k, cols);
    double label = row[cols - 1];
    if (label != 0 && label != 1)
      die("%s:%d: the label (last column) must be 0 or 1, not %g", path, lineno, label);
    if (d.m == cap) {
      cap = cap ? 2 * cap : 256;
      d.x = realloc(d.x, (size_t)cap * (size_t)d.n * sizeof *d.x);
      d.t = realloc(d.t, (size_t)cap * sizeof *d.t);
      if (!d.x || !d.t) die("out of memory reading %s", path);
    }
    for (int j = 0; j < d.n; j++) d.x[(size_t)d.m * d.n + j] = (wg_real)row[j];
    d.t[d.m++] = label;
  }
  int read_error = ferror(f) ? (errno ? errno : EIO) : 0;
  free(line);
  free(row);
  fclose(f);
  if (read_error) die("error reading '%s': %s", path, strerror(read_error));
  if (lineno == 0) die("%s: empty file (expected a header row, then data rows)", path);
  if (d.m < 10) die("%s: %d data rows after the header; need at least 10", path, d.m);
  return d;
}

/* Every 5th sample goes to the test set; the rest train. */
static void split(const dataset *all, dataset *train, dataset *test) {
  int n = all->n, mt = all->m / 5, mtr = all->m - mt;
  *train = (dataset){mtr, n, xmalloc((size_t)mtr * n * sizeof(wg_real)),
                     xmalloc((size_t)mtr * sizeof(wg_real))};
  *test = (dataset){mt, n, xmalloc((size_t)mt * n * sizeof(wg_real)),
                    xmalloc((size_t)mt * sizeof(wg_real))};
  int a = 0, b = 0;
  for (int i = 0; i < all->m; i++) {
    dataset *d = (i % 5 == 4 && b < mt) ? test : train;
    int *k = d == test ? &b : &a;
    memcpy(d->x + (size_t)*k * n, all->x + (size_t)i * n, (size_t)n * sizeof(wg_real));
    d->t[(*k)++] = all->t[i];
  }
}

/* Standardize each feature to mean 0, standard deviation 1 with the training statistics
 * (the test set uses the same shift and scale: it must not leak into training). */
static void standardize(dataset *train, dataset *test) {
  for (int j = 0; j < train->n; j++) {
    double mu = 0, var = 0;
    for (int i = 0; i < train->m; i++) mu += train->x[(size_t)i * train->n + j];
    mu /= train->m;
    for (int i = 0; i < train->m; i++) {
      double dx = train->x[(size_t)i * train->n + j] - mu;
      var += dx * dx;
    }
    double sd = sqrt(var / train->m);
    if (sd == 0) sd = 1;
    for (int i = 0; i < train->m; i++) {
      wg_real *v = &train->x[(size_t)i * train->n + j];
      *v = (*v - mu) / sd;
    }
    for (int i = 0; i < test->m; i++) {
      wg_real *v = &test->x[(size_t)i * test->n + j];
      *v = (*v - mu) / sd;
    }
  }
}

/* ---- arguments ---- */

typedef struct {
  int steps;
  double lr;
  const char *path;
} options;

static const char usage_text[] =
    "usage: seed_backprop [--steps N] [--lr X] [DATA.csv]\n"
    "  --steps N   gradient-descent steps, 1..1000000 (default 200)\n"
    "  --lr X      learning rate, > 0 (default 0.1)\n"
    "  DATA.csv    header row, numeric columns, 0/1 label last\n"
    "              (default " DEFAULT_DATA ")\n";

_Noreturn static void usage(const char *why, const char *what) {
  fprintf(stderr, "seed_backprop: %s%s\n", why, what);
  fprintf(stderr, "%s", usage_text);
  exit(2);
}

static options parse_args(int argc, char **argv) {
  options o = {200, 0.1, DEFAULT_DATA};
  int have_path = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (!strcmp(argv[i], "--steps") || !strcmp(argv[i], "--lr")) {
      if (i + 1 == argc) usage("missing value after ", argv[i]);
      const char *opt = argv[i++];
      errno = 0;
      if (!strcmp(opt, "--steps")) {
        long v = strtol(argv[i], &end, 10);
        if (*end || end == argv[i] || errno || v < 1 || v > 1000000)
          usage("--steps needs an integer in 1..1000000, not ", argv[i]);
        o.steps = (int)v;
      } else {
        o.lr = strtod(argv[i], &end);
        if (*end || end == argv[i] || errno || !(o.lr > 0) || !isfinite(o.lr))
          usage("--lr needs a positive number, not ", argv[i]);
      }
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf("%s", usage_text);
      exit(0);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      usage("unknown option ", argv[i]);
    } else if (have_path) {
      usage("more than one data file: ", argv[i]);
    } else {
      o.path = argv[i];
      have_path = 1;
    }
  }
  return o;
}

/* ---- the network, recorded on a tape ---- */

typedef struct {
  wg_var X, T, Z, A, L;
} seed_graph;

/* Record Z = X W + b, A = sigmoid(Z) and the composed binary cross-entropy
 * L = -mean( t * log(A) + (1 - t) * log(1 - A) ), t the labels. Nothing here is a loss op: the engine only
 * sees matmul, add, sigmoid, log, sub, mul, mean and neg. One op per statement, so the rows
 * are appended in the order they are written (C leaves the order of argument evaluation
 * open). */
static seed_graph record_seed(wg_tape *t, const dataset *d, wg_param *W, wg_param *b) {
  seed_graph g;
  g.X = wg_input(t, d->m, d->n, d->x);          /* row  0  X (m x n)          */
  g.T = wg_input(t, d->m, 1, d->t);             /* row  1  t (m x 1), labels  */
  wg_var w = wg_use(t, W);                      /* row  2  W (n x 1)          */
  wg_var xw = wg_matmul(t, g.X, w);             /* row  3  X W                */
  wg_var bias = wg_use(t, b);                   /* row  4  b (1 x 1)          */
  g.Z = wg_add(t, xw, bias);                    /* row  5  Z = X W + b        */
  g.A = wg_sigmoid(t, g.Z);                     /* row  6  A = sigmoid(Z)     */
  wg_var one = wg_scalar(t, 1);                 /* row  7  1                  */
  wg_var log_a = wg_log(t, g.A);                /* row  8  log A              */
  wg_var pos = wg_mul(t, g.T, log_a);           /* row  9  t log A            */
  wg_var one_t = wg_sub(t, one, g.T);           /* row 10  1 - t              */
  wg_var one_a = wg_sub(t, one, g.A);           /* row 11  1 - A              */
  wg_var log_1a = wg_log(t, one_a);             /* row 12  log(1 - A)         */
  wg_var neg = wg_mul(t, one_t, log_1a);        /* row 13  (1 - t) log(1 - A) */
  wg_var both = wg_add(t, pos, neg);            /* row 14                     */
  wg_var avg = wg_mean(t, both);                /* row 15  mean over m        */
  g.L = wg_neg(t, avg);                         /* row 16  L                  */
  wg_name(t, g.X, "X");
  wg_name(t, g.T, "t");
  wg_name(t, g.Z, "Z");
  wg_name(t, g.A, "A");
  wg_name(t, g.L, "L");
  return g;
}

static double max_abs_diff(const wg_real *a, const double *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > d) d = fabs(a[i] - b[i]);
  return d;
}

static double max_abs(const double *a, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i]) > d) d = fabs(a[i]);
  return d;
}

/* The program checks what it shows: every comparison must agree to 1e-12 relative to the
 * largest entry compared (rounding error), or it exits with status 3. Built for the float
 * library (WG_REAL_FLOAT) the same count of roundings is 1e-12 FLT_EPSILON / DBL_EPSILON
 * = 5.4e-4 (tests/tol.h derives it). */
#ifdef WG_REAL_FLOAT
#define TOLERANCE (1e-12 * (FLT_EPSILON / DBL_EPSILON))
#else
#define TOLERANCE 1e-12
#endif
static int all_agree = 1;
static void expect_close(double diff, double scale) {
  if (!(diff <= TOLERANCE * scale)) all_agree = 0;
}

static double accuracy(const wg_real *a, const wg_real *lab, int m) {
  int right = 0;
  for (int i = 0; i < m; i++) right += (a[i] >= 0.5) == (lab[i] == 1);
  return 100.0 * right / m;
}

/* The samples shown in the tables: the first three of class 0 and the first two of class 1,
 * so both branches of the loss appear. */
static int pick_samples(const wg_real *lab, int m, int *idx) {
  int k = 0, zeros = 0, ones = 0;
  for (int i = 0; i < m && k < SHOW; i++) {
    if (lab[i] == 0 && zeros < 3) idx[k++] = i, zeros++;
    else if (lab[i] == 1 && ones < SHOW - 3) idx[k++] = i, ones++;
  }
  return k;
}

static void shape(const char *name, wg_mat v, const char *what) {
  printf("  %-2s %4d x %-3d %s\n", name, v.rows, v.cols, what);
}

/* Small deterministic starting weights in [-0.1, 0.1) (a fixed linear congruential
 * generator), so that yhat differs between samples and the tables below are not all 0.5. */
static void init_weights(wg_param *W) {
  wg_mat w = wg_param_value(W);
  unsigned long s = 12345;
  for (int i = 0; i < w.rows * w.cols; i++) {
    s = (s * 1103515245ul + 12345ul) & 0x7ffffffful;
    w.data[i] = 0.2 * ((double)s / 2147483648.0) - 0.1;
  }
}

/* ---- the lesson, one section per function ---- */

typedef struct {
  wg_tape *t;         /* the composed network on the training set */
  seed_graph g;
  wg_param *W, *b;
  const dataset *train, *test;
} lesson;

static void show_shapes(const lesson *s) {
  wg_tape *t = s->t;
  printf("1. Shapes (samples as rows)\n");
  shape("X", wg_value(t, s->g.X), "inputs, one sample per row");
  shape("t", wg_value(t, s->g.T), "labels (targets), 0 or 1; the seed writes them y");
  shape("W", wg_param_value(s->W), "weights");
  shape("b", wg_param_value(s->b), "bias, broadcast down the rows");
  shape("Z", wg_value(t, s->g.Z), "Z = X W + b");
  shape("A", wg_value(t, s->g.A), "A = yhat = sigmoid(Z)");
  shape("L", wg_value(t, s->g.L), "L = -mean(t log A + (1-t) log(1-A))");
  printf("  L = %.6f at the starting weights\n\n", wg_value(t, s->g.L).data[0]);
}

/* Each factor of the seed's chain, read off the adjoints the sweep left on the rows. */
static void show_chain(const lesson *s) {
  wg_tape *t = s->t;
  int m = s->train->m, n = s->train->n;
  const wg_real *lab = s->train->t;
  wg_mat A = wg_value(t, s->g.A), dA = wg_grad(t, s->g.A), dZ = wg_grad(t, s->g.Z);
  double *expect = xmalloc((size_t)m * sizeof *expect);
  int idx[SHOW], shown = pick_samples(lab, m, idx);

  /* factor 1: dL/dyhat, the adjoint of row A */
  for (int i = 0; i < m; i++) expect[i] = (-lab[i] / A.data[i] + (1 - lab[i]) / (1 - A.data[i])) / m;
  printf("2. The chain, factor by factor, as the tape computed it\n");
  printf("  dL/dyhat: the adjoint of A, wg_grad(t, A)\n");
  printf("    formula (-t/yhat + (1-t)/(1-yhat)) / m\n");
  printf("    %6s %3s %10s %16s %16s\n", "sample", "t", "yhat", "tape", "formula");
  for (int k = 0; k < shown; k++) {
    int i = idx[k];
    printf("    %6d %3.0f %10.6f %16.8e %16.8e\n", i, lab[i], A.data[i], dA.data[i], expect[i]);
  }
  double d_dA = max_abs_diff(dA.data, expect, (size_t)m);
  expect_close(d_dA, max_abs(expect, (size_t)m));
  printf("    largest |tape - formula| over %d samples: %.3e (entries up to %.3e)\n\n", m, d_dA,
         max_abs(expect, (size_t)m));

  /* factor 2: dyhat/dz, recovered as adj(Z) / adj(A) */
  double worst_ratio = 0;
  for (int i = 0; i < m; i++) {
    double ratio = dZ.data[i] / dA.data[i], f = A.data[i] * (1 - A.data[i]);
    if (fabs(ratio - f) > worst_ratio) worst_ratio = fabs(ratio - f);
  }
  expect_close(worst_ratio, 0.25); /* yhat (1 - yhat) <= 1/4 */
  printf("  dyhat/dz: the sigmoid row's VJP multiplies the adjoint of A by this factor to give\n"
         "    the adjoint of Z; it is recovered here as wg_grad(t, Z) / wg_grad(t, A)\n");
  printf("    formula yhat (1 - yhat)\n");
  printf("    %6s %16s %16s\n", "sample", "tape", "formula");
  for (int k = 0; k < shown; k++) {
    int i = idx[k];
    printf("    %6d %16.10f %16.10f\n", i, dZ.data[i] / dA.data[i], A.data[i] * (1 - A.data[i]));
  }
  printf("    largest |tape - formula| over %d samples: %.3e\n", m, worst_ratio);

  /* their product: dL/dz = (yhat - t) / m */
  for (int i = 0; i < m; i++) expect[i] = (A.data[i] - lab[i]) / m;
  double d_dZ = max_abs_diff(dZ.data, expect, (size_t)m);
  expect_close(d_dZ, max_abs(expect, (size_t)m));
  printf("    their product, the adjoint of Z, against (yhat - t) / m: largest difference %.3e\n\n",
         d_dZ);

  /* factor 3: dz/dW */
  printf("  dz/dW: Z = X W + b is linear in W, so its derivative is the input itself,\n"
         "    A_prev^T = X^T (%d x %d). The matmul row applies it as dW += X^T dZ, with no\n"
         "    transpose materialised (wg_gemm reads X with swapped strides). X is an input,\n"
         "    so the sweep computes no adjoint for it: wg_grad(t, X).data is %s.\n\n",
         n, m, wg_grad(t, s->g.X).data ? "set (unexpected)" : "NULL");
  free(expect);
}

/* The whole chain against the seed's closed form. */
static void show_closed_form(const lesson *s) {
  int m = s->train->m, n = s->train->n;
  const wg_real *X = s->train->x, *lab = s->train->t;
  wg_mat A = wg_value(s->t, s->g.A), eW = wg_param_grad(s->W), eb = wg_param_grad(s->b);
  double *gW = xmalloc((size_t)n * sizeof *gW), gb = 0;
  for (int j = 0; j < n; j++) gW[j] = 0;
  for (int i = 0; i < m; i++) { /* gW = (1/m) X^T (A - t), gb = (1/m) sum(A - t) */
    double r = A.data[i] - lab[i];
    for (int j = 0; j < n; j++) gW[j] += X[(size_t)i * n + j] * r / m;
    gb += r / m;
  }
  printf("3. The engine's gradient beside the seed's closed form\n");
  printf("    dL/dW = (1/m) X^T (A - t)       dL/db = (1/m) sum(A - t)\n");
  printf("    %-8s %20s %20s %11s\n", "entry", "engine", "closed form", "|diff|");
  for (int j = 0; j < SHOW && j < n; j++)
    printf("    W[%2d]    %20.15f %20.15f %11.3e\n", j, eW.data[j], gW[j],
           fabs(eW.data[j] - gW[j]));
  printf("    ...\n");
  printf("    b        %20.15f %20.15f %11.3e\n", eb.data[0], gb, fabs(eb.data[0] - gb));
  double worst = fmax(max_abs_diff(eW.data, gW, (size_t)n), fabs(eb.data[0] - gb));
  double scale = fmax(max_abs(gW, (size_t)n), fabs(gb));
  expect_close(worst, scale);
  printf("    largest |engine - closed form| over W and b: %.3e (gradient entries up to %.3e)\n",
         worst, scale);
  printf("    The bias needs no rule of its own: b (1 x 1) was broadcast over m rows, so the add\n"
         "    row's VJP sums dZ over them, and that sum is (1/m) sum(A - t).\n\n");
  free(gW);
}

/* The fused loss writes the collapsed form directly; it must agree with the composition.
 * It runs on a second tape, sharing the parameters (their gradients are saved first). */
static void show_fused(const lesson *s) {
  int m = s->train->m, n = s->train->n;
  wg_mat eW = wg_param_grad(s->W), eb = wg_param_grad(s->b);
  double *saveW = xmalloc((size_t)n * sizeof *saveW), saveb = eb.data[0];
  for (int j = 0; j < n; j++) saveW[j] = eW.data[j];

  wg_tape *f = wg_tape_new();
  if (!f) die("out of memory creating the tape");
  wg_var X = wg_input(f, m, n, s->train->x), T = wg_input(f, m, 1, s->train->t);
  wg_var XW = wg_matmul(f, X, wg_use(f, s->W));
  wg_var Z = wg_add(f, XW, wg_use(f, s->b));
  wg_var L = wg_bce_logits(f, Z, T);
  wg_param_zero_grad(s->W);
  wg_param_zero_grad(s->b);
  wg_backward(f, L);
  check_tape(f, "in the fused backward");

  double dg = fmax(max_abs_diff(eW.data, saveW, (size_t)n), fabs(eb.data[0] - saveb));
  double lc = wg_value(s->t, s->g.L).data[0], lf = wg_value(f, L).data[0];
  expect_close(dg, fmax(max_abs(saveW, (size_t)n), fabs(saveb)));
  expect_close(fabs(lc - lf), fabs(lc));
  printf("4. The fused wg_bce_logits(Z, t), whose VJP is (sigmoid(Z) - t) / m\n");
  printf("    loss: composed %.15f   fused %.15f   |diff| %.3e\n", lc, lf, fabs(lc - lf));
  printf("    gradient: largest |fused - composed| over W and b: %.3e\n\n", dg);
  wg_tape_free(f);
  free(saveW);
}

/* Gradient descent. The graph is recorded once; each step replays it (wg_forward) on the new
 * W and b. The test set has its own small tape, replayed the same way to score the weights. */
static void train(const lesson *s, int steps, double lr) {
  const dataset *tr = s->train, *te = s->test;
  wg_tape *tt = wg_tape_new();
  if (!tt) die("out of memory creating the tape");
  wg_var tX = wg_input(tt, te->m, te->n, te->x), tT = wg_input(tt, te->m, 1, te->t);
  wg_var tXW = wg_matmul(tt, tX, wg_use(tt, s->W));
  wg_var tA = wg_sigmoid(tt, wg_add(tt, tXW, wg_use(tt, s->b)));
  wg_var tL = wg_bce(tt, tA, tT);
  check_tape(tt, "recording the test tape");

  printf("5. Training: %d steps of gradient descent, learning rate %g, by wg_forward replay\n",
         steps, lr);
  printf("    %6s %12s %10s %12s %10s\n", "step", "train loss", "train acc", "test loss",
         "test acc");
  wg_mat w = wg_param_value(s->W), b = wg_param_value(s->b);
  wg_mat gw = wg_param_grad(s->W), gb = wg_param_grad(s->b);
  int every = steps >= 10 ? steps / 10 : 1;
  for (int step = 0; step <= steps; step++) {
    if (step > 0) wg_forward(s->t); /* replay every row on the updated W and b */
    wg_param_zero_grad(s->W);
    wg_param_zero_grad(s->b);
    wg_backward(s->t, s->g.L);
    check_tape(s->t, "during training");
    if (step % every == 0 || step == steps) {
      wg_forward(tt);
      check_tape(tt, "scoring the test set");
      printf("    %6d %12.6f %9.2f%% %12.6f %9.2f%%\n", step, wg_value(s->t, s->g.L).data[0],
             accuracy(wg_value(s->t, s->g.A).data, tr->t, tr->m), wg_value(tt, tL).data[0],
             accuracy(wg_value(tt, tA).data, te->t, te->m));
    }
    if (step == steps) break;
    for (int j = 0; j < w.rows; j++) w.data[j] -= lr * gw.data[j];
    b.data[0] -= lr * gb.data[0];
  }
  printf("    (each line scores the weights after that many updates)\n\n");
  wg_tape_free(tt);
}

int main(int argc, char **argv) {
  options opt = parse_args(argc, argv);
  dataset all = read_csv(opt.path), train_set, test_set;
  split(&all, &train_set, &test_set);
  standardize(&train_set, &test_set);

  lesson s = {wg_tape_new(), {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}},
              wg_param_new("W", all.n, 1), wg_param_new("b", 1, 1), &train_set, &test_set};
  if (!s.t || !s.W || !s.b) die("out of memory creating the tape");
  init_weights(s.W);
  s.g = record_seed(s.t, &train_set, s.W, s.b);
  check_tape(s.t, "while recording");
  wg_backward(s.t, s.g.L);
  check_tape(s.t, "in wg_backward");

  printf("wengert: the seed's one-unit network on %s\n", opt.path);
  printf("%d samples (%d train, every 5th held out: %d test), %d standardized features\n",
         all.m, train_set.m, test_set.m, all.n);
  printf("The tape holds %d rows and %zu arena bytes.\n\n", wg_tape_rows(s.t),
         wg_tape_bytes(s.t));
  show_shapes(&s);
  show_chain(&s);
  show_closed_form(&s);
  show_fused(&s);
  train(&s, opt.steps, opt.lr);

  if (all_agree)
    printf("Every comparison above agrees to %g relative to the largest entry compared.\n",
           TOLERANCE);
  else
    fprintf(stderr, "seed_backprop: the engine and a formula above differ by more than %g "
                    "relative: a bug in the engine\n", TOLERANCE);
  wg_tape_free(s.t);
  wg_param_free(s.W);
  wg_param_free(s.b);
  free(all.x), free(all.t), free(train_set.x), free(train_set.t);
  free(test_set.x), free(test_set.t);
  return all_agree ? 0 : 3;
}

/* check_seed.c - the founding claim: the generic sweep reproduces the seed's closed form.
 *
 * One sigmoid unit, binary cross-entropy averaged over m samples, the loss COMPOSED from
 * primitives (nothing in the engine knows this formula):
 *   L = -mean(t * log(A) + (1 - t) * log(1 - A)),   A = sigmoid(z),  z = X W + b,  t the labels
 * The seed derives by hand
 *   dL/dA = (-t/A + (1-t)/(1-A)) / m,   dL/dz = dL/dA * A (1 - A) = (A - t)/m,
 *   dL/dW = (1/m) X^T (A - t),          dL/db = (1/m) sum(A - t)
 * and the tests compute those expressions in plain C from wg_value(A) and compare, all to
 * 1e-12 relative. Then the fused losses (wg_bce_logits, wg_bce on sigmoid) must agree with
 * the composed graph, a two-layer network must agree with the hand recursion
 *   delta2 = (A2 - t)/m, dW2 = A1^T delta2, delta1 = (delta2 W2^T) * act'(z1), dW1 = X^T delta1,
 *   db = column sums of delta,
 * and both conventions are checked: samples as rows (z = X W + b) and samples as columns
 * (z = W A + b, dL/dW = (1/m)(A_out - t) A^T). Data: the UCI breast cancer set (standardized
 * here) and deterministic random data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define TOL TU_TOL(1e-12) /* tol.h: 1e-12 in float64, 5.4e-4 (4500 ulps) in float */
#define DATA_PATH "examples/data/breast_cancer.csv"
#define NF 30 /* breast cancer features */

/* ---- data ---------------------------------------------------------------------------- */

typedef struct {
  int m, n;
  wg_real *X; /* m x n, row-major, samples as rows */
  wg_real *y; /* m labels in {0, 1} */
} dataset;

static void dataset_free(dataset *d) {
  free(d->X);
  free(d->y);
}

/* The breast cancer CSV (header, 30 features, label last), each feature standardized to
 * mean 0 and standard deviation 1 over the m rows read. */
static dataset load_breast_cancer(int max_rows) {
  dataset d = {0, NF, malloc((size_t)max_rows * NF * sizeof(wg_real)),
               malloc((size_t)max_rows * sizeof(wg_real))};
  /* from the repository root (make test), or from build/tests/ */
  FILE *f = fopen(DATA_PATH, "r");
  if (!f) f = fopen("../../" DATA_PATH, "r");
  ck_assert_msg(f != NULL, "cannot open %s (run the tests from the repository root)",
                DATA_PATH);
  char line[4096];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
  while (d.m < max_rows && fgets(line, sizeof line, f)) {
    char *p = line, *end;
    for (int j = 0; j <= NF; j++) {
      double v = strtod(p, &end);
      ck_assert_msg(end != p, "%s: bad number in row %d, column %d", DATA_PATH, d.m + 2, j + 1);
      if (j < NF) d.X[(size_t)d.m * NF + j] = v;
      else d.y[d.m] = v;
      p = end + (*end == ',');
    }
    d.m++;
  }
  fclose(f);
  ck_assert_int_eq(d.m, max_rows);
  for (int j = 0; j < NF; j++) {
    double mu = 0, var = 0;
    for (int i = 0; i < d.m; i++) mu += d.X[i * NF + j];
    mu /= d.m;
    for (int i = 0; i < d.m; i++) var += (d.X[i * NF + j] - mu) * (d.X[i * NF + j] - mu);
    double sd = sqrt(var / d.m);
    for (int i = 0; i < d.m; i++) d.X[i * NF + j] = (d.X[i * NF + j] - mu) / sd;
  }
  return d;
}

/* m x n features uniform in [-2, 2), labels 0/1 with probability 1/2 */
static dataset random_data(int m, int n, unsigned long long seed) {
  dataset d = {m, n, malloc((size_t)m * n * sizeof(wg_real)), malloc((size_t)m * sizeof(wg_real))};
  for (int i = 0; i < m * n; i++) d.X[i] = tu_uniform(&seed, -2, 2);
  for (int i = 0; i < m; i++) d.y[i] = tu_uniform(&seed, 0, 1) < 0.5 ? 0 : 1;
  return d;
}

static void fill(wg_param *p, double lo, double hi, unsigned long long seed) {
  wg_mat v = wg_param_value(p);
  for (int i = 0; i < v.rows * v.cols; i++) v.data[i] = tu_uniform(&seed, lo, hi);
}

/* samples as columns: the n x m transpose of the m x n data */
static wg_real *transposed(const dataset *d) {
  wg_real *T = malloc((size_t)d->m * d->n * sizeof *T);
  for (int i = 0; i < d->m; i++)
    for (int j = 0; j < d->n; j++) T[(size_t)j * d->m + i] = d->X[(size_t)i * d->n + j];
  return T;
}

/* ---- comparisons --------------------------------------------------------------------- */

/* normwise relative difference max_i |a_i - b_i| / max_i |b_i|: for sums over samples,
 * whose small entries come from cancellation */
static double rel_norm(const wg_real *a, const double *b, int n) {
  double d = 0, s = 0;
  for (int i = 0; i < n; i++) {
    if (fabs(a[i] - b[i]) > d || a[i] != a[i]) d = a[i] != a[i] ? INFINITY : fabs(a[i] - b[i]);
    if (fabs(b[i]) > s) s = fabs(b[i]);
  }
  return s > 0 ? d / s : d;
}

#define ASSERT_CLOSE_NORM(a, b, n, what)                                           \
  do {                                                                             \
    double e_ = rel_norm((a), (b), (n));                                           \
    ck_assert_msg(e_ <= TOL, "%s: relative difference %.3g > %g", (what), e_, TOL); \
  } while (0)

/* elementwise relative difference (no cancellation in these: labels are 0 or 1) */
#define ASSERT_CLOSE_ELEM(a, b, n, what)                                           \
  do {                                                                             \
    double e_ = tu_max_rel_diff((a), (b), (size_t)(n), 1e-300);                   \
    ck_assert_msg(e_ <= TOL, "%s: relative difference %.3g > %g", (what), e_, TOL); \
  } while (0)

/* ---- the composed loss --------------------------------------------------------------- */

/* L = -mean(t log(A) + (1 - t) log(1 - A)) from wg_log, wg_mul, wg_sub, wg_add, wg_mean, wg_neg */
static wg_var composed_bce(wg_tape *t, wg_var A, wg_var Y) {
  wg_var one = wg_scalar(t, 1.0);
  wg_var pos = wg_mul(t, Y, wg_log(t, A));
  wg_var neg = wg_mul(t, wg_sub(t, one, Y), wg_log(t, wg_sub(t, one, A)));
  return wg_neg(t, wg_mean(t, wg_add(t, pos, neg)));
}

/* ---- one layer: what the engine gives and what the seed says ------------------------- */

typedef struct {
  int m, n;
  wg_real *A, *dA, *dz, *dW;       /* engine: A, adjoints of A and z, dL/dW */
  double db, L;                    /* dL/db, loss */
} seed_run;

static void seed_run_free(seed_run *r) {
  free(r->A);
  free(r->dA);
  free(r->dz);
  free(r->dW);
}

static wg_real *copy_of(wg_mat v) {
  ck_assert_ptr_nonnull(v.data);
  wg_real *c = malloc((size_t)v.rows * v.cols * sizeof *c);
  memcpy(c, v.data, (size_t)v.rows * v.cols * sizeof *c);
  return c;
}

/* Record the seed's network on d and sweep back. columns = 0: z = X W + b (X m x n, W n x 1);
 * columns = 1: z = W A + b (A = X^T n x m, W 1 x n). b is 1x1 and broadcasts. */
static seed_run seed_engine(const dataset *d, int columns, unsigned long long seed) {
  seed_run r = {d->m, d->n, NULL, NULL, NULL, NULL, 0, 0};
  wg_param *W = columns ? wg_param_new("W", 1, d->n) : wg_param_new("W", d->n, 1);
  wg_param *b = wg_param_new("b", 1, 1);
  fill(W, -0.3, 0.3, seed);
  wg_param_value(b).data[0] = 0.1;
  wg_real *XT = columns ? transposed(d) : NULL;
  wg_tape *t = wg_tape_new();
  wg_var Y = columns ? wg_input(t, 1, d->m, d->y) : wg_input(t, d->m, 1, d->y);
  wg_var z = columns ? wg_matmul(t, wg_use(t, W), wg_input(t, d->n, d->m, XT))
                     : wg_matmul(t, wg_input(t, d->m, d->n, d->X), wg_use(t, W));
  z = wg_add(t, z, wg_use(t, b));
  wg_var A = wg_sigmoid(t, z);
  wg_var L = composed_bce(t, A, Y);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  r.A = copy_of(wg_value(t, A));
  r.dA = copy_of(wg_grad(t, A));
  r.dz = copy_of(wg_grad(t, z));
  r.dW = copy_of(wg_param_grad(W));
  r.db = wg_param_grad(b).data[0];
  r.L = wg_value(t, L).data[0];
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(b);
  free(XT);
  return r;
}

/* the seed's dL/dyhat = (-t/yhat + (1-t)/(1-yhat)) / m, t the labels (y[] here) */
static void seed_dA(const seed_run *r, const wg_real *y, double *out) {
  for (int i = 0; i < r->m; i++)
    out[i] = (-y[i] / r->A[i] + (1 - y[i]) / (1 - r->A[i])) / r->m;
}

/* dL/dz = dL/dyhat * dyhat/dz, dyhat/dz = yhat (1 - yhat) */
static void seed_dz(const seed_run *r, const wg_real *y, double *out) {
  seed_dA(r, y, out);
  for (int i = 0; i < r->m; i++) out[i] *= r->A[i] * (1 - r->A[i]);
}

/* dL/dW = (1/m) X^T (A - t): the same numbers in both conventions (as n x 1 or 1 x n) */
static void seed_dW(const seed_run *r, const dataset *d, double *out) {
  for (int j = 0; j < d->n; j++) {
    out[j] = 0;
    for (int i = 0; i < d->m; i++) out[j] += d->X[(size_t)i * d->n + j] * (r->A[i] - d->y[i]);
    out[j] /= d->m;
  }
}

static double seed_db(const seed_run *r, const wg_real *y) {
  double s = 0;
  for (int i = 0; i < r->m; i++) s += r->A[i] - y[i];
  return s / r->m;
}

static double seed_loss(const seed_run *r, const wg_real *y) {
  double s = 0;
  for (int i = 0; i < r->m; i++) s += y[i] * log(r->A[i]) + (1 - y[i]) * log(1 - r->A[i]);
  return -s / r->m;
}

/* Every claim of the seed on one run. */
static void assert_seed_claims(const seed_run *r, const dataset *d, const char *what) {
  double *ref = malloc((size_t)(d->m > d->n ? d->m : d->n) * sizeof *ref);
  char msg[160];
  snprintf(msg, sizeof msg, "%s: adjoint of yhat", what);
  seed_dA(r, d->y, ref);
  ASSERT_CLOSE_ELEM(r->dA, ref, d->m, msg);
  snprintf(msg, sizeof msg, "%s: adjoint of z", what);
  seed_dz(r, d->y, ref);
  ASSERT_CLOSE_ELEM(r->dz, ref, d->m, msg);
  snprintf(msg, sizeof msg, "%s: adjoint of z vs the collapse (A - t)/m", what);
  for (int i = 0; i < d->m; i++) ref[i] = (r->A[i] - d->y[i]) / d->m;
  ASSERT_CLOSE_NORM(r->dz, ref, d->m, msg);
  snprintf(msg, sizeof msg, "%s: dL/dW", what);
  seed_dW(r, d, ref);
  ASSERT_CLOSE_NORM(r->dW, ref, d->n, msg);
  ref[0] = seed_db(r, d->y);
  ck_assert_msg(fabs(r->db - ref[0]) <= TOL * fabs(ref[0]), "%s: dL/db %.17g, closed form %.17g",
                what, r->db, ref[0]);
  ref[0] = seed_loss(r, d->y);
  ck_assert_msg(fabs(r->L - ref[0]) <= TOL * fabs(ref[0]), "%s: loss %.17g, by hand %.17g", what,
                r->L, ref[0]);
  free(ref);
}

/* ---- one layer, samples as rows, real data: each claim as its own test ---------------- */

START_TEST(rows_real_dW_is_one_over_m_XT_A_minus_y) {
  dataset d = load_breast_cancer(569);
  seed_run r = seed_engine(&d, 0, 11);
  double ref[NF];
  seed_dW(&r, &d, ref);
  ASSERT_CLOSE_NORM(r.dW, ref, NF, "dL/dW");
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(rows_real_db_is_mean_of_A_minus_y) {
  dataset d = load_breast_cancer(569);
  seed_run r = seed_engine(&d, 0, 11);
  double ref = seed_db(&r, d.y);
  ck_assert_msg(fabs(r.db - ref) <= TOL * fabs(ref), "dL/db %.17g, closed form %.17g", r.db, ref);
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(rows_real_adjoint_of_yhat_is_seed_dL_dyhat) {
  dataset d = load_breast_cancer(569);
  seed_run r = seed_engine(&d, 0, 11);
  double *ref = malloc((size_t)d.m * sizeof *ref);
  seed_dA(&r, d.y, ref);
  ASSERT_CLOSE_ELEM(r.dA, ref, d.m, "adjoint of yhat");
  free(ref);
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(rows_real_adjoint_of_z_is_dL_dyhat_times_yhat_1_minus_yhat) {
  dataset d = load_breast_cancer(569);
  seed_run r = seed_engine(&d, 0, 11);
  double *ref = malloc((size_t)d.m * sizeof *ref);
  seed_dz(&r, d.y, ref);
  ASSERT_CLOSE_ELEM(r.dz, ref, d.m, "adjoint of z");
  free(ref);
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(rows_real_loss_is_the_hand_bce) {
  dataset d = load_breast_cancer(569);
  seed_run r = seed_engine(&d, 0, 11);
  double ref = seed_loss(&r, d.y);
  ck_assert_msg(fabs(r.L - ref) <= TOL * ref, "loss %.17g, by hand %.17g", r.L, ref);
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

/* ---- the other data and the other convention: every claim at once -------------------- */

START_TEST(rows_random_data_all_seed_claims) {
  dataset d = random_data(40, 7, 2024);
  seed_run r = seed_engine(&d, 0, 5);
  assert_seed_claims(&r, &d, "rows, random");
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(columns_random_data_all_seed_claims) {
  dataset d = random_data(40, 7, 77);
  seed_run r = seed_engine(&d, 1, 6);
  assert_seed_claims(&r, &d, "columns, random"); /* dW (1 x n) = (1/m)(A - t) A_in^T */
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

START_TEST(columns_real_data_all_seed_claims) {
  dataset d = load_breast_cancer(200); /* a subset, standardized on its own */
  seed_run r = seed_engine(&d, 1, 12);
  assert_seed_claims(&r, &d, "columns, breast cancer");
  seed_run_free(&r);
  dataset_free(&d);
}
END_TEST

/* ---- the fused losses agree with the composed graph ---------------------------------- */

/* loss and gradients of z = X W + b under one of three losses: 0 composed, 1 wg_bce_logits(z),
 * 2 wg_bce(sigmoid(z)) */
static void fused_run(const dataset *d, int kind, double *L, wg_real *dW, double *db) {
  wg_param *W = wg_param_new("W", d->n, 1), *b = wg_param_new("b", 1, 1);
  fill(W, -0.3, 0.3, 11);
  wg_param_value(b).data[0] = 0.1;
  wg_tape *t = wg_tape_new();
  wg_var Y = wg_input(t, d->m, 1, d->y);
  wg_var z = wg_add(t, wg_matmul(t, wg_input(t, d->m, d->n, d->X), wg_use(t, W)), wg_use(t, b));
  wg_var loss = kind == 0   ? composed_bce(t, wg_sigmoid(t, z), Y)
                : kind == 1 ? wg_bce_logits(t, z, Y)
                            : wg_bce(t, wg_sigmoid(t, z), Y);
  ck_assert_int_eq(wg_backward(t, loss), WG_OK);
  *L = wg_value(t, loss).data[0];
  memcpy(dW, wg_param_grad(W).data, (size_t)d->n * sizeof *dW);
  *db = wg_param_grad(b).data[0];
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(b);
}

static void assert_fused_agrees(int kind, const char *name) {
  dataset d = load_breast_cancer(569);
  double L0, L1, db0, db1, ref[NF];
  wg_real dW0[NF], dW1[NF];
  fused_run(&d, 0, &L0, dW0, &db0);
  fused_run(&d, kind, &L1, dW1, &db1);
  ck_assert_msg(fabs(L1 - L0) <= TOL * L0, "%s loss %.17g, composed %.17g", name, L1, L0);
  for (int j = 0; j < NF; j++) ref[j] = dW0[j];
  ASSERT_CLOSE_NORM(dW1, ref, NF, name);
  ck_assert_msg(fabs(db1 - db0) <= TOL * fabs(db0), "%s dL/db %.17g, composed %.17g", name, db1,
                db0);
  dataset_free(&d);
}

START_TEST(bce_logits_agrees_with_the_composed_graph) {
  assert_fused_agrees(1, "wg_bce_logits");
}
END_TEST

START_TEST(bce_of_sigmoid_agrees_with_the_composed_graph) {
  assert_fused_agrees(2, "wg_bce(sigmoid)");
}
END_TEST

/* ---- two layers against the hand recursion ------------------------------------------- */

/* Samples as rows, tanh hidden layer:
 *   z1 = X W1 + b1 (m x h), A1 = tanh(z1), z2 = A1 W2 + b2 (m x 1), A2 = sigmoid(z2), L = bce
 *   delta2 = (A2 - t)/m, dW2 = A1^T delta2, db2 = sum(delta2),
 *   delta1 = (delta2 W2^T) * (1 - A1^2), dW1 = X^T delta1, db1 = column sums of delta1 */
START_TEST(two_layer_rows_tanh_real_matches_hand_recursion) {
  enum { H = 5 };
  dataset d = load_breast_cancer(569);
  int m = d.m, n = d.n;
  wg_param *W1 = wg_param_new("W1", n, H), *b1 = wg_param_new("b1", 1, H);
  wg_param *W2 = wg_param_new("W2", H, 1), *b2 = wg_param_new("b2", 1, 1);
  fill(W1, -0.4, 0.4, 1), fill(b1, -0.1, 0.1, 2), fill(W2, -0.8, 0.8, 3), fill(b2, -0.1, 0.1, 4);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, m, n, d.X), Y = wg_input(t, m, 1, d.y);
  wg_var A1 = wg_tanh(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
  wg_var A2 = wg_sigmoid(t, wg_add(t, wg_matmul(t, A1, wg_use(t, W2)), wg_use(t, b2)));
  ck_assert_int_eq(wg_backward(t, composed_bce(t, A2, Y)), WG_OK);

  const wg_real *a1 = wg_value(t, A1).data, *a2 = wg_value(t, A2).data;
  const wg_real *w2 = wg_param_value(W2).data;
  double *delta2 = malloc((size_t)m * sizeof *delta2), *delta1 = malloc((size_t)m * H * sizeof *delta1);
  double dW2[H] = {0}, db2 = 0, dW1[NF * H] = {0}, db1[H] = {0};
  for (int i = 0; i < m; i++) delta2[i] = (a2[i] - d.y[i]) / m;
  for (int i = 0; i < m; i++) {
    db2 += delta2[i];
    for (int k = 0; k < H; k++) {
      dW2[k] += a1[i * H + k] * delta2[i];
      delta1[i * H + k] = delta2[i] * w2[k] * (1 - a1[i * H + k] * a1[i * H + k]);
      db1[k] += delta1[i * H + k];
    }
  }
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      for (int k = 0; k < H; k++) dW1[j * H + k] += d.X[i * n + j] * delta1[i * H + k];
  ASSERT_CLOSE_NORM(wg_param_grad(W2).data, dW2, H, "dW2");
  ASSERT_CLOSE_NORM(wg_param_grad(b2).data, &db2, 1, "db2");
  ASSERT_CLOSE_NORM(wg_param_grad(W1).data, dW1, n * H, "dW1");
  ASSERT_CLOSE_NORM(wg_param_grad(b1).data, db1, H, "db1");
  free(delta1);
  free(delta2);
  wg_tape_free(t);
  wg_param_free(W1), wg_param_free(b1), wg_param_free(W2), wg_param_free(b2);
  dataset_free(&d);
}
END_TEST

/* Samples as columns, sigmoid hidden layer, the seed's own notation:
 *   Z1 = W1 A0 + b1 (h x m, b1 h x 1 broadcast along columns), A1 = sigmoid(Z1),
 *   Z2 = W2 A1 + b2 (1 x m), A2 = sigmoid(Z2), L = bce_logits(Z2, t)
 *   delta2 = (A2 - t)/m (1 x m), dW2 = delta2 A1^T, db2 = sum(delta2),
 *   delta1 = (W2^T delta2) * A1 (1 - A1) (h x m), dW1 = delta1 A0^T, db1 = row sums of delta1 */
START_TEST(two_layer_columns_sigmoid_random_matches_hand_recursion) {
  enum { M = 30, N = 6, H = 4 };
  dataset d = random_data(M, N, 4242);
  wg_real *A0 = transposed(&d); /* N x M */
  wg_param *W1 = wg_param_new("W1", H, N), *b1 = wg_param_new("b1", H, 1);
  wg_param *W2 = wg_param_new("W2", 1, H), *b2 = wg_param_new("b2", 1, 1);
  fill(W1, -0.7, 0.7, 5), fill(b1, -0.2, 0.2, 6), fill(W2, -1, 1, 7), fill(b2, -0.2, 0.2, 8);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, N, M, A0), Y = wg_input(t, 1, M, d.y);
  wg_var A1 = wg_sigmoid(t, wg_add(t, wg_matmul(t, wg_use(t, W1), X), wg_use(t, b1)));
  wg_var Z2 = wg_add(t, wg_matmul(t, wg_use(t, W2), A1), wg_use(t, b2));
  ck_assert_int_eq(wg_backward(t, wg_bce_logits(t, Z2, Y)), WG_OK);

  const wg_real *a1 = wg_value(t, A1).data, *z2 = wg_value(t, Z2).data;
  const wg_real *w2 = wg_param_value(W2).data;
  double delta2[M], delta1[H * M], dW2[H] = {0}, db2 = 0, dW1[H * N] = {0}, db1[H] = {0};
  for (int i = 0; i < M; i++) delta2[i] = (1 / (1 + exp(-z2[i])) - d.y[i]) / M;
  for (int i = 0; i < M; i++) db2 += delta2[i];
  for (int k = 0; k < H; k++)
    for (int i = 0; i < M; i++) {
      double a = a1[k * M + i];
      dW2[k] += delta2[i] * a;
      delta1[k * M + i] = w2[k] * delta2[i] * a * (1 - a);
      db1[k] += delta1[k * M + i];
      for (int j = 0; j < N; j++) dW1[k * N + j] += delta1[k * M + i] * A0[j * M + i];
    }
  ASSERT_CLOSE_NORM(wg_param_grad(W2).data, dW2, H, "dW2");
  ASSERT_CLOSE_NORM(wg_param_grad(b2).data, &db2, 1, "db2");
  ASSERT_CLOSE_NORM(wg_param_grad(W1).data, dW1, H * N, "dW1");
  ASSERT_CLOSE_NORM(wg_param_grad(b1).data, db1, H, "db1");
  wg_tape_free(t);
  wg_param_free(W1), wg_param_free(b1), wg_param_free(W2), wg_param_free(b2);
  free(A0);
  dataset_free(&d);
}
END_TEST

/* The data path itself: the standardized features have mean 0 and variance 1, and the labels
 * count 357 benign of 569 (examples/data/README.md), so the data under test is what it says. */
START_TEST(breast_cancer_data_is_read_and_standardized) {
  dataset d = load_breast_cancer(569);
  double ones = 0;
  for (int i = 0; i < d.m; i++) ones += d.y[i];
  ck_assert_double_eq(ones, 357);
  for (int j = 0; j < NF; j++) {
    double mu = 0, var = 0;
    for (int i = 0; i < d.m; i++) mu += d.X[i * NF + j];
    for (int i = 0; i < d.m; i++) var += d.X[i * NF + j] * d.X[i * NF + j];
    ck_assert_double_eq_tol(mu / d.m, 0, TU_TOL(1e-12));
    ck_assert_double_eq_tol(var / d.m, 1, TU_TOL(1e-12));
  }
  dataset_free(&d);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("seed");
  TCase *one = tcase_create("one layer");
  tcase_add_test(one, breast_cancer_data_is_read_and_standardized);
  tcase_add_test(one, rows_real_dW_is_one_over_m_XT_A_minus_y);
  tcase_add_test(one, rows_real_db_is_mean_of_A_minus_y);
  tcase_add_test(one, rows_real_adjoint_of_yhat_is_seed_dL_dyhat);
  tcase_add_test(one, rows_real_adjoint_of_z_is_dL_dyhat_times_yhat_1_minus_yhat);
  tcase_add_test(one, rows_real_loss_is_the_hand_bce);
  tcase_add_test(one, rows_random_data_all_seed_claims);
  tcase_add_test(one, columns_random_data_all_seed_claims);
  tcase_add_test(one, columns_real_data_all_seed_claims);
  suite_add_tcase(s, one);
  TCase *fused = tcase_create("fused losses");
  tcase_add_test(fused, bce_logits_agrees_with_the_composed_graph);
  tcase_add_test(fused, bce_of_sigmoid_agrees_with_the_composed_graph);
  suite_add_tcase(s, fused);
  TCase *two = tcase_create("two layers");
  tcase_add_test(two, two_layer_rows_tanh_real_matches_hand_recursion);
  tcase_add_test(two, two_layer_columns_sigmoid_random_matches_hand_recursion);
  suite_add_tcase(s, two);
  return s;
}

WG_TEST_MAIN()

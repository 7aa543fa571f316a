/* check_print.c - the Wengert table, the DOT graph and the backward trace on the seed's
 * network, and the docs generated from the engine (docs/ops.md, docs/chain-rule.md,
 * docs/gradcheck.md).
 *
 * Reference numbers: the seed's closed forms, computed here from the data with libm
 * (A = sigmoid(X W + b), dL/dW = (1/m) X^T (A - t), dL/db = (1/m) sum(A - t), t the labels);
 * printed numbers are parsed back and compared with wg_value / wg_grad / wg_param_grad to the printed
 * precision (4 significant digits: relative error below 5e-4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/ops.h"
#include "tape/tape.h"
#include "countalloc.h"
#include "testutil.h"
#include "wengert.h"

#include "../examples/seed_tiny.h"
#define CHAIN_RULE_NO_MAIN
#include "../examples/chain_rule.c"
#define OPS_MD_NO_MAIN
#include "../docs/tools/ops_md.c"
#define GRADCHECK_CUSTOM_NO_MAIN
#include "../examples/gradcheck_custom.c"
#define EPS_SWEEP_NO_MAIN
#include "../examples/eps_sweep.c"

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct {
  FILE *f;
  char *buf;
  size_t len;
} capture;

static void cap_open(capture *c) {
  c->buf = NULL;
  c->len = 0;
  c->f = open_memstream(&c->buf, &c->len);
  ck_assert_ptr_nonnull(c->f);
}

static char *cap_close(capture *c) {
  ck_assert_int_eq(fclose(c->f), 0);
  return c->buf;
}

/* Parse "[a b; c d]" at s (s points at '['): up to max numbers into out; the count. */
static int parse_matrix(const char *s, double *out, int max) {
  ck_assert_msg(s && *s == '[', "expected '[' at \"%.40s\"", s ? s : "(null)");
  int n = 0;
  s++;
  while (*s && *s != ']') {
    if (*s == ' ' || *s == ';') {
      s++;
      continue;
    }
    char *end;
    double v = strtod(s, &end);
    ck_assert_msg(end != s, "not a number at \"%.20s\"", s);
    if (n < max) out[n] = v;
    n++;
    s = end;
  }
  ck_assert_int_eq(*s, ']');
  return n;
}

/* printed (4 significant digits) vs exact */
static void assert_close4(const double *printed, const wg_real *exact, int n, const char *what) {
  for (int i = 0; i < n; i++)
    ck_assert_msg(fabs(printed[i] - exact[i]) <= TU_TOL(6e-4) * fabs(exact[i]) + 1e-12,
                  "%s[%d]: printed %.6g, exact %.10g", what, i, printed[i], exact[i]);
}

/* The line of text that starts with prefix (at a line start), or NULL. */
static const char *line_starting(const char *text, const char *prefix) {
  size_t n = strlen(prefix);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, prefix, n) == 0) return p;
  return NULL;
}

static int count_lines_starting(const char *text, const char *prefix) {
  int k = 0;
  size_t n = strlen(prefix);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, prefix, n) == 0) k++;
  return k;
}

static int count_substr(const char *text, const char *s) {
  int k = 0;
  for (const char *p = strstr(text, s); p; p = strstr(p + 1, s)) k++;
  return k;
}

/* The seed's closed forms from the data (libm only): A, dL/dW, dL/db. */
static void seed_reference(double A[SEED_M], double gW[SEED_N], double *gb) {
  const double W[SEED_N] = {0.5, -0.25}, b = 0.1;
  *gb = 0;
  for (int k = 0; k < SEED_N; k++) gW[k] = 0;
  for (int i = 0; i < SEED_M; i++) {
    double z = b;
    for (int k = 0; k < SEED_N; k++) z += seed_x[i * SEED_N + k] * W[k];
    A[i] = 1 / (1 + exp(-z));
    for (int k = 0; k < SEED_N; k++) gW[k] += seed_x[i * SEED_N + k] * (A[i] - seed_t[i]) / SEED_M;
    *gb += (A[i] - seed_t[i]) / SEED_M;
  }
}

static void seed_free(wg_tape *t, seed_net *s) {
  wg_tape_free(t);
  wg_param_free(s->W);
  wg_param_free(s->b);
}

/* The source tree: $WG_SRCDIR, else the directory above this file's (as compiled). */
static void source_path(char *out, size_t n, const char *rel) {
  const char *env = getenv("WG_SRCDIR");
  if (env && *env) {
    snprintf(out, n, "%s/%s", env, rel);
    return;
  }
  const char *file = __FILE__, *tail = strstr(file, "tests/check_print.c");
  int keep = tail ? (int)(tail - file) : 0;
  snprintf(out, n, "%.*s%s%s", keep, file, keep ? "" : "./", rel);
}

static char *read_source(const char *rel) {
  char path[4096];
  source_path(path, sizeof path, rel);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s (set WG_SRCDIR to the source tree)", path);
  capture c;
  cap_open(&c);
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, c.f);
  fclose(f);
  return cap_close(&c);
}

/* ---- the Wengert table ------------------------------------------------------------------ */

static const char *const seed_labels[8] = {"X", "t", "W", "XW", "b", "Z", "A", "L"};
static const char *const seed_ops[8] = {"input", "input", "param", "matmul",
                                        "param", "add",   "sigmoid", "bce"};

START_TEST(table_before_backward) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  capture c;
  cap_open(&c);
  wg_tape_print(t, c.f);
  char *out = cap_close(&c);
  ck_assert_ptr_nonnull(strstr(out, "8 rows, status ok"));
  ck_assert_int_eq(count_lines_starting(out, "v"), 8);
  ck_assert_ptr_null(strstr(out, "adjoint")); /* no backward yet */
  double A[SEED_M], gW[SEED_N], gb, got[16];
  seed_reference(A, gW, &gb);
  for (int i = 0; i < 8; i++) {
    char prefix[16];
    snprintf(prefix, sizeof prefix, "v%d ", i);
    const char *line = line_starting(out, prefix);
    ck_assert_msg(line != NULL, "no line for row %d", i);
    const char *eol = strchr(line, '\n');
    char row[512];
    snprintf(row, sizeof row, "%.*s", (int)(eol - line), line);
    char name[32], op[32];
    ck_assert_int_eq(sscanf(row, "%*s %31s %31s", name, op), 2);
    ck_assert_str_eq(name, seed_labels[i]);
    ck_assert_str_eq(op, seed_ops[i]);
    /* an op row is followed by its rules from the op table; a leaf is not */
    const char *next = eol + 1;
    int is_op = i == 3 || i == 5 || i == 6 || i == 7;
    ck_assert_int_eq(*next == ' ', is_op);
    if (is_op) {
      const wg_row *r = &t->rows[i];
      const char *rule_end = strchr(next, '\n');
      char rules[512];
      snprintf(rules, sizeof rules, "%.*s", (int)(rule_end - next), next);
      ck_assert_ptr_nonnull(strstr(rules, wg_ops[r->op].forward_rule));
      ck_assert_ptr_nonnull(strstr(rules, wg_ops[r->op].vjp_rule));
    }
  }
  /* the sigmoid row: inputs, shape, and its value equals sigmoid(X W + b) computed here */
  const char *a = line_starting(out, "v6 ");
  ck_assert_ptr_nonnull(strstr(a, " Z "));
  ck_assert_ptr_nonnull(strstr(a, " 4x1 "));
  ck_assert_int_eq(parse_matrix(strchr(a, '['), got, 16), SEED_M);
  wg_real Aw[SEED_M];
  for (int i = 0; i < SEED_M; i++) Aw[i] = A[i];
  assert_close4(got, Aw, SEED_M, "table value of A");
  /* the matmul row lists its inputs by label, in order */
  ck_assert_ptr_nonnull(strstr(line_starting(out, "v3 "), " X, W "));
  free(out);
  seed_free(t, &s);
}
END_TEST

/* After a backward the table has an adjoint column: parse every row's adjoint back and
 * compare it with wg_grad (op rows), wg_param_grad (parameters) and the closed forms. */
START_TEST(table_adjoints_equal_wg_grad) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  ck_assert_int_eq(wg_backward(t, s.L), WG_OK);
  capture c;
  cap_open(&c);
  wg_tape_print(t, c.f);
  char *out = cap_close(&c);
  ck_assert_ptr_nonnull(strstr(out, "adjoint"));
  wg_var vars[8] = {s.X, s.t, {0, 0}, s.XW, {0, 0}, s.Z, s.A, s.L};
  double got[16];
  for (int i = 0; i < 8; i++) {
    char prefix[16];
    snprintf(prefix, sizeof prefix, "v%d ", i);
    const char *line = line_starting(out, prefix);
    const char *eol = strchr(line, '\n');
    const char *last = NULL; /* the adjoint is the last bracket (or "-") on the line */
    for (const char *p = line; p < eol; p++)
      if (*p == '[') last = p;
    if (i <= 1) { /* data: no adjoint, shown as "-" */
      ck_assert(eol[-1] == '-');
      continue;
    }
    ck_assert_ptr_nonnull(last);
    int n = parse_matrix(last, got, 16);
    wg_mat g = i == 2 ? wg_param_grad(s.W) : i == 4 ? wg_param_grad(s.b) : wg_grad(t, vars[i]);
    ck_assert_ptr_nonnull(g.data);
    ck_assert_int_eq(n, g.rows * g.cols);
    assert_close4(got, g.data, n, seed_labels[i]);
  }
  /* and the parameters' gradients are the seed's closed forms */
  double A[SEED_M], gW[SEED_N], gb;
  seed_reference(A, gW, &gb);
  ck_assert_double_eq_tol(wg_param_grad(s.W).data[0], gW[0], TU_TOL(1e-12));
  ck_assert_double_eq_tol(wg_param_grad(s.W).data[1], gW[1], TU_TOL(1e-12));
  ck_assert_double_eq_tol(wg_param_grad(s.b).data[0], gb, TU_TOL(1e-12));
  free(out);
  seed_free(t, &s);
}
END_TEST

/* Large matrices are summarised as min / mean / max, computed here from the data. */
START_TEST(table_summarises_large_matrices) {
  enum { M = 20, N = 30 };
  static wg_real x[M * N];
  unsigned long long st = 7;
  double lo = 1e9, hi = -1e9, sum = 0;
  for (int i = 0; i < M * N; i++) {
    x[i] = tu_uniform(&st, -3, 5);
    lo = fmin(lo, x[i]), hi = fmax(hi, x[i]), sum += x[i];
  }
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, M, N, x);
  wg_name(t, X, "X");
  capture c;
  cap_open(&c);
  wg_tape_print(t, c.f);
  char *out = cap_close(&c);
  const char *line = line_starting(out, "v0 ");
  ck_assert_ptr_nonnull(line);
  ck_assert_ptr_nonnull(strstr(line, "20x30"));
  ck_assert_ptr_null(strchr(line, '['));
  double pmin, pmean, pmax;
  ck_assert_int_eq(sscanf(strstr(line, "min "), "min %lf mean %lf max %lf", &pmin, &pmean, &pmax), 3);
  ck_assert_double_eq_tol(pmin, lo, 6e-4 * fabs(lo));
  ck_assert_double_eq_tol(pmean, sum / (M * N), 6e-4 * fabs(sum / (M * N)));
  ck_assert_double_eq_tol(pmax, hi, 6e-4 * fabs(hi));
  free(out);
  wg_tape_free(t);
}
END_TEST

/* ---- the backward trace ----------------------------------------------------------------- */

/* The numbers after " = " on the given line (which must have them) */
static int trace_numbers(const char *line, double *out, int max) {
  const char *eq = strstr(line, " = [");
  ck_assert_msg(eq && eq < strchr(line, '\n'), "no \" = [\" on \"%.60s\"", line);
  return parse_matrix(eq + 3, out, max);
}

START_TEST(trace_seed_steps_and_numbers) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  capture c;
  cap_open(&c);
  wg_tape_trace(t, c.f);
  ck_assert_int_eq(wg_backward(t, s.L), WG_OK);
  wg_tape_trace(t, NULL);
  char *out = cap_close(&c);

  /* one step per row that needs a gradient, each starting "label op:"; none for data */
  int steps = 0;
  for (const char *p = out; *p; p = strchr(p, '\n') + 1)
    if (*p != ' ') steps++;
  ck_assert_int_eq(steps, 6);
  for (int i = 2; i < 8; i++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s %s: ", seed_labels[i], seed_ops[i]);
    ck_assert_msg(count_lines_starting(out, prefix) == 1, "one step \"%s\"", prefix);
  }
  ck_assert_int_eq(count_lines_starting(out, "X "), 0);
  ck_assert_int_eq(count_lines_starting(out, "t "), 0);
  /* reverse order: L before A before Z before XW */
  ck_assert(line_starting(out, "L bce:") < line_starting(out, "A sigmoid:"));
  ck_assert(line_starting(out, "A sigmoid:") < line_starting(out, "Z add:"));
  ck_assert(line_starting(out, "Z add:") < line_starting(out, "XW matmul:"));
  /* the sigmoid's rule "dx += dy * y * (1 - y)" with the labels put in (by hand) */
  ck_assert_ptr_nonnull(strstr(out, "A sigmoid: adj(Z) += adj(A) * A * (1 - A) = ["));
  ck_assert_ptr_nonnull(strstr(out, "adj(W) += X^T adj(XW) = ["));
  ck_assert_ptr_nonnull(strstr(out, "(skipped: X needs no gradient)"));
  ck_assert_ptr_nonnull(strstr(out, "(skipped: t needs no gradient)"));

  /* every contribution printed equals the final adjoint (each row has one consumer here) */
  double got[16];
  int n = trace_numbers(line_starting(out, "L bce:"), got, 16);
  ck_assert_int_eq(n, SEED_M);
  assert_close4(got, wg_grad(t, s.A).data, n, "adj(A)");
  n = trace_numbers(line_starting(out, "A sigmoid:"), got, 16);
  assert_close4(got, wg_grad(t, s.Z).data, n, "adj(Z)");
  const char *z = line_starting(out, "Z add:");
  n = trace_numbers(z, got, 16);
  assert_close4(got, wg_grad(t, s.XW).data, n, "adj(XW)");
  n = trace_numbers(strchr(z, '\n') + 1, got, 16); /* its second term: adj(b) */
  ck_assert_int_eq(n, 1);
  assert_close4(got, wg_param_grad(s.b).data, 1, "adj(b)");
  n = trace_numbers(strstr(out, "adj(W) += X^T"), got, 16);
  ck_assert_int_eq(n, SEED_N);
  assert_close4(got, wg_param_grad(s.W).data, n, "adj(W)");
  n = trace_numbers(line_starting(out, "W param:"), got, 16);
  assert_close4(got, wg_param_grad(s.W).data, n, "grad(W)");

  /* against the closed forms: (A - t)/m and (1/m) X^T (A - t) */
  double A[SEED_M], gW[SEED_N], gb;
  seed_reference(A, gW, &gb);
  wg_real dz[SEED_M], gw[SEED_N] = {gW[0], gW[1]};
  for (int i = 0; i < SEED_M; i++) dz[i] = (A[i] - seed_t[i]) / SEED_M;
  n = trace_numbers(line_starting(out, "A sigmoid:"), got, 16);
  assert_close4(got, dz, n, "(A - t)/m");
  n = trace_numbers(line_starting(out, "W param:"), got, 16);
  assert_close4(got, gw, n, "(1/m) X^T (A - t)");
  free(out);
  seed_free(t, &s);
}
END_TEST

/* The trace changes nothing (same gradients, bit for bit) and, once off, writes nothing. */
START_TEST(trace_is_transparent_and_off_by_null) {
  wg_tape *t1 = wg_tape_new(), *t2 = wg_tape_new();
  seed_net s1, s2;
  seed_record(t1, &s1);
  seed_record(t2, &s2);
  capture c;
  cap_open(&c);
  wg_tape_trace(t1, c.f);
  wg_backward(t1, s1.L);
  wg_backward(t2, s2.L);
  ck_assert_mem_eq(wg_param_grad(s1.W).data, wg_param_grad(s2.W).data, SEED_N * sizeof(wg_real));
  ck_assert_mem_eq(wg_grad(t1, s1.Z).data, wg_grad(t2, s2.Z).data, SEED_M * sizeof(wg_real));
  fflush(c.f);
  size_t len = c.len;
  ck_assert_uint_gt(len, 0);
  wg_tape_trace(t1, NULL);
  wg_backward(t1, s1.L);
  fflush(c.f);
  ck_assert_uint_eq(c.len, len);
  free(cap_close(&c));
  seed_free(t1, &s1);
  seed_free(t2, &s2);
}
END_TEST

/* A row used twice receives two contributions; the trace shows each and they add up to
 * wg_grad. y = x * x also uses one row as both inputs: shown once, d(x^2)/dx = 2x. */
START_TEST(trace_accumulation_and_repeated_input) {
  wg_param *P = wg_param_new("x", 1, 3);
  wg_real *x = wg_param_value(P).data;
  x[0] = 1.5, x[1] = -2, x[2] = 0.25;
  wg_tape *t = wg_tape_new();
  wg_var v = wg_use(t, P);
  wg_var sq = wg_mul(t, v, v);    /* x^2 */
  wg_var ex = wg_exp(t, v);       /* exp(x) */
  wg_var L = wg_sum(t, wg_add(t, sq, ex));
  wg_name(t, sq, "sq");
  wg_name(t, ex, "ex");
  capture c;
  cap_open(&c);
  wg_tape_trace(t, c.f);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  char *out = cap_close(&c);
  double a[4], b[4];
  ck_assert_int_eq(trace_numbers(line_starting(out, "sq mul:"), a, 4), 3);
  ck_assert_ptr_nonnull(strstr(out, "(same row as input 1"));
  ck_assert_int_eq(trace_numbers(line_starting(out, "ex exp:"), b, 4), 3);
  wg_real two_x[3], e_x[3], sum[3];
  double total[3];
  for (int i = 0; i < 3; i++) {
    two_x[i] = 2 * x[i];
    e_x[i] = exp(x[i]);
    sum[i] = two_x[i] + e_x[i];
    total[i] = a[i] + b[i];
  }
  assert_close4(a, two_x, 3, "d(x*x)/dx");
  assert_close4(b, e_x, 3, "d(exp x)/dx");
  assert_close4(total, sum, 3, "both terms");
  assert_close4(total, wg_param_grad(P).data, 3, "grad(x)");
  free(out);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* ---- DOT ---------------------------------------------------------------------------------- */

static int have_dot(void) {
  return system("command -v dot >/dev/null 2>&1") == 0;
}

/* Run `dot -Tsvg` on text; its exit status (0: accepted). */
static int dot_accepts(const char *text) {
  char path[] = "/tmp/wg_check_print_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o /dev/null 2>/dev/null", path);
  int rc = system(cmd);
  unlink(path);
  return rc;
}

START_TEST(dot_seed_graph) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  wg_backward(t, s.L);
  capture c;
  cap_open(&c);
  wg_tape_dot(t, c.f);
  char *out = cap_close(&c);
  ck_assert_int_eq(strncmp(out, "digraph wengert {\n", 18), 0);
  ck_assert_int_eq(out[strlen(out) - 2], '}');
  ck_assert_int_eq(count_lines_starting(out, "  v"), 8 + 7); /* 8 nodes, 7 edges */
  ck_assert_int_eq(count_substr(out, " -> "), 7);
  /* edges from inputs: X, W -> XW; XW, b -> Z; Z -> A; A, y -> L */
  const char *edges[] = {"v0 -> v3", "v2 -> v3", "v3 -> v5", "v4 -> v5", "v5 -> v6",
                         "v6 -> v7", "v1 -> v7"};
  for (int k = 0; k < 7; k++) ck_assert_ptr_nonnull(strstr(out, edges[k]));
  /* styled apart: 2 data boxes, 2 parameter boxes, 4 op ellipses, one sink (the loss) */
  ck_assert_int_eq(count_substr(out, "fillcolor=\"#e6e6e6\""), 2);
  ck_assert_int_eq(count_substr(out, "fillcolor=\"#ffd58a\""), 2);
  ck_assert_int_eq(count_substr(out, "shape=ellipse"), 4);
  ck_assert_int_eq(count_substr(out, "peripheries=2"), 1);
  ck_assert_ptr_nonnull(strstr(out, "v7 [shape=ellipse, style=filled, fillcolor=\"#cfe3ff\", "
                                    "peripheries=2, label=\"L\\nbce 1x1"));
  ck_assert_ptr_nonnull(strstr(out, "label=\"A\\nsigmoid 4x1\\nval ["));
  /* the adjoint of W in its node equals wg_param_grad */
  double got[4];
  const char *w = strstr(strstr(out, "label=\"W\\n"), "adj [");
  ck_assert_int_eq(parse_matrix(w + 4, got, 4), SEED_N);
  assert_close4(got, wg_param_grad(s.W).data, SEED_N, "W node adj");
  if (have_dot()) ck_assert_int_eq(dot_accepts(out), 0);
  else fprintf(stderr, "check_print: Graphviz not installed: DOT checked by its text only\n");
  free(out);
  seed_free(t, &s);
}
END_TEST

/* Names with quotes and backslashes are escaped; large rows carry no numbers. */
START_TEST(dot_escapes_names) {
  static wg_real x[40];
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 4, 10, x);
  wg_name(t, X, "say \"hi\" \\ there");
  wg_var S = wg_sum(t, X);
  (void)S;
  capture c;
  cap_open(&c);
  wg_tape_dot(t, c.f);
  char *out = cap_close(&c);
  ck_assert_ptr_nonnull(strstr(out, "label=\"say \\\"hi\\\" \\\\ there\\ninput 4x10\"]"));
  if (have_dot()) ck_assert_int_eq(dot_accepts(out), 0);
  free(out);
  wg_tape_free(t);
}
END_TEST

/* ---- NULL and out of memory -------------------------------------------------------------- */

START_TEST(null_tape_and_file_are_safe) {
  capture c;
  cap_open(&c);
  wg_tape_print(NULL, c.f);
  wg_tape_dot(NULL, c.f);
  wg_tape_trace(NULL, c.f);
  wg_tape *t = wg_tape_new();
  wg_tape_print(t, NULL);
  wg_tape_dot(t, NULL);
  wg_tape_print(t, c.f); /* empty tape */
  char *out = cap_close(&c);
  ck_assert_ptr_nonnull(strstr(out, "wengert tape: NULL"));
  ck_assert_ptr_nonnull(strstr(out, "digraph wengert {"));
  ck_assert_ptr_nonnull(strstr(out, "wengert tape: 0 rows, status ok"));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  if (have_dot()) {
    const char *g = strstr(out, "digraph");
    char graph[512];
    snprintf(graph, sizeof graph, "%.*s", (int)(strstr(g, "}\n") + 2 - g), g);
    ck_assert_int_eq(dot_accepts(graph), 0);
  }
  free(out);
  wg_tape_free(t);
}
END_TEST

/* tests/countalloc.h, failing every request while fail_from(1) is in force */
static ca_state heap;

static void fail_from(int on) { /* on: this request and every later one fails */
  heap.fail_at = on ? heap.calls + 1 : 0;
  heap.persistent = on;
}

START_TEST(trace_out_of_memory_fails_the_tape) {
  memset(&heap, 0, sizeof heap);
  wg_set_allocator(ca_alloc, &heap);
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  wg_backward(t, s.L); /* adjoint buffers now exist in the arena */
  capture c;
  cap_open(&c);
  wg_tape_trace(t, c.f);
  fail_from(1);
  ck_assert_int_eq(wg_backward(t, s.L), WG_ERR_NOMEM);
  fail_from(0);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "trace: out of memory"));
  free(cap_close(&c));
  /* DOT's scratch: the output is still a whole graph, and the failure is reported */
  wg_tape_reset(t);
  seed_net s2;
  seed_record(t, &s2);
  cap_open(&c);
  fail_from(1);
  wg_tape_dot(t, c.f);
  fail_from(0);
  char *out = cap_close(&c);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  ck_assert_int_eq(count_lines_starting(out, "  v"), 8 + 7);
  ck_assert_int_eq(out[strlen(out) - 2], '}');
  free(out);
  seed_free(t, &s);
  wg_param_free(s2.W);
  wg_param_free(s2.b);
  wg_set_allocator(NULL, NULL);
  ck_assert_uint_eq(heap.live, 0); /* nothing leaked */
  ck_assert_int_eq(heap.bad_size, 0);
}
END_TEST

/* ---- docs in sync ------------------------------------------------------------------------- */

START_TEST(ops_md_matches_oplist) {
  capture c;
  cap_open(&c);
  ops_md_write(c.f);
  char *now = cap_close(&c);
  char *doc = read_source("docs/ops.md");
  ck_assert_msg(strcmp(now, doc) == 0, "docs/ops.md is out of date: run `make docs`");
  /* and, independently of the generator, every op of the library's table has its row */
  for (int op = 0; op < WG_OP_COUNT; op++) {
    char row[1024];
    snprintf(row, sizeof row, "| `%s` | ", wg_ops[op].name);
    const char *line = strstr(doc, row);
    ck_assert_msg(line != NULL, "docs/ops.md has no row for %s", wg_ops[op].name);
    const char *rules[3] = {wg_ops[op].forward_rule, wg_ops[op].vjp_rule, wg_ops[op].jvp_rule};
    for (int k = 0; k < 3; k++) {
      size_t j = 0; /* the rule as a code span, '|' escaped for the table */
      row[j++] = '`';
      for (const char *q = rules[k]; *q && j < sizeof row - 4; q++) {
        if (*q == '|') row[j++] = '\\';
        row[j++] = *q;
      }
      row[j++] = '`';
      row[j] = '\0';
      const char *hit = strstr(line, row);
      ck_assert_msg(hit && hit < strchr(line, '\n'), "docs/ops.md: %s lacks %s", wg_ops[op].name,
                    row);
    }
  }
  free(now);
  free(doc);
}
END_TEST

/* s with every number (a digit run with its sign, point and exponent, or a bound "< 1e-08")
 * as '#' and runs of spaces as one: the words of a block without its digits (a new buffer) */
static char *words_of(const char *s, size_t n) {
  char *w = malloc(n + 1), *o = w;
  for (size_t i = 0; i < n;) {
    if (s[i] == '<' && i + 2 < n && s[i + 1] == ' ' && s[i + 2] >= '0' && s[i + 2] <= '9')
      i += 2; /* "< 1e-08": the float64 programs print a bound where float prints the number */
    if ((s[i] >= '0' && s[i] <= '9') || ((s[i] == '-' || s[i] == '+' || s[i] == '.') && i + 1 < n &&
                                         s[i + 1] >= '0' && s[i + 1] <= '9')) {
      while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                       s[i] == '-' || s[i] == '+'))
        i++;
      *o++ = '#';
    } else if (s[i] == ' ') {
      while (i < n && s[i] == ' ') i++;
      *o++ = ' ';
    } else {
      *o++ = s[i++];
    }
  }
  *o = '\0';
  return w;
}

/* Every "@@ begin NAME" block in `blocks` is in the doc `path` between its markers, verbatim,
 * and every marker in the doc names a block; returns the number of blocks. The docs quote the
 * float64 programs: built for float (WG_REAL_FLOAT) the programs print other digits (errors
 * of float's eps_mach), so there each block must have the doc's words with the numbers left
 * out (words_of), and the claims the prose makes are checked on the float output itself. */
static int assert_doc_has_blocks(const char *path, const char *doc, const char *blocks,
                                 const char *program) {
  int n_blocks = 0;
  for (const char *p = strstr(blocks, "@@ begin "); p; p = strstr(p + 1, "@@ begin ")) {
    char name[64];
    ck_assert_int_eq(sscanf(p, "@@ begin %63s", name), 1);
    const char *body = strchr(p, '\n') + 1;
    char end_marker[96];
    snprintf(end_marker, sizeof end_marker, "@@ end %s\n", name);
    const char *body_end = strstr(body, end_marker);
    ck_assert_ptr_nonnull(body_end);
    size_t need = (size_t)(body_end - body) + 256;
    char *want = malloc(need);
    snprintf(want, need, "<!-- begin: %s -->\n```text\n%.*s```\n<!-- end: %s -->\n", name,
             (int)(body_end - body), body, name);
    if (TU_F32) {
      char head[96];
      snprintf(head, sizeof head, "<!-- begin: %s -->\n```text\n", name);
      const char *in_doc = strstr(doc, head);
      ck_assert_msg(in_doc != NULL, "%s: no block %s", path, name);
      in_doc += strlen(head);
      size_t na = (size_t)(strstr(in_doc, "```\n") - in_doc), nb = (size_t)(body_end - body);
      if (strcmp(name, "eps-sweep") == 0) {
        /* the study of float64's engine: in float the engine's own columns reach "h < float
         * ulp" too, so only the header (3 lines) and the number of rows must agree */
        int la = 0, lb = 0;
        for (size_t i = 0; i < na; i++) la += in_doc[i] == '\n';
        for (size_t i = 0; i < nb; i++) lb += body[i] == '\n';
        ck_assert_int_eq(la, lb);
        const char *ea = in_doc, *eb = body;
        for (int l = 0; l < 3; l++) ea = strchr(ea, '\n') + 1, eb = strchr(eb, '\n') + 1;
        na = (size_t)(ea - in_doc), nb = (size_t)(eb - body);
      }
      char *a = words_of(in_doc, na);
      char *b = words_of(body, nb);
      ck_assert_msg(strcmp(a, b) == 0, "%s: block %s: the float build prints other words:\n%s\n"
                    "vs\n%s", path, name, b, a);
      free(a), free(b);
    } else {
      ck_assert_msg(strstr(doc, want) != NULL,
                    "%s: block %s differs from %s --blocks (run `make docs`)", path, name, program);
    }
    free(want);
    n_blocks++;
  }
  /* no stale markers: each begin marker in the doc is a block printed now */
  int n_markers = 0;
  for (const char *p = strstr(doc, "<!-- begin: "); p; p = strstr(p + 1, "<!-- begin: ")) {
    if (p != doc && p[-1] != '\n') continue; /* markers stand at line starts (see splice.awk) */
    char name[64], key[96];
    ck_assert_int_eq(sscanf(p, "<!-- begin: %63s", name), 1);
    snprintf(key, sizeof key, "@@ begin %s\n", name);
    ck_assert_msg(strstr(blocks, key) != NULL, "%s: marker %s names no block", path, name);
    n_markers++;
  }
  ck_assert_int_eq(n_markers, n_blocks);
  return n_blocks;
}

/* Every block chain_rule prints now is in docs/chain-rule.md between its markers, verbatim;
 * every marker in the doc names a block (no timings: they would vary from run to run); the
 * doc's code excerpt is in examples/seed_tiny.h line for line. */
START_TEST(chain_rule_md_matches_program) {
  capture c;
  cap_open(&c);
  chain_rule_blocks(c.f, 1, 0);
  char *blocks = cap_close(&c);
  char *doc = read_source("docs/chain-rule.md");
  ck_assert_int_ge(assert_doc_has_blocks("docs/chain-rule.md", doc, blocks,
                                         "build/examples/chain_rule"), 15);
  /* the code excerpt */
  char *src = read_source("examples/seed_tiny.h");
  const char *code = strstr(doc, "<!-- code: examples/seed_tiny.h -->\n```c\n");
  ck_assert_ptr_nonnull(code);
  code = strstr(code, "```c\n") + 5;
  const char *code_end = strstr(code, "```\n");
  int lines = 0;
  for (const char *p = code; p < code_end; p = strchr(p, '\n') + 1) {
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(strchr(p, '\n') - p), p);
    ck_assert_msg(strstr(src, line) != NULL, "doc code line not in seed_tiny.h: %s", line);
    lines++;
  }
  ck_assert_int_ge(lines, 5);
  free(src);
  free(blocks);
  free(doc);
}
END_TEST

/* docs/gradcheck.md quotes gradcheck_custom (both runs, CSV lines) and eps_sweep's table as
 * they print now with --blocks; the blocks hold no digit that depends on the compiler (this
 * test passes built with gcc and with clang). */
START_TEST(gradcheck_md_matches_programs) {
  char data[4096];
  source_path(data, sizeof data, "examples/data/breast_cancer.csv");
  char a0[] = "eps_sweep", a1[] = "--blocks", a2[] = "--data";
  char *argv[] = {a0, a1, a2, data, NULL};
  capture c;
  cap_open(&c);
  ck_assert_int_eq(gradcheck_custom_blocks(c.f), 0);
  ck_assert_int_eq(eps_sweep_main(c.f, 4, argv), 0);
  char *blocks = cap_close(&c);
  char *doc = read_source("docs/gradcheck.md");
  ck_assert_int_eq(assert_doc_has_blocks("docs/gradcheck.md", doc, blocks,
                                         "build/examples/gradcheck_custom and eps_sweep"), 4);
  /* independently of the programs: the planted mistake is caught as the prose says, and in
   * float too (with float's defaults: h = cbrt(eps_mach), atol 1e-3, rtol 1e-2) */
  ck_assert_ptr_nonnull(strstr(doc, "wg_gradcheck:  15 of 19 elements failed (0 skipped)"));
  ck_assert_ptr_nonnull(strstr(doc, "first failing: row 6 (softplus H)"));
  ck_assert_ptr_nonnull(strstr(blocks, "wg_gradcheck:  15 of 19 elements failed (0 skipped)"));
  ck_assert_ptr_nonnull(strstr(blocks, "first failing: row 6 (softplus H)"));
  ck_assert_ptr_nonnull(strstr(blocks, "wg_gradcheck:  0 of 19 elements failed (0 skipped)"));
  free(blocks);
  free(doc);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("print");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, table_before_backward);
  tcase_add_test(tc, table_adjoints_equal_wg_grad);
  tcase_add_test(tc, table_summarises_large_matrices);
  suite_add_tcase(s, tc);
  tc = tcase_create("trace");
  tcase_add_test(tc, trace_seed_steps_and_numbers);
  tcase_add_test(tc, trace_is_transparent_and_off_by_null);
  tcase_add_test(tc, trace_accumulation_and_repeated_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("dot");
  tcase_add_test(tc, dot_seed_graph);
  tcase_add_test(tc, dot_escapes_names);
  suite_add_tcase(s, tc);
  tc = tcase_create("robustness");
  tcase_add_test(tc, null_tape_and_file_are_safe);
  tcase_add_test(tc, trace_out_of_memory_fails_the_tape);
  suite_add_tcase(s, tc);
  tc = tcase_create("docs");
  tcase_add_test(tc, ops_md_matches_oplist);
  tcase_add_test(tc, chain_rule_md_matches_program);
  tcase_add_test(tc, gradcheck_md_matches_programs);
  tcase_set_timeout(tc, 30);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

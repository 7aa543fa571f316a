/* check_gradcheck.c - the gradient-checking toolkit: wg_gradcheck, wg_check_rows, wg_dot_test,
 * wg_jvp, and custom ops (wg_custom).
 *
 * The oracles are independent of each other: finite differences (gradcheck, check_rows), the
 * forward-mode sweep (dot test) and closed forms written here (sin(a) b and its derivatives).
 * A wrong derivative is planted on purpose in a custom op, so every "it passes" assertion has a
 * twin showing the same check fails when the derivative is wrong. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/tape.h"
#include "countalloc.h"
#include "testutil.h"
#include "op_cases.h"

/* ---- a small network around the custom op -------------------------------------------------
 *   Z = X W  (5x3)(3x2);  H = sinmul(Z, V)  (5x2);  loss = mse(H, Y) */
typedef struct {
  wg_tape *t;
  wg_param *W, *V;
  wg_real x[15], y[10];
  wg_var loss, h;
  uint32_t w_row, custom_row;
} net;

static void net_build(net *n, const wg_custom_op *op, void *ctx) {
  unsigned long long s = 42;
  n->t = wg_tape_new();
  n->W = wg_param_new("W", 3, 2);
  n->V = wg_param_new("V", 5, 2);
  fill(n->x, 15, &s, -1, 1);
  fill(n->y, 10, &s, -1, 1);
  fill(wg_param_value(n->W).data, 6, &s, -1, 1);
  fill(wg_param_value(n->V).data, 10, &s, -1, 1);
  wg_var X = wg_input(n->t, 5, 3, n->x), Y = wg_input(n->t, 5, 2, n->y);
  wg_var W = wg_use(n->t, n->W);
  wg_var in[2] = {wg_matmul(n->t, X, W), wg_use(n->t, n->V)};
  n->h = wg_custom(n->t, op, ctx, 2, in);
  n->loss = wg_mse(n->t, n->h, Y);
  n->w_row = W.row;
  n->custom_row = n->h.row;
  ck_assert_msg(wg_tape_status(n->t) == WG_OK, "%s", wg_tape_error(n->t));
}

static void net_free(net *n) {
  wg_tape_free(n->t);
  wg_param_free(n->W);
  wg_param_free(n->V);
}

START_TEST(test_custom_right_passes_all_three) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, NULL, &r), 0);
  ck_assert_int_eq(r.checked, 6 + 10); /* every element of W and V */
  ck_assert_int_eq(r.skipped, 0);
  ck_assert_int_eq(r.worst_row, -1);
  ck_assert_double_lt(r.max_abs_err, TU_TOL(1e-8));
  ck_assert_int_eq(wg_check_rows(n.t, NULL, &r), 0);
  ck_assert_int_eq(r.checked, 3); /* matmul, sinmul, mse: the non-leaf rows needing gradients */
  ck_assert_int_eq(r.worst_row, -1);
  double d = wg_dot_test(n.t, n.loss, 1);
  ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "dot test %g", d);
  d = wg_dot_test(n.t, n.h, 2); /* a 5x2 output: a random cotangent, not just dL = 1 */
  ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "dot test %g", d);
  net_free(&n);
}
END_TEST

START_TEST(test_custom_wrong_vjp_caught_and_localized) {
  net n;
  sinmul_ctx bad = {1, 0};
  net_build(&n, &sinmul_op, &bad);
  wg_gradcheck_result r;
  /* da is wrong, db right: W's elements (upstream of a) fail, V's (b) pass */
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, NULL, &r), 6);
  ck_assert_int_eq(r.failed, 6);
  ck_assert_int_eq(r.checked, 16);
  ck_assert_int_eq(r.worst_row, (int)n.w_row);
  ck_assert_msg(strncmp(r.worst, "W[", 2) == 0 && strstr(r.worst, "analytic") &&
                strstr(r.worst, "numeric"), "worst: %s", r.worst);
  /* the per-row check blames the custom row and nothing else */
  ck_assert_int_eq(wg_check_rows(n.t, NULL, &r), 1);
  ck_assert_int_eq(r.worst_row, (int)n.custom_row);
  ck_assert_msg(strstr(r.worst, "sinmul") != NULL, "worst: %s", r.worst);
  /* the JVP is right, so forward and reverse mode disagree */
  double d = wg_dot_test(n.t, n.loss, 1);
  ck_assert_msg(d > 1e-3, "dot test %g", d);
  ck_assert_int_eq(wg_tape_status(n.t), WG_OK); /* a failed check is not a tape error */
  net_free(&n);
}
END_TEST

START_TEST(test_custom_wrong_jvp_caught_by_dot_test) {
  net n;
  sinmul_ctx bad = {0, 1};
  net_build(&n, &sinmul_op, &bad);
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, NULL, NULL), 0); /* the VJP is right */
  double d = wg_dot_test(n.t, n.loss, 1);
  ck_assert_msg(d > 1e-3, "dot test %g", d);
  net_free(&n);
}
END_TEST

/* The custom op's value, adjoints and tangent against the closed forms. */
START_TEST(test_custom_values_against_closed_form) {
  wg_tape *t = wg_tape_new();
  wg_param *A = wg_param_new("A", 1, 3), *B = wg_param_new("B", 1, 3);
  wg_real a[3] = {0.3, -1.2, 2.0}, b[3] = {1.5, 0.25, -0.7};
  memcpy(wg_param_value(A).data, a, sizeof a);
  memcpy(wg_param_value(B).data, b, sizeof b);
  wg_var in[2] = {wg_use(t, A), wg_use(t, B)};
  wg_var y = wg_custom(t, &sinmul_op, NULL, 2, in), L = wg_sum(t, y);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int e = 0; e < 3; e++) {
    ck_assert_double_eq_tol(wg_value(t, y).data[e], sin(a[e]) * b[e], TU_TOL(1e-15));
    ck_assert_double_eq_tol(wg_param_grad(A).data[e], cos(a[e]) * b[e], TU_TOL(1e-15));
    ck_assert_double_eq_tol(wg_param_grad(B).data[e], sin(a[e]), TU_TOL(1e-15));
  }
  /* forward mode: tangent e_1 on A gives d y / d a_1 */
  wg_tangent(t, in[0]).data[1] = 1;
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  ck_assert_double_eq_tol(wg_tangent(t, y).data[1], cos(a[1]) * b[1], TU_TOL(1e-15));
  ck_assert_double_eq(wg_tangent(t, y).data[0], 0);
  ck_assert_double_eq_tol(wg_tangent(t, L).data[0], cos(a[1]) * b[1], TU_TOL(1e-15));
  /* replay sees new parameter values */
  wg_param_value(A).data[0] = 1.0;
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_double_eq_tol(wg_value(t, y).data[0], sin(1.0) * b[0], TU_TOL(1e-15));
  ck_assert_str_eq(wg_row_op_name(&t->rows[y.row]), "sinmul");
  ck_assert_str_eq(wg_row_op_name(&t->rows[L.row]), "sum");
  wg_tape_free(t);
  wg_param_free(A);
  wg_param_free(B);
}
END_TEST

/* The descriptor and its name are copied: the caller's struct need not outlive wg_custom. */
START_TEST(test_custom_descriptor_copied) {
  wg_tape *t = wg_tape_new();
  wg_param *A = wg_param_new("A", 2, 2), *B = wg_param_new("B", 2, 2);
  unsigned long long s = 3;
  fill(wg_param_value(A).data, 4, &s, -1, 1);
  fill(wg_param_value(B).data, 4, &s, -1, 1);
  char name[16] = "mine";
  wg_custom_op op = sinmul_op;
  op.name = name;
  wg_var in[2] = {wg_use(t, A), wg_use(t, B)};
  wg_var y = wg_custom(t, &op, NULL, 2, in);
  memset(&op, 0, sizeof op); /* the caller's descriptor is gone */
  strcpy(name, "gone");
  wg_var L = wg_sum(t, y);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq_tol(wg_param_grad(B).data[3], sin(wg_param_value(A).data[3]), TU_TOL(1e-15));
  ck_assert_str_eq(wg_row_op_name(&t->rows[y.row]), "mine");
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, NULL), 0);
  wg_tape_free(t);
  wg_param_free(A);
  wg_param_free(B);
}
END_TEST

START_TEST(test_custom_shape_error_names_op) {
  wg_tape *t = wg_tape_new();
  wg_real a[6] = {0}, b[4] = {0};
  wg_var in[2] = {wg_input(t, 2, 3, a), wg_input(t, 2, 2, b)};
  wg_var y = wg_custom(t, &sinmul_op, NULL, 2, in);
  ck_assert_uint_eq(y.gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_msg(strstr(wg_tape_error(t), "sinmul") && strstr(wg_tape_error(t), "(2x3)") &&
                strstr(wg_tape_error(t), "(2x2)"), "%s", wg_tape_error(t));
  wg_tape_free(t);
}
END_TEST

START_TEST(test_custom_too_many_inputs) {
  wg_tape *t = wg_tape_new();
  wg_real a[2] = {1, 2};
  wg_var x = wg_input(t, 1, 2, a), in[5] = {x, x, x, x, x};
  wg_var y = wg_custom(t, &sinmul_op, NULL, 5, in);
  ck_assert_uint_eq(y.gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "sinmul") && strstr(wg_tape_error(t), "5 inputs") &&
                strstr(wg_tape_error(t), "4"), "%s", wg_tape_error(t));
  wg_tape_reset(t);
  x = wg_input(t, 1, 2, a);
  ck_assert_uint_eq(wg_custom(t, &sinmul_op, NULL, 0, &x).gen, 0); /* zero inputs */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  wg_tape_reset(t);
  x = wg_input(t, 1, 2, a);
  wg_custom_op no_vjp = sinmul_op;
  no_vjp.vjp = NULL;
  ck_assert_uint_eq(wg_custom(t, &no_vjp, NULL, 1, &x).gen, 0);
  ck_assert_msg(strstr(wg_tape_error(t), "vjp"), "%s", wg_tape_error(t));
  wg_tape_reset(t);
  ck_assert_uint_eq(wg_custom(t, NULL, NULL, 1, &x).gen, 0); /* NULL descriptor */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  wg_tape_free(t);
}
END_TEST

/* A shape callback that says (0x4): a shape error, not a zero-sized row. */
static int zero_shape(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)n, (void)in, (void)ctx;
  *rows = 0;
  *cols = 4;
  return 0;
}

START_TEST(test_custom_bad_shape_from_callback) {
  wg_tape *t = wg_tape_new();
  wg_real a[2] = {1, 2};
  wg_custom_op op = sinmul_op;
  op.name = "zeros";
  op.shape = zero_shape;
  wg_var x = wg_input(t, 1, 2, a);
  ck_assert_uint_eq(wg_custom(t, &op, NULL, 1, &x).gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_msg(strstr(wg_tape_error(t), "zeros") && strstr(wg_tape_error(t), "(0x4)"), "%s",
                wg_tape_error(t));
  wg_tape_free(t);
}
END_TEST

/* y = 3x with no jvp: backward works, forward mode fails naming the op. */
static void triple_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)ctx;
  for (int e = 0; e < out.rows * out.cols; e++) out.data[e] = 3 * in[0].data[e];
}
static void triple_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)in, (void)out, (void)ctx;
  for (int e = 0; e < dy.rows * dy.cols; e++) dx[0].data[e] += 3 * dy.data[e];
}

START_TEST(test_custom_without_jvp) {
  wg_tape *t = wg_tape_new();
  wg_param *P = wg_param_new("P", 2, 2);
  wg_custom_op op = {"triple", NULL, triple_forward, triple_vjp, NULL, NULL};
  wg_var x = wg_use(t, P);
  wg_var L = wg_sum(t, wg_custom(t, &op, NULL, 1, &x));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_param_grad(P).data[2], 3); /* d(sum 3x)/dx = 3 */
  ck_assert_int_eq(wg_check_rows(t, NULL, NULL), 0);       /* the checks need no JVP */
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, NULL), 0);
  ck_assert_int_eq(wg_jvp(t), WG_ERR_ARG);
  ck_assert_msg(strstr(wg_tape_error(t), "triple") && strstr(wg_tape_error(t), "jvp"), "%s",
                wg_tape_error(t));
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* ---- gradcheck -------------------------------------------------------------------------- */

static int count_lines(FILE *f) {
  rewind(f);
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  return n;
}

START_TEST(test_gradcheck_csv_one_line_per_element) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  wg_gradcheck_opts o = {.csv = f};
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, &o, NULL), 0);
  ck_assert_int_eq(count_lines(f), 1 + 6 + 10); /* header + W (3x2) + V (5x2) */
  rewind(f);
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "parameter,index,i,j,analytic,numeric,abs_err,rel_err,status\n");
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_msg(strncmp(line, "W,0,0,0,", 8) == 0 && strstr(line, ",ok\n"), "%s", line);
  fclose(f);
  f = tmpfile();
  o.csv = f;
  ck_assert_int_eq(wg_check_rows(n.t, &o, NULL), 0);
  ck_assert_int_eq(count_lines(f), 1 + 3); /* header + matmul, sinmul, mse */
  fclose(f);
  net_free(&n);
}
END_TEST

/* A parameter used twice is checked once; its gradient sums both uses. */
START_TEST(test_gradcheck_param_used_twice) {
  wg_tape *t = wg_tape_new();
  wg_param *P = wg_param_new("P", 2, 3);
  unsigned long long s = 9;
  fill(wg_param_value(P).data, 6, &s, -1, 1);
  wg_var L = wg_sum(t, wg_mul(t, wg_use(t, P), wg_tanh(t, wg_use(t, P)))); /* sum p tanh p */
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, &r), 0);
  ck_assert_int_eq(r.checked, 6);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* relu at exactly 0: the one-sided slopes of sum(relu(p)) are 1 and 0, the analytic one 0. */
START_TEST(test_gradcheck_kink_skipped_not_failed) {
  wg_tape *t = wg_tape_new();
  wg_param *P = wg_param_new("P", 1, 4);
  wg_real p[4] = {0.0, 0.7, -0.4, 1.3};
  memcpy(wg_param_value(P).data, p, sizeof p);
  wg_var L = wg_sum(t, wg_relu(t, wg_use(t, P)));
  wg_gradcheck_result r;
  FILE *f = tmpfile();
  wg_gradcheck_opts o = {.csv = f};
  ck_assert_int_eq(wg_gradcheck(t, L, &o, &r), 0);
  ck_assert_int_eq(r.skipped, 1);
  ck_assert_int_eq(r.checked, 3);
  ck_assert_int_eq(r.failed, 0);
  ck_assert_int_eq(count_lines(f), 1 + 4); /* skipped elements have their line too */
  rewind(f);
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_msg(strncmp(line, "P,0,", 4) == 0 && strstr(line, ",kink\n"), "%s", line);
  fclose(f);
  /* the per-row check sees the kink in relu's input too */
  ck_assert_int_eq(wg_check_rows(t, NULL, &r), 0);
  ck_assert_int_eq(r.skipped, 1);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* relu's forward with a wrong slope, 2 [x >= 0]: at x = 0 the analytic 2 lies outside the
 * one-sided slopes [0, 1], so the kink does not excuse it. */
static void relu_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)ctx;
  for (int e = 0; e < out.rows * out.cols; e++) out.data[e] = fmax(in[0].data[e], 0);
}
static void badrelu_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)out, (void)ctx;
  for (int e = 0; e < dy.rows * dy.cols; e++)
    dx[0].data[e] += in[0].data[e] >= 0 ? 2 * dy.data[e] : 0;
}

START_TEST(test_gradcheck_wrong_slope_at_kink_fails) {
  wg_tape *t = wg_tape_new();
  wg_param *P = wg_param_new("P", 1, 3);
  wg_real p[3] = {0.0, -0.5, 0.8};
  memcpy(wg_param_value(P).data, p, sizeof p);
  wg_custom_op op = {"badrelu", NULL, relu_forward, badrelu_vjp, NULL, NULL};
  wg_var x = wg_use(t, P);
  wg_var L = wg_sum(t, wg_custom(t, &op, NULL, 1, &x));
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, &r), 2); /* p = 0 and p = 0.8 fail */
  ck_assert_int_eq(r.skipped, 0);
  ck_assert_int_eq(r.checked, 3);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

/* The tape, the values and the gradients are as they were after gradcheck and check_rows. */
START_TEST(test_checks_leave_tape_as_it_was) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  wg_backward(n.t, n.loss);
  wg_backward(n.t, n.loss); /* gradients accumulated twice: gradcheck must not care */
  wg_real w[6], g[6], v[10], adj[10], x[15], loss = wg_value(n.t, n.loss).data[0];
  memcpy(w, wg_param_value(n.W).data, sizeof w);
  memcpy(g, wg_param_grad(n.W).data, sizeof g);
  memcpy(v, wg_param_grad(n.V).data, sizeof v);
  memcpy(adj, wg_grad(n.t, n.h).data, sizeof adj);
  memcpy(x, n.x, sizeof x);
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, NULL, NULL), 0);
  ck_assert_int_eq(wg_check_rows(n.t, NULL, NULL), 0);
  ck_assert_mem_eq(w, wg_param_value(n.W).data, sizeof w);
  ck_assert_mem_eq(g, wg_param_grad(n.W).data, sizeof g);
  ck_assert_mem_eq(v, wg_param_grad(n.V).data, sizeof v);
  ck_assert_mem_eq(adj, wg_grad(n.t, n.h).data, sizeof adj);
  ck_assert_mem_eq(x, n.x, sizeof x);
  ck_assert_double_eq(wg_value(n.t, n.loss).data[0], loss);
  /* the dot test leaves the gradients alone too */
  ck_assert_double_lt(wg_dot_test(n.t, n.loss, 5), TU_TOL(1e-12));
  ck_assert_mem_eq(g, wg_param_grad(n.W).data, sizeof g);
  net_free(&n);
}
END_TEST

/* check_rows never writes the caller's input buffers: the data is in read-only memory here,
 * so a write would crash the test. */
static const wg_real ro_x[6] = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5};

START_TEST(test_check_rows_const_input) {
  wg_tape *t = wg_tape_new();
  wg_param *W = wg_param_new("W", 3, 1);
  unsigned long long s = 11;
  fill(wg_param_value(W).data, 3, &s, -1, 1);
  wg_var X = wg_input(t, 2, 3, ro_x);
  wg_var L = wg_sum(t, wg_sigmoid(t, wg_matmul(t, X, wg_use(t, W))));
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_check_rows(t, NULL, &r), 0);
  ck_assert_int_eq(r.checked, 3);
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, NULL), 0);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(test_checks_on_failed_tape) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  wg_backward(n.t, n.loss);
  wg_real w[6], g[6];
  memcpy(w, wg_param_value(n.W).data, sizeof w);
  memcpy(g, wg_param_grad(n.W).data, sizeof g);
  wg_var bad = wg_matmul(n.t, n.h, n.h); /* (5x2) @ (5x2): the tape fails */
  ck_assert_uint_eq(bad.gen, 0);
  char msg[256];
  snprintf(msg, sizeof msg, "%s", wg_tape_error(n.t));
  wg_gradcheck_result r;
  r.failed = 99;
  ck_assert_int_eq(wg_gradcheck(n.t, n.loss, NULL, &r), -1);
  ck_assert_int_eq(r.worst_row, -1);
  ck_assert_int_eq(wg_check_rows(n.t, NULL, &r), -1);
  ck_assert_double_lt(wg_dot_test(n.t, n.loss, 1), 0);
  ck_assert_int_eq(wg_tape_status(n.t), WG_ERR_SHAPE);
  ck_assert_str_eq(wg_tape_error(n.t), msg); /* the first error still stands */
  ck_assert_mem_eq(w, wg_param_value(n.W).data, sizeof w);
  ck_assert_mem_eq(g, wg_param_grad(n.W).data, sizeof g);
  ck_assert_int_eq(wg_gradcheck(NULL, n.loss, NULL, NULL), -1); /* NULL tape */
  ck_assert_int_eq(wg_check_rows(NULL, NULL, NULL), -1);
  ck_assert_double_lt(wg_dot_test(NULL, n.loss, 1), 0);
  net_free(&n);
}
END_TEST

START_TEST(test_gradcheck_bad_arguments) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  ck_assert_int_eq(wg_gradcheck(n.t, n.h, NULL, NULL), -1); /* (5x2) is no loss */
  ck_assert_int_eq(wg_tape_status(n.t), WG_ERR_SHAPE);
  ck_assert_msg(strstr(wg_tape_error(n.t), "wg_gradcheck"), "%s", wg_tape_error(n.t));
  net_free(&n);
  wg_tape *t = wg_tape_new();
  wg_real a[2] = {1, 2};
  wg_var s = wg_sum(t, wg_input(t, 1, 2, a)); /* depends on no parameter */
  ck_assert_double_lt(wg_dot_test(t, s, 1), 0);
  ck_assert_msg(strstr(wg_tape_error(t), "no parameter"), "%s", wg_tape_error(t));
  wg_tape_free(t);
}
END_TEST

/* A tolerance too tight for finite differences makes gradcheck fail: the rule is applied. */
START_TEST(test_gradcheck_tolerance_is_used) {
  net n;
  net_build(&n, &sinmul_op, NULL);
  wg_gradcheck_opts tight = {.eps = 1e-2, .atol = 1e-300, .rtol = 1e-300};
  wg_gradcheck_result r;
  ck_assert_int_gt(wg_gradcheck(n.t, n.loss, &tight, &r), 0);
  /* h = 1e-2: truncation error h^2 |f'''| / 6 is around 1e-5, far above 1e-300 */
  ck_assert_double_gt(r.max_abs_err, 1e-9);
  ck_assert_double_lt(r.max_abs_err, TU_TOL(1e-3));
  net_free(&n);
}
END_TEST

/* ---- memory: every scratch buffer goes through the allocator hook, sized, and comes back -- */
/* tests/countalloc.h: c.calls counts the requests, c.live the bytes outstanding, c.fail_at
 * makes that request (1-based) fail, c.bad_size counts frees given the wrong size. */

START_TEST(test_checks_free_what_they_allocate) {
  ca_state c = {0};
  wg_set_allocator(ca_alloc, &c); /* before anything exists: the tape's memory comes from it too */
  net n;
  net_build(&n, &sinmul_op, NULL);
  wg_dot_test(n.t, n.loss, 3); /* tangents and adjoints exist: the checks allocate only scratch */
  long calls = c.calls;
  size_t live = c.live;
  int a = wg_gradcheck(n.t, n.loss, NULL, NULL), b = wg_check_rows(n.t, NULL, NULL);
  double d = wg_dot_test(n.t, n.loss, 3);
  ck_assert_int_eq(a, 0);
  ck_assert_int_eq(b, 0);
  ck_assert_double_lt(d, TU_TOL(1e-12));
  ck_assert_int_gt(c.calls, calls);  /* scratch came from the hook ... */
  ck_assert_uint_eq(c.live, live);   /* ... and went back to it, */
  ck_assert_int_eq(c.bad_size, 0);   /* with the sizes it was given */
  net_free(&n);
  wg_set_allocator(NULL, NULL);
  ck_assert_uint_eq(c.live, 0);
}
END_TEST

/* The Nth allocation of a check fails, N = 1, 2, ...: a clean NOMEM, parameters untouched,
 * nothing leaked (everything, tape included, is allocated and freed through the hook). */
START_TEST(test_checks_out_of_memory) {
  for (int which = 0; which < 3; which++) {
    int succeeded = 0, nomem = 0;
    for (long k = 1; k < 200 && !succeeded; k++) {
      ca_state c = {0};
      wg_set_allocator(ca_alloc, &c);
      net n;
      net_build(&n, &sinmul_op, NULL);
      wg_real w[6], g[6];
      memcpy(w, wg_param_value(n.W).data, sizeof w);
      memcpy(g, wg_param_grad(n.W).data, sizeof g);
      c.fail_at = c.calls + k;
      double r = which == 0 ? wg_gradcheck(n.t, n.loss, NULL, NULL)
               : which == 1 ? wg_check_rows(n.t, NULL, NULL)
                            : wg_dot_test(n.t, n.loss, 1);
      if (r < 0) {
        ck_assert_int_eq(wg_tape_status(n.t), WG_ERR_NOMEM);
        ck_assert_msg(strstr(wg_tape_error(n.t), "out of memory"), "%s", wg_tape_error(n.t));
        nomem++;
      } else {
        succeeded = 1;
      }
      ck_assert_mem_eq(w, wg_param_value(n.W).data, sizeof w);
      ck_assert_mem_eq(g, wg_param_grad(n.W).data, sizeof g);
      net_free(&n);
      wg_set_allocator(NULL, NULL);
      ck_assert_msg(c.live == 0, "check %d, allocation %ld failing: %zu bytes leaked", which, k,
                    c.live);
      ck_assert_int_eq(c.bad_size, 0);
    }
    ck_assert_msg(succeeded, "check %d never succeeded within 200 allocations", which);
    ck_assert_int_gt(nomem, 0); /* the failure path was taken at least once */
  }
}
END_TEST

/* ---- every op of the table: the dot-product test, gradcheck and check_rows agree ---------- */


START_TEST(test_op_table_three_oracles) {
  const char *name = wg_ops[_i].name;
  ck_assert_msg(op_cases[_i] != NULL, "op '%s' has no case in the op-table test: add one", name);
  op_env e = {.t = wg_tape_new(), .s = 1000 + (unsigned long long)_i};
  wg_var out = op_cases[_i](&e);
  ck_assert_msg(wg_tape_status(e.t) == WG_OK, "%s: %s", name, wg_tape_error(e.t));
  int present = 0;
  for (uint32_t i = 0; i < e.t->n_rows; i++) present |= e.t->rows[i].op == _i;
  ck_assert_msg(present, "the case for '%s' records no row of that op", name);
  /* forward against reverse mode, on the op's own (possibly non-scalar) output */
  double worst = 0;
  for (unsigned seed = 1; seed <= 3; seed++) {
    double d = wg_dot_test(e.t, out, seed);
    ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "%s: dot test %g (seed %u)", name, d, seed);
    if (d > worst) worst = d;
  }
  /* finite differences against reverse mode, on the scalar <r, out> with a fixed random r */
  wg_mat v = wg_value(e.t, out);
  fill(e.r, (size_t)v.rows * (size_t)v.cols, &e.s, -1, 1);
  wg_var L = wg_sum(e.t, wg_mul(e.t, out, wg_input(e.t, v.rows, v.cols, e.r)));
  wg_gradcheck_result g, r;
  ck_assert_int_eq(wg_gradcheck(e.t, L, NULL, &g), 0);
  ck_assert_int_gt(g.checked, 0);
  ck_assert_int_eq(g.skipped, 0);
  ck_assert_int_eq(wg_check_rows(e.t, NULL, &r), 0);
  ck_assert_int_gt(r.checked, 0);
  ck_assert_int_eq(r.skipped, 0);
  printf("op-table: %-10s dot test %.2e  gradcheck max abs err %.2e  check_rows max abs err "
         "%.2e\n", name, worst, g.max_abs_err, r.max_abs_err);
  wg_tape_free(e.t);
  for (int k = 0; k < 3; k++) wg_param_free(e.p[k]);
}
END_TEST

/* ---- a check of nothing is not a pass; inputs as variables (opts.inputs) ------------------- */

START_TEST(test_a_check_of_nothing_is_an_error) {
  for (int which = 0; which < 2; which++) {
    wg_real x[4] = {1, 2, 3, 4};
    wg_tape *t = wg_tape_new();
    wg_var L = wg_sum(t, wg_square(t, wg_input(t, 2, 2, x)));
    wg_name(t, L, "L");
    wg_gradcheck_result r;
    int failed = which == 0 ? wg_gradcheck(t, L, NULL, &r) : wg_check_rows(t, NULL, &r);
    ck_assert_int_eq(failed, -1);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
    ck_assert_str_eq(wg_tape_error(t), which == 0
        ? "wg_gradcheck: nothing to check: the tape of loss L (row 2) uses no parameter "
          "(opts.inputs = 1 also checks the wg_input rows)"
        : "wg_check_rows: nothing to check: no row needs a gradient (the tape uses no "
          "parameter; opts.inputs = 1 also checks the rows' VJPs into the wg_input rows)");
    ck_assert_int_eq(r.checked, 0);
    wg_tape_free(t);
  }
}
END_TEST

/* L = sum((X W)^2), X (2x2) an input, W (2x1): with opts.inputs the four elements of X are
 * checked too (dL/dX_ij = 2 (X W)_i W_j), through a copy: the caller's buffer is not written,
 * and afterwards X needs no gradient again and W's gradient is as it was. */
START_TEST(test_inputs_are_checked_on_request_through_a_copy) {
  wg_real x[4] = {1, 2, 3, 4}, x0[4];
  memcpy(x0, x, sizeof x);
  wg_param *W = wg_param_new("W", 2, 1);
  wg_param_value(W).data[0] = 0.5, wg_param_value(W).data[1] = -1;
  wg_param_grad(W).data[0] = 7; /* an earlier gradient, to be kept */
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 2, 2, x);
  wg_name(t, X, "X");
  wg_var L = wg_sum(t, wg_square(t, wg_matmul(t, X, wg_use(t, W))));
  char *buf = NULL;
  size_t len = 0;
  FILE *csv = open_memstream(&buf, &len);
  wg_gradcheck_opts o = {.csv = csv, .inputs = 1};
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_gradcheck(t, L, &o, &r), 0);
  fclose(csv);
  ck_assert_int_eq(r.checked, 6); /* 2 of W, 4 of X */
  ck_assert_double_lt(r.max_abs_err, TU_TOL(1e-6));
  /* X W = [0.5 - 2, 1.5 - 4] = [-1.5, -2.5]: the analytic column (AD) is
   * dL/dX = 2 (XW)_i W_j = [-1.5 3; -2.5 5], dL/dW_j = sum_i 2 (XW)_i X_ij = [-18; -26] */
  ck_assert_msg(strstr(buf, "\nX,0,0,0,-1.5,") && strstr(buf, "\nX,1,0,1,3,") &&
                strstr(buf, "\nX,2,1,0,-2.5,") && strstr(buf, "\nX,3,1,1,5,") &&
                strstr(buf, "\nW,0,0,0,-18,") && strstr(buf, "\nW,1,1,0,-26,"), "%s", buf);
  ck_assert_mem_eq(x, x0, sizeof x);
  ck_assert_ptr_eq(wg_value(t, X).data, x); /* the row reads the caller's buffer again */
  ck_assert_ptr_null(wg_grad(t, X).data);   /* and needs no gradient again */
  ck_assert_double_eq(wg_param_grad(W).data[0], 7);
  o.csv = NULL;
  ck_assert_int_eq(wg_check_rows(t, &o, &r), 0);
  ck_assert_int_eq(r.checked, 3); /* matmul (into X and W), square, sum */
  free(buf);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* A VJP wrong only for an input that is data (sinmul's da with a = X) goes unseen by the
 * parameter check, and is caught with opts.inputs, by both checks. */
START_TEST(test_inputs_option_catches_a_wrong_vjp_into_data) {
  unsigned long long seed = 9;
  wg_real a[6];
  fill(a, 6, &seed, -1, 1);
  wg_param *B = wg_param_new("B", 2, 3);
  fill(wg_param_value(B).data, 6, &seed, -1, 1);
  sinmul_ctx wrong = {1, 0};
  wg_tape *t = wg_tape_new();
  wg_var in[2] = {wg_input(t, 2, 3, a), wg_use(t, B)};
  wg_name(t, in[0], "A");
  wg_var L = wg_sum(t, wg_custom(t, &sinmul_op, &wrong, 2, in));
  wg_gradcheck_result r;
  ck_assert_int_eq(wg_gradcheck(t, L, NULL, &r), 0); /* only B: right */
  ck_assert_int_eq(r.checked, 6);
  wg_gradcheck_opts o = {.inputs = 1};
  ck_assert_int_eq(wg_gradcheck(t, L, &o, &r), 6); /* A's six elements: da has the wrong sign */
  ck_assert_msg(strncmp(r.worst, "A[", 2) == 0, "%s", r.worst);
  ck_assert_int_eq(wg_check_rows(t, &o, &r), 1);
  ck_assert_int_eq(r.worst_row, (int)L.row - 1);
  wg_tape_free(t);
  wg_param_free(B);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("gradcheck");
  TCase *tc = tcase_create("custom ops");
  tcase_add_test(tc, test_custom_right_passes_all_three);
  tcase_add_test(tc, test_custom_wrong_vjp_caught_and_localized);
  tcase_add_test(tc, test_custom_wrong_jvp_caught_by_dot_test);
  tcase_add_test(tc, test_custom_values_against_closed_form);
  tcase_add_test(tc, test_custom_descriptor_copied);
  tcase_add_test(tc, test_custom_shape_error_names_op);
  tcase_add_test(tc, test_custom_too_many_inputs);
  tcase_add_test(tc, test_custom_bad_shape_from_callback);
  tcase_add_test(tc, test_custom_without_jvp);
  suite_add_tcase(s, tc);
  tc = tcase_create("checks");
  tcase_add_test(tc, test_gradcheck_csv_one_line_per_element);
  tcase_add_test(tc, test_gradcheck_param_used_twice);
  tcase_add_test(tc, test_gradcheck_kink_skipped_not_failed);
  tcase_add_test(tc, test_gradcheck_wrong_slope_at_kink_fails);
  tcase_add_test(tc, test_checks_leave_tape_as_it_was);
  tcase_add_test(tc, test_check_rows_const_input);
  tcase_add_test(tc, test_checks_on_failed_tape);
  tcase_add_test(tc, test_gradcheck_bad_arguments);
  tcase_add_test(tc, test_gradcheck_tolerance_is_used);
  tcase_add_test(tc, test_checks_free_what_they_allocate);
  tcase_add_test(tc, test_a_check_of_nothing_is_an_error);
  tcase_add_test(tc, test_inputs_are_checked_on_request_through_a_copy);
  tcase_add_test(tc, test_inputs_option_catches_a_wrong_vjp_into_data);
  tcase_add_test(tc, test_checks_out_of_memory);
  suite_add_tcase(s, tc);
  tc = tcase_create("op table");
  tcase_add_loop_test(tc, test_op_table_three_oracles, 0, WG_OP_COUNT);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

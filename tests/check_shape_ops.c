/* check_shape_ops.c - family A (reshape, slice, concat_rows, concat_cols, gather_rows) beyond
 * the generic per-op checks of check_ops.c and check_gradcheck.c: hand-computed values and
 * gradients, every bad argument's message, NaN under WG_CHECK_FINITE, indices checked again
 * at replay, and rows with hundreds of inputs through the sweeps, checks and printers.
 * Every expected number below is worked by hand in the comment beside it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* X = [1 2 3; 4 5 6] (2x3) as a parameter */
static wg_param *p23(const char *name) {
  wg_param *P = wg_param_new(name, 2, 3);
  for (int i = 0; i < 6; i++) wg_param_value(P).data[i] = i + 1;
  return P;
}

/* reshape keeps row-major order: [1 2 3; 4 5 6] -> [1 2; 3 4; 5 6]. L = sum(reshape(X) *
 * [1 2; 3 4; 5 6]) = 1 + 4 + 9 + 16 + 25 + 36 = 91, dL/dX = the weights in X's shape. */
START_TEST(reshape_by_hand) {
  wg_param *X = p23("X");
  wg_real w[6] = {1, 2, 3, 4, 5, 6};
  wg_tape *t = wg_tape_new();
  wg_var y = wg_reshape(t, wg_use(t, X), 3, 2);
  wg_mat v = wg_value(t, y);
  ck_assert(v.rows == 3 && v.cols == 2);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(v.data[i], i + 1);
  wg_var L = wg_sum(t, wg_mul(t, y, wg_input(t, 3, 2, w)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_value(t, L).data[0], 91);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(X).data[i], w[i]);
  wg_tape_free(t);
  wg_param_free(X);
}
END_TEST

/* slice of [1 2 3; 4 5 6] at [0,1], 2x2: [2 3; 5 6]. L = sum(slice^2) = 4 + 9 + 25 + 36 = 74;
 * dL/dX = [0 4 6; 0 10 12] (2 x inside the block, 0 outside). */
START_TEST(slice_by_hand) {
  wg_param *X = p23("X");
  wg_tape *t = wg_tape_new();
  wg_var y = wg_slice(t, wg_use(t, X), 0, 1, 2, 2);
  const wg_real want[4] = {2, 3, 5, 6}, grad[6] = {0, 4, 6, 0, 10, 12};
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_value(t, y).data[i], want[i]);
  wg_var L = wg_sum(t, wg_square(t, y));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_value(t, L).data[0], 74);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(X).data[i], grad[i]);
  wg_tape_free(t);
  wg_param_free(X);
}
END_TEST

/* concat_rows(X, B, X), B = [7 8 9] -> 5x3 [1 2 3; 4 5 6; 7 8 9; 1 2 3; 4 5 6];
 * concat_cols(X, C), C = [7; 8] -> 2x4 [1 2 3 7; 4 5 6 8]. With L = sum(y * y) / 2 the
 * gradient of each input is the sum of its copies: dX = 2 X for concat_rows, dB = B. */
START_TEST(concat_by_hand) {
  wg_param *X = p23("X"), *B = wg_param_new("B", 1, 3), *C = wg_param_new("C", 2, 1);
  for (int i = 0; i < 3; i++) wg_param_value(B).data[i] = 7 + i;
  wg_param_value(C).data[0] = 7, wg_param_value(C).data[1] = 8;
  wg_tape *t = wg_tape_new();
  wg_var x = wg_use(t, X), b = wg_use(t, B), c = wg_use(t, C);
  wg_var rows[3] = {x, b, x}, cols[2] = {x, c};
  wg_var yr = wg_concat_rows(t, 3, rows), yc = wg_concat_cols(t, 2, cols);
  const wg_real want_r[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6};
  const wg_real want_c[8] = {1, 2, 3, 7, 4, 5, 6, 8};
  ck_assert(wg_value(t, yr).rows == 5 && wg_value(t, yr).cols == 3);
  ck_assert(wg_value(t, yc).rows == 2 && wg_value(t, yc).cols == 4);
  for (int i = 0; i < 15; i++) ck_assert_double_eq(wg_value(t, yr).data[i], want_r[i]);
  for (int i = 0; i < 8; i++) ck_assert_double_eq(wg_value(t, yc).data[i], want_c[i]);
  wg_var L = wg_scale(t, wg_sum(t, wg_square(t, yr)), 0.5);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(X).data[i], 2 * (i + 1));
  for (int i = 0; i < 3; i++) ck_assert_double_eq(wg_param_grad(B).data[i], 7 + i);
  wg_param_zero_grad(X);
  L = wg_scale(t, wg_sum(t, wg_square(t, yc)), 0.5); /* dX = X, dC = C */
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(X).data[i], i + 1);
  ck_assert(wg_param_grad(C).data[0] == 7 && wg_param_grad(C).data[1] == 8);
  /* JVP: tangents 1 on X, 0 on C -> concat_cols' tangent [1 1 1 0; 1 1 1 0] */
  wg_mat tx = wg_tangent(t, x);
  for (int i = 0; i < 6; i++) tx.data[i] = 1;
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  const wg_real tc[8] = {1, 1, 1, 0, 1, 1, 1, 0};
  for (int i = 0; i < 8; i++) ck_assert_double_eq(wg_tangent(t, yc).data[i], tc[i]);
  wg_tape_free(t);
  wg_param_free(X), wg_param_free(B), wg_param_free(C);
}
END_TEST

/* gather_rows(E, [2; 0; 2]) with E = [1 2; 3 4; 5 6]: [5 6; 1 2; 5 6]. With L = sum(y * W),
 * W = [1 1; 10 10; 100 100], the scatter-add gives dE = [10 10; 0 0; 101 101] (row 2 twice). */
START_TEST(gather_rows_by_hand) {
  wg_param *E = wg_param_new("E", 3, 2);
  for (int i = 0; i < 6; i++) wg_param_value(E).data[i] = i + 1;
  wg_real idx[3] = {2, 0, 2}, w[6] = {1, 1, 10, 10, 100, 100};
  wg_tape *t = wg_tape_new();
  wg_var e = wg_use(t, E), c = wg_input(t, 3, 1, idx);
  wg_var y = wg_gather_rows(t, e, c);
  const wg_real want[6] = {5, 6, 1, 2, 5, 6}, grad[6] = {10, 10, 0, 0, 101, 101};
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_value(t, y).data[i], want[i]);
  wg_var L = wg_sum(t, wg_mul(t, y, wg_input(t, 3, 2, w)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_param_grad(E).data[i], grad[i]);
  ck_assert_ptr_null(wg_grad(t, c).data); /* the indices get no adjoint */
  /* a replay with new indices reads them: [1; 1; 0] -> [3 4; 3 4; 1 2] */
  idx[0] = 1, idx[1] = 1, idx[2] = 0;
  ck_assert_int_eq(wg_forward(t), WG_OK);
  const wg_real again[6] = {3, 4, 3, 4, 1, 2};
  for (int i = 0; i < 6; i++) ck_assert_double_eq(wg_value(t, y).data[i], again[i]);
  wg_tape_free(t);
  wg_param_free(E);
}
END_TEST

/* ---- bad arguments: each a status and a message naming the op, the shapes and the row ---- */

static void expect_error(wg_tape *t, wg_status s, const char *msg) {
  ck_assert_msg(wg_tape_status(t) == s, "status %d, expected %d (%s)", wg_tape_status(t), s,
                wg_tape_error(t));
  ck_assert_str_eq(wg_tape_error(t), msg);
  wg_tape_reset(t);
}

START_TEST(bad_arguments_have_clear_messages) {
  wg_real x[12] = {0}, ix[3] = {0, 1, 2};
  wg_tape *t = wg_tape_new();
  wg_var X;
#define FRESH() (X = wg_input(t, 3, 4, x), wg_name(t, X, "X"))
  FRESH();
  wg_reshape(t, X, 5, 2);
  expect_error(t, WG_ERR_SHAPE, "reshape: X (3x4) to (5x2): the new shape must hold the same 12 "
                                "elements (row 1)");
  FRESH();
  wg_reshape(t, X, -12, -1);
  expect_error(t, WG_ERR_SHAPE, "reshape: X (3x4) to (-12x-1): the new shape must hold the same "
                                "12 elements (row 1)");
  FRESH();
  wg_slice(t, X, 2, 1, 2, 3);
  expect_error(t, WG_ERR_SHAPE, "slice: X (3x4): the (2x3) block at [2,1] is not inside it (it "
                                "spans rows 2..3, columns 1..3) (row 1)");
  FRESH();
  wg_slice(t, X, -1, 0, 1, 1);
  expect_error(t, WG_ERR_SHAPE, "slice: X (3x4): the (1x1) block at [-1,0] is not inside it (it "
                                "spans rows -1..-1, columns 0..0) (row 1)");
  FRESH();
  wg_slice(t, X, 0, 0, 0, 2);
  expect_error(t, WG_ERR_ARG, "slice: X (3x4): block dimensions (0x2) must be positive (row 1)");
  FRESH();
  wg_slice(t, X, 0, 2147483647, 1, 2147483647); /* no int overflow in the bounds */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  wg_tape_reset(t);
  FRESH();
  wg_var bad[3] = {X, wg_input(t, 3, 3, x), X};
  wg_concat_rows(t, 3, bad);
  expect_error(t, WG_ERR_SHAPE, "concat_rows: input 1 (3x3) and input 0 X (3x4): the columns "
                                "differ (all 3 inputs need the same number of columns) (row 2)");
  FRESH();
  bad[0] = X, bad[1] = wg_input(t, 2, 4, x);
  wg_concat_cols(t, 2, bad);
  expect_error(t, WG_ERR_SHAPE, "concat_cols: input 1 (2x4) and input 0 X (3x4): the rows "
                                "differ (all 2 inputs need the same number of rows) (row 2)");
  FRESH();
  wg_concat_rows(t, 0, bad);
  expect_error(t, WG_ERR_ARG, "concat_rows: no inputs (n = 0): it needs n >= 1 inputs (row 1)");
  FRESH();
  wg_concat_cols(t, 2, NULL);
  expect_error(t, WG_ERR_ARG, "concat_cols: the input list is NULL (n = 2): it needs n >= 1 "
                              "inputs (row 1)");
  FRESH();
  bad[0] = X, bad[1] = (wg_var){0, 0};
  wg_concat_cols(t, 2, bad);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "concat_cols"));
  wg_tape_reset(t);
  FRESH();
  wg_gather_rows(t, X, wg_input(t, 3, 4, x));
  expect_error(t, WG_ERR_SHAPE, "gather_rows: table X (3x4), indices (3x4): the indices must be "
                                "one column (m x 1), one row index per output row (row 2)");
  wg_param *P = wg_param_new("P", 3, 1);
  FRESH();
  wg_gather_rows(t, X, wg_use(t, P));
  expect_error(t, WG_ERR_ARG, "gather_rows: indices P (3x1) (row 1) need a gradient: they must "
                              "be row numbers from an input, not a function of a parameter (row 2)");
  wg_param_free(P);
  /* each kind of bad index, at record: position and row named */
  const wg_real bads[4] = {-1, 1.5, 3, NAN};
  const char *shown[4] = {"-1", "1.5", "3", "nan"};
  for (int k = 0; k < 4; k++) {
    FRESH();
    ix[1] = bads[k];
    wg_gather_rows(t, X, wg_input(t, 3, 1, ix));
    char msg[200];
    snprintf(msg, sizeof msg, "gather_rows: index %s at position 1 of the indices is not a row "
             "of table X (3x4) (an integer 0..2) (row 2)", shown[k]);
    expect_error(t, WG_ERR_ARG, msg);
    ix[1] = 1;
  }
#undef FRESH
  wg_tape_free(t);
}
END_TEST

/* wg_forward replays with the caller's new indices: a bad one fails the tape naming the row
 * and the position, and the status sticks until reset. */
START_TEST(gather_rows_checks_indices_at_replay) {
  wg_real e[6] = {1, 2, 3, 4, 5, 6}, ix[2] = {0, 2};
  wg_tape *t = wg_tape_new();
  wg_var E = wg_input(t, 3, 2, e);
  wg_name(t, E, "E");
  wg_var y = wg_gather_rows(t, E, wg_input(t, 2, 1, ix));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ix[1] = 7;
  ck_assert_int_eq(wg_forward(t), WG_ERR_ARG);
  ck_assert_str_eq(wg_tape_error(t), "gather_rows: index 7 at position 1 of the indices is not a "
                                     "row of table E (3x2) (an integer 0..2) (row 2)");
  (void)y;
  wg_tape_free(t);
}
END_TEST

/* With WG_CHECK_FINITE a NaN in the data is named as it passes through each op. */
START_TEST(nan_is_caught_under_check_finite) {
  wg_real x[6] = {1, 2, 3, 4, NAN, 6}, ix[2] = {1, 0};
  for (int op = 0; op < 5; op++) {
    wg_tape *t = wg_tape_new();
    wg_tape_set_checks(t, WG_CHECK_FINITE);
    wg_param *W = wg_param_new("W", 2, 3);
    wg_var w = wg_use(t, W); /* a clean row first, then the NaN input */
    wg_var X = wg_input(t, 2, 3, x);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE); /* the leaf itself */
    ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "the leaf's data is not finite"));
    wg_tape_reset(t);
    wg_tape_set_checks(t, 0); /* record the NaN leaf, then catch it in the op's output */
    w = wg_use(t, W);
    X = wg_input(t, 2, 3, x);
    wg_name(t, X, "X");
    wg_tape_set_checks(t, WG_CHECK_FINITE);
    wg_var in[2] = {w, X};
    switch (op) {
    case 0: wg_reshape(t, X, 3, 2); break;
    case 1: wg_slice(t, X, 1, 1, 1, 2); break;
    case 2: wg_concat_rows(t, 2, in); break;
    case 3: wg_concat_cols(t, 2, in); break;
    default: wg_gather_rows(t, X, wg_input(t, 2, 1, ix)); break;
    }
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
    static const char *const start[5] = {"reshape: row 2 (v2) produced nan at [2,0]",
                                         "slice: row 2 (v2) produced nan at [0,0]",
                                         "concat_rows: row 2 (v2) produced nan at [3,1]",
                                         "concat_cols: row 2 (v2) produced nan at [1,4]",
                                         "gather_rows: row 3 (v3) produced nan at [0,1]"};
    ck_assert_msg(strncmp(wg_tape_error(t), start[op], strlen(start[op])) == 0, "%s",
                  wg_tape_error(t));
    ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "X"));
    wg_tape_free(t);
    wg_param_free(W);
  }
}
END_TEST

/* A row with 300 inputs (an unrolled sequence): values, gradients, the dot test, the per-row
 * check, the trace (one term per input) and the printers all see every input. */
START_TEST(three_hundred_inputs) {
  enum { N = 300 };
  wg_param *P = wg_param_new("P", 1, 2);
  wg_param_value(P).data[0] = 0.5, wg_param_value(P).data[1] = -1;
  wg_tape *t = wg_tape_new();
  wg_var p = wg_use(t, P), xs[N];
  for (int k = 0; k < N; k++) xs[k] = wg_scale(t, p, k + 1); /* row k = (k + 1) P */
  wg_var y = wg_concat_rows(t, N, xs);
  ck_assert(wg_value(t, y).rows == N && wg_value(t, y).cols == 2);
  ck_assert_double_eq(wg_value(t, y).data[2 * 299], 150);
  /* L = sum(y): dP_j = sum_k (k + 1) = 300 * 301 / 2 = 45150 */
  wg_var L = wg_sum(t, y);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_param_grad(P).data[0], 45150);
  ck_assert_double_eq(wg_param_grad(P).data[1], 45150);
  ck_assert(wg_dot_test(t, y, 1) < TU_TOL(1e-12));
  wg_gradcheck_result r;
  /* float: the rows reach |y| = 300 |P|, where the default h = cbrt(eps_mach) is within a few
   * thousand ulps of y; docs/gradcheck.md's rule 2 scales h with the values (150 here); the
   * rows are linear, so a large h adds no truncation. float64: the defaults (eps 0). */
  wg_gradcheck_opts o = {.eps = TU_F32 ? cbrt((double)FLT_EPSILON) * 150 : 0};
  ck_assert_int_eq(wg_check_rows(t, &o, &r), 0);
  ck_assert_int_eq(r.checked, N + 2);
  /* the trace of the concat step has a line per input */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  wg_tape_trace(t, f);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  wg_tape_trace(t, NULL);
  fclose(f);
  int lines = 0;
  for (char *s = buf; (s = strstr(s, "+= J^T adj(v301)")); s++) lines++;
  ck_assert_int_eq(lines, N);
  free(buf);
  f = open_memstream(&buf, &len);
  wg_tape_dot(t, f);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "v300 -> v301"));
  ck_assert_ptr_nonnull(strstr(buf, "v1 -> v301"));
  free(buf);
  f = open_memstream(&buf, &len);
  wg_tape_print(t, f);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "concat_rows"));
  free(buf);
  f = open_memstream(&buf, &len);
  wg_tape_html(t, f);
  fclose(f);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  free(buf);
  wg_tape_free(t);
  wg_param_free(P);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void) {
  Suite *s = suite_create("shape_ops");
  TCase *c = tcase_create("family_a");
  tcase_set_timeout(c, 60);
  tcase_add_test(c, reshape_by_hand);
  tcase_add_test(c, slice_by_hand);
  tcase_add_test(c, concat_by_hand);
  tcase_add_test(c, gather_rows_by_hand);
  tcase_add_test(c, bad_arguments_have_clear_messages);
  tcase_add_test(c, gather_rows_checks_indices_at_replay);
  tcase_add_test(c, nan_is_caught_under_check_finite);
  tcase_add_test(c, three_hundred_inputs);
  suite_add_tcase(s, c);
  return s;
}

WG_TEST_MAIN()

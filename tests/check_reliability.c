/* check_reliability.c - non-finite detection (wg_tape_set_checks(t, WG_CHECK_FINITE)), and
 * the error paths: every misuse ends in a status and a message.
 *
 * The expected rows, indices and values in the messages follow from the data each test
 * writes: log(0) = -inf, exp(800) > DBL_MAX, 1/0 = inf, 1e308 + 1e308 = inf, and
 * d log(x)/dx = 1/x = 1e310 > DBL_MAX for x = 1e-310 (a subnormal). */
#include <float.h>
#include <limits.h>
#include <string.h>

#include "testutil.h"

#define ck_assert_has(hay, needle) \
  ck_assert_msg(strstr((hay), (needle)) != NULL, "message \"%s\" lacks \"%s\"", (hay), (needle))

static wg_tape *checked_tape(void) {
  wg_tape *t = wg_tape_new();
  ck_assert_ptr_nonnull(t);
  wg_tape_set_checks(t, WG_CHECK_FINITE);
  return t;
}

START_TEST(test_off_by_default) {
  wg_tape *t = wg_tape_new();
  ck_assert_uint_eq(wg_tape_checks(t), 0);
  const wg_real x[2] = {1, 0};
  wg_var y = wg_log(t, wg_input(t, 1, 2, x));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert(isinf(wg_value(t, y).data[1]) && wg_value(t, y).data[1] < 0); /* log(0) = -inf */
  wg_tape_free(t);
}
END_TEST

START_TEST(test_log_zero_blames_log_row) {
  wg_tape *t = checked_tape();
  const wg_real x[6] = {1, 2, 3, 0, 5, 6}; /* (3x2): the 0 sits at [1,1] */
  wg_var X = wg_input(t, 3, 2, x);
  wg_var s = wg_sigmoid(t, X);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_var y = wg_log(t, X);
  ck_assert_uint_eq(y.gen, 0); /* the failing op returns the none handle */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_str_eq(wg_tape_error(t), "log: row 2 (v2) produced -inf at [1,1] from input v0 = 0");
  (void)s;
  wg_tape_free(t);
}
END_TEST

START_TEST(test_nan_param_blames_leaf) {
  wg_tape *t = checked_tape();
  wg_param *W = wg_param_new("W", 2, 2);
  wg_param_value(W).data[3] = NAN; /* [1,1] */
  const wg_real x[2] = {1, 1};
  wg_var X = wg_input(t, 1, 2, x);
  wg_var w = wg_use(t, W);
  ck_assert_uint_eq(w.gen, 0);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_has(wg_tape_error(t), "param: row 1 (W) holds ");
  ck_assert_has(wg_tape_error(t), "nan at [1,1]: the leaf's data is not finite");
  (void)X;
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* An update that makes a parameter NaN is caught at replay, on the parameter's leaf, before
 * any op consumes it. */
START_TEST(test_replay_blames_leaf) {
  wg_tape *t = checked_tape();
  wg_param *W = wg_param_new("W", 2, 1);
  wg_real x[2] = {1, 2};
  wg_var X = wg_input(t, 1, 2, x); /* row 0 (separate statements: argument order is unspecified) */
  wg_var w = wg_use(t, W);         /* row 1 */
  wg_var L = wg_sum(t, wg_matmul(t, X, w));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  wg_param_value(W).data[1] = INFINITY;
  ck_assert_int_eq(wg_forward(t), WG_ERR_NONFINITE);
  ck_assert_str_eq(wg_tape_error(t), "wg_forward: param: row 1 (W) holds inf at [1,0]: the "
                                     "leaf's data is not finite");
  /* the same for the caller's input buffer */
  wg_tape_reset(t);
  ck_assert_uint_eq(wg_tape_checks(t), WG_CHECK_FINITE); /* reset keeps the setting */
  wg_param_value(W).data[1] = 0;
  X = wg_input(t, 1, 2, x);
  w = wg_use(t, W);
  L = wg_sum(t, wg_matmul(t, X, w));
  x[0] = -INFINITY;
  ck_assert_int_eq(wg_forward(t), WG_ERR_NONFINITE);
  ck_assert_str_eq(wg_tape_error(t), "wg_forward: input: row 0 (v0) holds -inf at [0,0]: the "
                                     "leaf's data is not finite");
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(test_overflow_binary_and_reduction) {
  wg_tape *t = checked_tape();
  wg_var y = wg_exp(t, wg_scalar(t, 800));
  ck_assert_uint_eq(y.gen, 0);
  ck_assert_str_eq(wg_tape_error(t), "exp: row 1 (v1) produced inf at [0,0] from input v0 = 800");

  wg_tape_reset(t);
  const wg_real a[2] = {1, 2}, b[2] = {4, 0};
  wg_var A = wg_input(t, 1, 2, a), B = wg_input(t, 1, 2, b);
  wg_name(t, B, "den");
  wg_div(t, A, B);
  ck_assert_str_eq(wg_tape_error(t),
                   "div: row 2 (v2) produced inf at [0,1] from inputs v0 = 2, den = 0");

  wg_tape_reset(t); /* a broadcast input is read at its broadcast element */
  const wg_real c[1] = {0};
  A = wg_input(t, 1, 2, a);
  B = wg_input(t, 1, 1, c);
  wg_div(t, A, B);
  ck_assert_str_eq(wg_tape_error(t),
                   "div: row 2 (v2) produced inf at [0,0] from inputs v0 = 1, v1 = 0");

  wg_tape_reset(t); /* a reduction's input does not broadcast: summarised */
  const wg_real big[2] = {TU_F32 ? 2e38 : 1e308, TU_F32 ? 2e38 : 1e308}; /* sum > the max */
  wg_sum(t, wg_input(t, 1, 2, big));
  ck_assert_str_eq(wg_tape_error(t), TU_F32
                   ? "sum: row 1 (v1) produced inf at [0,0] from input v0 (1x2, max |x| = 2e+38)"
                   : "sum: row 1 (v1) produced inf at [0,0] from input v0 (1x2, max |x| = 1e+308)");
  wg_tape_free(t);
}
END_TEST

/* y = log(x) with x = 1e-310 is finite (-713.8), but dL/dx = 1/x overflows: the log row's VJP
 * is blamed, naming the input whose adjoint became inf. */
START_TEST(test_backward_blames_vjp) {
  wg_tape *t = checked_tape();
  wg_param *X = wg_param_new("x", 1, 2);
  wg_param_value(X).data[0] = 1;
  wg_param_value(X).data[1] = TU_SUB; /* 1e-310, or 1e-40 in float: 1/x overflows either */
  wg_var y = wg_log(t, wg_use(t, X));
  wg_var L = wg_sum(t, y);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_int_eq(wg_backward(t, L), WG_ERR_NONFINITE);
  char want[200];
  snprintf(want, sizeof want, "wg_backward: the VJP of log row 1 (v1) produced inf in the "
           "adjoint of input x at [0,1] (x = %g there, dy = 1 there)", (double)(wg_real)TU_SUB);
  ck_assert_has(wg_tape_error(t), want);
  /* unchecked, the same backward runs through and leaves inf in the gradient */
  wg_tape_set_checks(t, 0);
  wg_tape_reset(t);
  L = wg_sum(t, wg_log(t, wg_use(t, X)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert(isinf(wg_param_grad(X).data[1]));
  wg_tape_free(t);
  wg_param_free(X);
}
END_TEST

/* matmul's VJP dW = x^T dy with x = [1e300], dy = 1e10 (from the scale) overflows: 1e310.
 * dy is summarised when the input's shape differs from the row's. */
START_TEST(test_backward_summarises_dy) {
  wg_tape *t = checked_tape();
  wg_param *W = wg_param_new("W", 1, 2);
  const wg_real x[1] = {TU_F32 ? 1e30 : 1e300}; /* times 1e10: beyond either's range */
  wg_var X = wg_input(t, 1, 1, x), w = wg_use(t, W); /* rows 0, 1 (initialisers are sequenced) */
  wg_var L = wg_sum(t, wg_scale(t, wg_matmul(t, X, w), 1e10));
  ck_assert_int_eq(wg_backward(t, L), WG_ERR_NONFINITE);
  ck_assert_has(wg_tape_error(t), "the VJP of matmul row 2 (v2) produced inf in the adjoint of "
                                  "input W at [0,0] (W = 0 there, dy = 1e+10 there)");
  wg_tape_reset(t);
  wg_param *V = wg_param_new("V", 2, 1);
  wg_param_value(W).data[0] = wg_param_value(W).data[1] = TU_F32 ? 2e38 : 1e308;
  /* (2x1)(1x2) with V = 0: Y = 0, but dV = dY W^T = 1e308 + 1e308 = inf per row */
  L = wg_sum(t, wg_matmul(t, wg_use(t, V), wg_use(t, W)));
  ck_assert_int_eq(wg_backward(t, L), WG_ERR_NONFINITE);
  ck_assert_has(wg_tape_error(t), "adjoint of input V at [0,0] (V = 0 there, max |dy| = 1)");
  wg_tape_free(t);
  wg_param_free(W);
  wg_param_free(V);
}
END_TEST

START_TEST(test_jvp_checks) {
  wg_tape *t = checked_tape();
  wg_param *X = wg_param_new("x", 1, 1);
  wg_param_value(X).data[0] = TU_SUB; /* 1e-310, or 1e-40 in float */
  wg_var x = wg_use(t, X);
  wg_log(t, x);
  wg_tangent(t, x).data[0] = 1; /* ty = tx / x = 1e310: inf */
  ck_assert_int_eq(wg_jvp(t), WG_ERR_NONFINITE);
  ck_assert_str_eq(wg_tape_error(t), "wg_jvp: log row 1 (v1) produced inf in its tangent at [0,0]");
  wg_tape_reset(t);
  x = wg_use(t, X);
  wg_tangent(t, x).data[0] = NAN;
  ck_assert_int_eq(wg_jvp(t), WG_ERR_NONFINITE);
  ck_assert_has(wg_tape_error(t), "wg_jvp: param row 0 (x) holds ");
  wg_tape_free(t);
  wg_param_free(X);
}
END_TEST

/* After a non-finite failure the tape is reset and reused; a NULL tape is safe. */
START_TEST(test_recover_and_null) {
  wg_tape *t = checked_tape();
  wg_log(t, wg_scalar(t, -1)); /* log(-1) = NaN */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NONFINITE);
  ck_assert_has(wg_tape_error(t), "log: row 1 (v1) produced ");
  wg_tape_reset(t);
  wg_var y = wg_log(t, wg_scalar(t, 1));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_double_eq(wg_value(t, y).data[0], 0);
  wg_tape_free(t);
  wg_tape_set_checks(NULL, WG_CHECK_FINITE);
  ck_assert_uint_eq(wg_tape_checks(NULL), 0);
  ck_assert_int_eq(wg_jvp(NULL), WG_ERR_NOMEM);
}
END_TEST

/* ---- errors: every misuse ends in a status and a message naming what and where ------------ */

START_TEST(test_status_strings) {
  /* the names promised by the comments on wg_status in wengert.h */
  ck_assert_str_eq(wg_status_string(WG_OK), "ok");
  ck_assert_str_eq(wg_status_string(WG_ERR_SHAPE), "shape mismatch");
  ck_assert_str_eq(wg_status_string(WG_ERR_HANDLE), "invalid handle");
  ck_assert_str_eq(wg_status_string(WG_ERR_ARG), "invalid argument");
  ck_assert_str_eq(wg_status_string(WG_ERR_NOMEM), "out of memory");
  ck_assert_str_eq(wg_status_string(WG_ERR_STATE), "invalid state");
  ck_assert_str_eq(wg_status_string(WG_ERR_NONFINITE), "non-finite value");
  ck_assert_str_eq(wg_status_string(WG_ERR_IO), "input/output error");
  ck_assert_str_eq(wg_status_string(WG_ERR_FORMAT), "malformed data");
  ck_assert_str_eq(wg_status_string(WG_STATUS_COUNT), "unknown status");
  ck_assert_str_eq(wg_status_string((wg_status)-1), "unknown status");
}
END_TEST

START_TEST(test_null_tape_is_safe) {
  wg_tape *t = NULL;
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "NULL"));
  ck_assert_int_eq(wg_tape_rows(t), 0);
  ck_assert_uint_eq(wg_tape_bytes(t), 0);
  wg_var x = wg_scalar(t, 1);
  ck_assert_uint_eq(x.gen, 0);
  ck_assert_uint_eq(wg_input(t, 1, 1, (const wg_real[]){1}).gen, 0);
  ck_assert_uint_eq(wg_use(t, NULL).gen, 0);
  ck_assert_ptr_null(wg_value(t, x).data);
  ck_assert_int_eq(wg_forward(t), WG_ERR_NOMEM);
  ck_assert_int_eq(wg_backward(t, x), WG_ERR_NOMEM);
  wg_name(t, x, "x");
  wg_tape_reset(t);
  wg_tape_free(t);
}
END_TEST

START_TEST(test_handle_errors) {
  wg_tape *t = wg_tape_new(), *u = wg_tape_new();
  wg_var none = {0, 0};
  wg_exp(t, none);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_str_eq(wg_tape_error(t), "exp: input is the none handle (an earlier call failed?)");

  wg_tape_reset(t); /* a handle from before the reset is stale */
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_str_eq(wg_tape_error(t), "");
  wg_var a = wg_scalar(t, 1);
  wg_tape_reset(t);
  wg_scalar(t, 2);
  wg_neg(t, a);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_has(wg_tape_error(t), "neg: stale or foreign handle (row 0");

  wg_tape_reset(t); /* a handle of another tape is foreign, even with a valid row index */
  wg_scalar(t, 2);
  wg_var b = wg_scalar(u, 3);
  wg_mul(t, wg_scalar(t, 1), b);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ck_assert_has(wg_tape_error(t), "mul: stale or foreign handle");
  ck_assert_ptr_null(wg_grad(t, b).data); /* views of a failed tape are empty */
  ck_assert_int_eq(wg_tape_status(u), WG_OK);
  wg_tape_free(t);
  wg_tape_free(u);
}
END_TEST

START_TEST(test_shape_and_argument_errors) {
  wg_tape *t = wg_tape_new();
  const wg_real d[12] = {0};
  wg_var a = wg_input(t, 4, 3, d), b = wg_input(t, 2, 1, d);
  wg_matmul(t, a, b);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_str_eq(wg_tape_error(t), "matmul: (4x3) @ (2x1): inner dimensions differ (row 2)");
  wg_add(t, a, a); /* sticky: the first error stays */
  ck_assert_str_eq(wg_tape_error(t), "matmul: (4x3) @ (2x1): inner dimensions differ (row 2)");

  wg_tape_reset(t);
  a = wg_input(t, 4, 3, d);
  b = wg_input(t, 2, 3, d);
  wg_sub(t, a, b);
  ck_assert_str_eq(wg_tape_error(t), "sub: (4x3) - (2x3): shapes do not broadcast (each axis "
                                     "must be equal or 1) (row 2)");
  wg_tape_reset(t);
  a = wg_input(t, 4, 3, d);
  b = wg_input(t, 3, 4, d);
  wg_mse(t, a, b);
  ck_assert_str_eq(wg_tape_error(t), "mse: (4x3) vs (3x4): shapes differ (row 2)");

  wg_tape_reset(t);
  wg_input(t, 0, 3, d);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_str_eq(wg_tape_error(t), "input: dimensions (0x3) must be positive (row 0)");
  wg_tape_reset(t);
  wg_input(t, 2, 3, NULL);
  ck_assert_str_eq(wg_tape_error(t), "input: data is NULL for a (2x3) input (row 0)");
  wg_tape_reset(t);
  wg_use(t, NULL);
  ck_assert_str_eq(wg_tape_error(t), "param: wg_use of a NULL parameter (row 0)");

  wg_tape_reset(t); /* backward needs a 1x1 loss */
  wg_param *W = wg_param_new("W", 2, 2);
  wg_var y = wg_exp(t, wg_use(t, W));
  wg_name(t, y, "act");
  ck_assert_int_eq(wg_backward(t, y), WG_ERR_SHAPE);
  ck_assert_str_eq(wg_tape_error(t), "wg_backward: loss act is (2x2), not (1x1): reduce it first "
                                     "(wg_sum, wg_mean) (row 1)");
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* A loss that no parameter leads to: backward is a no-op and reports no gradient. */
START_TEST(test_backward_without_params) {
  wg_tape *t = wg_tape_new();
  const wg_real d[2] = {1, 2};
  wg_var x = wg_input(t, 1, 2, d);
  wg_var L = wg_sum(t, x);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_ptr_null(wg_grad(t, L).data);
  ck_assert_int_eq(wg_grad(t, L).rows, 1);
  ck_assert_double_eq(wg_value(t, L).data[0], 3);
  wg_tape_free(t);
}
END_TEST

/* Shapes whose byte count overflows size_t are refused, not wrapped (tests/check_sizes.c has
 * more). The inputs reference a one-element buffer that is never read. */
START_TEST(test_huge_shapes) {
  wg_tape *t = wg_tape_new();
  const wg_real one = 1;
  wg_input(t, INT_MAX, INT_MAX, &one); /* ~2^62 reals = 2^65 bytes: more than size_t counts */
  if (TU_F32 && sizeof(size_t) == 8) { /* 2^62 floats, 2^64 - 2^34 bytes: counted */
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
  } else {
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
    ck_assert_has(wg_tape_error(t), "elements of " TU_REAL_BYTES " bytes are more than a");
  }
  wg_tape_reset(t);
  wg_transpose(t, wg_input(t, 1 << 28, 1 << 30, &one)); /* 2^61 bytes */
  if (sizeof(size_t) == 8) { /* counted, then refused by the heap */
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
    ck_assert_has(wg_tape_error(t), "out of memory: arena request of");
  } else { /* the input's own shape is more than a 32-bit size_t counts */
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  }
  wg_tape_free(t);
  ck_assert_ptr_null(wg_param_new("big", 1 << 30, 1 << 30));
  ck_assert_ptr_null(wg_param_new("bad", 0, 1));
  ck_assert_ptr_null(wg_param_new("bad", 1, -1));
}
END_TEST

START_TEST(test_names_and_params) {
  wg_tape *t = wg_tape_new();
  wg_param *p = wg_param_new("", 1, 2), *q = wg_param_new("weights", 1, 2);
  ck_assert_str_eq(wg_param_name(p), "");
  ck_assert_str_eq(wg_param_name(q), "weights");
  ck_assert_str_eq(wg_param_name(NULL), "");
  ck_assert_ptr_null(wg_param_value(NULL).data);
  ck_assert_ptr_null(wg_param_grad(NULL).data);
  wg_param_zero_grad(NULL);
  wg_param_free(NULL);
  wg_var a = wg_use(t, p);
  char long_name[100];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  wg_name(t, a, long_name); /* kept to 63 characters */
  wg_backward(t, a);        /* (1x2): names the row in the message */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_has(wg_tape_error(t), "loss nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                                  "n is (1x2)");
  ck_assert_ptr_null(strstr(wg_tape_error(t), "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                                              "nnnnnnnnnnnnnnnnn"));
  wg_tape_reset(t);
  a = wg_use(t, q);
  wg_name(t, a, NULL); /* drops the name: back to "v0" */
  wg_backward(t, a);
  ck_assert_has(wg_tape_error(t), "loss v0 is (1x2)");
  ck_assert_int_eq(wg_tape_rows(t), 1);
  ck_assert_uint_eq(wg_tape_bytes(t), 0); /* a parameter leaf takes no arena memory */
  wg_tape_free(t);
  wg_param_free(p);
  wg_param_free(q);
}
END_TEST

/* wg_name (and a parameter's name) shows in every shape message that shows an input. */
static int never_fits(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)n, (void)in, (void)rows, (void)cols, (void)ctx;
  return 1;
}
static void copy_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n, (void)in, (void)out, (void)ctx;
}
static void no_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)in, (void)out, (void)dy, (void)dx, (void)ctx;
}

START_TEST(shape_messages_name_the_inputs) {
  static const wg_real x[6] = {0};
  wg_param *W = wg_param_new("W", 3, 2);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, 2, 2, x);
  wg_name(t, X, "X");
  wg_matmul(t, X, wg_use(t, W));
  ck_assert_str_eq(wg_tape_error(t), "matmul: X (2x2) @ W (3x2): inner dimensions differ (row 2)");
  wg_tape_reset(t);
  X = wg_input(t, 2, 2, x);
  wg_name(t, X, "X");
  wg_add(t, X, wg_use(t, W));
  ck_assert_str_eq(wg_tape_error(t), "add: X (2x2) + W (3x2): shapes do not broadcast (each axis "
                                     "must be equal or 1) (row 2)");
  wg_tape_reset(t);
  X = wg_input(t, 2, 2, x);
  wg_name(t, X, "X");
  wg_mse(t, wg_input(t, 2, 3, x), X); /* an unnamed input: its shape alone */
  ck_assert_str_eq(wg_tape_error(t), "mse: (2x3) vs X (2x2): shapes differ (row 2)");
  wg_tape_reset(t);
  wg_var Z = wg_input(t, 2, 3, x), C = wg_input(t, 3, 1, x);
  wg_name(t, Z, "Z"), wg_name(t, C, "classes");
  wg_softmax_ce(t, Z, C);
  ck_assert_str_eq(wg_tape_error(t), "softmax_ce: logits Z (2x3), labels classes (3x1): labels "
                                     "must be (2x1), one class index per row (row 2)");
  wg_tape_reset(t);
  wg_custom_op op = {"pair", never_fits, copy_forward, no_vjp, NULL, NULL};
  wg_var in[2] = {wg_input(t, 2, 3, x), wg_use(t, W)};
  wg_custom(t, &op, NULL, 2, in);
  ck_assert_str_eq(wg_tape_error(t), "custom op 'pair': inputs (2x3), W (3x2): rejected by the "
                                     "op's shape rule (row 2)");
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("reliability");
  TCase *tc = tcase_create("finite checks");
  tcase_add_test(tc, shape_messages_name_the_inputs);
  tcase_add_test(tc, test_off_by_default);
  tcase_add_test(tc, test_log_zero_blames_log_row);
  tcase_add_test(tc, test_nan_param_blames_leaf);
  tcase_add_test(tc, test_replay_blames_leaf);
  tcase_add_test(tc, test_overflow_binary_and_reduction);
  tcase_add_test(tc, test_backward_blames_vjp);
  tcase_add_test(tc, test_backward_summarises_dy);
  tcase_add_test(tc, test_jvp_checks);
  tcase_add_test(tc, test_recover_and_null);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("errors");
  tcase_add_test(te, test_status_strings);
  tcase_add_test(te, test_null_tape_is_safe);
  tcase_add_test(te, test_handle_errors);
  tcase_add_test(te, test_shape_and_argument_errors);
  tcase_add_test(te, test_backward_without_params);
  tcase_add_test(te, test_huge_shapes);
  tcase_add_test(te, test_names_and_params);
  suite_add_tcase(s, te);
  return s;
}

WG_TEST_MAIN()

/* check_tape.c - the tape's contracts: error paths, the sticky status, replay, gradient
 * accumulation, and the arena's promise that a loop which records the same graph again (or
 * replays it) allocates nothing from the heap.
 *
 * The heap is observed through the library's one allocator hook (wg_set_allocator): a
 * counting hook records every allocation, can make the Nth fail, and tracks the bytes
 * outstanding using the sizes the library passes (so a wrong size or a leak shows up). */
#include <stdlib.h>
#include <string.h>

#include "countalloc.h"
#include "tape/tape.h" /* wg_tape_set_next_gen, the internal hook to reach the generations' end */
#include "testutil.h"

#define NONE(v) ((v).gen == 0 && (v).row == 0)

/* the error message contains every one of the given fragments */
static void assert_error_has(wg_tape *t, const char *const *parts, int n) {
  const char *msg = wg_tape_error(t);
  for (int i = 0; i < n; i++)
    ck_assert_msg(strstr(msg, parts[i]) != NULL, "error \"%s\" lacks \"%s\"", msg, parts[i]);
}
#define ASSERT_ERROR_HAS(t, ...)                                        \
  do {                                                                  \
    const char *const parts_[] = {__VA_ARGS__};                         \
    assert_error_has((t), parts_, (int)(sizeof parts_ / sizeof parts_[0])); \
  } while (0)

/* ---- counting allocator -------------------------------------------------------------- */

/* tests/countalloc.h: heap.calls counts the requests, heap.live the bytes outstanding (from
 * each block's own size), heap.fail_at makes that request (1-based) fail; 0: none. */
static ca_state heap;

static void counting_on(long fail) {
  memset(&heap, 0, sizeof heap);
  heap.fail_at = fail;
  wg_set_allocator(ca_alloc, &heap);
}

static void counting_off(void) { /* every free and realloc passed the size it was given */
  wg_set_allocator(NULL, NULL);
  ck_assert_int_eq(heap.bad_size, 0);
}

/* ---- a small network used by several tests ------------------------------------------- */

enum { M = 8, N = 3, H = 4 };
static wg_real X[M * N], Y[M];

typedef struct {
  wg_param *W1, *b1, *W2, *b2;
} net;

static net net_new(void) {
  unsigned long long s = 17;
  net n = {wg_param_new("W1", N, H), wg_param_new("b1", 1, H), wg_param_new("W2", H, 1),
           wg_param_new("b2", 1, 1)};
  wg_param *all[4] = {n.W1, n.b1, n.W2, n.b2};
  for (int k = 0; k < 4; k++) {
    wg_mat v = wg_param_value(all[k]);
    for (int i = 0; i < v.rows * v.cols; i++) v.data[i] = tu_uniform(&s, -1, 1);
  }
  for (int i = 0; i < M * N; i++) X[i] = tu_uniform(&s, -2, 2);
  for (int i = 0; i < M; i++) Y[i] = i % 2;
  return n;
}

static void net_free(net *n) {
  wg_param_free(n->W1), wg_param_free(n->b1), wg_param_free(n->W2), wg_param_free(n->b2);
}

static void net_zero_grad(net *n) {
  wg_param_zero_grad(n->W1), wg_param_zero_grad(n->b1);
  wg_param_zero_grad(n->W2), wg_param_zero_grad(n->b2);
}

/* L = bce_logits(tanh(X W1 + b1) W2 + b2, y) + 0.1 mse(z, y): two layers, every family */
static wg_var net_record(wg_tape *t, net *n) {
  wg_var x = wg_input(t, M, N, X), y = wg_input(t, M, 1, Y);
  wg_var a1 = wg_tanh(t, wg_add(t, wg_matmul(t, x, wg_use(t, n->W1)), wg_use(t, n->b1)));
  wg_name(t, a1, "hidden");
  wg_var z = wg_add(t, wg_matmul(t, a1, wg_use(t, n->W2)), wg_use(t, n->b2));
  return wg_add(t, wg_bce_logits(t, z, y), wg_scale(t, wg_mse(t, z, y), 0.1));
}

/* the loss and all gradients, concatenated: 1 + N H + H + H + 1 numbers */
enum { SNAP = 1 + N * H + H + H + 1 };
static void snapshot(wg_tape *t, wg_var L, net *n, double *out) {
  wg_param *all[4] = {n->W1, n->b1, n->W2, n->b2};
  out[0] = wg_value(t, L).data[0];
  int k = 1;
  for (int p = 0; p < 4; p++) {
    wg_mat g = wg_param_grad(all[p]);
    for (int i = 0; i < g.rows * g.cols; i++) out[k++] = g.data[i];
  }
}

/* ---- error paths --------------------------------------------------------------------- */

START_TEST(matmul_shape_mismatch_names_op_shapes_and_row) {
  wg_real a[12] = {0}, b[6] = {0};
  wg_tape *t = wg_tape_new();
  wg_var A = wg_input(t, 4, 3, a), B = wg_input(t, 2, 3, b); /* rows 0 and 1 */
  wg_var C = wg_matmul(t, A, B);
  ck_assert(NONE(C));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ASSERT_ERROR_HAS(t, "matmul", "(4x3) @ (2x3)", "row 2");
  wg_tape_free(t);
}
END_TEST

START_TEST(broadcast_shape_mismatch_names_op_and_both_shapes) {
  wg_real a[6] = {0}, b[6] = {0};
  wg_tape *t = wg_tape_new();
  ck_assert(NONE(wg_add(t, wg_input(t, 3, 2, a), wg_input(t, 2, 3, b))));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ASSERT_ERROR_HAS(t, "add", "(3x2) + (2x3)", "row 2");
  wg_tape_free(t);
}
END_TEST

START_TEST(loss_shape_mismatch_names_op_and_both_shapes) {
  wg_real a[3] = {0}, b[3] = {0};
  wg_tape *t = wg_tape_new();
  ck_assert(NONE(wg_bce(t, wg_input(t, 3, 1, a), wg_input(t, 1, 3, b))));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ASSERT_ERROR_HAS(t, "bce", "(3x1)", "(1x3)");
  wg_tape_free(t);
}
END_TEST

START_TEST(stale_handle_from_before_reset_is_reported) {
  wg_real a[2] = {1, 2};
  wg_tape *t = wg_tape_new();
  wg_var old = wg_input(t, 1, 2, a);
  wg_tape_reset(t);
  wg_input(t, 1, 2, a); /* row 0 exists again, in the new generation */
  ck_assert(NONE(wg_exp(t, old)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ASSERT_ERROR_HAS(t, "exp", "stale", "wg_tape_reset");
  wg_tape_free(t);
}
END_TEST

START_TEST(handle_from_another_tape_is_reported) {
  wg_real a[2] = {1, 2};
  wg_tape *t1 = wg_tape_new(), *t2 = wg_tape_new();
  wg_var v1 = wg_input(t1, 1, 2, a);
  wg_input(t2, 1, 2, a); /* same row index on t2 */
  ck_assert(NONE(wg_sigmoid(t2, v1)));
  ck_assert_int_eq(wg_tape_status(t2), WG_ERR_HANDLE);
  ASSERT_ERROR_HAS(t2, "sigmoid", "another tape");
  ck_assert_int_eq(wg_tape_status(t1), WG_OK); /* the owner is untouched */
  wg_tape_free(t1);
  wg_tape_free(t2);
}
END_TEST

START_TEST(handle_with_a_row_beyond_the_tape_is_reported) {
  wg_real a[2] = {1, 2};
  wg_tape *t = wg_tape_new();
  wg_var v = wg_input(t, 1, 2, a);
  v.row = 999;
  ck_assert_ptr_null(wg_value(t, v).data);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ASSERT_ERROR_HAS(t, "wg_value", "row 999");
  wg_tape_free(t);
}
END_TEST

START_TEST(none_handle_is_reported) {
  wg_tape *t = wg_tape_new();
  wg_var none = {0, 0};
  ck_assert(NONE(wg_neg(t, none)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_HANDLE);
  ASSERT_ERROR_HAS(t, "neg", "none");
  wg_tape_free(t);
}
END_TEST

/* the loss's label (its wg_name) and shape appear in the message */
START_TEST(backward_from_a_non_scalar_names_the_row_and_shape) {
  wg_real a[6] = {0};
  wg_param *W = wg_param_new("W", 3, 2);
  wg_tape *t = wg_tape_new();
  wg_var z = wg_mul(t, wg_input(t, 3, 2, a), wg_use(t, W));
  wg_name(t, z, "logits");
  ck_assert_int_eq(wg_backward(t, z), WG_ERR_SHAPE);
  ASSERT_ERROR_HAS(t, "wg_backward", "logits", "(3x2)", "row 2");
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* a parameter leaf is labelled with the parameter's name */
START_TEST(param_name_labels_its_row_in_messages) {
  wg_param *W = wg_param_new("weights", 2, 2);
  wg_tape *t = wg_tape_new();
  ck_assert_int_eq(wg_backward(t, wg_use(t, W)), WG_ERR_SHAPE);
  ASSERT_ERROR_HAS(t, "weights", "(2x2)");
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(input_with_nonpositive_dimensions_is_an_argument_error) {
  wg_real a[4] = {0};
  const int dims[3][2] = {{0, 3}, {2, -1}, {-4, -4}};
  for (int i = 0; i < 3; i++) {
    wg_tape *t = wg_tape_new();
    ck_assert(NONE(wg_input(t, dims[i][0], dims[i][1], a)));
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
    char shape[32];
    snprintf(shape, sizeof shape, "(%dx%d)", dims[i][0], dims[i][1]);
    ASSERT_ERROR_HAS(t, "input", shape);
    ck_assert_int_eq(wg_tape_rows(t), 0);
    wg_tape_free(t);
  }
}
END_TEST

START_TEST(param_with_nonpositive_dimensions_is_null) {
  ck_assert_ptr_null(wg_param_new("a", 0, 1));
  ck_assert_ptr_null(wg_param_new("b", 1, 0));
  ck_assert_ptr_null(wg_param_new("c", -2, 3));
  ck_assert_ptr_null(wg_param_new("d", 3, -2));
}
END_TEST

START_TEST(input_with_null_data_is_an_argument_error) {
  wg_tape *t = wg_tape_new();
  ck_assert(NONE(wg_input(t, 2, 2, NULL)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ASSERT_ERROR_HAS(t, "input", "NULL");
  wg_tape_free(t);
}
END_TEST

START_TEST(use_of_a_null_param_is_an_argument_error) {
  wg_tape *t = wg_tape_new();
  ck_assert(NONE(wg_use(t, NULL)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ASSERT_ERROR_HAS(t, "NULL");
  wg_tape_free(t);
}
END_TEST

/* A NULL tape behaves as one whose allocation failed: every call returns at once. */
START_TEST(null_tape_every_call_is_safe) {
  wg_real a[1] = {1};
  wg_param *W = wg_param_new("W", 1, 1);
  wg_tape *t = NULL;
  wg_var v = {1, 0};
  wg_tape_reset(t);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  ck_assert(strlen(wg_tape_error(t)) > 0);
  ck_assert_int_eq(wg_tape_rows(t), 0);
  ck_assert_uint_eq(wg_tape_bytes(t), 0);
  ck_assert(NONE(wg_input(t, 1, 1, a)));
  ck_assert(NONE(wg_scalar(t, 2)));
  ck_assert(NONE(wg_use(t, W)));
  wg_var r[] = {
      wg_matmul(t, v, v), wg_transpose(t, v), wg_add(t, v, v),     wg_sub(t, v, v),
      wg_mul(t, v, v),    wg_div(t, v, v),    wg_neg(t, v),        wg_scale(t, v, 2),
      wg_exp(t, v),       wg_log(t, v),       wg_sigmoid(t, v),    wg_tanh(t, v),
      wg_relu(t, v),      wg_square(t, v),    wg_sum(t, v),        wg_mean(t, v),
      wg_sum_rows(t, v),  wg_bce(t, v, v),    wg_bce_logits(t, v, v), wg_mse(t, v, v),
  };
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) ck_assert(NONE(r[i]));
  ck_assert_int_eq(wg_forward(t), WG_ERR_NOMEM);
  ck_assert_int_eq(wg_backward(t, v), WG_ERR_NOMEM);
  ck_assert_int_eq(wg_jvp(t), WG_ERR_NOMEM);
  ck_assert_ptr_null(wg_value(t, v).data);
  ck_assert_ptr_null(wg_grad(t, v).data);
  ck_assert_ptr_null(wg_tangent(t, v).data);
  wg_name(t, v, "x");
  wg_tape_free(t);
  wg_param_free(W);
  /* and NULL parameters */
  wg_param_free(NULL);
  wg_param_zero_grad(NULL);
  ck_assert_ptr_null(wg_param_value(NULL).data);
  ck_assert_ptr_null(wg_param_grad(NULL).data);
  ck_assert_str_eq(wg_param_name(NULL), "");
}
END_TEST

/* After the first error: the first message is kept, later ops return none and record
 * nothing, wg_forward / wg_backward / wg_jvp return the status, views are empty. */
START_TEST(failed_tape_stays_failed_and_keeps_the_first_message) {
  wg_real a[12] = {0}, b[6] = {0};
  wg_param *W = wg_param_new("W", 3, 1);
  wg_tape *t = wg_tape_new();
  wg_var A = wg_input(t, 4, 3, a);
  wg_var good = wg_matmul(t, A, wg_use(t, W)); /* fine: (4x3)(3x1), row 2 */
  wg_matmul(t, A, wg_input(t, 2, 3, b));       /* fails */
  char first[256];
  snprintf(first, sizeof first, "%s", wg_tape_error(t));
  int rows = wg_tape_rows(t);
  ck_assert(NONE(wg_input(t, -1, 2, a)));      /* would be WG_ERR_ARG */
  ck_assert(NONE(wg_sigmoid(t, good)));
  ck_assert(NONE(wg_use(t, W)));
  ck_assert(NONE(wg_scalar(t, 1)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_str_eq(wg_tape_error(t), first);
  ck_assert_int_eq(wg_tape_rows(t), rows);
  ck_assert_int_eq(wg_forward(t), WG_ERR_SHAPE);
  ck_assert_int_eq(wg_backward(t, wg_sum(t, good)), WG_ERR_SHAPE);
  ck_assert_int_eq(wg_jvp(t), WG_ERR_SHAPE);
  ck_assert_ptr_null(wg_value(t, good).data);
  ck_assert_double_eq(wg_param_grad(W).data[0], 0); /* no backward ran */
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(reset_clears_the_failure_and_the_tape_works_again) {
  wg_real a[2] = {1, 2}, b[3] = {0};
  wg_param *W = wg_param_new("W", 1, 2);
  wg_param_value(W).data[0] = 3, wg_param_value(W).data[1] = -1;
  wg_tape *t = wg_tape_new();
  wg_add(t, wg_input(t, 1, 2, a), wg_input(t, 1, 3, b));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  wg_tape_reset(t);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_str_eq(wg_tape_error(t), "");
  ck_assert_int_eq(wg_tape_rows(t), 0);
  wg_var L = wg_sum(t, wg_mul(t, wg_input(t, 1, 2, a), wg_use(t, W))); /* 1*3 + 2*(-1) = 1 */
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_double_eq(wg_value(t, L).data[0], 1);
  ck_assert_double_eq(wg_param_grad(W).data[0], 1);
  ck_assert_double_eq(wg_param_grad(W).data[1], 2);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(status_string_names_every_code) {
  for (int s = 0; s < WG_STATUS_COUNT; s++) {
    const char *name = wg_status_string((wg_status)s);
    ck_assert_msg(name && name[0], "status %d has no name", s);
    ck_assert_str_ne(name, wg_status_string((wg_status)WG_STATUS_COUNT));
    for (int r = 0; r < s; r++)
      ck_assert_msg(strcmp(name, wg_status_string((wg_status)r)) != 0, "status %d, %d: \"%s\"", r,
                    s, name);
  }
  ck_assert_str_eq(wg_status_string(WG_OK), "ok");
  ck_assert_ptr_nonnull(wg_status_string((wg_status)-1));
  ck_assert_ptr_nonnull(wg_status_string((wg_status)1000));
}
END_TEST

/* backward from a loss that no parameter reaches: OK, and nothing has an adjoint */
START_TEST(backward_without_parameters_is_ok_and_gives_no_adjoints) {
  wg_real a[3] = {1, 2, 3};
  wg_tape *t = wg_tape_new();
  wg_var x = wg_input(t, 1, 3, a), L = wg_sum(t, wg_square(t, x));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_ptr_null(wg_grad(t, x).data);
  ck_assert_ptr_null(wg_grad(t, L).data);
  wg_tape_free(t);
}
END_TEST

/* no adjoint is ever allocated for the data matrix: the arena grows by far less than X */
START_TEST(backward_allocates_no_adjoint_for_the_data) {
  enum { R = 200, C = 50 };
  wg_real *x = calloc(R * C, sizeof *x);
  wg_param *W = wg_param_new("W", C, 1);
  wg_tape *t = wg_tape_new();
  wg_var data = wg_input(t, R, C, x);
  wg_var L = wg_sum(t, wg_matmul(t, data, wg_use(t, W)));
  size_t before = wg_tape_bytes(t);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  size_t grown = wg_tape_bytes(t) - before;
  /* adjoints of W (50), the product (200) and L (1), each rounded up to 64 bytes */
  ck_assert_uint_le(grown, (50 + 200 + 1) * sizeof(wg_real) + 3 * 64);
  ck_assert_ptr_null(wg_grad(t, data).data);
  wg_tape_free(t);
  wg_param_free(W);
  free(x);
}
END_TEST

/* ---- replay and accumulation --------------------------------------------------------- */

/* Change a parameter, replay (wg_forward + wg_backward): bitwise what a fresh recording
 * gives, and different from before the change. */
START_TEST(replay_after_a_parameter_change_equals_recording_anew) {
  net n = net_new();
  double before[SNAP], replayed[SNAP], fresh[SNAP];
  wg_tape *t = wg_tape_new();
  wg_var L = net_record(t, &n);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, before);
  for (int i = 0; i < N * H; i++) wg_param_value(n.W1).data[i] *= 1.5;
  wg_param_value(n.b2).data[0] += 0.25;
  net_zero_grad(&n);
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, replayed);
  ck_assert(replayed[0] != before[0]);

  wg_tape *t2 = wg_tape_new();
  net_zero_grad(&n);
  wg_var L2 = net_record(t2, &n);
  ck_assert_int_eq(wg_backward(t2, L2), WG_OK);
  snapshot(t2, L2, &n, fresh);
  ck_assert_msg(memcmp(replayed, fresh, sizeof fresh) == 0, "replay differs from recording anew");
  wg_tape_free(t);
  wg_tape_free(t2);
  net_free(&n);
}
END_TEST

/* inputs are referenced: replay reads the caller's changed data */
START_TEST(replay_reads_changed_input_data) {
  net n = net_new();
  double replayed[SNAP], fresh[SNAP];
  wg_tape *t = wg_tape_new();
  wg_var L = net_record(t, &n);
  for (int i = 0; i < M * N; i++) X[i] = -X[i];
  ck_assert_int_eq(wg_forward(t), WG_OK);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, replayed);
  wg_tape_reset(t);
  net_zero_grad(&n);
  L = net_record(t, &n);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, fresh);
  ck_assert(memcmp(replayed, fresh, sizeof fresh) == 0);
  wg_tape_free(t);
  net_free(&n);
}
END_TEST

/* gradients add up over backward calls until wg_param_zero_grad: g then g + g = 2g. The
 * second backward's contributions are summed straight into the gradient (a parameter leaf's
 * adjoint is the gradient buffer), g + c1 + c2 ... instead of g + (c1 + c2 ...), so 2g holds
 * to the rounding of those sums (tolerance 1e-12 of the largest gradient; an update lost or
 * doubled would be off by a whole g) */
START_TEST(gradients_accumulate_across_backward_until_zero_grad) {
  net n = net_new();
  double once[SNAP], twice[SNAP], again[SNAP];
  wg_tape *t = wg_tape_new();
  wg_var L = net_record(t, &n);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, once);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, twice);
  double big = 0;
  for (int i = 1; i < SNAP; i++) big = fmax(big, fabs(once[i]));
  ck_assert(big > 0);
  for (int i = 1; i < SNAP; i++) ck_assert_double_eq_tol(twice[i], 2 * once[i], TU_TOL(1e-12) * big);
  net_zero_grad(&n);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  snapshot(t, L, &n, again);
  ck_assert(memcmp(once, again, sizeof once) == 0);
  wg_tape_free(t);
  net_free(&n);
}
END_TEST

/* L = sum(W * W) through two wg_use of W: dL/dW = 2 W, both contributions */
START_TEST(parameter_used_twice_gets_both_contributions) {
  wg_param *W = wg_param_new("W", 2, 3);
  for (int i = 0; i < 6; i++) wg_param_value(W).data[i] = 0.5 * i - 1;
  wg_tape *t = wg_tape_new();
  wg_var sq = wg_mul(t, wg_use(t, W), wg_use(t, W)), L = wg_sum(t, sq);
  ck_assert_ptr_null(wg_grad(t, sq).data); /* no backward has run yet */
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  ck_assert_ptr_nonnull(wg_grad(t, sq).data);
  for (int i = 0; i < 6; i++)
    ck_assert_double_eq(wg_param_grad(W).data[i], 2 * wg_param_value(W).data[i]);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* wg_backward sweeps straight into a parameter's gradient (its leaves' adjoints are the
 * gradient buffer), and the paths that keep a leaf's adjoint apart (wg_dot_test, the trace)
 * still work after it. L = sum(w1 * w2 + 3 w1) with w1, w2 two uses of W: dL/dW = 2 W + 3
 * (by hand; W holds halves, so every sum below is exact). */
START_TEST(direct_gradients_with_dot_test_and_trace_in_between) {
  wg_param *W = wg_param_new("W", 2, 3);
  wg_real *w = wg_param_value(W).data, *g = wg_param_grad(W).data, keep[6];
  for (int i = 0; i < 6; i++) w[i] = 0.5 * i - 1;
  wg_tape *t = wg_tape_new();
  wg_var w1 = wg_use(t, W), w2 = wg_use(t, W);
  wg_var L = wg_sum(t, wg_add(t, wg_mul(t, w1, w2), wg_scale(t, w1, 3)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(g[i], 2 * w[i] + 3);
  /* a leaf's adjoint is now the parameter's gradient (both uses: the sum of all of them) */
  ck_assert_ptr_eq(wg_grad(t, w1).data, g);
  ck_assert_ptr_eq(wg_grad(t, w2).data, g);
  /* the dot test sweeps into the leaves' own buffers: the gradient stays as it is */
  memcpy(keep, g, sizeof keep);
  double d = wg_dot_test(t, L, 3);
  ck_assert_msg(d >= 0 && d < TU_TOL(1e-12), "dot test %g", d);
  ck_assert(memcmp(keep, g, sizeof keep) == 0);
  /* the next backward adds onto it again */
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(g[i], 2 * (2 * w[i] + 3));
  /* traced: one step per leaf, each adding its own adjoint (w1: 3 + W, w2: W) */
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  wg_tape_trace(t, f);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  wg_tape_trace(t, NULL);
  fclose(f);
  const char *first = strstr(out, "grad(W) += adj(W)");
  ck_assert_ptr_nonnull(first);
  ck_assert_ptr_nonnull(strstr(first + 1, "grad(W) += adj(W)"));
  free(out);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(g[i], 3 * (2 * w[i] + 3));
  ck_assert_double_eq(wg_grad(t, w1).data[0], 3 + w[0]); /* traced: the leaf's own adjoint */
  /* and untraced again: straight into the gradient */
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_double_eq(g[i], 4 * (2 * w[i] + 3));
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* wg_backward of a parameter leaf itself (a 1x1 parameter as the loss) adds the seed 1 to
 * the gradient already there (5 written by hand): 6, then 7 */
START_TEST(backward_of_a_parameter_leaf_adds_the_seed) {
  wg_param *p = wg_param_new("p", 1, 1);
  wg_param_grad(p).data[0] = 5;
  wg_tape *t = wg_tape_new();
  wg_var v = wg_use(t, p);
  ck_assert_int_eq(wg_backward(t, v), WG_OK);
  ck_assert_double_eq(wg_param_grad(p).data[0], 6);
  ck_assert_int_eq(wg_backward(t, v), WG_OK);
  ck_assert_double_eq(wg_param_grad(p).data[0], 7);
  wg_tape_free(t);
  wg_param_free(p);
}
END_TEST

/* Adjoints are zeroed lazily (just before the first VJP that adds into them): a row that no
 * VJP reaches must still read zero after the sweep. d = exp(w) is a dead branch below L and
 * e = w * w is recorded after L; backward from sum(d), then from sum(e), fills their adjoints
 * with ones (and the second zeroes d's again), then backward(L) must leave both 0 and
 * dL/dW = 2 exactly. */
START_TEST(rows_no_vjp_reaches_read_zero) {
  wg_param *W = wg_param_new("W", 1, 4);
  for (int i = 0; i < 4; i++) wg_param_value(W).data[i] = 0.25 * i;
  wg_tape *t = wg_tape_new();
  wg_var w = wg_use(t, W);
  wg_var d = wg_exp(t, w), Ld = wg_sum(t, d);
  wg_var L = wg_sum(t, wg_scale(t, w, 2));
  wg_var e = wg_mul(t, w, w), Le = wg_sum(t, e);
  ck_assert_int_eq(wg_backward(t, Ld), WG_OK);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_grad(t, d).data[i], 1);
  ck_assert_int_eq(wg_backward(t, Le), WG_OK); /* d: below Le but not reached: 0 again */
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_grad(t, e).data[i], 1);
  for (int i = 0; i < 4; i++) ck_assert_double_eq(wg_grad(t, d).data[i], 0);
  wg_param_zero_grad(W);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  for (int i = 0; i < 4; i++) {
    ck_assert_double_eq(wg_grad(t, d).data[i], 0);
    ck_assert_double_eq(wg_grad(t, e).data[i], 0);
    ck_assert_double_eq(wg_param_grad(W).data[i], 2);
  }
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* The first VJP to reach an adjoint writes it (ops marked `first` in oplist.h) instead of the
 * sweep zeroing it for the VJP to add into; with finite checks on the sweep zeroes every
 * adjoint first (the zeroing path). The two must give the same bits for every row and gradient:
 * the ops store 0 + term, which turns a -0 term into +0 just as adding it to a zeroed buffer
 * does. The graph has each marked op as the first and as a later writer, the same row as
 * both inputs (B + B, B B), stale 1xN, Mx1 and 1x1 broadcast inputs, tanh saturated to 1
 * (a -0 term where dy < 0), relu at exactly 0, and 200x200 arrays (split on the pool). */
enum { FW_N = 200, FW_VARS = 15 };

static void first_writes_graph(wg_tape *t, wg_param **p, const wg_real *data, wg_var *v) {
  v[0] = wg_matmul(t, wg_input(t, FW_N, FW_N, data), wg_use(t, p[0]));     /* H = X W */
  v[1] = wg_add(t, wg_add(t, v[0], wg_use(t, p[1])), wg_use(t, p[2]));  /* H + b + c */
  v[2] = wg_tanh(t, v[1]);                                               /* A */
  v[3] = wg_relu(t, wg_sub(t, v[2], wg_scalar(t, 0)));                   /* B = relu(A - 0) */
  v[4] = wg_sum_rows(t, v[3]);                                           /* 1xN, not a leaf */
  v[5] = wg_mean(t, v[2]);                                               /* 1x1, not a leaf */
  v[6] = wg_matmul(t, v[2], wg_use(t, p[3]));                            /* Mx1: A u */
  v[7] = wg_add(t, wg_add(t, v[3], v[4]), wg_add(t, v[5], v[6]));        /* B + s + m + col */
  v[8] = wg_sigmoid(t, v[7]);
  v[9] = wg_add(t, v[3], v[3]);                                          /* B + B */
  v[10] = wg_matmul(t, v[3], v[3]);                                      /* B B */
  v[11] = wg_matmul(t, v[2], wg_use(t, p[4]));                           /* A W2 */
  v[12] = wg_scale(t, wg_sum(t, v[2]), -3);                              /* dy < 0 on A */
  v[13] = wg_add(t, wg_add(t, wg_sum(t, v[8]), wg_mean(t, v[9])), wg_mean(t, v[10]));
  v[14] = wg_add(t, wg_add(t, v[13], wg_mean(t, v[11])), v[12]);         /* the loss */
}

/* A branch the loss does not depend on gets no VJP: its NaN value cannot reach W's gradient
 * as 0 * NaN. L = sum(W x) with x = [2 3]: dL/dW = x, by hand; the side row W * NaN and the
 * log(-W) row below it (NaN too) hang off W but not off L. With the side branch's VJP run on
 * a zero adjoint, W's gradient would be NaN. Same with a trace and with finite checks off. */
START_TEST(rows_the_loss_does_not_reach_get_no_vjp) {
  for (int traced = 0; traced < 2; traced++) {
    wg_param *W = wg_param_new("W", 1, 2);
    wg_tape *t = wg_tape_new();
    wg_real x[2] = {2, 3}, nan_in[2] = {NAN, NAN};
    FILE *sink = traced ? tmpfile() : NULL;
    if (traced) wg_tape_trace(t, sink);
    wg_var w = wg_use(t, W);
    wg_var side = wg_mul(t, w, wg_input(t, 1, 2, nan_in));
    wg_var deeper = wg_log(t, wg_neg(t, side));
    wg_var L = wg_sum(t, wg_mul(t, w, wg_input(t, 1, 2, x)));
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    wg_mat g = wg_param_grad(W);
    ck_assert_msg(g.data[0] == 2 && g.data[1] == 3, "dL/dW = [%g %g], want [2 3]", g.data[0],
                  g.data[1]);
    ck_assert(wg_grad(t, side).data[0] == 0 && wg_grad(t, deeper).data[1] == 0);
    if (sink) fclose(sink);
    wg_tape_free(t);
    wg_param_free(W);
  }
}
END_TEST

START_TEST(first_writes_give_the_bits_of_zeroing_then_adding) {
  unsigned long long seed = 77;
  static const int shape[5][2] = {{FW_N, FW_N}, {1, FW_N}, {FW_N, 1}, {FW_N, 1}, {FW_N, FW_N}};
  wg_param *p[5];
  for (int k = 0; k < 5; k++) {
    p[k] = wg_param_new("p", shape[k][0], shape[k][1]);
    wg_mat m = wg_param_value(p[k]);
    for (int i = 0; i < m.rows * m.cols; i++) m.data[i] = tu_uniform(&seed, -0.2, 0.2);
  }
  wg_real *x = malloc(sizeof(wg_real) * FW_N * FW_N);
  for (int i = 0; i < FW_N * FW_N; i++) x[i] = tu_uniform(&seed, -1, 1);
  for (int j = 0; j < FW_N; j++) x[j] = 0, x[FW_N + j] = 0; /* rows 0 and 1 of H are 0 */
  wg_param_value(p[2]).data[0] = 0;  /* row 0: A = tanh(b_j), 0 where b_j = 0: relu's kink */
  for (int j = 0; j < 10; j++) wg_param_value(p[1]).data[j] = 0;
  wg_param_value(p[2]).data[1] = 40; /* row 1: A = tanh(40 + b_j) = 1 exactly */
  for (int threads = 1; threads <= 2; threads++) {
    wg_set_threads(threads);
    wg_real *bits[2][FW_VARS + 5];
    size_t size[FW_VARS + 5];
    for (int checks = 0; checks < 2; checks++) {
      wg_tape *t = wg_tape_new();
      wg_var v[FW_VARS];
      first_writes_graph(t, p, x, v);
      wg_tape_set_checks(t, checks ? WG_CHECK_FINITE : 0);
      for (int k = 0; k < 5; k++) wg_param_zero_grad(p[k]);
      for (int rep = 0; rep < 2; rep++) { /* the second sweep finds last sweep's values */
        for (int k = 0; k < 5; k++) wg_param_zero_grad(p[k]);
        ck_assert_int_eq(wg_backward(t, v[14]), WG_OK);
      }
      ck_assert_double_eq(wg_value(t, v[2]).data[0], 0);    /* relu at its kink */
      ck_assert_double_eq(wg_value(t, v[2]).data[FW_N], 1); /* saturated, as intended */
      for (int q = 0; q < FW_VARS + 5; q++) {
        wg_mat g = q < FW_VARS ? wg_grad(t, v[q]) : wg_param_grad(p[q - FW_VARS]);
        size[q] = (size_t)g.rows * g.cols * sizeof(wg_real);
        bits[checks][q] = malloc(size[q]);
        memcpy(bits[checks][q], g.data, size[q]);
      }
      wg_tape_free(t);
    }
    for (int q = 0; q < FW_VARS + 5; q++) {
      ck_assert_msg(!memcmp(bits[0][q], bits[1][q], size[q]),
                    "%d thread(s): adjoint %d differs from zeroing then adding", threads, q);
      free(bits[0][q]), free(bits[1][q]);
    }
  }
  wg_set_threads(1);
  free(x);
  for (int k = 0; k < 5; k++) wg_param_free(p[k]);
}
END_TEST

/* The same for every binary elementwise op (binary.c) over every broadcast pair: the inputs
 * are rows that are not leaves (their adjoints are stale when the op's VJP reaches them), the
 * op is recorded twice (the first VJP to run writes, the second adds), and the adjoints and
 * gradients must have the bits of the zeroing sweep (finite checks on), on 1 and 2 threads.
 * y is 64 x 300 (split on the pool); div's b is kept away from 0. */
typedef wg_var (*binary_fn)(wg_tape *, wg_var, wg_var);

START_TEST(binary_ops_first_writes_give_the_bits_of_zeroing_then_adding) {
  static const binary_fn ops[] = {wg_add, wg_sub, wg_mul, wg_div};
  static const int pairs[][4] = {{64, 300, 64, 300}, {64, 300, 1, 300}, {1, 300, 64, 300},
                                 {64, 300, 64, 1},   {64, 1, 64, 300},  {64, 300, 1, 1},
                                 {1, 1, 64, 300},    {1, 300, 64, 1},   {64, 1, 1, 300}};
  unsigned long long seed = 4242;
  wg_real *R = malloc(sizeof(wg_real) * 64 * 300);
  for (int i = 0; i < 64 * 300; i++) R[i] = tu_uniform(&seed, -1, 1);
  R[0] = -0.0; /* a -0 term: stored 0 + (-0) = +0, as adding it to a zeroed buffer gives */
  for (int op = 0; op < 4; op++)
    for (int q = 0; q < (int)(sizeof pairs / sizeof pairs[0]); q++) {
      wg_param *A = wg_param_new("A", pairs[q][0], pairs[q][1]);
      wg_param *B = wg_param_new("B", pairs[q][2], pairs[q][3]);
      wg_mat a = wg_param_value(A), b = wg_param_value(B);
      for (int i = 0; i < a.rows * a.cols; i++) a.data[i] = tu_uniform(&seed, -1, 1);
      for (int i = 0; i < b.rows * b.cols; i++) b.data[i] = tu_uniform(&seed, 0.5, 2);
      for (int threads = 1; threads <= 2; threads++) {
        wg_set_threads(threads);
        wg_real *bits[2][4];
        size_t size[4];
        for (int checks = 0; checks < 2; checks++) {
          wg_tape *t = wg_tape_new();
          wg_var xa = wg_scale(t, wg_use(t, A), 1), xb = wg_scale(t, wg_use(t, B), 1);
          wg_var y1 = ops[op](t, xa, xb), y2 = ops[op](t, xa, xb);
          wg_mat v = wg_value(t, y1);
          wg_var r = wg_input(t, v.rows, v.cols, R);
          wg_var L = wg_add(t, wg_sum(t, wg_mul(t, y1, r)), wg_sum(t, wg_mul(t, y2, y2)));
          wg_tape_set_checks(t, checks ? WG_CHECK_FINITE : 0);
          wg_param_zero_grad(A), wg_param_zero_grad(B);
          ck_assert_int_eq(wg_backward(t, L), WG_OK);
          wg_mat g[4] = {wg_grad(t, xa), wg_grad(t, xb), wg_param_grad(A), wg_param_grad(B)};
          for (int k = 0; k < 4; k++) {
            size[k] = (size_t)g[k].rows * g[k].cols * sizeof(wg_real);
            bits[checks][k] = malloc(size[k]);
            memcpy(bits[checks][k], g[k].data, size[k]);
          }
          wg_tape_free(t);
        }
        for (int k = 0; k < 4; k++) {
          ck_assert_msg(!memcmp(bits[0][k], bits[1][k], size[k]),
                        "op %d, (%dx%d) with (%dx%d), %d thread(s): adjoint %d differs from "
                        "zeroing then adding", op, pairs[q][0], pairs[q][1], pairs[q][2],
                        pairs[q][3], threads, k);
          free(bits[0][k]), free(bits[1][k]);
        }
      }
      wg_param_free(A), wg_param_free(B);
    }
  wg_set_threads(1);
  free(R);
}
END_TEST

/* backward from an earlier row sweeps only the rows up to it: a later use of W adds nothing.
 * L1 = sum(3 W), L2 = sum(W * W) recorded after it: dL1/dW = 3, then dL2/dW = 2 W on top. */
START_TEST(backward_from_an_earlier_row_ignores_later_rows) {
  wg_param *W = wg_param_new("W", 1, 3);
  for (int i = 0; i < 3; i++) wg_param_value(W).data[i] = i - 1.0;
  wg_tape *t = wg_tape_new();
  wg_var w = wg_use(t, W);
  wg_var L1 = wg_sum(t, wg_scale(t, w, 3));
  wg_var L2 = wg_sum(t, wg_mul(t, w, wg_use(t, W)));
  ck_assert_int_eq(wg_backward(t, L1), WG_OK);
  for (int i = 0; i < 3; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 3);
  ck_assert_int_eq(wg_backward(t, L2), WG_OK);
  for (int i = 0; i < 3; i++) ck_assert_double_eq(wg_param_grad(W).data[i], 3 + 2 * (i - 1.0));
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

/* One parameter on two tapes: each tape's backward adds its part into the same gradient. */
START_TEST(parameter_shared_by_two_tapes_accumulates_both) {
  wg_param *W = wg_param_new("W", 2, 1);
  wg_param_value(W).data[0] = 2, wg_param_value(W).data[1] = -3;
  wg_tape *t1 = wg_tape_new(), *t2 = wg_tape_new();
  wg_var L1 = wg_sum(t1, wg_square(t1, wg_use(t1, W))); /* dL1/dW = 2 W = (4, -6) */
  wg_var L2 = wg_mean(t2, wg_use(t2, W));               /* dL2/dW = 1/2 */
  ck_assert_int_eq(wg_backward(t1, L1), WG_OK);
  ck_assert_int_eq(wg_backward(t2, L2), WG_OK);
  ck_assert_double_eq(wg_param_grad(W).data[0], 4.5);
  ck_assert_double_eq(wg_param_grad(W).data[1], -5.5);
  wg_tape_free(t1);
  wg_tape_free(t2);
  wg_param_free(W);
}
END_TEST

START_TEST(tape_rows_counts_the_rows) {
  wg_real a[4] = {0};
  wg_tape *t = wg_tape_new();
  ck_assert_int_eq(wg_tape_rows(t), 0);
  wg_var x = wg_input(t, 2, 2, a);
  ck_assert_int_eq(wg_tape_rows(t), 1);
  wg_var y = wg_sigmoid(t, wg_scale(t, x, 2));
  ck_assert_int_eq(wg_tape_rows(t), 3);
  wg_sum(t, wg_add(t, y, wg_scalar(t, 1)));
  ck_assert_int_eq(wg_tape_rows(t), 6);
  for (int i = 0; i < 100; i++) x = wg_neg(t, x); /* past the first growth of the row list */
  ck_assert_int_eq(wg_tape_rows(t), 106);
  wg_tape_reset(t);
  ck_assert_int_eq(wg_tape_rows(t), 0);
  ck_assert_uint_eq(wg_tape_bytes(t), 0);
  wg_tape_free(t);
}
END_TEST

/* ---- the arena and the allocator hook ------------------------------------------------ */

/* A training loop's second step (reset, record the same graph, backward) allocates nothing. */
START_TEST(reset_and_rerecord_allocates_nothing) {
  counting_on(0);
  net n = net_new();
  wg_real big[100 * 100] = {0}; /* values past the arena's first chunk: several chunks */
  wg_param *V = wg_param_new("V", 100, 100);
  wg_tape *t = wg_tape_new();
  for (int step = 0; step < 3; step++) {
    long before = heap.calls;
    wg_tape_reset(t);
    wg_var L = net_record(t, &n);
    wg_var Q = wg_tanh(t, wg_matmul(t, wg_input(t, 100, 100, big), wg_use(t, V)));
    wg_name(t, Q, "a name kept in the arena");
    L = wg_add(t, L, wg_mean(t, wg_square(t, Q)));
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    if (step > 0) ck_assert_msg(heap.calls == before, "step %d: %ld heap allocations", step,
                                heap.calls - before);
    else ck_assert(heap.calls > before); /* the hook does see the tape's allocations */
  }
  wg_tape_free(t);
  wg_param_free(V);
  net_free(&n);
  wg_free_buffers(); /* the matrix kernel's kept packing buffers (by design, until asked) */
  ck_assert_uint_eq(heap.live, 0);
  counting_off();
}
END_TEST

/* Replaying (wg_forward + wg_backward) allocates nothing, from the second backward on. */
START_TEST(replay_allocates_nothing) {
  counting_on(0);
  net n = net_new();
  wg_tape *t = wg_tape_new();
  wg_var L = net_record(t, &n);
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  long before = heap.calls;
  size_t bytes = wg_tape_bytes(t);
  for (int i = 0; i < 5; i++) {
    wg_param_value(n.W1).data[0] += 0.1;
    ck_assert_int_eq(wg_forward(t), WG_OK);
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
  }
  ck_assert_int_eq(heap.calls, before);
  ck_assert_uint_eq(wg_tape_bytes(t), bytes); /* not even from the arena */
  wg_tape_free(t);
  net_free(&n);
  ck_assert_uint_eq(heap.live, 0);
  counting_off();
}
END_TEST

/* Make the 1st, 2nd, ... allocation fail while creating parameters and a tape, recording and
 * sweeping: each run ends in NULL or WG_ERR_NOMEM with a message, never a crash, and after
 * freeing everything no byte is outstanding (the sizes the library reports add up). The one
 * allocation the library may do without is the matrix kernel's packing buffer: without it
 * the product is computed by a plain loop, so a run whose failure hit it must succeed with
 * the same loss (to rounding) as a run without failures. */
static double alloc_failure_run(long k, wg_status *status, int *failed);
START_TEST(every_allocation_failure_is_reported_and_nothing_leaks) {
  wg_status s0;
  int failed0;
  double reference = alloc_failure_run(0, &s0, &failed0);
  ck_assert_int_eq(s0, WG_OK);
  long total = 0, recovered = 0;
  for (long k = 1;; k++) {
    wg_status s;
    int failed;
    double loss = alloc_failure_run(k, &s, &failed);
    if (!failed) {
      ck_assert_int_eq(s, WG_OK);
      total = k - 1;
      break;
    }
    if (s == WG_OK) { /* the packing buffer: the same loss from the plain loop */
      ck_assert_msg(fabs(loss - reference) <= TU_TOL(1e-12) * fabs(reference), "allocation %ld: loss %.17g, "
                    "expected %.17g", k, loss, reference);
      recovered++;
    }
  }
  ck_assert_int_ge(total, 6); /* 5 params, the tape and its arena were all exercised */
  /* the 120x120 product packs: its buffer failed once and the plain loop took over */
  ck_assert_int_ge(recovered, 1);
  ck_assert_int_le(recovered, 2); /* at most the packing buffers (shared, per thread) */
}
END_TEST

/* One run with the k-th allocation failing (k = 0: none); returns the loss (NAN if none). */
static double alloc_failure_run(long k, wg_status *status, int *failed) {
  double loss = NAN;
  {
    counting_on(k);
    net n = net_new();
    wg_tape *t = wg_tape_new();
    wg_status s = WG_ERR_NOMEM;
    if (t && n.W1 && n.b1 && n.W2 && n.b2) {
      static wg_real big[120 * 120];
      wg_param *V = wg_param_new("V", 120, 120);
      if (V) {
        for (int i = 0; i < 120 * 120; i++) {
          big[i] = sin(i);
          wg_param_value(V).data[i] = 0.01 * cos(i);
        }
        wg_var L = net_record(t, &n);
        L = wg_add(t, L, wg_sum(t, wg_sigmoid(t, wg_matmul(t, wg_input(t, 120, 120, big),
                                                           wg_use(t, V)))));
        s = wg_backward(t, L);
        if (s == WG_OK) s = wg_jvp(t);
        /* the loss and a gradient entry both go through the matrix kernel */
        if (s == WG_OK) loss = wg_value(t, L).data[0] + wg_param_grad(V).data[7];
        if (s != WG_OK) {
          ck_assert_int_eq(s, WG_ERR_NOMEM);
          ck_assert_msg(strstr(wg_tape_error(t), "out of memory") != NULL, "%s",
                        wg_tape_error(t));
        }
      }
      wg_param_free(V);
    }
    wg_tape_free(t);
    net_free(&n);
    wg_free_buffers(); /* the matrix kernel's kept packing buffers */
    ck_assert_msg(heap.live == 0, "failing allocation %ld: %zu bytes outstanding", k, heap.live);
    *failed = k > 0 && heap.calls >= k;
    counting_off();
    *status = s;
  }
  return loss;
}

/* ---- issue 12: the audit's findings ---------------------------------------------------- */

/* A block must go back to the allocator that made it: switching while a tape is alive would
 * free the tape's memory through the wrong one (ASan: free of an address not malloc()-ed). */
START_TEST(set_allocator_is_refused_while_memory_is_live) {
  ca_state st = {0};
  wg_set_allocator(ca_alloc, &st);
  wg_tape *t = wg_tape_new();
  wg_real one = 1;
  wg_exp(t, wg_input(t, 1, 1, &one)); /* rows and an arena chunk */
  wg_set_allocator(NULL, NULL);       /* refused: the tape's blocks came from ca_alloc */
  ck_assert_msg(strstr(wg_last_error(), "wg_set_allocator: refused, the allocator is unchanged: "
                                        "3 block(s)") != NULL, "%s", wg_last_error());
  long calls = st.calls;
  wg_param *p = wg_param_new("W", 2, 2); /* still through ca_alloc */
  ck_assert_int_eq(st.calls, calls + 1);
  wg_param_free(p);
  wg_tape_free(t); /* through ca_alloc, which checks each block's size */
  ck_assert_uint_eq(st.live, 0);
  ck_assert_int_eq(st.bad_size, 0);
  wg_set_allocator(NULL, NULL); /* nothing live: accepted */
  wg_param *q = wg_param_new("W", 2, 2);
  ck_assert_int_eq(st.calls, calls + 1); /* not through ca_alloc any more */
  wg_param_free(q);
}
END_TEST

/* Generations are 32 bits in a wg_var: after 2^32 - 1 of them, a wrap would make a handle of
 * generation 1 valid again. The last generation is handed out, then every later one refused. */
START_TEST(generations_are_never_reused) {
  wg_real one = 1;
  wg_tape *probe = wg_tape_new(); /* the counter now, put back at the end for the tests that */
  uint32_t before = probe->gen;   /* follow in the same process (valgrind: CK_FORK=no) */
  wg_tape_free(probe);
  wg_tape_set_next_gen(1);
  wg_tape *t = wg_tape_new();
  wg_var old = wg_input(t, 1, 1, &one);
  ck_assert_uint_eq(old.gen, 1);
  wg_tape_set_next_gen(UINT32_MAX);
  wg_tape_reset(t); /* the last generation */
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_uint_eq(wg_input(t, 1, 1, &one).gen, UINT32_MAX);
  wg_tape_reset(t); /* none left: refused, not generation 1 again */
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_STATE);
  ASSERT_ERROR_HAS(t, "wg_tape_reset: the 4294967295 tape generations are used up");
  ck_assert_str_eq(wg_last_error(), wg_tape_error(t));
  wg_var fresh = wg_input(t, 1, 1, &one);
  ck_assert(NONE(fresh));
  ck_assert_ptr_null(wg_value(t, old).data); /* the generation-1 handle reads nothing */
  wg_tape *u = wg_tape_new(); /* a tape, but one that says why it cannot be used */
  ck_assert_ptr_nonnull(u);
  ck_assert_int_eq(wg_tape_status(u), WG_ERR_STATE);
  ck_assert(strstr(wg_tape_error(u), "wg_tape_new: the 4294967295 tape generations") != NULL);
  wg_tape_free(u);
  wg_tape_free(t);
  wg_tape_set_next_gen(before + 1);
}
END_TEST

/* ---- custom ops that touch their own tape ---------------------------------------------- */
/* y = 2x, whose callbacks, when armed, do something to the tape that runs them: record rows
 * (200: enough to move the row array), replay, run forward mode, reset or free it. The rule:
 * the tape is busy while a custom op's callback runs, and each of these fails it with
 * WG_ERR_STATE naming the op, the callback and the call. Another tape is free to use. */
enum { RECORD_ROWS, REPLAY, FORWARD_MODE, RESET, FREE, N_MEDDLES };
static const char *const meddle_call[N_MEDDLES] = {"scalar", "wg_forward", "wg_jvp",
                                                   "wg_tape_reset", "wg_tape_free"};
enum { IN_SHAPE, IN_FORWARD, IN_VJP, IN_JVP, N_CALLBACKS };
static const char *const callback_name[N_CALLBACKS] = {"shape", "forward", "vjp", "jvp"};

typedef struct {
  wg_tape *own;   /* the tape the op is recorded on */
  int armed;      /* 1: the callback `when` does `what` to own */
  int when, what;
  wg_tape *other; /* when not NULL, every callback also records and sweeps on it */
  wg_param *q;    /* a parameter of the other tape's graph */
} meddle_ctx;

static void meddle(meddle_ctx *c, int callback) {
  if (c->other) { /* another tape: allowed, and it works */
    wg_real two = 2;
    wg_tape_reset(c->other);
    wg_var z = wg_sum(c->other, wg_mul(c->other, wg_input(c->other, 1, 1, &two),
                                       wg_use(c->other, c->q)));
    wg_backward(c->other, z);
  }
  if (!c->armed || c->when != callback) return;
  wg_real one = 1;
  switch (c->what) {
  case RECORD_ROWS:
    for (int k = 0; k < 200; k++) wg_scalar(c->own, one);
    break;
  case REPLAY: wg_forward(c->own); break;
  case FORWARD_MODE: wg_jvp(c->own); break;
  case RESET: wg_tape_reset(c->own); break;
  case FREE: wg_tape_free(c->own); break;
  }
}

static int meddle_shape(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)n;
  meddle(ctx, IN_SHAPE);
  *rows = in[0].rows, *cols = in[0].cols;
  return 0;
}
static void meddle_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)n;
  meddle(ctx, IN_FORWARD);
  for (int i = 0; i < out.rows * out.cols; i++) out.data[i] = 2 * in[0].data[i];
}
static void meddle_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *dx, void *ctx) {
  (void)n, (void)in, (void)out;
  meddle(ctx, IN_VJP);
  for (int i = 0; dx[0].data && i < dy.rows * dy.cols; i++) dx[0].data[i] += 2 * dy.data[i];
}
static void meddle_jvp(int n, const wg_mat *in, const wg_mat *tin, wg_mat out, wg_mat tout,
                       void *ctx) {
  (void)n, (void)in, (void)out;
  meddle(ctx, IN_JVP);
  for (int i = 0; i < tout.rows * tout.cols; i++) tout.data[i] = 2 * tin[0].data[i];
}
static const wg_custom_op meddler = {"meddler", meddle_shape, meddle_forward, meddle_vjp,
                                     meddle_jvp, NULL};

/* W (1x1) = 3; y = meddler(W); L = sum(y): 3 rows, dL/dW = 2 */
static wg_var record_meddler(wg_tape *t, meddle_ctx *c, wg_param *W) {
  wg_var w = wg_use(t, W);
  wg_var y = wg_custom(t, &meddler, c, 1, &w);
  return wg_sum(t, y);
}

/* _i: callback (shape, forward at record, forward in wg_forward, vjp, jvp) x meddle x trace */
START_TEST(custom_op_callbacks_may_not_touch_their_own_tape) {
  int callback = _i / (2 * N_MEDDLES) % 5, what = _i / 2 % N_MEDDLES, traced = _i % 2;
  int at_record = callback <= 1, cb = callback <= 1 ? callback : callback - 1;
  wg_param *W = wg_param_new("W", 1, 1);
  wg_param_value(W).data[0] = 3;
  wg_tape *t = wg_tape_new();
  FILE *trace = fopen("/dev/null", "w");
  if (traced) wg_tape_trace(t, trace);
  meddle_ctx c = {t, at_record, cb, what, NULL, NULL};
  wg_var L = record_meddler(t, &c, W);
  int rows = wg_tape_rows(t);
  if (!at_record) {
    c.armed = 1;
    if (cb == IN_FORWARD) wg_forward(t);
    else if (cb == IN_VJP) wg_backward(t, L);
    else wg_jvp(t);
  }
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_STATE);
  char want[160];
  snprintf(want, sizeof want, "%s: refused: custom op 'meddler' (row 1) is running its %s on "
           "this tape", meddle_call[what], callback_name[cb]);
  ck_assert_msg(strncmp(wg_tape_error(t), want, strlen(want)) == 0, "\"%s\" does not start "
                "with \"%s\"", wg_tape_error(t), want);
  ck_assert_int_eq(wg_tape_rows(t), at_record ? 1 : rows); /* the failed row is not kept */
  ck_assert_int_eq(rows, at_record ? 1 : 3);
  wg_tape_free(t); /* the tape survived its callback's wg_tape_free */
  fclose(trace);
  wg_param_free(W);
}
END_TEST

/* The checks run the callbacks too: the same rule, named the same way. */
START_TEST(custom_op_callbacks_may_not_touch_their_own_tape_in_the_checks) {
  for (int which = 0; which < 3; which++) {
    wg_param *W = wg_param_new("W", 1, 1);
    wg_param_value(W).data[0] = 3;
    wg_tape *t = wg_tape_new();
    meddle_ctx c = {t, 0, which == 0 ? IN_VJP : which == 1 ? IN_FORWARD : IN_JVP, RECORD_ROWS,
                    NULL, NULL};
    wg_var L = record_meddler(t, &c, W);
    c.armed = 1;
    double r = which == 0 ? wg_gradcheck(t, L, NULL, NULL)
             : which == 1 ? wg_check_rows(t, NULL, NULL)
                          : wg_dot_test(t, L, 1);
    ck_assert(r < 0);
    ck_assert_int_eq(wg_tape_status(t), WG_ERR_STATE);
    ASSERT_ERROR_HAS(t, "scalar: refused: custom op 'meddler' (row 1) is running its",
                     callback_name[c.when]);
    ck_assert_int_eq(wg_tape_rows(t), 3);
    ck_assert_double_eq(wg_param_value(W).data[0], 3); /* put back */
    wg_tape_free(t);
    wg_param_free(W);
  }
}
END_TEST

/* Another tape is fine, from every callback, with or without a trace, in the checks too. */
START_TEST(custom_op_callbacks_may_use_another_tape) {
  for (int traced = 0; traced < 2; traced++) {
    wg_param *W = wg_param_new("W", 1, 1), *Q = wg_param_new("Q", 1, 1);
    wg_param_value(W).data[0] = 3;
    wg_param_value(Q).data[0] = 5;
    wg_tape *t = wg_tape_new(), *other = wg_tape_new();
    FILE *trace = fopen("/dev/null", "w");
    if (traced) wg_tape_trace(t, trace), wg_tape_trace(other, trace);
    meddle_ctx c = {t, 0, 0, 0, other, Q};
    wg_var L = record_meddler(t, &c, W);
    wg_forward(t);
    wg_backward(t, L);
    ck_assert_double_eq(wg_param_grad(W).data[0], 2); /* d(2w)/dw */
    ck_assert_int_eq(wg_jvp(t), WG_OK);
    ck_assert_int_eq(wg_gradcheck(t, L, NULL, NULL), 0);
    ck_assert_int_eq(wg_check_rows(t, NULL, NULL), 0);
    ck_assert_double_lt(wg_dot_test(t, L, 1), TU_TOL(1e-15));
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
    ck_assert_int_eq(wg_tape_status(other), WG_OK);
    ck_assert_double_gt(wg_param_grad(Q).data[0], 0); /* d(2q)/dq = 2 per backward on other */
    wg_tape_free(t), wg_tape_free(other);
    fclose(trace);
    wg_param_free(W), wg_param_free(Q);
  }
}
END_TEST

/* Out of memory while recording: the row is not kept, and the message names the op and the
 * row it would have been. */
START_TEST(out_of_memory_in_a_record_keeps_no_row_and_names_it) {
  ca_state st = {0};
  wg_set_allocator(ca_alloc, &st);
  static wg_real x[100 * 400];
  enum { COLS = 200 * sizeof(double) / sizeof(wg_real) }; /* 160000 bytes in either build */
  wg_tape *t = wg_tape_new();
  wg_var big = wg_input(t, 100, COLS, x);
  st.limit = 100000; /* exp's 160000-byte value cannot get an arena chunk */
  ck_assert(NONE(wg_exp(t, big)));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  ck_assert_str_eq(wg_tape_error(t), "exp: out of memory: arena request of 160000 bytes (row 1)");
  ck_assert_int_eq(wg_tape_rows(t), 1);
  wg_tape_reset(t);
  st.limit = 0;
  for (int k = 0; k < 64; k++) wg_scalar(t, k); /* fills the first row list of 64 */
  st.fail_at = st.calls + 1;                    /* growing it fails */
  ck_assert(NONE(wg_scalar(t, 64)));
  ck_assert_str_eq(wg_tape_error(t),
                   "scalar: out of memory: growing the row list to 128 rows (row 64)");
  ck_assert_int_eq(wg_tape_rows(t), 64);
  wg_tape_free(t);
  wg_set_allocator(NULL, NULL);
  ck_assert_uint_eq(st.live, 0);
}
END_TEST

/* A long custom-op name is cut to 63 characters inside its quotes: the message keeps its
 * shape (closing quote, the reason, the row) whatever the name's length. */
static int reject_shape(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)n, (void)in, (void)rows, (void)cols, (void)ctx;
  return 1;
}

START_TEST(a_long_custom_op_name_is_cut_not_the_message) {
  char long_name[201], cut[64];
  memset(long_name, 'q', 200);
  long_name[200] = '\0';
  memset(cut, 'q', 63);
  cut[63] = '\0';
  wg_custom_op op = meddler;
  op.name = long_name;
  char want[256];
  wg_real one = 1;
  wg_tape *t = wg_tape_new();
  wg_var x = wg_input(t, 1, 1, &one);
  wg_custom(t, &op, NULL, 0, &x);
  snprintf(want, sizeof want, "custom op '%s': 0 inputs, but a custom op takes 1 to 4 "
           "(WG_MAX_INPUTS) (row 1)", cut);
  ck_assert_str_eq(wg_tape_error(t), want);
  wg_tape_reset(t);
  x = wg_input(t, 1, 1, &one);
  op.shape = reject_shape;
  wg_custom(t, &op, NULL, 1, &x);
  snprintf(want, sizeof want, "custom op '%s': inputs (1x1): rejected by the op's shape rule "
           "(row 1)", cut);
  ck_assert_str_eq(wg_tape_error(t), want);
  wg_tape_free(t);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("tape");
  TCase *e = tcase_create("errors");
  tcase_add_test(e, matmul_shape_mismatch_names_op_shapes_and_row);
  tcase_add_test(e, broadcast_shape_mismatch_names_op_and_both_shapes);
  tcase_add_test(e, loss_shape_mismatch_names_op_and_both_shapes);
  tcase_add_test(e, stale_handle_from_before_reset_is_reported);
  tcase_add_test(e, handle_from_another_tape_is_reported);
  tcase_add_test(e, handle_with_a_row_beyond_the_tape_is_reported);
  tcase_add_test(e, none_handle_is_reported);
  tcase_add_test(e, backward_from_a_non_scalar_names_the_row_and_shape);
  tcase_add_test(e, param_name_labels_its_row_in_messages);
  tcase_add_test(e, input_with_nonpositive_dimensions_is_an_argument_error);
  tcase_add_test(e, param_with_nonpositive_dimensions_is_null);
  tcase_add_test(e, input_with_null_data_is_an_argument_error);
  tcase_add_test(e, use_of_a_null_param_is_an_argument_error);
  tcase_add_test(e, null_tape_every_call_is_safe);
  tcase_add_test(e, failed_tape_stays_failed_and_keeps_the_first_message);
  tcase_add_test(e, reset_clears_the_failure_and_the_tape_works_again);
  tcase_add_test(e, status_string_names_every_code);
  tcase_add_test(e, backward_without_parameters_is_ok_and_gives_no_adjoints);
  tcase_add_test(e, backward_allocates_no_adjoint_for_the_data);
  suite_add_tcase(s, e);
  TCase *r = tcase_create("replay");
  tcase_add_test(r, replay_after_a_parameter_change_equals_recording_anew);
  tcase_add_test(r, replay_reads_changed_input_data);
  tcase_add_test(r, gradients_accumulate_across_backward_until_zero_grad);
  tcase_add_test(r, parameter_used_twice_gets_both_contributions);
  tcase_add_test(r, direct_gradients_with_dot_test_and_trace_in_between);
  tcase_add_test(r, backward_of_a_parameter_leaf_adds_the_seed);
  tcase_add_test(r, rows_no_vjp_reaches_read_zero);
  tcase_add_test(r, first_writes_give_the_bits_of_zeroing_then_adding);
  tcase_add_test(r, rows_the_loss_does_not_reach_get_no_vjp);
  tcase_add_test(r, binary_ops_first_writes_give_the_bits_of_zeroing_then_adding);
  tcase_add_test(r, backward_from_an_earlier_row_ignores_later_rows);
  tcase_add_test(r, parameter_shared_by_two_tapes_accumulates_both);
  tcase_add_test(r, tape_rows_counts_the_rows);
  suite_add_tcase(s, r);
  TCase *a = tcase_create("arena");
  tcase_add_test(a, reset_and_rerecord_allocates_nothing);
  tcase_add_test(a, replay_allocates_nothing);
  tcase_add_test(a, every_allocation_failure_is_reported_and_nothing_leaks);
  TCase *audit = tcase_create("audit");
  tcase_add_test(audit, set_allocator_is_refused_while_memory_is_live);
  tcase_add_test(audit, generations_are_never_reused);
  tcase_add_test(audit, a_long_custom_op_name_is_cut_not_the_message);
  tcase_add_test(audit, out_of_memory_in_a_record_keeps_no_row_and_names_it);
  tcase_add_loop_test(audit, custom_op_callbacks_may_not_touch_their_own_tape, 0,
                      5 * N_MEDDLES * 2);
  tcase_add_test(audit, custom_op_callbacks_may_not_touch_their_own_tape_in_the_checks);
  tcase_add_test(audit, custom_op_callbacks_may_use_another_tape);
  suite_add_tcase(s, audit);
  suite_add_tcase(s, a);
  return s;
}

WG_TEST_MAIN()

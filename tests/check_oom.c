/* check_oom.c - out-of-memory injection, after SQLite's malloc tests and Lua's ltests.c.
 *
 * Every case is run again and again under the counting allocator (countalloc.h) with its Nth
 * allocation refused, N = 1, 2, ... until a run completes without reaching N: once with only
 * the Nth request failing (transient) and once with the Nth and every later one failing
 * (persistent). Each run must end in WG_ERR_NOMEM (or WG_OK when no request was refused),
 * give back every byte, pass the right size to every free, and leave its tape (if it hands
 * one back) usable after wg_tape_reset.
 *
 * Adding a case: write `static wg_status case_x(oom_out *out)` that does the operation from
 * scratch, frees everything it made (except a tape it hands back in out->tape to be checked
 * for reuse: the harness frees it), and returns WG_ERR_NOMEM when any step reported out of
 * memory (a constructor's NULL, a status); then add a line to `cases[]`. Nothing is printed;
 * WG_OOM_VERBOSE=1 prints how many failures each case injected (to stderr). */
#include <stdio.h>
#include <stdlib.h>

#include "countalloc.h"
#include "testutil.h"

typedef struct {
  wg_tape *tape; /* a tape to check for reuse after the run, or NULL */
} oom_out;

typedef wg_status (*oom_fn)(oom_out *out);

/* ---- the cases --------------------------------------------------------------------------- */

static wg_status case_tape_new(oom_out *out) {
  out->tape = wg_tape_new(); /* documented: NULL if out of memory */
  return out->tape ? WG_OK : WG_ERR_NOMEM;
}

static wg_status case_param_new(oom_out *out) {
  (void)out;
  wg_param *p = wg_param_new("W", 30, 4); /* documented: NULL on error */
  if (!p) return WG_ERR_NOMEM;
  wg_param_free(p);
  return WG_OK;
}

enum { M = 32, D = 16, H = 48 }; /* samples, features, hidden units: a few arena chunks */

/* record Y-hat = sigmoid(tanh(X W1 + b1) W2 + b2) with its loss; returns the loss handle */
static wg_var record_two_layer(wg_tape *t, const wg_real *x, const wg_real *y, wg_param **p) {
  wg_var X = wg_input(t, M, D, x), Y = wg_input(t, M, 1, y);
  wg_var h = wg_tanh(t, wg_add(t, wg_matmul(t, X, wg_use(t, p[0])), wg_use(t, p[1])));
  wg_name(t, h, "hidden");
  wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, p[2])), wg_use(t, p[3]));
  wg_var L = wg_bce_logits(t, z, Y);
  wg_name(t, L, "loss");
  return L;
}

static void sgd(wg_param **p, int n, wg_real lr) {
  for (int k = 0; k < n; k++) {
    wg_mat w = wg_param_value(p[k]), g = wg_param_grad(p[k]);
    for (int i = 0; i < w.rows * w.cols; i++) w.data[i] -= lr * g.data[i];
    wg_param_zero_grad(p[k]);
  }
}

/* One training step of a two-layer network, the way a loop runs it: record, backward, SGD
 * update, replay, backward, update, then reset and record again, backward. */
static wg_status train_step(oom_out *out, unsigned checks) {
  static wg_real x[M * D], y[M];
  unsigned long long seed = 7;
  for (int i = 0; i < M * D; i++) x[i] = tu_uniform(&seed, -1, 1);
  for (int i = 0; i < M; i++) y[i] = x[i * D] > 0;
  wg_param *p[4] = {wg_param_new("W1", D, H), wg_param_new("b1", 1, H), wg_param_new("W2", H, 1),
                    wg_param_new("b2", 1, 1)};
  wg_status s = WG_ERR_NOMEM;
  wg_tape *t = p[0] && p[1] && p[2] && p[3] ? wg_tape_new() : NULL;
  if (t) {
    out->tape = t;
    wg_tape_set_checks(t, checks);
    for (int k = 0; k < 4; k += 2) {
      wg_mat w = wg_param_value(p[k]);
      for (int i = 0; i < w.rows * w.cols; i++) w.data[i] = tu_uniform(&seed, -0.5, 0.5);
    }
    wg_var L = record_two_layer(t, x, y, p);
    wg_backward(t, L);
    if (wg_tape_status(t) == WG_OK) {
      sgd(p, 4, 0.1);
      wg_forward(t);
      wg_backward(t, L);
      sgd(p, 4, 0.1);
    }
    s = wg_tape_status(t); /* checked before the reset clears it, as a loop would */
    if (s == WG_OK) {
      wg_tape_reset(t);
      L = record_two_layer(t, x, y, p);
      s = wg_backward(t, L);
    }
  }
  for (int k = 0; k < 4; k++) wg_param_free(p[k]);
  return s;
}

static wg_status case_train_step(oom_out *out) {
  return train_step(out, 0);
}

static wg_status case_train_step_checked(oom_out *out) {
  return train_step(out, WG_CHECK_FINITE);
}

/* A long chain: the row list grows by realloc (64, 128, 256, 512 rows), names go to the arena,
 * and the backward and forward-mode sweeps allocate adjoints and tangents. */
static wg_status case_many_rows(oom_out *out) {
  wg_param *w = wg_param_new("w", 2, 3);
  wg_tape *t = w ? wg_tape_new() : NULL;
  wg_status s = WG_ERR_NOMEM;
  if (t) {
    out->tape = t;
    wg_var v = wg_use(t, w);
    for (int i = 0; i < 150; i++) {
      v = wg_scale(t, wg_tanh(t, v), 0.9);
      if (i % 10 == 0) wg_name(t, v, "layer");
    }
    wg_var L = wg_mean(t, wg_square(t, v));
    wg_backward(t, L);
    wg_mat tw = wg_tangent(t, wg_use(t, w));
    if (tw.data) tw.data[0] = 1;
    wg_jvp(t);
    s = wg_tape_status(t);
  }
  wg_param_free(w);
  return s;
}

static const struct {
  const char *name;
  oom_fn run;
} cases[] = {
    {"wg_tape_new", case_tape_new},
    {"wg_param_new", case_param_new},
    {"training step", case_train_step},
    {"checked step", case_train_step_checked},
    {"many rows", case_many_rows},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the harness ------------------------------------------------------------------------- */

static ca_state st; /* installed for the whole suite, so every block is counted */

static void install(void) {
  wg_set_allocator(ca_alloc, &st);
}

/* After a failed run: no more failures, reset, record L = sum(x W) with x = [3 4],
 * W = [1 2]^T and backward: L = 3 + 8 = 11, dL/dW = x^T = [3 4]^T (by hand). */
static void check_usable(const char *name, wg_tape *t) {
  wg_param *W = wg_param_new("W", 2, 1);
  ck_assert_ptr_nonnull(W);
  wg_param_value(W).data[0] = 1, wg_param_value(W).data[1] = 2;
  const wg_real x[2] = {3, 4};
  wg_tape_reset(t);
  wg_var L = wg_sum(t, wg_matmul(t, wg_input(t, 1, 2, x), wg_use(t, W)));
  ck_assert_msg(wg_backward(t, L) == WG_OK, "%s: tape not usable after reset: %s", name,
                wg_tape_error(t));
  ck_assert_double_eq(wg_value(t, L).data[0], 11);
  ck_assert_double_eq(wg_param_grad(W).data[0], 3);
  ck_assert_double_eq(wg_param_grad(W).data[1], 4);
  wg_param_free(W);
}

/* Run case c with request n failing; returns 1 when a request was refused (the run must have
 * reported WG_ERR_NOMEM), 0 when the run completed (it must have reported WG_OK). */
static int run_once(int c, long n, int persistent) {
  size_t live0 = st.live;
  st.calls = st.failed = st.bad_size = 0;
  st.fail_at = n;
  st.persistent = persistent;
  oom_out out = {NULL};
  wg_status s = cases[c].run(&out);
  int injected = st.failed > 0;
  st.fail_at = 0;
  const char *err = out.tape ? wg_tape_error(out.tape) : "(no tape)";
  if (injected)
    ck_assert_msg(s == WG_ERR_NOMEM, "%s: request %ld refused (%s) but status is \"%s\": %s",
                  cases[c].name, n, persistent ? "persistent" : "transient",
                  wg_status_string(s), err);
  else
    ck_assert_msg(s == WG_OK, "%s: no request refused but status is \"%s\": %s", cases[c].name,
                  wg_status_string(s), err);
  if (injected && out.tape) {
    ck_assert_msg(wg_tape_status(out.tape) == WG_ERR_NOMEM, "%s: tape status %s", cases[c].name,
                  wg_status_string(wg_tape_status(out.tape)));
  }
  if (out.tape) check_usable(cases[c].name, out.tape);
  wg_tape_free(out.tape);
  ck_assert_msg(st.live == live0, "%s: request %ld refused (%s): %zu bytes leaked",
                cases[c].name, n, persistent ? "persistent" : "transient", st.live - live0);
  ck_assert_msg(st.bad_size == 0, "%s: %ld frees or reallocs passed the wrong size",
                cases[c].name, st.bad_size);
  return injected;
}

static long drive(int c, int persistent) {
  long tried = 0;
  for (long n = 1; run_once(c, n, persistent); n++) {
    tried++;
    ck_assert_msg(n < 100000, "%s: never completes", cases[c].name);
  }
  return tried;
}

START_TEST(test_oom_case) {
  long transient = drive(_i, 0), persistent = drive(_i, 1);
  /* every case allocates at least once, so at least one failure was injected */
  ck_assert_int_gt(transient, 0);
  ck_assert_int_eq(transient, persistent); /* both walk every request of the completed run */
  if (getenv("WG_OOM_VERBOSE"))
    fprintf(stderr, "oom: %-14s %ld transient + %ld persistent failures injected\n",
            cases[_i].name, transient, persistent);
}
END_TEST

/* The harness itself: a refused request must be seen by the library (else the loop above
 * proves nothing). Here request 1 of wg_tape_new is its only one. */
START_TEST(test_allocator_is_used) {
  st.calls = st.failed = 0;
  st.fail_at = 1;
  wg_tape *t = wg_tape_new();
  st.fail_at = 0;
  ck_assert_ptr_null(t);
  ck_assert_int_eq(st.calls, 1);
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "NULL"));
}
END_TEST

/* Replaying a recorded loop allocates nothing after its first step (the arena is kept), so a
 * training loop cannot run out of memory half-way through a later step. */
START_TEST(test_replay_allocates_nothing) {
  wg_param *W = wg_param_new("W", 3, 2);
  wg_tape *t = wg_tape_new();
  const wg_real x[6] = {1, 2, 3, 4, 5, 6};
  wg_var L = wg_mean(t, wg_sigmoid(t, wg_matmul(t, wg_input(t, 2, 3, x), wg_use(t, W))));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  long calls = st.calls;
  for (int step = 0; step < 5; step++) {
    wg_forward(t);
    wg_backward(t, L);
    wg_tape_reset(t);
    L = wg_mean(t, wg_sigmoid(t, wg_matmul(t, wg_input(t, 2, 3, x), wg_use(t, W))));
    wg_backward(t, L);
  }
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_int_eq(st.calls, calls);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("oom");
  TCase *tc = tcase_create("oom");
  tcase_add_unchecked_fixture(tc, install, NULL);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_oom_case, 0, N_CASES);
  tcase_add_test(tc, test_allocator_is_used);
  tcase_add_test(tc, test_replay_allocates_nothing);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

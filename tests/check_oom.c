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
 * WG_OOM_VERBOSE=1 prints how many failures each case injected (to stderr).
 *
 * The cases: a tape and a parameter alone; a training step of a two-layer network (with and
 * without the finite checks); a 150-layer chain; a model saved to an .npz and loaded into
 * another; .npy files written and read; a CSV loaded, split and standardised; a model trained
 * with Adam and with SGD (momentum, Nesterov) and clipped gradients; wg_gradcheck,
 * wg_check_rows and wg_dot_test on a small network; the printers (trace, table, DOT); the gradient recorded as
 * rows with a Hessian-vector product both ways. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* ---- models, optimizers, data, files, checks --------------------------------------------- */

/* a scratch file name for this process (file I/O itself allocates through libc, not the hook) */
static const char *tmp_path(const char *what) {
  static char path[4][64];
  static int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "/tmp/wg_oom_%ld_%s", (long)getpid(), what);
  return path[k];
}

/* a model of the two-layer shapes above; NULL on out of memory */
static wg_model *two_layer_model(uint64_t seed) {
  wg_model *m = wg_model_new(seed);
  if (!m) return NULL;
  wg_init xu = {WG_INIT_XAVIER_UNIFORM, 0, 0}, z = {WG_INIT_ZEROS, 0, 0};
  if (wg_model_add(m, "W1", D, H, xu, NULL) || wg_model_add(m, "b1", 1, H, z, NULL) ||
      wg_model_add(m, "W2", H, 1, xu, NULL) || wg_model_add(m, "b2", 1, 1, z, NULL)) {
    wg_model_free(m);
    return NULL;
  }
  return m;
}

/* wg_model_save of one model, wg_model_load into another made with a different seed: the
 * second then holds the first's values. */
static wg_status case_model_save_load(oom_out *out) {
  (void)out;
  const char *path = tmp_path("model.npz");
  wg_model *a = two_layer_model(1), *b = a ? two_layer_model(2) : NULL;
  wg_status s = b ? wg_model_save(a, path) : WG_ERR_NOMEM;
  if (s == WG_OK) s = wg_model_load(b, path);
  if (s == WG_OK)
    for (int k = 0; k < wg_model_count(a); k++) {
      wg_mat va = wg_param_value(wg_model_get(a, k)), vb = wg_param_value(wg_model_get(b, k));
      for (int i = 0; i < va.rows * va.cols; i++) ck_assert_double_eq(va.data[i], vb.data[i]);
    }
  wg_model_free(a);
  wg_model_free(b);
  remove(path);
  return s;
}

/* wg_npy_save of a 2-D and a 1-D matrix and wg_npy_load of each: the same numbers back */
static wg_status case_npy(oom_out *out) {
  (void)out;
  wg_real v[3 * 5];
  for (int i = 0; i < 15; i++) v[i] = 0.25 * i - 1;
  const char *p2 = tmp_path("m2.npy"), *p1 = tmp_path("m1.npy");
  wg_status s = wg_npy_save(p2, (wg_mat){3, 5, v}, 2, NULL, 0);
  if (s == WG_OK) s = wg_npy_save(p1, (wg_mat){1, 15, v}, 1, NULL, 0);
  wg_mat a = {0, 0, NULL}, b = {0, 0, NULL};
  if (s == WG_OK) s = wg_npy_load(p2, &a, NULL, 0);
  if (s == WG_OK) s = wg_npy_load(p1, &b, NULL, 0);
  if (s == WG_OK) {
    ck_assert_int_eq(a.rows, 3);
    ck_assert_int_eq(a.cols, 5);
    ck_assert_int_eq(b.rows, 1);
    ck_assert_int_eq(b.cols, 15);
    for (int i = 0; i < 15; i++) {
      ck_assert_double_eq(a.data[i], v[i]);
      ck_assert_double_eq(b.data[i], v[i]);
    }
  }
  wg_npy_free(&a);
  wg_npy_free(&b);
  remove(p1), remove(p2);
  return s;
}

/* wg_csv_load of a file larger than the loader's first 64 KB buffer (so it grows), then a
 * split and a scaler fitted on the training part and applied to both */
static wg_status case_csv(oom_out *out) {
  (void)out;
  enum { ROWS = 3000 }; /* about 80 KB */
  const char *path = tmp_path("data.csv");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "alpha,beta,gamma,delta,label\n");
  for (int i = 0; i < ROWS; i++)
    fprintf(f, "%d.125,%d.5,-%d.75,%d,%d\n", i, 2 * i, i % 7, i % 11, i % 2);
  ck_assert_int_eq(fclose(f), 0);
  wg_dataset d, train = {0}, test = {0};
  wg_scaler sc = {0};
  wg_rng r;
  wg_rng_seed(&r, 3);
  wg_status s = wg_csv_load(&d, path, "label", -1, NULL, 0);
  if (s == WG_OK) {
    ck_assert_int_eq(d.rows, ROWS);
    ck_assert_int_eq(d.cols, 4);
    ck_assert_double_eq(d.x[4 * 9 + 1], 18.5); /* row 9 as written: 9.125,18.5,-2.75,9,1 */
    ck_assert_double_eq(d.x[4 * 9 + 2], -2.75);
    ck_assert_double_eq(d.y[9], 1);
    s = wg_dataset_split(&d, 0.2, &r, &train, &test, NULL, 0);
  }
  if (s == WG_OK) s = wg_scaler_fit(&sc, &train, NULL, 0);
  if (s == WG_OK) s = wg_scaler_apply(&sc, &train, NULL, 0);
  if (s == WG_OK) s = wg_scaler_apply(&sc, &test, NULL, 0);
  if (s == WG_OK) ck_assert_int_eq(train.rows + test.rows, ROWS);
  wg_scaler_free(&sc);
  wg_dataset_free(&train), wg_dataset_free(&test), wg_dataset_free(&d);
  remove(path);
  return s;
}

/* A model with an optimizer: Adam and SGD with momentum, two steps each on the two-layer
 * network (record, backward, step, replay, backward, step), then the gradient clipped. */
static wg_status optim_steps(oom_out *out, wg_optim_config cfg) {
  static wg_real x[M * D], y[M];
  unsigned long long seed = 11;
  for (int i = 0; i < M * D; i++) x[i] = tu_uniform(&seed, -1, 1);
  for (int i = 0; i < M; i++) y[i] = x[i * D + 1] > 0;
  wg_model *m = two_layer_model(5);
  char err[128];
  wg_optim *o = m ? wg_optim_new(m, cfg, err, sizeof err) : NULL;
  wg_tape *t = o ? wg_tape_new() : NULL;
  wg_status s = WG_ERR_NOMEM;
  if (t) {
    out->tape = t;
    wg_param *p[4];
    for (int k = 0; k < 4; k++) p[k] = wg_model_get(m, k);
    wg_var L = record_two_layer(t, x, y, p);
    for (int step = 0; step < 2 && wg_backward(t, L) == WG_OK; step++) {
      wg_clip_grad_norm(m, 5.0);
      ck_assert_int_eq(wg_optim_step(o), WG_OK);
      wg_model_zero_grad(m);
      wg_forward(t);
    }
    s = wg_tape_status(t);
    if (s == WG_OK) ck_assert_int_eq(wg_optim_steps(o), 2);
  }
  wg_optim_free(o);
  wg_model_free(m);
  return s;
}

static wg_status case_optim_adam(oom_out *out) {
  return optim_steps(out, wg_adam_config(1e-2));
}

static wg_status case_optim_sgd(oom_out *out) {
  return optim_steps(out, wg_sgd_config(0.1, 0.9, 1));
}

/* The three derivative checks on a small network (4 samples, 3 features, 5 hidden units):
 * every one must pass when nothing is refused. */
static wg_status case_checks(oom_out *out) {
  const wg_real x[4 * 3] = {0.5, -1, 2, 1.5, 0.25, -0.5, -2, 1, 0.75, 0.1, 0.2, -0.3};
  const wg_real y[4] = {1, 0, 1, 0};
  wg_model *m = wg_model_new(9);
  wg_init xu = {WG_INIT_XAVIER_UNIFORM, 0, 0};
  wg_param *w1 = NULL, *w2 = NULL;
  wg_status s = m ? wg_model_add(m, "W1", 3, 5, xu, &w1) : WG_ERR_NOMEM;
  if (s == WG_OK) s = wg_model_add(m, "W2", 5, 1, xu, &w2);
  wg_tape *t = s == WG_OK ? wg_tape_new() : NULL;
  if (s == WG_OK && !t) s = WG_ERR_NOMEM;
  if (t) {
    out->tape = t;
    wg_var X = wg_input(t, 4, 3, x), Y = wg_input(t, 4, 1, y);
    wg_var h = wg_tanh(t, wg_matmul(t, X, wg_use(t, w1)));
    wg_var z = wg_matmul(t, h, wg_use(t, w2));
    wg_var L = wg_bce_logits(t, z, Y);
    wg_gradcheck_result res;
    int failed = wg_gradcheck(t, L, NULL, &res);
    if (failed >= 0) {
      ck_assert_int_eq(failed, 0);
      ck_assert_int_eq(res.checked, 3 * 5 + 5);
      failed = wg_check_rows(t, NULL, &res);
    }
    if (failed >= 0) {
      ck_assert_int_eq(failed, 0);
      double rel = wg_dot_test(t, z, 4);
      if (rel >= 0) ck_assert_double_lt(rel, TU_TOL(1e-12));
    }
    s = wg_tape_status(t);
  }
  wg_model_free(m);
  return s;
}

/* The printers on the two-layer network: the backward traced, then the table and the DOT
 * graph (wg_tape_dot takes scratch memory; wg_tape_trace a buffer per step). */
static wg_status case_print(oom_out *out) {
  static wg_real x[M * D], y[M];
  for (int i = 0; i < M * D; i++) x[i] = (i % 7) * 0.25 - 0.75;
  for (int i = 0; i < M; i++) y[i] = i % 2;
  wg_model *m = two_layer_model(13);
  wg_tape *t = m ? wg_tape_new() : NULL;
  FILE *sink = fopen("/dev/null", "w");
  ck_assert_ptr_nonnull(sink);
  wg_status s = WG_ERR_NOMEM;
  if (t) {
    out->tape = t;
    wg_param *p[4];
    for (int k = 0; k < 4; k++) p[k] = wg_model_get(m, k);
    wg_var L = record_two_layer(t, x, y, p);
    wg_tape_trace(t, sink);
    wg_backward(t, L);
    wg_tape_trace(t, NULL);
    wg_tape_print(t, sink);
    wg_tape_dot(t, sink);
    s = wg_tape_status(t);
  }
  fclose(sink);
  wg_model_free(m);
  return s;
}


/* The gradient recorded as rows (wg_gradients), a Hessian-vector product by forward mode
 * (wg_hvp) and by reverse over reverse (wg_backward of sum(grad * v)), then a replay. */
static wg_status case_gradients(oom_out *out) {
  static wg_real x[M * D], y[M], v1[D * H];
  unsigned long long seed = 11;
  for (int i = 0; i < M * D; i++) x[i] = tu_uniform(&seed, -1, 1);
  for (int i = 0; i < M; i++) y[i] = x[i * D] > 0;
  for (int i = 0; i < D * H; i++) v1[i] = tu_uniform(&seed, -1, 1);
  wg_param *p[4] = {wg_param_new("W1", D, H), wg_param_new("b1", 1, H), wg_param_new("W2", H, 1),
                    wg_param_new("b2", 1, 1)};
  wg_status s = WG_ERR_NOMEM;
  wg_tape *t = p[0] && p[1] && p[2] && p[3] ? wg_tape_new() : NULL;
  if (t) {
    out->tape = t;
    wg_var L = record_two_layer(t, x, y, p);
    wg_var wrt[4], G[4];
    for (int k = 0; k < 4; k++) wrt[k] = wg_use(t, p[k]);
    if (wg_gradients(t, L, 4, wrt, G) == WG_OK) {
      static wg_real zero[H], hv[4][D * H];
      const wg_real *v[4] = {v1, zero, zero, zero};
      wg_real *h[4] = {hv[0], hv[1], hv[2], hv[3]};
      wg_hvp(t, 4, wrt, G, v, h);
      wg_var S = wg_sum(t, wg_mul(t, G[0], wg_input(t, D, H, v1)));
      wg_backward(t, S);
      wg_forward(t);
    }
    s = wg_tape_status(t);
  }
  for (int k = 0; k < 4; k++) wg_param_free(p[k]);
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
    {"model save+load", case_model_save_load},
    {"npy save+load", case_npy},
    {"csv load+split", case_csv},
    {"adam steps", case_optim_adam},
    {"sgd steps", case_optim_sgd},
    {"gradchecks", case_checks},
    {"trace+print+dot", case_print},
    {"gradients+hvp", case_gradients},
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
    fprintf(stderr, "oom: %-16s %ld transient + %ld persistent failures injected\n",
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

/* check_threads.c - separate tapes on separate threads do not interfere.
 *
 * Two threads each train their own two-layer network on their own tape (record, backward, SGD,
 * replay, reset and record again) while the other does the same; the only shared state is
 * the process-wide generation counter (atomic) and the allocator hook (read-only here). Each
 * thread's result must equal, bit for bit, the same training run alone on the main thread
 * before the threads start. A second test does the same with the library's own thread pool
 * on (products, elementwise passes and optimizer steps large enough to be split, from two
 * user threads at once). `make tsan` runs this under ThreadSanitizer. */
#include <pthread.h>
#include <string.h>

#include "ops/gemm.h"
#include "ops/vmath.h"
#include "testutil.h"

enum { M = 16, D = 8, H = 12, STEPS = 40 };

typedef struct {
  unsigned long long seed; /* data and initial weights */
  wg_real loss;            /* final loss */
  wg_real w[D * H + H + H + 1];
  wg_status status;
  uint32_t gens[STEPS];    /* the generation of every handle seen: must all differ */
} job;

static wg_var record(wg_tape *t, const wg_real *x, const wg_real *y, wg_param **p) {
  wg_var X = wg_input(t, M, D, x), Y = wg_input(t, M, 1, y);
  wg_var h = wg_tanh(t, wg_add(t, wg_matmul(t, X, wg_use(t, p[0])), wg_use(t, p[1])));
  wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, p[2])), wg_use(t, p[3]));
  return wg_bce_logits(t, z, Y);
}

static void *train(void *arg) {
  job *j = arg;
  wg_real x[M * D], y[M];
  unsigned long long s = j->seed;
  for (int i = 0; i < M * D; i++) x[i] = tu_uniform(&s, -1, 1);
  for (int i = 0; i < M; i++) y[i] = x[i * D] + x[i * D + 1] > 0;
  wg_param *p[4] = {wg_param_new("W1", D, H), wg_param_new("b1", 1, H), wg_param_new("W2", H, 1),
                    wg_param_new("b2", 1, 1)};
  for (int k = 0; k < 4; k += 2) {
    wg_mat w = wg_param_value(p[k]);
    for (int i = 0; i < w.rows * w.cols; i++) w.data[i] = tu_uniform(&s, -0.5, 0.5);
  }
  wg_tape *t = wg_tape_new();
  wg_var L = record(t, x, y, p);
  for (int step = 0; step < STEPS; step++) {
    if (step % 2) { /* alternate replay and re-recording */
      wg_tape_reset(t);
      L = record(t, x, y, p);
    } else if (step) {
      wg_forward(t);
    }
    j->gens[step] = L.gen;
    for (int k = 0; k < 4; k++) wg_param_zero_grad(p[k]);
    wg_backward(t, L);
    for (int k = 0; k < 4; k++) {
      wg_mat w = wg_param_value(p[k]), g = wg_param_grad(p[k]);
      for (int i = 0; i < w.rows * w.cols; i++) w.data[i] -= 0.5 * g.data[i];
    }
  }
  wg_forward(t);
  j->status = wg_tape_status(t);
  j->loss = wg_value(t, L).data[0];
  size_t o = 0;
  for (int k = 0; k < 4; k++) {
    wg_mat w = wg_param_value(p[k]);
    memcpy(j->w + o, w.data, (size_t)w.rows * (size_t)w.cols * sizeof *w.data);
    o += (size_t)w.rows * (size_t)w.cols;
  }
  wg_tape_free(t);
  for (int k = 0; k < 4; k++) wg_param_free(p[k]);
  return NULL;
}

START_TEST(test_two_threads_two_tapes) {
  static job alone[2], threaded[2];
  for (int k = 0; k < 2; k++) {
    alone[k].seed = threaded[k].seed = 11 + 1000 * (unsigned long long)k;
    train(&alone[k]);
    ck_assert_int_eq(alone[k].status, WG_OK);
  }
  /* training made progress (log 2 = 0.693 is the loss of a constant 1/2 prediction) */
  ck_assert(alone[0].loss < 0.6 && alone[1].loss < 0.6);
  pthread_t th[2];
  for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_create(&th[k], NULL, train, &threaded[k]), 0);
  for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_join(th[k], NULL), 0);
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(threaded[k].status, WG_OK);
    ck_assert(threaded[k].loss == alone[k].loss);
    ck_assert(memcmp(threaded[k].w, alone[k].w, sizeof alone[k].w) == 0);
  }
  /* generations are never shared between the two tapes (the counter is atomic) */
  for (int a = 0; a < STEPS; a++)
    for (int b = 0; b < STEPS; b++) ck_assert_uint_ne(threaded[0].gens[a], threaded[1].gens[b]);
}
END_TEST

/* Work the pool splits: a product, an elementwise pass, an optimizer step. */
enum { PM = 200, PN = 180, PK = 120, PV = 40000 }; /* each above the pool's split sizes */

typedef struct {
  unsigned long long seed;
  double C[PM * PN], y[PV], w[PM * PN];
} pool_job;

static void *pool_work(void *arg) {
  pool_job *j = arg;
  double *A = malloc(PM * PK * sizeof *A), *B = malloc(PK * PN * sizeof *B), *x = malloc(PV * sizeof *x);
  unsigned long long s = j->seed;
  for (int i = 0; i < PM * PK; i++) A[i] = tu_uniform(&s, -1, 1);
  for (int i = 0; i < PK * PN; i++) B[i] = tu_uniform(&s, -1, 1);
  for (int i = 0; i < PV; i++) x[i] = tu_uniform(&s, -5, 5);
  wg_gemm(0, 1, PM, PN, PK, A, PK, B, PK, 0, j->C, PN); /* C = A (B^T)^T: B read transposed */
  wg_vtanh(x, j->y, PV);
  wg_model *m = wg_model_new(j->seed);
  wg_param *p;
  wg_init init = {WG_INIT_UNIFORM, -1, 1};
  wg_model_add(m, "W", PM, PN, init, &p);
  wg_optim *o = wg_optim_new(m, wg_adam_config(0.01), NULL, 0);
  memcpy(wg_param_grad(p).data, j->C, sizeof j->C);
  wg_optim_step(o);
  memcpy(j->w, wg_param_value(p).data, sizeof j->w);
  wg_optim_free(o);
  wg_model_free(m);
  free(A), free(B), free(x);
  return NULL;
}

START_TEST(test_pool_threads) {
  static pool_job alone[2], pooled[2];
  wg_set_threads(1);
  for (int k = 0; k < 2; k++) {
    alone[k].seed = pooled[k].seed = 5 + (unsigned long long)k;
    pool_work(&alone[k]);
  }
  for (int th = 2; th <= 4; th++) {
    ck_assert_int_eq(wg_set_threads(th), th);
    pthread_t t[2];
    memset(pooled[0].C, 0, sizeof pooled[0].C), memset(pooled[1].C, 0, sizeof pooled[1].C);
    for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_create(&t[k], NULL, pool_work, &pooled[k]), 0);
    for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_join(t[k], NULL), 0);
    for (int k = 0; k < 2; k++) {
      ck_assert_msg(memcmp(pooled[k].C, alone[k].C, sizeof alone[k].C) == 0, "gemm, %d threads", th);
      ck_assert_msg(memcmp(pooled[k].y, alone[k].y, sizeof alone[k].y) == 0, "tanh, %d threads", th);
      ck_assert_msg(memcmp(pooled[k].w, alone[k].w, sizeof alone[k].w) == 0, "adam, %d threads", th);
    }
  }
  wg_set_threads(1);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_two_threads_two_tapes);
  tcase_add_test(tc, test_pool_threads);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

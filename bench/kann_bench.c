/* kann_bench.c - the optional KANN peer of bench/bench.c (issue 15): the W2 and W3 MLP steps
 * in KANN (github.com/attractivechaos/kann, float32 only), built against KANN's source where
 * the caller has it and never kept in this project:
 *
 *   make bench KANN=/path/to/kann     (with libopenblas-dev: KANN's matrix products use
 *                                      cblas_sgemm, its HAVE_CBLAS build)
 *
 * One step as in bench.c: forward, backward (kann_cost with gradients) and an SGD update of
 * every variable, on the same shapes: W2 X 256x512 -> dense 256, tanh -> dense 1, sigmoid,
 * binary cross-entropy (KANN_C_CEB); W3 X 128x784 -> 512 relu -> 512 relu -> 1. Data uniform
 * in [-1, 1), labels 0/1. Prints "kann W2 <us>" and "kann W3 <us>", the median of 5 batches
 * of steps, one thread (KANN's own multi-threading left off). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kann.h"

#define LR 0.01f

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static kann_t *mlp(int n_in, int n_hidden, int layers, int relu) {
  kad_node_t *t = kann_layer_input(n_in);
  for (int l = 0; l < layers; l++) {
    t = kann_layer_dense(t, n_hidden);
    t = relu ? kad_relu(t) : kad_tanh(t);
  }
  return kann_new(kann_layer_cost(t, 1, KANN_C_CEB), 0);
}

static void step(kann_t *a) {
  kann_cost(a, 0, 1);
  int n = kann_size_var(a);
  for (int i = 0; i < n; i++) a->x[i] -= LR * a->g[i];
}

static double median_us(kann_t *a, double budget_us) {
  step(a);
  double t0 = now_us();
  step(a);
  double one = now_us() - t0;
  int batch = one > 0 ? (int)(budget_us / one) + 1 : 100, i, r;
  double times[5], tmp;
  for (r = 0; r < 5; r++) {
    t0 = now_us();
    for (i = 0; i < batch; i++) step(a);
    times[r] = (now_us() - t0) / batch;
  }
  for (r = 0; r < 5; r++)
    for (i = r + 1; i < 5; i++)
      if (times[i] < times[r]) tmp = times[r], times[r] = times[i], times[i] = tmp;
  return times[2];
}

static double run(int m, int n_in, int n_hidden, int layers, int relu) {
  float *x = malloc((size_t)m * n_in * sizeof *x), *y = malloc((size_t)m * sizeof *y);
  if (!x || !y) exit(1);
  for (int i = 0; i < m * n_in; i++) x[i] = 2.0f * (float)kann_drand() - 1.0f;
  for (int i = 0; i < m; i++) y[i] = kann_drand() < 0.5 ? 0.0f : 1.0f;
  kann_t *a = mlp(n_in, n_hidden, layers, relu);
  if (!a) exit(1);
  kann_set_batch_size(a, m);
  kann_feed_bind(a, KANN_F_IN, 0, &x);
  kann_feed_bind(a, KANN_F_TRUTH, 0, &y);
  kann_switch(a, 1);
  double us = median_us(a, 3e5);
  kann_delete(a);
  free(x), free(y);
  return us;
}

int main(void) {
  kann_srand(11);
  printf("kann W2 %.1f\n", run(256, 512, 256, 1, 0));
  printf("kann W3 %.1f\n", run(128, 784, 512, 2, 1));
  return 0;
}

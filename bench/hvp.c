/* hvp.c - the Hessian-vector product of the W2 network, wengert against PyTorch's double
 * backward (issue 16's target: at most 1.0x PyTorch's time, one thread, float64).
 *
 *   W2: X (256 x 512) -> tanh(X W1 + b1) (256) -> sigmoid(. W2 + b2) (1), L = bce(A, y)
 *   H v for v random in the shapes of (W1, b1, W2, b2): 131,841 parameters.
 *
 * wengert, two ways, each timed per product:
 *   record  wg_tape_reset, record the loss, wg_gradients (the gradient as rows), wg_hvp
 *           (forward mode over them): what PyTorch does each time, building its graph anew;
 *   replay  the tape recorded once; wg_forward (loss and gradient rows for the current
 *           values) and wg_hvp: the way a training loop or Newton-CG runs it.
 * PyTorch (bench/torch_hvp.py): torch.autograd.grad(L, params, create_graph=True), then
 * torch.autograd.grad(sum(g * v), params): reverse over reverse.
 *
 *   build/bench/hvp [--torch "COMMAND"]   (make bench-hvp, or part of make bench) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wengert.h"

#define M 256
#define IN 512
#define HID 256

static unsigned long long rng_state = 12345;
static double uniform(double lo, double hi) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct {
  double x[M * IN], y[M];
  wg_param *p[4];
  double *v[4], *hv[4];
  wg_tape *t;
  wg_var uses[4], grads[4];
} w2;

static void record(w2 *n) {
  wg_tape *t = n->t;
  wg_tape_reset(t);
  wg_var X = wg_input(t, M, IN, n->x);
  for (int k = 0; k < 4; k++) n->uses[k] = wg_use(t, n->p[k]);
  wg_var h = wg_tanh(t, wg_add(t, wg_matmul(t, X, n->uses[0]), n->uses[1]));
  wg_var a = wg_sigmoid(t, wg_add(t, wg_matmul(t, h, n->uses[2]), n->uses[3]));
  wg_var L = wg_bce(t, a, wg_input(t, M, 1, n->y));
  wg_gradients(t, L, 4, n->uses, n->grads);
}

static void hvp(w2 *n) {
  if (wg_hvp(n->t, 4, n->uses, n->grads, (const wg_real *const *)n->v, n->hv) != WG_OK) {
    fprintf(stderr, "hvp: %s\n", wg_tape_error(n->t));
    exit(1);
  }
}

static void step_record(w2 *n) {
  record(n);
  hvp(n);
}

static void step_replay(w2 *n) {
  wg_forward(n->t);
  hvp(n);
}

/* median over 5 batches of microseconds per call, each batch about budget_us long */
static double median_us(void (*step)(w2 *), w2 *n, double budget_us) {
  step(n);
  double t0 = now_us();
  step(n);
  double one = now_us() - t0;
  int batch = one > 0 ? (int)fmax(1, fmin(1000, budget_us / one)) : 100;
  double times[5];
  for (int r = 0; r < 5; r++) {
    t0 = now_us();
    for (int i = 0; i < batch; i++) step(n);
    times[r] = (now_us() - t0) / batch;
  }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      if (times[j] < times[i]) {
        double s = times[i];
        times[i] = times[j], times[j] = s;
      }
  return times[2];
}

static double median3(const double *v) {
  double a = v[0], b = v[1], c = v[2];
  return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

static double torch_us(const char *cmd) {
  FILE *f = popen(cmd, "r");
  double us = -1;
  if (!f) return -1;
  char line[256];
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "HVP %lf", &us) == 1) break;
  pclose(f);
  return us;
}

int main(int argc, char **argv) {
  const char *torch = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--torch") == 0 && i + 1 < argc) torch = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--torch \"COMMAND\"]\n", argv[0]);
      return 2;
    }
  }
  static w2 n;
  static const int rows[4] = {IN, 1, HID, 1}, cols[4] = {HID, HID, 1, 1};
  for (int i = 0; i < M * IN; i++) n.x[i] = uniform(-1, 1);
  for (int i = 0; i < M; i++) n.y[i] = uniform(0, 1) < 0.5 ? 0 : 1;
  for (int k = 0; k < 4; k++) {
    n.p[k] = wg_param_new("p", rows[k], cols[k]);
    size_t c = (size_t)rows[k] * cols[k];
    n.v[k] = malloc(c * sizeof(double));
    n.hv[k] = malloc(c * sizeof(double));
    double s = k % 2 ? 0 : 1 / sqrt((double)rows[k]);
    for (size_t i = 0; i < c; i++) wg_param_value(n.p[k]).data[i] = uniform(-s, s);
    for (size_t i = 0; i < c; i++) n.v[k][i] = uniform(-1, 1);
  }
  wg_set_threads(1);
  n.t = wg_tape_new();
  record(&n);
  printf("HVP of W2 (X 256x512, tanh 256, sigmoid 1, bce; 131,841 parameters), float64, one "
         "thread; 3 rounds, each wengert then PyTorch, medians of 5 batches per measurement\n");
  double rec[3], rep[3], pt[3], ratio[3];
  int have_torch = torch != NULL;
  for (int round = 0; round < 3; round++) {
    rec[round] = median_us(step_record, &n, 3e5);
    rep[round] = median_us(step_replay, &n, 3e5);
    pt[round] = have_torch ? torch_us(torch) : -1;
    if (pt[round] <= 0) have_torch = 0;
    ratio[round] = have_torch ? rec[round] / pt[round] : 0;
    printf("  round %d: wengert record + wg_gradients + wg_hvp %8.0f us, replay (wg_forward) + "
           "wg_hvp %8.0f us", round + 1, rec[round], rep[round]);
    if (have_torch) printf(", PyTorch double backward %8.0f us: ratio %.2f", pt[round], ratio[round]);
    printf("\n");
  }
  if (have_torch) {
    double r = median3(ratio), rr[3];
    for (int i = 0; i < 3; i++) rr[i] = rep[i] / pt[i];
    printf("  median ratio to PyTorch: record %.2fx, replay %.2fx; target <= 1.00x: %s\n", r,
           median3(rr), r <= 1.0 ? "met" : "NOT met");
  } else {
    printf("  PyTorch: not available, no ratio\n");
  }
  for (int k = 0; k < 4; k++) wg_param_free(n.p[k]), free(n.v[k]), free(n.hv[k]);
  wg_tape_free(n.t);
  return 0;
}

/* bench.c - wengert's benchmark (make bench): training steps per workload, the matmul kernel,
 * hand-written closed-form C versions of W1-W3 (no tape, the same kernels), two threads
 * against one, and heap allocations per step; with the peers that are installed, side by side:
 *   OpenBLAS  cblas_dgemm (cblas_sgemm in the float build) from libopenblas.so.0, loaded at
 *             run time with dlopen (so nothing is needed to build), one thread,
 *             OPENBLAS_L2_SIZE unset and OPENBLAS_CORETYPE unset (its own choice of kernel)
 *             unless --openblas-core NAME asks for one;
 *   PyTorch   bench/torch_bench.py run as a child process between rounds of wengert's own,
 *             in the precision of the build.
 * It prints the kernel it runs (tile, vector width, precision, block sizes), one table and
 * every ratio the performance targets name. The same source builds build/bench/bench
 * (float64) and, linked against the float library, build/bench/bench-f32 (float32).
 *
 *   bench [--quick] [--only C] [--torch "PYTHON bench/torch_bench.py"] [--openblas-core NAME]
 *   (--only C: the convolution workload alone, for measuring it on a shared machine)
 *
 * Workloads (one step = replay or record, forward, backward, SGD update; wg_real):
 *   W1  logistic regression: X 569x30, W 30x1, b 1x1, sigmoid, wg_bce
 *   W2  MLP 256x512 -> 256 (tanh) -> 1 (sigmoid), wg_bce
 *   W3  MLP 128x784 -> 512 (relu) -> 512 (relu) -> 1 (sigmoid), wg_bce
 *   W4  a 1x1 chain: 1000 x v = sigmoid(1.5 v + 0.1) (3000 rows), wg_sum, backward
 *   G   C = A B of two NxN parameters, N = 128..1024: forward (replay) and backward
 *   C   a LeNet-sized convolution: X 64 x (1*28*28), 6 output channels of 5x5, stride 1, no
 *       padding (Y 64 x 6*24*24): forward (replay) and backward of sum(conv2d(X, W)) into dX
 *       and dW; PyTorch: torch.nn.functional.conv2d on (64, 1, 28, 28), weight (6, 1, 5, 5)
 * Timing: every variant of a workload (and its peer) runs in interleaved batches, batch after
 * batch, so they see the same machine load; each number is the median over the batches of
 * the time per step. The machine is shared: compare the ratios of one run. */
#if defined(__linux__)
#define _GNU_SOURCE /* pthread_setaffinity_np, sched_getcpu: pinning the bench's own threads */
#include <sched.h>
#endif
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/gemm.h"
#include "kernels/vmath.h"
#include "par/pool.h"
#include "wengert.h"

/* ---- timing and allocation counting ------------------------------------------------------- */

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static long n_allocs; /* heap allocations (new blocks and growths) through the library's hook */

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud, (void)old_size;
  if (new_size == 0) {
    free(ptr);
    return NULL;
  }
  n_allocs++;
  return realloc(ptr, new_size);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int quick; /* --quick: fewer repeats (a smoke run) */

/* One variant to time: a step function, its context, the thread count it runs with. */
typedef struct {
  void (*step)(void *);
  void *ctx;
  int threads;
  int batch;   /* steps per timed batch (calibrated) */
  int n;       /* batches timed so far */
  double t[64];/* microseconds per step, per batch */
} variant;

static void use_threads(int n) {
  static int current = 1;
  if (n != current) current = wg_set_threads(n) == n ? n : -1;
}

/* Calibrate each variant's batch to ~budget_us, then time `reps` rounds in which every
 * variant runs one batch after the other, each batch after one untimed step (the variant
 * before may have left the data in another core's cache, or in none). Results accumulate in
 * v->t (call again to add). */
static void run_interleaved(variant *v, int nv, int reps, double budget_us) {
  for (int i = 0; i < nv; i++) {
    if (v[i].batch) continue;
    use_threads(v[i].threads);
    v[i].step(v[i].ctx); /* warm up: first-step allocations, caches */
    v[i].step(v[i].ctx);
    double t0 = now_us();
    v[i].step(v[i].ctx);
    double one = now_us() - t0;
    v[i].batch = one > 0 ? (int)(budget_us / one) : 1000;
    if (v[i].batch < 1) v[i].batch = 1;
    if (v[i].batch > 100000) v[i].batch = 100000;
  }
  for (int r = 0; r < reps; r++)
    for (int i = 0; i < nv; i++) {
      if (v[i].n >= 64) continue;
      use_threads(v[i].threads);
      v[i].step(v[i].ctx); /* untimed: moves the data into the caches this variant uses */
      double t0 = now_us();
      for (int k = 0; k < v[i].batch; k++) v[i].step(v[i].ctx);
      v[i].t[v[i].n++] = (now_us() - t0) / v[i].batch;
    }
  use_threads(1);
}

static double median(double *t, int n) {
  if (n == 0) return NAN;
  qsort(t, (size_t)n, sizeof t[0], cmp_double);
  return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int reps_per_round(void) {
  return quick ? 3 : 5;
}
static int rounds(void) {
  return quick ? 1 : 3;
}

/* ---- PyTorch: a child process per round ------------------------------------------------ */

static const char *torch_cmd; /* NULL: PyTorch not available */

/* Median us/step of workload `key` in PyTorch, or NAN. */
static double torch_time(const char *key) {
  if (!torch_cmd) return NAN;
  char cmd[1024], name[32];
  snprintf(cmd, sizeof cmd, "%s %s%s%s", torch_cmd, key, quick ? " --quick" : "",
           sizeof(wg_real) == 4 ? " --float32" : "");
  FILE *f = popen(cmd, "r");
  if (!f) return NAN;
  double us = NAN;
  while (fscanf(f, "%31s %lf", name, &us) == 2)
    if (!strcmp(name, key)) break;
  pclose(f);
  return us;
}

/* ---- OpenBLAS: dlopen'ed cblas_dgemm or cblas_sgemm ------------------------------------- */

typedef void (*gemm_fn)(int order, int ta, int tb, int m, int n, int k, wg_real alpha,
                        const wg_real *A, int lda, const wg_real *B, int ldb, wg_real beta,
                        wg_real *C, int ldc);
static gemm_fn ob_dgemm; /* the gemm of wg_real's precision */
static char ob_name[64], ob_core[64] = "?";

/* core: NULL for OpenBLAS's own choice of kernel (OPENBLAS_CORETYPE unset), else its name */
static void openblas_load(const char *core) {
  /* before the library initialises: one thread, no cache-size override */
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  if (core) setenv("OPENBLAS_CORETYPE", core, 1);
  else unsetenv("OPENBLAS_CORETYPE");
  unsetenv("OPENBLAS_L2_SIZE");
  static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
  for (int i = 0; i < 2 && !ob_dgemm; i++) {
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    void *sym = dlsym(h, sizeof(wg_real) == 4 ? "cblas_sgemm" : "cblas_dgemm");
    if (sym) {
      memcpy(&ob_dgemm, &sym, sizeof ob_dgemm);
      snprintf(ob_name, sizeof ob_name, "%s", names[i]);
      char *(*corename)(void);
      void *cn = dlsym(h, "openblas_get_corename");
      memcpy(&corename, &cn, sizeof corename);
      if (cn) snprintf(ob_core, sizeof ob_core, "%s", corename());
    }
  }
}

/* ---- the kernel in use: precision, register tile, vector width, block sizes --------------- */

static void print_kernel(void) {
  wg_gemm_sizes z = wg_gemm_sizes_get();
  const char *isa =
#if defined(WG_SIMD) && WG_VBYTES == 64
      "AVX-512 (64-byte vectors)";
#elif defined(WG_SIMD) && WG_VBYTES == 32
      "AVX/AVX2 (32-byte vectors)";
#elif defined(WG_SIMD)
      "16-byte vectors (SSE2 or like)";
#else
      "plain C (no vector extensions)";
#endif
#if defined(WG_SIMD)
  int lanes = WG_VL;
#else
  int lanes = 1;
#endif
  printf("kernel: %s, %s, %d lanes; tile MR x NR = %d x %d; blocks KC %d, MC %d, NC %d\n"
         "        (from caches per core L1d %ld KiB, L2 %ld KiB, L3 %ld KiB; 0: not reported)\n",
         sizeof(wg_real) == 4 ? "float32" : "float64", isa, lanes, z.mr, z.nr, z.kc, z.mc, z.nc,
         z.l1 >> 10, z.l2 >> 10, z.l3 >> 10);
}

/* Heap allocations per step after the first steps. */
static double allocs_per_step(void (*step)(void *), void *ctx) {
  step(ctx);
  step(ctx);
  long before = n_allocs;
  for (int i = 0; i < 10; i++) step(ctx);
  return (n_allocs - before) / 10.0;
}

/* ---- data ------------------------------------------------------------------------------- */

static unsigned long long rng = 88172645463325252ULL;
static double uniform(double lo, double hi) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static wg_real *random_array(size_t n, double lo, double hi) {
  wg_real *a = malloc(n * sizeof *a);
  if (!a) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++) a[i] = uniform(lo, hi);
  return a;
}

static wg_real *labels(size_t n) {
  wg_real *y = random_array(n, 0, 1);
  for (size_t i = 0; i < n; i++) y[i] = y[i] < 0.5 ? 0 : 1;
  return y;
}

/* ---- the MLP workloads on the tape -------------------------------------------------------- */

#define MAX_LAYERS 3
#define LR 0.01

typedef struct {
  int m, n_in, n_layers, width[MAX_LAYERS + 1]; /* width[0] = inputs, width[L] = 1 */
  int act;                                      /* 0: none (W1), 1: tanh, 2: relu */
  wg_real *X, *y;
  wg_param *W[MAX_LAYERS], *b[MAX_LAYERS];
  wg_tape *t;
  wg_var loss;
  /* hand-written version: activations and their gradients */
  wg_real *Z[MAX_LAYERS], *dZ[MAX_LAYERS], *gW[MAX_LAYERS], *gb[MAX_LAYERS];
  wg_real *lp, *lq; /* log A, log(1 - A) */
  double hand_loss;
} net;

static void net_init(net *w, int m, int n_layers, const int *width, int act) {
  memset(w, 0, sizeof *w);
  w->m = m, w->n_layers = n_layers, w->act = act;
  memcpy(w->width, width, (size_t)(n_layers + 1) * sizeof *width);
  w->X = random_array((size_t)m * width[0], -1, 1);
  w->y = labels((size_t)m);
  for (int l = 0; l < n_layers; l++) {
    w->W[l] = wg_param_new("W", width[l], width[l + 1]);
    w->b[l] = wg_param_new("b", 1, width[l + 1]);
    wg_mat v = wg_param_value(w->W[l]);
    double s = 1 / sqrt((double)width[l]);
    for (int i = 0; i < v.rows * v.cols; i++) v.data[i] = uniform(-s, s);
    size_t zn = (size_t)m * width[l + 1];
    w->Z[l] = malloc(zn * sizeof(wg_real));
    w->dZ[l] = malloc(zn * sizeof(wg_real));
    w->gW[l] = malloc((size_t)width[l] * width[l + 1] * sizeof(wg_real));
    w->gb[l] = malloc((size_t)width[l + 1] * sizeof(wg_real));
  }
  w->lp = malloc((size_t)m * sizeof(wg_real));
  w->lq = malloc((size_t)m * sizeof(wg_real));
  w->t = wg_tape_new();
}

static void net_free(net *w) {
  wg_tape_free(w->t);
  for (int l = 0; l < w->n_layers; l++) {
    wg_param_free(w->W[l]), wg_param_free(w->b[l]);
    free(w->Z[l]), free(w->dZ[l]), free(w->gW[l]), free(w->gb[l]);
  }
  free(w->X), free(w->y), free(w->lp), free(w->lq);
}

static void net_record(net *w) {
  wg_tape *t = w->t;
  wg_var h = wg_input(t, w->m, w->width[0], w->X);
  for (int l = 0; l < w->n_layers; l++) {
    wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, w->W[l])), wg_use(t, w->b[l]));
    if (l == w->n_layers - 1) h = wg_sigmoid(t, z);
    else h = w->act == 1 ? wg_tanh(t, z) : wg_relu(t, z);
  }
  w->loss = wg_bce(t, h, wg_input(t, w->m, 1, w->y));
}

/* The SGD update w -= lr g over the pool in ranges of elements (an optimizer would do the
 * same: at two threads a serial update also pays for moving the gradient the other thread's
 * gemm wrote into its cache). With `zero`, g = 0 in the same pass for the next step's
 * accumulation. Elementwise: the same bits for every thread count. */
typedef struct {
  wg_real *v, *g;
  int zero;
} update;

static void update_range(void *arg, size_t lo, size_t hi) {
  const update *u = arg;
  for (size_t i = lo; i < hi; i++) {
    u->v[i] -= LR * u->g[i];
    if (u->zero) u->g[i] = 0;
  }
}

static void sgd_update(wg_real *v, wg_real *g, size_t n, int zero) {
  update u = {v, g, zero};
  wg_par_for(n, WG_PAR_GRAIN, update_range, &u);
}

static void sgd(wg_param *p) {
  wg_mat v = wg_param_value(p), g = wg_param_grad(p);
  sgd_update(v.data, g.data, (size_t)v.rows * v.cols, 1);
}

static void net_sgd(net *w) {
  for (int l = 0; l < w->n_layers; l++) sgd(w->W[l]), sgd(w->b[l]);
}

static void net_check(net *w) {
  if (wg_tape_status(w->t)) {
    fprintf(stderr, "bench: %s\n", wg_tape_error(w->t));
    exit(1);
  }
}

/* replay: the tape recorded once, re-evaluated on the updated parameters */
static void net_step_replay(void *ctx) {
  net *w = ctx;
  wg_forward(w->t);
  wg_backward(w->t, w->loss);
  net_sgd(w);
}

/* record: reset and record the graph again every step (define-by-run) */
static void net_step_record(void *ctx) {
  net *w = ctx;
  wg_tape_reset(w->t);
  net_record(w);
  wg_backward(w->t, w->loss);
  net_sgd(w);
}

/* The same step written by hand in closed form: no tape, the same gemm and array math.
 *   Z_l = H_{l-1} W_l + b_l, H_l = act(Z_l), A = sigmoid(Z_L), L = bce(A, t)
 *   dZ_L = (A - t) / m;  dW_l = H_{l-1}^T dZ_l;  db_l = colsum(dZ_l)
 *   dH_{l-1} = dZ_l W_l^T;  dZ_{l-1} = dH_{l-1} * act'(Z_{l-1}) */
static void net_step_hand(void *ctx) {
  net *w = ctx;
  int m = w->m, L = w->n_layers;
  const wg_real *h = w->X;
  for (int l = 0; l < L; l++) {
    int k = w->width[l], n = w->width[l + 1];
    wg_real *z = w->Z[l];
    const wg_real *b = wg_param_value(w->b[l]).data;
    wg_gemm(0, 0, m, n, k, h, k, wg_param_value(w->W[l]).data, n, 0, z, n);
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) z[(size_t)i * n + j] += b[j];
    if (l == L - 1) wg_vsigmoid(z, z, (size_t)m * n);
    else if (w->act == 1) wg_vtanh(z, z, (size_t)m * n);
    else
      for (size_t i = 0; i < (size_t)m * n; i++) z[i] = z[i] > 0 ? z[i] : 0;
    h = z;
  }
  const wg_real *a = w->Z[L - 1];
  wg_real *lp = w->lp, *lq = w->lq;
  double s = 0;
  for (int i = 0; i < m; i++) lq[i] = 1 - a[i];
  wg_vlog(a, lp, (size_t)m);
  wg_vlog(lq, lq, (size_t)m);
  for (int i = 0; i < m; i++) {
    s += w->y[i] * (lp[i] > -100 ? lp[i] : -100) + (1 - w->y[i]) * (lq[i] > -100 ? lq[i] : -100);
    w->dZ[L - 1][i] = (a[i] - w->y[i]) / m;
  }
  w->hand_loss = -s / m;
  for (int l = L - 1; l >= 0; l--) {
    int k = w->width[l], n = w->width[l + 1];
    const wg_real *hin = l ? w->Z[l - 1] : w->X, *dz = w->dZ[l];
    wg_gemm(1, 0, k, n, m, hin, k, dz, n, 0, w->gW[l], n);
    for (int j = 0; j < n; j++) w->gb[l][j] = 0;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) w->gb[l][j] += dz[(size_t)i * n + j];
    if (l > 0) {
      wg_real *dh = w->dZ[l - 1];
      wg_gemm(0, 1, m, k, n, dz, n, wg_param_value(w->W[l]).data, n, 0, dh, k);
      const wg_real *hz = w->Z[l - 1];
      for (size_t i = 0; i < (size_t)m * k; i++)
        dh[i] *= w->act == 1 ? 1 - hz[i] * hz[i] : hz[i] > 0 ? 1 : 0;
    }
  }
  for (int l = 0; l < L; l++) {
    wg_mat W = wg_param_value(w->W[l]), b = wg_param_value(w->b[l]);
    sgd_update(W.data, w->gW[l], (size_t)W.rows * W.cols, 0);
    sgd_update(b.data, w->gb[l], (size_t)b.cols, 0);
  }
}

/* ---- W4: the 1x1 chain, recorded every step ----------------------------------------------- */

typedef struct {
  wg_param *p;
  wg_tape *t;
} chain;

static void chain_step(void *ctx) {
  chain *c = ctx;
  wg_tape *t = c->t;
  wg_tape_reset(t);
  wg_var v = wg_use(t, c->p), k = wg_scalar(t, 0.1);
  for (int i = 0; i < 1000; i++) v = wg_sigmoid(t, wg_add(t, wg_scale(t, v, 1.5), k));
  wg_backward(t, wg_sum(t, v));
  sgd(c->p);
}

/* ---- G: matmul of two NxN parameters, and OpenBLAS on the same matrices ------------------- */

typedef struct {
  int N;
  wg_param *A, *B;
  wg_tape *t;
  wg_var loss;
  wg_real *C, *dA, *dB; /* OpenBLAS outputs */
} mm;

static void mm_forward(void *ctx) {
  wg_forward(((mm *)ctx)->t);
}

static void mm_backward(void *ctx) {
  mm *g = ctx;
  wg_backward(g->t, g->loss);
}

enum { NO_TRANS = 111, TRANS = 112, ROW_MAJOR = 101 };

static void ob_forward(void *ctx) {
  mm *g = ctx;
  ob_dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, g->N, g->N, g->N, 1, wg_param_value(g->A).data, g->N,
           wg_param_value(g->B).data, g->N, 0, g->C, g->N);
}

/* what wengert's matmul VJP computes: dA += dC B^T, dB += A^T dC (dC = ones, in C) */
static void ob_backward(void *ctx) {
  mm *g = ctx;
  int N = g->N;
  ob_dgemm(ROW_MAJOR, NO_TRANS, TRANS, N, N, N, 1, g->C, N, wg_param_value(g->B).data, N, 1,
           g->dA, N);
  ob_dgemm(ROW_MAJOR, TRANS, NO_TRANS, N, N, N, 1, wg_param_value(g->A).data, N, g->C, N, 1,
           g->dB, N);
}

/* ---- C: a LeNet-sized convolution layer, forward and backward -------------------------------- */

typedef struct {
  wg_param *X, *W;
  wg_tape *t;
  wg_var loss;
} convb;

static void conv_step(void *ctx) {
  convb *c = ctx;
  wg_param_zero_grad(c->X); /* as PyTorch's grad = None: dX and dW of this step only */
  wg_param_zero_grad(c->W);
  wg_forward(c->t);
  wg_backward(c->t, c->loss);
}

/* Prints the C line: us per step, wengert and PyTorch, and their ratio. */
static void run_conv(void) {
  convb c = {wg_param_new("X", 64, 784), wg_param_new("W", 25, 6), wg_tape_new(), {0, 0}};
  for (int s = 0; s < 2; s++) {
    wg_mat v = wg_param_value(s ? c.W : c.X);
    for (size_t i = 0; i < (size_t)v.rows * v.cols; i++) v.data[i] = uniform(-1, 1);
  }
  wg_conv2d_shape cs = {1, 28, 28, 5, 5, 1, 0};
  c.loss = wg_sum(c.t, wg_conv2d(c.t, wg_use(c.t, c.X), wg_use(c.t, c.W), cs));
  double allocs = allocs_per_step(conv_step, &c);
  variant v = {conv_step, &c, 1, 0, 0, {0}};
  double tt[8];
  int nt = 0;
  for (int round = 0; round < rounds(); round++) {
    run_interleaved(&v, 1, reps_per_round(), quick ? 10000 : 30000);
    double x = torch_time("C");
    if (!isnan(x)) tt[nt++] = x;
  }
  double us = median(v.t, v.n), torch = median(tt, nt);
  if (wg_tape_status(c.t)) fprintf(stderr, "bench: C: %s\n", wg_tape_error(c.t));
  /* forward 2 (64*576) 6 25, backward the same twice (dW and dX) */
  double flops = 3 * 2.0 * 64 * 576 * 6 * 25;
  printf("%-4s %9s %8s %9s %9s %7s\n", "", "fwd+bwd", "GFLOP/s", "PyTorch", "wg/torch",
         "allocs");
  printf("%-4s %9.1f %8.2f %9.1f %9.3f %7.0f\n", "C", us, flops / us / 1e3, torch, us / torch,
         allocs);
  printf("  C: conv2d of X 64x(1x28x28) with 6 5x5 kernels (LeNet's first layer), replayed\n"
         "  forward and backward into dX and dW; PyTorch: F.conv2d, one thread, %s\n\n",
         sizeof(wg_real) == 4 ? "float32" : "float64");
  fflush(stdout);
  wg_tape_free(c.t);
  wg_param_free(c.X);
  wg_param_free(c.W);
}

/* ---- what two cores offer ------------------------------------------------------------------
 *
 * A control for the two-thread numbers that shares no code with wengert: a plain matrix loop
 * (C += A B, 160 x 160, 600 KB: it lives in L1/L2 like the packed kernel's blocks) timed on
 * the main thread alone, on the other core alone, and on both at once, each copy on its own
 * data. Two cores of a VM need not be equally fast (another tenant on the same physical core
 * slows its caches), so the report gives both: the other core's speed relative to the main
 * thread's, and the work two copies did together relative to one. The second is the most
 * any program can gain from a second thread here, before any cost of sharing data. On Linux
 * the main thread and the helper are pinned for this (the main thread stays on its core for
 * the whole run, so the one-thread numbers always come from the same core: the faster one
 * at the start, so that a slow main core cannot flatter the two-thread ratio). */
enum { CN = 160 };

typedef struct {
  double a[CN * CN], b[CN * CN], c[CN * CN];
  int cpu;      /* core to pin to, -1 for none */
  double us;    /* time for the fixed work */
} control_job;

static void pin_to(int cpu) {
#if defined(__linux__)
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
  (void)cpu;
#endif
}

static void *control_work(void *arg) {
  control_job *j = arg;
  pin_to(j->cpu);
  double t0 = now_us();
  for (int r = 0; r < 40; r++)
    for (int i = 0; i < CN; i++)
      for (int k = 0; k < CN; k++) {
        double aik = j->a[i * CN + k];
        for (int x = 0; x < CN; x++) j->c[i * CN + x] += aik * j->b[k * CN + x];
      }
  j->us = now_us() - t0;
  return NULL;
}

static int main_cpu = -1, other_cpu = -1; /* the cores the control pins to (-1: not pinned) */

static void choose_cores(void) {
#if defined(__linux__)
  cpu_set_t set;
  if (pthread_getaffinity_np(pthread_self(), sizeof set, &set)) return;
  main_cpu = sched_getcpu();
  for (int c = 0; c < CPU_SETSIZE && other_cpu < 0; c++)
    if (c != main_cpu && CPU_ISSET(c, &set)) other_cpu = c;
  if (other_cpu < 0) main_cpu = -1;
  pin_to(main_cpu);
#endif
}

typedef struct {
  double other_speed; /* the other core alone, relative to the main thread's core alone */
  double together;    /* work of two copies at once, relative to one on the main core */
  double shared_us, own_us; /* the main thread rewriting SN reals that the other core has just
                               read, and that only the main thread has read */
} control;

/* What sharing costs: a split product makes both cores read the weights, and the update then
 * rewrites them on one core. The main thread reads an array (SN reals, 1 MB), the other core
 * reads it too (or not), and the main thread's rewrite of it is timed. On a machine whose
 * cores share their last-level cache the two times are close; on this project's VM they are
 * not always. The array is static: a 1 MB malloc and free here would raise glibc's mmap
 * threshold, and the workloads' large buffers would then come from the heap instead of
 * fresh mappings, which on this VM made two threads slower (docs/performance.md). */
enum { SN = 1 << 17 };
static double share_array[SN];

typedef struct {
  double *x;
  int cpu;
  double sum;
} share_job;

static void *read_all(void *arg) {
  share_job *j = arg;
  pin_to(j->cpu);
  double s = 0;
  for (size_t i = 0; i < SN; i++) s += j->x[i];
  j->sum = s;
  return NULL;
}

static double rewrite_us(double *x, int other_reads) {
  share_job j = {x, main_cpu, 0};
  read_all(&j); /* the main thread's copy, as after a forward product */
  if (other_reads) {
    pthread_t th;
    share_job o = {x, other_cpu, 0};
    if (pthread_create(&th, NULL, read_all, &o)) return NAN;
    pthread_join(th, NULL);
  }
  double t0 = now_us();
  for (size_t i = 0; i < SN; i++) x[i] = 0.5 * x[i] + 1; /* an update's read-modify-write */
  return now_us() - t0;
}

static control measure_control(void) {
  static control_job j[2];
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < CN * CN; i++) j[k].a[i] = uniform(-1, 1), j[k].b[i] = uniform(-1, 1);
  double alone[5], other[5], both[5];
  for (int rep = 0; rep < 5; rep++) {
    pthread_t th;
    j[0].cpu = main_cpu, j[1].cpu = other_cpu;
    control_work(&j[0]); /* main thread, its own core */
    alone[rep] = j[0].us;
    if (pthread_create(&th, NULL, control_work, &j[1])) return (control){NAN, NAN, NAN, NAN};
    pthread_join(th, NULL); /* the other core, main idle */
    other[rep] = j[1].us;
    if (pthread_create(&th, NULL, control_work, &j[1])) return (control){NAN, NAN, NAN, NAN};
    control_work(&j[0]); /* both at once */
    pthread_join(th, NULL);
    both[rep] = alone[rep] / j[0].us + alone[rep] / j[1].us;
  }
  double a = median(alone, 5), shared[5], own[5], *x = share_array;
  for (size_t i = 0; i < SN; i++) x[i] = uniform(-1, 1);
  for (int rep = 0; rep < 5; rep++) shared[rep] = rewrite_us(x, 1), own[rep] = rewrite_us(x, 0);
  return (control){a / median(other, 5), median(both, 5), median(shared, 5), median(own, 5)};
}

/* ---- the report ------------------------------------------------------------------------- */

static const char *verdict(double ratio, double target, int at_most) {
  if (isnan(ratio)) return "(peer not available)";
  return (at_most ? ratio <= target : ratio >= target) ? "met" : "NOT met";
}

typedef struct {
  double replay, record, hand, t2, torch, allocs_replay, allocs_record;
  int identical;
} net_result;

/* identical bits: one replay step from the same parameters with 1 and 2 threads (the first
 * layer's gradient kept in the hand-written step's buffer: no malloc and free of 1 MB just
 * before the timing, which would change where glibc puts later buffers) */
static int same_bits_2_threads(net *w) {
  size_t n0 = (size_t)w->width[0] * w->width[1];
  wg_real *g1 = w->gW[0];
  wg_forward(w->t);
  wg_backward(w->t, w->loss);
  wg_real l1 = wg_value(w->t, w->loss).data[0];
  memcpy(g1, wg_param_grad(w->W[0]).data, n0 * sizeof *g1);
  for (int l = 0; l < w->n_layers; l++) wg_param_zero_grad(w->W[l]), wg_param_zero_grad(w->b[l]);
  int got = wg_set_threads(2);
  wg_forward(w->t);
  wg_backward(w->t, w->loss);
  int same = got == 2 && l1 == wg_value(w->t, w->loss).data[0] &&
             !memcmp(g1, wg_param_grad(w->W[0]).data, n0 * sizeof *g1);
  for (int l = 0; l < w->n_layers; l++) wg_param_zero_grad(w->W[l]), wg_param_zero_grad(w->b[l]);
  wg_set_threads(1);
  return same;
}

static net_result run_net(const char *key, int m, int L, const int *width, int act, int threads2) {
  net_result r = {NAN, NAN, NAN, NAN, NAN, 0, 0, -1};
  net w;
  net_init(&w, m, L, width, act);
  double budget = quick ? 10000 : 30000;
  net_record(&w);
  net_check(&w);
  r.allocs_replay = allocs_per_step(net_step_replay, &w);
  r.allocs_record = allocs_per_step(net_step_record, &w);
  net_check(&w);
  if (threads2) r.identical = same_bits_2_threads(&w);
  variant v[4] = {{net_step_replay, &w, 1, 0, 0, {0}}, {net_step_record, &w, 1, 0, 0, {0}},
                  {net_step_hand, &w, 1, 0, 0, {0}}, {net_step_replay, &w, 2, 0, 0, {0}}};
  double tt[8];
  int nt = 0;
  for (int round = 0; round < rounds(); round++) {
    run_interleaved(v, threads2 ? 4 : 3, reps_per_round(), budget);
    double x = torch_time(key);
    if (!isnan(x)) tt[nt++] = x;
  }
  net_check(&w);
  r.replay = median(v[0].t, v[0].n), r.record = median(v[1].t, v[1].n);
  r.hand = median(v[2].t, v[2].n), r.t2 = threads2 ? median(v[3].t, v[3].n) : NAN;
  r.torch = median(tt, nt);
  net_free(&w);
  return r;
}

int main(int argc, char **argv) {
  const char *only = NULL, *ob_core_want = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--openblas-core") && i + 1 < argc) ob_core_want = argv[++i];
    else if (!strcmp(argv[i], "--torch") && i + 1 < argc) torch_cmd = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
  }
  if (only && strcmp(only, "C") != 0) {
    fprintf(stderr, "bench: --only takes C (the convolution workload), not %s\n", only);
    return 2;
  }
  print_kernel();
  openblas_load(ob_core_want);
  wg_set_threads(2); /* the pool's worker starts now, free to run on any core */
  wg_set_threads(1);
  choose_cores();    /* then the main thread stays on one */
  control ctl_before = measure_control();
  if (ctl_before.other_speed > 1.05) { /* the one-thread numbers come from the faster core */
    int c = main_cpu;
    main_cpu = other_cpu, other_cpu = c;
    pin_to(main_cpu);
    ctl_before = measure_control();
  }
  wg_set_allocator(counting_alloc, NULL);
  printf("peers: PyTorch %s; OpenBLAS %s, kernel %s (%s)\n\n",
         torch_cmd ? "(child process, 1 thread)" : "not available",
         ob_dgemm ? ob_name : "not available", ob_core,
         ob_core_want ? "asked for with --openblas-core" : "its own choice");
  fflush(stdout);
  if (only) { /* --only C */
    run_conv();
    return 0;
  }

  static const int w1[] = {30, 1}, w2[] = {512, 256, 1}, w3[] = {784, 512, 512, 1};
  net_result r[3];
  r[0] = run_net("W1", 569, 1, w1, 0, 0);
  r[1] = run_net("W2", 256, 2, w2, 1, 1);
  r[2] = run_net("W3", 128, 3, w3, 2, 1);
  static const double flops[3] = {
      /* forward 2mkn per layer, backward 2mkn (dW) + 2mkn (dH, not for layer 1) */
      2.0 * 569 * 30 * 2,
      2.0 * 256 * (512 * 256 * 2 + 256 * 1 * 3),
      2.0 * 128 * (784 * 512 * 2 + 512 * 512 * 3 + 512 * 3)};

  chain c = {wg_param_new("v", 1, 1), wg_tape_new()};
  wg_param_value(c.p).data[0] = 0.3;
  double w4_allocs = allocs_per_step(chain_step, &c);
  variant v4 = {chain_step, &c, 1, 0, 0, {0}};
  double t4[8];
  int n4 = 0;
  for (int round = 0; round < rounds(); round++) {
    run_interleaved(&v4, 1, reps_per_round(), quick ? 10000 : 30000);
    double x = torch_time("W4");
    if (!isnan(x)) t4[n4++] = x;
  }
  double w4 = median(v4.t, v4.n), w4_torch = median(t4, n4);
  if (wg_tape_status(c.t)) fprintf(stderr, "bench: W4: %s\n", wg_tape_error(c.t));
  wg_tape_free(c.t);
  wg_param_free(c.p);

  const char *prec = sizeof(wg_real) == 4 ? "float32" : "float64";
  printf("us per step (median), one thread unless stated, %s\n\n", prec);
  printf("%-4s %9s %9s %8s %9s %9s %9s %9s %7s %7s\n", "", "replay", "record", "GFLOP/s",
         "hand-C", "tape/hand", "PyTorch", "wg/torch", "allocs", "2 thr");
  static const char *names[3] = {"W1", "W2", "W3"};
  double ratio_torch[4], ratio_hand[3], speedup[3];
  for (int i = 0; i < 3; i++) {
    double best = r[i].replay < r[i].record ? r[i].replay : r[i].record;
    ratio_torch[i] = best / r[i].torch;
    ratio_hand[i] = r[i].replay / r[i].hand;
    speedup[i] = r[i].replay / r[i].t2;
    printf("%-4s %9.1f %9.1f %8.2f %9.1f %9.3f %9.1f %9.3f %3.0f/%-3.0f", names[i],
           r[i].replay, r[i].record, flops[i] / best / 1e3, r[i].hand, ratio_hand[i], r[i].torch,
           ratio_torch[i], r[i].allocs_replay, r[i].allocs_record);
    if (isnan(speedup[i])) printf(" %7s\n", "-"); /* W1 is too small to split */
    else printf(" %6.2fx\n", speedup[i]);
  }
  ratio_torch[3] = w4 / w4_torch;
  printf("%-4s %9s %9.1f %8s %9s %9s %9.1f %9.4f %3s/%-3.0f\n", "W4", "-", w4, "-", "-", "-",
         w4_torch, ratio_torch[3], "-", w4_allocs);
  printf("  wg/torch uses the faster of replay and record; W4 records every step:\n"
         "  %.1f ns per row (3002 rows recorded, evaluated and swept back)\n"
         "  allocs: heap allocations per step after the first two, replay/record\n\n",
         w4 * 1e3 / 3002);
  fflush(stdout);

  printf("%-5s %9s %8s %9s %8s %9s %8s %9s %8s %9s %9s\n", "G N", "fwd us", "GFLOP/s", "bwd us",
         "GFLOP/s", "OB fwd us", "GFLOP/s", "OB bwd us", "GFLOP/s", "wg/OB fwd", "wg/OB bwd");
  double ob_ratio[4][2];
  for (int q = 0; q < 4; q++) {
    int N = 128 << q;
    size_t nn = (size_t)N * N;
    mm g = {N, wg_param_new("A", N, N), wg_param_new("B", N, N), wg_tape_new(), {0, 0},
            calloc(nn, sizeof(wg_real)), calloc(nn, sizeof(wg_real)), calloc(nn, sizeof(wg_real))};
    for (int s = 0; s < 2; s++) {
      wg_mat v = wg_param_value(s ? g.B : g.A);
      for (size_t i = 0; i < nn; i++) v.data[i] = uniform(-1, 1);
    }
    g.loss = wg_sum(g.t, wg_matmul(g.t, wg_use(g.t, g.A), wg_use(g.t, g.B)));
    for (size_t i = 0; i < nn; i++) g.C[i] = 1; /* dC of the sum, for OpenBLAS's backward */
    variant v[4] = {{mm_forward, &g, 1, 0, 0, {0}}, {mm_backward, &g, 1, 0, 0, {0}},
                    {ob_forward, &g, 1, 0, 0, {0}}, {ob_backward, &g, 1, 0, 0, {0}}};
    run_interleaved(v, ob_dgemm ? 4 : 2, reps_per_round() * rounds(), quick ? 20000 : 50000);
    double f = median(v[0].t, v[0].n), b = median(v[1].t, v[1].n);
    double of = median(v[2].t, v[2].n), ob = median(v[3].t, v[3].n), fl = 2.0 * N * N * N;
    ob_ratio[q][0] = of / f, ob_ratio[q][1] = ob / b; /* = GFLOP/s ratio wengert / OpenBLAS */
    printf("%-5d %9.1f %8.1f %9.1f %8.1f %9.1f %8.1f %9.1f %8.1f %9.3f %9.3f\n", N, f,
           fl / f / 1e3, b, 2 * fl / b / 1e3, of, fl / of / 1e3, ob, 2 * fl / ob / 1e3,
           ob_ratio[q][0], ob_ratio[q][1]);
    fflush(stdout);
    wg_tape_free(g.t), wg_param_free(g.A), wg_param_free(g.B);
    free(g.C), free(g.dA), free(g.dB);
  }
  printf("  forward: C = A B (wengert: a replay of the tape); backward: dA += dC B^T and\n"
         "  dB += A^T dC (wengert: wg_backward of sum(A B), which also zeroes and accumulates\n"
         "  the adjoints); GFLOP/s counts 2N^3 per product; OB = OpenBLAS\n");

  printf("\n");
  run_conv();
  /* issue 15's targets: W2, W3 <= 0.80 of PyTorch in either precision, W1 <= 0.20; matmul
   * >= 0.90 of OpenBLAS's gemm of the same precision; W4 (float64) as before */
  printf("targets (%s, ratios from this run)\n", prec);
  for (int i = 0; i < 4; i++) {
    static const double tgt[4] = {0.20, 0.80, 0.80, 0.02};
    if (i == 3 && sizeof(wg_real) == 4) continue; /* W4: a float64 target */
    printf("  W%d wengert/PyTorch %s    %7.4f  <= %.2f  %s\n", i + 1, prec, ratio_torch[i],
           tgt[i], verdict(ratio_torch[i], tgt[i], 1));
  }
  for (int q = 1; q < 4; q++)
    for (int s = 0; s < 2; s++)
      printf("  G%-4d %s wengert/OpenBLAS %cgemm %7.3f  >= 0.90  %s\n", 128 << q,
             s ? "bwd" : "fwd", sizeof(wg_real) == 4 ? 's' : 'd', ob_ratio[q][s],
             verdict(ob_ratio[q][s], 0.90, 0));
  for (int i = 0; i < 3; i++)
    printf("  W%d wengert/hand-C            %7.3f  <= 1.10  %s\n", i + 1, ratio_hand[i],
           verdict(ratio_hand[i], 1.10, 1));
  for (int i = 1; i < 3; i++)
    printf("  W%d 2 threads vs 1            %6.2fx  >= 1.7x  %s; bits %s\n", i + 1, speedup[i],
           verdict(speedup[i], 1.7, 0), r[i].identical == 1 ? "identical" : "DIFFER");
  control ctl_after = measure_control();
  printf("     (control, no wengert code: a cache-bound matrix loop ran %.2f / %.2f times as\n"
         "      fast on the other core as on the main thread's, and two copies at once did\n"
         "      %.2fx / %.2fx the work of one, before / after the workloads: the most a second\n"
         "      thread can give here; main thread %s)\n",
         ctl_before.other_speed, ctl_after.other_speed, ctl_before.together, ctl_after.together,
         main_cpu >= 0 ? "pinned to one core" : "not pinned");
  printf("     (sharing: rewriting 1 MB that the other core has just read took %.0f / %.0f us,\n"
         "      against %.0f / %.0f us when it had not: each step pays this on the weights that\n"
         "      both threads of a split product read and the update then writes)\n",
         ctl_before.shared_us, ctl_after.shared_us, ctl_before.own_us, ctl_after.own_us);
  double worst = w4_allocs;
  for (int i = 0; i < 3; i++) {
    if (r[i].allocs_replay > worst) worst = r[i].allocs_replay;
    if (r[i].allocs_record > worst) worst = r[i].allocs_record;
  }
  printf("  heap allocations per step after the first (W1-W4, replay and record): max %.1f  %s\n",
         worst, worst == 0 ? "met" : "NOT met");
  return 0;
}

/* check_kernels.c - the fast kernels against plain references.
 *
 *   gemm: wg_gemm against a triple loop in long double, for shapes m, n, k in 1..67 (and
 *         deeper k and wider n that cross the blocking sizes, built from the kernel's own
 *         constants in kernels/gemm.h, so they still cross every edge after a retune), each
 *         path, each transpose case, beta = 0 and beta = 1 (accumulating into an existing C),
 *         and strides larger than minimal.
 *         Bound: |C - ref| <= (k + 2) u (sum_p |a_ip b_pj| + |C0_ij|), u = 2^-53 (2^-24 in
 *         the float build; the standard floating-point error bound of a dot product of length
 *         k, plus the add). The same shapes again with the block sizes the model gives other
 *         machines' caches (Haswell, Skylake-X, Zen 4, Zen 5, tiny and huge caches).
 *   threads: 1..4 threads give bitwise identical products, elementwise results and optimizer
 *         steps, also when the pool shares the work unevenly (one thread measured slower).
 *   vmath: wg_vexp, wg_vlog, wg_vtanh, wg_vsigmoid against libm within the ulp stated in
 *         src/kernels/vmath.h, over wide ranges, extremes, +-0, subnormals, +-Inf and NaN,
 *         in ulp of wg_real (double, or float in the float build).
 * Everything runs on wg_real: the file builds and checks either precision. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/vmath.h"
#include "par/pool.h"
#include "testutil.h"

/* The precision under test: unit roundoff 2^-p (p = R_MANT), smallest normal, smallest
 * subnormal exponent. Tolerances that were derived for double scale by R_EPS / DBL_EPSILON:
 * the error bounds of those computations are linear in the unit roundoff. */
#ifdef WG_REAL_FLOAT
#define R_EPS FLT_EPSILON
#define R_MIN FLT_MIN
#define R_MANT 24
#define R_SUB_EXP (-149)
#define R_MAX_EXP 128
#else
#define R_EPS DBL_EPSILON
#define R_MIN DBL_MIN
#define R_MANT 53
#define R_SUB_EXP (-1074)
#define R_MAX_EXP 1024
#endif
#define R_SCALED(tol_double) ((tol_double) * (R_EPS / DBL_EPSILON))

/* ---- gemm ---------------------------------------------------------------------------------- */

typedef struct {
  int ta, tb, m, n, k, lda, ldb, ldc;
  wg_real *A, *B, *C, *C0;
} gcase;

static double g_at(const wg_real *X, int ld, int trans, int i, int j) {
  return trans ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j];
}

/* Fill A, B (stored shapes per the flags, with padding columns) and C0 with values in [-1, 1);
 * the padding holds NaN so a read outside the matrix shows up in C. */
static void g_fill(gcase *g, unsigned long long *seed) {
  int ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
  int br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
  g->lda = ac + 3, g->ldb = bc + 2, g->ldc = g->n + 5;
  g->A = malloc((size_t)ar * g->lda * sizeof(wg_real));
  g->B = malloc((size_t)br * g->ldb * sizeof(wg_real));
  g->C = malloc((size_t)g->m * g->ldc * sizeof(wg_real));
  g->C0 = malloc((size_t)g->m * g->ldc * sizeof(wg_real));
  for (int i = 0; i < ar; i++)
    for (int j = 0; j < g->lda; j++) g->A[(size_t)i * g->lda + j] = j < ac ? tu_uniform(seed, -1, 1) : NAN;
  for (int i = 0; i < br; i++)
    for (int j = 0; j < g->ldb; j++) g->B[(size_t)i * g->ldb + j] = j < bc ? tu_uniform(seed, -1, 1) : NAN;
  for (size_t i = 0; i < (size_t)g->m * g->ldc; i++) g->C0[i] = tu_uniform(seed, -1, 1);
}

static void g_free(gcase *g) {
  free(g->A), free(g->B), free(g->C), free(g->C0);
}

/* Run wg_gemm with beta and compare every element against the long double reference; the
 * padding columns of C must be untouched. Returns the worst error / bound ratio (<= 1 is ok). */
static double g_check(gcase *g, double beta) {
  memcpy(g->C, g->C0, (size_t)g->m * g->ldc * sizeof(wg_real));
  wg_gemm(g->ta, g->tb, g->m, g->n, g->k, g->A, g->lda, g->B, g->ldb, beta, g->C, g->ldc);
  double worst = 0;
  for (int i = 0; i < g->m; i++) {
    for (int j = 0; j < g->n; j++) {
      long double s = beta != 0 ? (long double)g->C0[(size_t)i * g->ldc + j] : 0;
      double mag = beta != 0 ? fabs(g->C0[(size_t)i * g->ldc + j]) : 0;
      for (int p = 0; p < g->k; p++) {
        double a = g_at(g->A, g->lda, g->ta, i, p), b = g_at(g->B, g->ldb, g->tb, p, j);
        s += (long double)a * b;
        mag += fabs(a * b);
      }
      double bound = (g->k + 2) * (R_EPS / 2) * mag + R_MIN;
      double err = fabs((double)((long double)g->C[(size_t)i * g->ldc + j] - s)) / bound;
      if (!(err <= worst)) worst = err; /* NaN propagates as "worse" */
    }
    for (int j = g->n; j < g->ldc; j++)
      if (memcmp(&g->C[(size_t)i * g->ldc + j], &g->C0[(size_t)i * g->ldc + j], sizeof(wg_real)))
        return INFINITY; /* wrote outside C */
  }
  return worst;
}

static double g_shape(int ta, int tb, int m, int n, int k, unsigned long long *seed) {
  gcase g = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k};
  g_fill(&g, seed);
  double w0 = g_check(&g, 0), w1 = g_check(&g, 1);
  g_free(&g);
  return w0 > w1 ? w0 : w1;
}

#define TRANS_A (_i >> 1)
#define TRANS_B (_i & 1)

/* The kernel's sizes (kernels/gemm.h): the shapes below are built from them. The register
 * tile is fixed by the build; KC, MC, NC are the machine's (wg_gemm_sizes_get), read when a
 * test starts. */
enum {
  MR = WG_GEMM_MR, NR = WG_GEMM_NR, THIN_K = WG_GEMM_THIN_K, THIN_BLOCK = WG_GEMM_THIN_BLOCK,
  /* m and n of gemm_all_mn run up to this: past one whole register tile and into the next
   * (NR is 24 doubles or 48 floats with AVX-512: 67 crosses both; and every partial width of
   * 1, 2 or 3 vectors) */
  MN_MAX = 67
};

/* all m, n in 1..MN_MAX at depths 1, 9 and MN_MAX: every path but the thin one, every edge
 * of the register tile (the loop fails if a retune leaves a path untaken) */
START_TEST(gemm_all_mn) {
  unsigned long long seed = 11 + _i;
  const int ks[] = {1, 9, MN_MAX};
  int taken[WG_GEMM_BLOCKED + 1] = {0};
  for (int q = 0; q < 3; q++)
    for (int m = 1; m <= MN_MAX; m++)
      for (int n = 1; n <= MN_MAX; n++) {
        taken[wg_gemm_path_of(m, n, ks[q])]++;
        double w = g_shape(TRANS_A, TRANS_B, m, n, ks[q], &seed);
        if (!(w <= 1))
          ck_abort_msg("gemm ta=%d tb=%d m=%d n=%d k=%d: error %.3g x the bound", TRANS_A,
                       TRANS_B, m, n, ks[q], w);
      }
  ck_assert(taken[WG_GEMM_GEMV] && taken[WG_GEMM_PLAIN] && taken[WG_GEMM_BLOCKED]);
}
END_TEST

/* all k in 1..67 on a set of (m, n) around the register tile, then shapes that cross the
 * blocking edges: depths at KC - 1, KC, KC + 1 and into a third slice, rows past one and two
 * MC blocks (with a partial MR panel), columns past the NC block, and the thin path on each
 * side of THIN_K and across a THIN_BLOCK. Each shape must take the path it was built for. */
static void blocks_cross(int ta, int tb, unsigned long long *seed);

START_TEST(gemm_all_k_and_blocks) {
  unsigned long long seed = 23 + _i;
  const int mn[][2] = {{1, 1}, {2, 3}, {1, 67}, {67, 1}, {MR, NR}, {MR + 5, NR + 5},
                       {2 * NR, 2 * NR}, {67, 67}};
  for (int s = 0; s < 8; s++)
    for (int k = 1; k <= 67; k++) {
      double w = g_shape(TRANS_A, TRANS_B, mn[s][0], mn[s][1], k, &seed);
      ck_assert_msg(w <= 1, "gemm ta=%d tb=%d m=%d n=%d k=%d: error %.3g x the bound", TRANS_A,
                    TRANS_B, mn[s][0], mn[s][1], k, w);
    }
  blocks_cross(TRANS_A, TRANS_B, &seed);
}
END_TEST

/* shapes that cross the blocking edges of the sizes in use */
static void blocks_cross(int ta, int tb, unsigned long long *seed) {
  wg_gemm_sizes z = wg_gemm_sizes_get();
  const int KC = z.kc, MC = z.mc, NC = z.nc;
  /* free: the dimension not under test (0 m, 1 n, 2 k), doubled until m n k leaves the plain
   * path when small blocks would keep the shape there (none of these is a matrix-vector one) */
  struct {
    int m, n, k;
    wg_gemm_path path;
    int free;
  } big[] = {
      {17, 19, KC - 1, WG_GEMM_BLOCKED, 1},          {17, 19, KC, WG_GEMM_BLOCKED, 1},
      {17, 19, KC + 1, WG_GEMM_BLOCKED, 1},          {9, 33, 2 * KC + KC / 3, WG_GEMM_BLOCKED, 1},
      {MC + MR + 2, 30, 40, WG_GEMM_BLOCKED, 2},     {2 * MC + MR - 1, 25, 70, WG_GEMM_BLOCKED, 2},
      {5, NC + 2 * NR + NR / 2, 9, WG_GEMM_BLOCKED, 2}, {70, NC + 10, THIN_K - 1, WG_GEMM_THIN, 0},
      {3, 70, 2 * KC, WG_GEMM_BLOCKED, 1},           {300, 200, 1, WG_GEMM_THIN, 0},
      {257, THIN_BLOCK + 45, THIN_K, WG_GEMM_THIN, 0}, {130, 290, THIN_K + 1, WG_GEMM_BLOCKED, 0}};
  for (size_t s = 0; s < sizeof big / sizeof big[0]; s++) {
    while ((double)big[s].m * big[s].n * big[s].k <= WG_GEMM_PLAIN_MNK)
      *(big[s].free == 0 ? &big[s].m : big[s].free == 1 ? &big[s].n : &big[s].k) *= 2;
    ck_assert_msg(wg_gemm_path_of(big[s].m, big[s].n, big[s].k) == big[s].path,
                  "gemm m=%d n=%d k=%d: not the path it was built for", big[s].m, big[s].n,
                  big[s].k);
    double w = g_shape(ta, tb, big[s].m, big[s].n, big[s].k, seed);
    ck_assert_msg(w <= 1, "gemm ta=%d tb=%d m=%d n=%d k=%d (KC %d MC %d NC %d): error %.3g x the bound",
                  ta, tb, big[s].m, big[s].n, big[s].k, KC, MC, NC, w);
  }
}

/* Caches of other machines (bytes per core: L1d, L2, the core's share of L3), as their
 * vendors document them, and two extremes. */
static const struct {
  const char *name;
  long l1, l2, l3;
} machines[] = {
    {"Haswell", 32 << 10, 256 << 10, 2 << 20},   {"Skylake-X", 32 << 10, 1 << 20, 1408 << 10},
    {"Zen 4", 32 << 10, 1 << 20, 4 << 20},       {"Zen 5", 48 << 10, 1 << 20, 4 << 20},
    {"unknown", 0, 0, 0},                        {"tiny", 1 << 10, 4 << 10, 8 << 10},
    {"huge", 1 << 20, 64 << 20, 1L << 30}};
#define N_MACHINES 7

/* The model's sizes are valid for every machine: KC a multiple of 8 in 64..512 whose B panel
 * (KC x NR) takes at most half of L1 unless KC is at its floor; MC a multiple of MR whose A
 * block takes at most half of L2 unless at its floor of 2 MR; NC a multiple of NR. And one
 * worked by hand: Zen 5 (48 KiB L1, 1 MiB L2) in the double AVX-512 build (NR = 24):
 * KC = 24576 / (24 x 8) = 128, MC = 524288 / (128 x 8) = 512. */
START_TEST(gemm_sizes_model) {
  const long s = sizeof(wg_real);
  for (int i = 0; i < N_MACHINES; i++) {
    wg_gemm_sizes z = wg_gemm_sizes_for(machines[i].l1, machines[i].l2, machines[i].l3);
    long l1 = machines[i].l1 ? machines[i].l1 : 32 << 10, l2 = machines[i].l2 ? machines[i].l2 : 1 << 20;
    ck_assert_msg(z.mr == MR && z.nr == NR, "%s: tile", machines[i].name);
    ck_assert_msg(z.kc % 8 == 0 && z.kc >= 64 && z.kc <= 512, "%s: KC %d", machines[i].name, z.kc);
    ck_assert_msg(z.kc == 64 || z.kc * NR * s <= l1 / 2, "%s: KC %d", machines[i].name, z.kc);
    ck_assert_msg(z.mc % MR == 0 && z.mc >= 2 * MR, "%s: MC %d", machines[i].name, z.mc);
    ck_assert_msg(z.mc == 2 * MR || z.mc * z.kc * s <= l2 / 2, "%s: MC %d", machines[i].name, z.mc);
    ck_assert_msg(z.nc % NR == 0 && z.nc >= 8 * NR, "%s: NC %d", machines[i].name, z.nc);
  }
#if !defined(WG_REAL_FLOAT) && defined(WG_SIMD) && WG_VBYTES == 64
  wg_gemm_sizes z = wg_gemm_sizes_for(48 << 10, 1 << 20, 4 << 20);
  ck_assert_int_eq(z.kc, 128);
  ck_assert_int_eq(z.mc, 512);
#endif
  /* the sizes in use are the model's for the caches they report, and invalid sets are refused */
  wg_gemm_sizes u = wg_gemm_sizes_get(), m = wg_gemm_sizes_for(u.l1, u.l2, u.l3);
  ck_assert(u.kc == m.kc && u.mc == m.mc && u.nc == m.nc);
  wg_gemm_sizes bad = u;
  bad.mc = MR + 1;
  ck_assert_int_eq(wg_gemm_sizes_use(&bad), 0);
  bad = u, bad.kc = THIN_K;
  ck_assert_int_eq(wg_gemm_sizes_use(&bad), 0);
  bad = u, bad.nc = NR - 1;
  ck_assert_int_eq(wg_gemm_sizes_use(&bad), 0);
  u = wg_gemm_sizes_get();
  ck_assert(u.kc == m.kc && u.mc == m.mc && u.nc == m.nc);
}
END_TEST

/* The block-crossing shapes with each machine's sizes: whatever a machine gets, the
 * products are right. */
START_TEST(gemm_other_machines) {
  unsigned long long seed = 31 + _i;
  wg_gemm_sizes z = wg_gemm_sizes_for(machines[_i].l1, machines[_i].l2, machines[_i].l3);
  ck_assert(wg_gemm_sizes_use(&z));
  for (int tr = 0; tr < 4; tr++) blocks_cross(tr >> 1, tr & 1, &seed);
  ck_assert(wg_gemm_sizes_use(NULL));
}
END_TEST

/* k = 0 leaves beta C: zeros for beta = 0, C unchanged for beta = 1 */
START_TEST(gemm_k0) {
  wg_real C[6] = {1, 2, 3, 4, 5, 6}, A[1] = {7}, B[1] = {8};
  wg_gemm(0, 0, 2, 3, 0, A, 1, B, 3, 1, C, 3);
  for (int i = 0; i < 6; i++) ck_assert(C[i] == i + 1);
  wg_gemm(0, 0, 2, 3, 0, A, 1, B, 3, 0, C, 3);
  for (int i = 0; i < 6; i++) ck_assert(C[i] == 0);
}
END_TEST

/* ---- threads: identical bits ----------------------------------------------------------- */

/* products split by rows (tall C), by columns (short, wide C), thin k (rank-1..4 updates) */
static const int thread_shapes[][3] = {{300, 200, 300}, {67, 67, 67}, {129, 1000, 70},
                                       {600, 48, 520},  {16, 900, 300}, {300, 300, 1},
                                       {200, 500, 4}};
#define N_THREAD_SHAPES 7

START_TEST(gemm_threads_identical) {
  const int (*shapes)[3] = thread_shapes;
  unsigned long long seed = 5;
  for (int s = 0; s < N_THREAD_SHAPES; s++)
    for (int tr = 0; tr < 4; tr++) {
      gcase g = {.ta = tr >> 1, .tb = tr & 1, .m = shapes[s][0], .n = shapes[s][1], .k = shapes[s][2]};
      g_fill(&g, &seed);
      size_t bytes = (size_t)g.m * g.ldc * sizeof(wg_real);
      wg_real *first = malloc(bytes);
      for (int th = 1; th <= 4; th++) {
        ck_assert_int_ge(wg_set_threads(th), 1);
        memcpy(g.C, g.C0, bytes);
        wg_gemm(g.ta, g.tb, g.m, g.n, g.k, g.A, g.lda, g.B, g.ldb, 1, g.C, g.ldc);
        if (th == 1) memcpy(first, g.C, bytes);
        else ck_assert_msg(memcmp(first, g.C, bytes) == 0, "gemm %dx%dx%d tr=%d: %d threads differ from 1",
                           g.m, g.n, g.k, tr, th);
      }
      free(first);
      g_free(&g);
    }
  wg_set_threads(1);
}
END_TEST


/* wg_par_share: contiguous, covering, non-empty ranges; equal before anything is learned
 * about the threads, then in proportion to the speeds wg_par_learn was shown. */
START_TEST(pool_shares) {
  size_t b[WG_MAX_THREADS + 1];
  wg_par_lock();
  for (int parts = 1; parts <= 4; parts++)
    for (size_t units = 0; units <= 40; units++) {
      wg_par_share(units, parts, b);
      ck_assert_uint_eq(b[0], 0);
      ck_assert_uint_eq(b[parts], units);
      for (int t = 0; t < parts; t++) {
        ck_assert_uint_le(b[t], b[t + 1]);
        if (units >= (size_t)parts) ck_assert_uint_gt(b[t + 1], b[t]);
      }
    }
  /* slot 1 took 3 times as long for the same work, many times over: it gets about 1/4 */
  size_t even[3] = {0, 100, 200};
  double ended[2] = {1.0, 3.0};
  int ran_on[2] = {0, 1};
  for (int i = 0; i < 60; i++) wg_par_learn(2, even, 0.0, ended, ran_on);
  wg_par_share(1000, 2, b);
  ck_assert_msg(b[1] >= 740 && b[1] <= 760, "slot 0 share %zu of 1000", b[1]);
  /* a task another slot took over teaches nothing */
  int swapped[2] = {1, 0};
  double reversed[2] = {3.0, 1.0};
  for (int i = 0; i < 60; i++) wg_par_learn(2, even, 0.0, reversed, swapped);
  wg_par_share(1000, 2, b);
  ck_assert_msg(b[1] >= 740 && b[1] <= 760, "slot 0 share %zu of 1000", b[1]);
  /* equal again */
  ended[1] = 1.0;
  for (int i = 0; i < 200; i++) wg_par_learn(2, even, 0.0, ended, ran_on);
  wg_par_share(1000, 2, b);
  ck_assert_msg(b[1] >= 495 && b[1] <= 505, "slot 0 share %zu of 1000", b[1]);
  wg_par_unlock();
}
END_TEST

/* The shares move whole panels (products) or elements (elementwise passes), never a sum: a
 * pool that believes slot 1 is 5 times slower still gives the bits of one thread. */
START_TEST(uneven_shares_identical) {
  size_t even[3] = {0, 100, 200};
  double ended[2] = {1.0, 5.0};
  int ran_on[2] = {0, 1};
  unsigned long long seed = 9;
  for (int s = 0; s < N_THREAD_SHAPES; s++) {
    gcase g = {.ta = s & 1, .tb = (s >> 1) & 1, .m = thread_shapes[s][0],
               .n = thread_shapes[s][1], .k = thread_shapes[s][2]};
    g_fill(&g, &seed);
    size_t bytes = (size_t)g.m * g.ldc * sizeof(wg_real);
    wg_real *first = malloc(bytes);
    wg_set_threads(1);
    memcpy(first, g.C0, bytes);
    wg_gemm(g.ta, g.tb, g.m, g.n, g.k, g.A, g.lda, g.B, g.ldb, 1, first, g.ldc);
    wg_set_threads(2);
    wg_par_lock();
    for (int i = 0; i < 60; i++) wg_par_learn(2, even, 0.0, ended, ran_on);
    wg_par_unlock();
    memcpy(g.C, g.C0, bytes);
    wg_gemm(g.ta, g.tb, g.m, g.n, g.k, g.A, g.lda, g.B, g.ldb, 1, g.C, g.ldc);
    ck_assert_msg(memcmp(first, g.C, bytes) == 0, "gemm %dx%dx%d: uneven shares differ", g.m,
                  g.n, g.k);
    free(first);
    g_free(&g);
  }
  size_t n = 100003;
  wg_real *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y1), *y = malloc(n * sizeof *y);
  for (size_t i = 0; i < n; i++) x[i] = tu_uniform(&seed, -30, 30);
  wg_set_threads(1);
  wg_vtanh(x, y1, n);
  wg_set_threads(2);
  wg_par_lock();
  for (int i = 0; i < 60; i++) wg_par_learn(2, even, 0.0, ended, ran_on);
  wg_par_unlock();
  wg_vtanh(x, y, n);
  ck_assert(memcmp(y, y1, n * sizeof *y) == 0);
  /* forget the lesson: the next tests start from equal shares */
  ended[1] = 1.0;
  wg_par_lock();
  for (int i = 0; i < 200; i++) wg_par_learn(2, even, 0.0, ended, ran_on);
  wg_par_unlock();
  wg_set_threads(1);
  free(x), free(y1), free(y);
}
END_TEST

/* Optimizer steps over a parameter large enough for the pool to split: SGD with momentum and
 * Nesterov, Adam and AdamW give the same bits for 1..4 threads. */
START_TEST(optim_threads_identical) {
  wg_optim_config cfgs[4] = {wg_sgd_config(0.1, 0.9, 1), wg_adam_config(0.01),
                             wg_adamw_config(0.01, 0.1), wg_sgd_config(0.1, 0, 0)};
  cfgs[1].weight_decay = 0.01;
  enum { R = 300, C = 250 };
  wg_real *ref = malloc(R * C * sizeof *ref);
  for (int c = 0; c < 4; c++)
    for (int th = 1; th <= 4; th++) {
      wg_set_threads(th);
      wg_model *m = wg_model_new(3);
      wg_param *p;
      wg_init init = {WG_INIT_UNIFORM, -1, 1};
      ck_assert_int_eq(wg_model_add(m, "W", R, C, init, &p), WG_OK);
      wg_optim *o = wg_optim_new(m, cfgs[c], NULL, 0);
      ck_assert_ptr_nonnull(o);
      unsigned long long seed = 17;
      for (int step = 0; step < 3; step++) {
        wg_mat g = wg_param_grad(p);
        for (int i = 0; i < R * C; i++) g.data[i] = tu_uniform(&seed, -1, 1);
        ck_assert_int_eq(wg_optim_step(o), WG_OK);
      }
      wg_mat v = wg_param_value(p);
      if (th == 1) memcpy(ref, v.data, R * C * sizeof *ref);
      else ck_assert_msg(memcmp(ref, v.data, R * C * sizeof *ref) == 0,
                         "optimizer %d: %d threads differ from 1", c, th);
      wg_optim_free(o);
      wg_model_free(m);
    }
  wg_set_threads(1);
  free(ref);
}
END_TEST

/* ---- vmath against libm ------------------------------------------------------------------ */

/* Distance of got from the exact value ref (long double libm) in units of the last place of
 * ref rounded to wg_real (2^-1074, or 2^-149 in float, for subnormals). Special values must
 * match exactly: NaN for NaN, the same infinity, the same signed zero. */
static double ulp_error(wg_real got, long double ref) {
  wg_real rd = (wg_real)ref;
  if (isnan(rd)) return isnan(got) ? 0 : INFINITY;
  if (isinf(rd) || rd == 0 || isnan(got) || isinf(got))
    return got == rd && signbit(got) == signbit(rd) ? 0 : INFINITY;
  double u = fabs(rd) >= R_MIN ? ldexp(1.0, ilogb(rd) - (R_MANT - 1)) : ldexp(1.0, R_SUB_EXP);
  return (double)(fabsl((long double)got - ref) / u);
}

static long double sigmoid_ref(long double x) {
  return x >= 0 ? 1 / (1 + expl(-x)) : expl(x) / (1 + expl(x));
}

typedef struct {
  const char *name;
  void (*f)(const wg_real *, wg_real *, size_t);
  long double (*ref)(long double);
  double lo, hi, max_ulp; /* uniform test range and the bound stated in vmath.h */
} vfun;

/* The ranges run past overflow and into total underflow of the precision: exp overflows
 * above log(max) (709.78, 88.72 in float) and underflows to 0 below log(min subnormal) - ln 2
 * (-745.13, -103.97); tanh is +-1 to the last bit past 19.1 (9.01 in float). */
#ifdef WG_REAL_FLOAT
static const vfun vfuns[] = {
    {"exp", wg_vexp, expl, -110, 92, 1},
    {"log", wg_vlog, logl, 0, 1e6, 1},
    {"tanh", wg_vtanh, tanhl, -12, 12, 1},
    {"sigmoid", wg_vsigmoid, sigmoid_ref, -110, 110, 1},
};
#else
static const vfun vfuns[] = {
    {"exp", wg_vexp, expl, -750, 712, 2},
    {"log", wg_vlog, logl, 0, 1e6, 2},
    {"tanh", wg_vtanh, tanhl, -25, 25, 3},
    {"sigmoid", wg_vsigmoid, sigmoid_ref, -750, 750, 4},
};
#endif

#define NV 200003 /* odd: the vector loops end in a tail */

/* the edges of the precision: exp's overflow and underflow thresholds on either side, the
 * smallest subnormal and normal numbers, the largest finite (values from C's float.h and, for
 * the thresholds, log(FLT_MAX) = 88.7228391, log(2^-149) = -103.278929, log(2^-150) =
 * -103.972077: /usr/bin/python3 -c "import math; print(math.log(3.4028234663852886e38),
 * math.log(2**-149), math.log(2**-150))") */
#ifdef WG_REAL_FLOAT
static const wg_real special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1.40129846e-45f,
                                  -1.40129846e-45f, 1.17549421e-38f, 1.17549435e-38f,
                                  -1.17549435e-38f, FLT_MAX, -FLT_MAX, 1.0f, -1.0f, 0.5f,
                                  88.7228317f, 88.7228394f, -87.3365479f, -103.278923f,
                                  -103.972076f, -103.972084f, 9.0f, -9.0f, 0x1p-12f, -0x1p-12f,
                                  1e-30f, 0.549306154f};
#else
static const wg_real special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 4.9406564584124654e-324,
                                  -4.9406564584124654e-324, 2.2250738585072009e-308, 2.2250738585072014e-308,
                                  -2.2250738585072014e-308, DBL_MAX, -DBL_MAX, 1.0, -1.0, 0.5,
                                  709.782712893384, 709.7827128933841, -708.3964185322641,
                                  -745.1332191019411, -745.1332191019412, -744.44007192138122,
                                  22.0, -22.0, 0x1p-28, -0x1p-28, 1e-300, 0.54930614433405489};
#endif

/* inputs: a uniform range, magnitudes spread over every binade of wg_real from the smallest
 * subnormal to the largest with both signs, and the special values */
static size_t v_inputs(const vfun *v, wg_real *x, unsigned long long *seed) {
  size_t n = 0;
  for (; n < sizeof special / sizeof special[0]; n++) x[n] = special[n];
  for (; n < NV / 2; n++) x[n] = (wg_real)tu_uniform(seed, v->lo, v->hi);
  for (; n < NV; n++) {
    double m = tu_uniform(seed, 1, 2);
    int e = (int)tu_uniform(seed, R_SUB_EXP, R_MAX_EXP);
    x[n] = (wg_real)(ldexp(m, e) * (n & 1 ? -1 : 1));
  }
  return n;
}

START_TEST(vmath_vs_libm) {
  const vfun *v = &vfuns[_i];
  unsigned long long seed = 99 + _i;
  wg_real *x = malloc(NV * sizeof *x), *y = malloc(NV * sizeof *y);
  size_t n = v_inputs(v, x, &seed);
  v->f(x, y, n);
  double worst = 0, at = 0;
  for (size_t i = 0; i < n; i++) {
    double e = ulp_error(y[i], v->ref(x[i]));
    if (!(e <= worst)) worst = e, at = x[i];
  }
  /* Under valgrind, x87 long double arithmetic runs at double precision, so the long double
   * reference is itself only about double-accurate there: `make valgrind` sets
   * WG_TEST_ULP_SLACK=2 to widen the bound by the reference's own error. */
  const char *slack_env = getenv("WG_TEST_ULP_SLACK");
  double bound = v->max_ulp + (slack_env ? atof(slack_env) : 0);
  if (worst > bound) free(x), free(y); /* CK_FORK=no: a failed assertion does not return */
  ck_assert_msg(worst <= bound, "%s: %.3g ulp at x = %.17g (bound %g)", v->name, worst, at,
                bound);
  /* in place gives the same */
  wg_real *z = malloc(NV * sizeof *z);
  memcpy(z, x, n * sizeof *z);
  v->f(z, z, n);
  ck_assert(memcmp(z, y, n * sizeof *z) == 0);
  free(x), free(y), free(z);
}
END_TEST

/* the special values spelled out: libm's conventions */
START_TEST(vmath_special_values) {
  wg_real x[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -1.0, 800.0, -800.0}, y[8];
  wg_vexp(x, y, 8);
  ck_assert(y[0] == 1 && y[1] == 1 && y[2] == INFINITY && y[3] == 0 && !signbit(y[3]));
  ck_assert(isnan(y[4]) && y[6] == INFINITY && y[7] == 0);
  wg_vlog(x, y, 8);
  ck_assert(y[0] == -INFINITY && y[1] == -INFINITY && y[2] == INFINITY && isnan(y[3]));
  ck_assert(isnan(y[4]) && isnan(y[5]));
  wg_vtanh(x, y, 8);
  ck_assert(y[0] == 0 && !signbit(y[0]) && y[1] == 0 && signbit(y[1]));
  ck_assert(y[2] == 1 && y[3] == -1 && isnan(y[4]) && y[6] == 1 && y[7] == -1);
  wg_vsigmoid(x, y, 8);
  ck_assert(y[0] == 0.5 && y[1] == 0.5 && y[2] == 1 && y[3] == 0 && isnan(y[4]));
  ck_assert(y[6] == 1 && y[7] == 0);
  /* gradual underflow to the smallest subnormal: exp(-745) = 4.94e-324 = 2^-1074 in double,
   * exp(-103) = 1.85e-45 rounds to 2^-149 in float (/usr/bin/python3: math.exp(-745),
   * numpy.float32(math.exp(-103)) == numpy.float32(2**-149)) */
#ifdef WG_REAL_FLOAT
  wg_real u = -103.0f, eu, tiny = 0x1p-149f;
#else
  wg_real u = -745.0, eu, tiny = 0x1p-1074;
#endif
  wg_vexp(&u, &eu, 1);
  ck_assert(eu == tiny);
}
END_TEST

START_TEST(vmath_threads_identical) {
  unsigned long long seed = 7;
  size_t n = 300001;
  wg_real *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y1), *y = malloc(n * sizeof *y);
  for (size_t i = 0; i < n; i++) x[i] = tu_uniform(&seed, -30, 30);
  for (int f = 0; f < 4; f++) {
    wg_set_threads(1);
    vfuns[f].f(x, y1, n);
    for (int th = 2; th <= 4; th++) {
      wg_set_threads(th);
      vfuns[f].f(x, y, n);
      ck_assert_msg(memcmp(y, y1, n * sizeof *y) == 0, "%s: %d threads differ", vfuns[f].name, th);
    }
  }
  wg_set_threads(1);
  free(x), free(y1), free(y);
}
END_TEST

/* ---- the ops that now use vmath, end to end ---------------------------------------------- */

/* Logistic regression on the tape (matmul, add, sigmoid, bce with its clamped logs kept in
 * aux) against the seed's closed form: A = sigmoid(X w + b), L = -mean(t log A + (1-t)
 * log(1-A)), dL/dw = X^T (A - t) / m, dL/db = mean(A - t) (t: the labels y[]), computed here with libm; record
 * and a replay after changing w both agree. */
START_TEST(logistic_closed_form) {
  enum { M = 37, K = 5 };
  unsigned long long seed = 3;
  wg_real X[M * K], y[M];
  for (int i = 0; i < M * K; i++) X[i] = (wg_real)tu_uniform(&seed, -2, 2);
  for (int i = 0; i < M; i++) y[i] = tu_uniform(&seed, 0, 1) < 0.5;
  wg_param *w = wg_param_new("w", K, 1), *b = wg_param_new("b", 1, 1);
  wg_tape *t = wg_tape_new();
  for (int k = 0; k < K; k++) wg_param_value(w).data[k] = tu_uniform(&seed, -1, 1);
  wg_param_value(b).data[0] = 0.25;
  wg_var L = wg_bce(t, wg_sigmoid(t, wg_add(t, wg_matmul(t, wg_input(t, M, K, X), wg_use(t, w)),
                                             wg_use(t, b))), wg_input(t, M, 1, y));
  for (int pass = 0; pass < 2; pass++) {
    if (pass) { /* replay on a changed w */
      wg_param_value(w).data[0] += 0.5;
      wg_forward(t);
    }
    wg_param_zero_grad(w), wg_param_zero_grad(b);
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    double loss = 0, gw[K] = {0}, gb = 0;
    for (int i = 0; i < M; i++) {
      double z = wg_param_value(b).data[0];
      for (int k = 0; k < K; k++) z += X[i * K + k] * wg_param_value(w).data[k];
      double a = 1 / (1 + exp(-z));
      loss -= (y[i] * log(a) + (1 - y[i]) * log(1 - a)) / M;
      for (int k = 0; k < K; k++) gw[k] += X[i * K + k] * (a - y[i]) / M;
      gb += (a - y[i]) / M;
    }
    ck_assert_double_eq_tol(wg_value(t, L).data[0], loss, R_SCALED(1e-13));
    for (int k = 0; k < K; k++)
      ck_assert_double_eq_tol(wg_param_grad(w).data[k], gw[k], R_SCALED(1e-13));
    ck_assert_double_eq_tol(wg_param_grad(b).data[0], gb, R_SCALED(1e-13));
  }
  wg_tape_free(t), wg_param_free(w), wg_param_free(b);
}
END_TEST

/* A step whose arrays are large enough for the pool (128 x 640 = 81920 elements: 5 parts of
 * the 16384-element grain): the adjoint zeroing, relu forward and VJP, tanh VJP, add forward
 * and its VJPs (same shape, a 1xN bias summed by columns, an Mx1 bias summed by rows) and the
 * matrix products. The loss, the parameters' gradients and an intermediate adjoint must be
 * the same bits for 1..4 threads, and at 4 threads reverse mode must agree with forward mode
 * (the dot-product test: the JVPs are serial code, independent of the VJPs under test). */
enum { PM = 128, PK = 40, PH = 640 };

static wg_var big_step(wg_tape *t, const wg_real *X, const wg_real *y, wg_param **p, wg_var *h1) {
  wg_var x = wg_input(t, PM, PK, X);
  wg_var z1 = wg_add(t, wg_matmul(t, x, wg_use(t, p[0])), wg_use(t, p[1])); /* + 1xN bias */
  *h1 = wg_relu(t, z1);
  wg_var z2 = wg_add(t, wg_matmul(t, *h1, wg_use(t, p[2])), wg_use(t, p[3])); /* + Mx1 bias */
  wg_var h2 = wg_add(t, wg_tanh(t, z2), *h1);                               /* same shape */
  wg_var z3 = wg_matmul(t, h2, wg_use(t, p[4]));
  return wg_bce(t, wg_sigmoid(t, z3), wg_input(t, PM, 1, y));
}

START_TEST(tape_step_threads_identical) {
  static wg_real X[PM * PK], y[PM];
  unsigned long long seed = 11;
  for (int i = 0; i < PM * PK; i++) X[i] = tu_uniform(&seed, -1, 1);
  for (int i = 0; i < PM; i++) y[i] = X[i * PK] > 0;
  static const int shape[5][2] = {{PK, PH}, {1, PH}, {PH, PH}, {PM, 1}, {PH, 1}};
  wg_param *p[5];
  size_t total = 0;
  for (int k = 0; k < 5; k++) {
    p[k] = wg_param_new("p", shape[k][0], shape[k][1]);
    wg_mat v = wg_param_value(p[k]);
    for (int i = 0; i < v.rows * v.cols; i++) v.data[i] = tu_uniform(&seed, -0.2, 0.2);
    total += (size_t)v.rows * v.cols;
  }
  wg_real *ref = malloc((total + 1 + PM * PH) * sizeof *ref), *got = malloc((total + 1 + PM * PH) * sizeof *got);
  for (int th = 1; th <= 4; th++) {
    wg_set_threads(th);
    wg_tape *t = wg_tape_new();
    wg_var h1, L = big_step(t, X, y, p, &h1);
    for (int k = 0; k < 5; k++) wg_param_zero_grad(p[k]);
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    ck_assert_int_eq(wg_forward(t), WG_OK); /* replay, then a second backward: accumulates */
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    wg_real *out = th == 1 ? ref : got;
    size_t n = 0;
    out[n++] = wg_value(t, L).data[0];
    for (int k = 0; k < 5; k++) {
      wg_mat g = wg_param_grad(p[k]);
      memcpy(out + n, g.data, (size_t)g.rows * g.cols * sizeof *out);
      n += (size_t)g.rows * g.cols;
    }
    memcpy(out + n, wg_grad(t, h1).data, PM * PH * sizeof *out);
    if (th > 1)
      ck_assert_msg(memcmp(ref, got, (total + 1 + PM * PH) * sizeof *ref) == 0, "%d threads differ", th);
    if (th == 4) {
      double d = wg_dot_test(t, L, 5);
      ck_assert_msg(d >= 0 && d < R_SCALED(1e-10), "dot test %g", d);
    }
    wg_tape_free(t);
  }
  wg_set_threads(1);
  for (int k = 0; k < 5; k++) wg_param_free(p[k]);
  free(ref), free(got);
}
END_TEST

/* wg_set_threads clamps to 1..64 and reports what it set (no thread is needed for 1) */
START_TEST(set_threads_clamps) {
  ck_assert_int_eq(wg_set_threads(0), 1);
  ck_assert_int_eq(wg_set_threads(-5), 1);
  int got = wg_set_threads(1000);
  ck_assert(got >= 1 && got <= 64);
  ck_assert_int_eq(wg_set_threads(1), 1);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("kernels");
  TCase *tc = tcase_create("gemm");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, gemm_all_mn, 0, 4);
  tcase_add_loop_test(tc, gemm_all_k_and_blocks, 0, 4);
  tcase_add_test(tc, gemm_k0);
  tcase_add_test(tc, gemm_sizes_model);
  tcase_add_loop_test(tc, gemm_other_machines, 0, N_MACHINES);
  suite_add_tcase(s, tc);
  tc = tcase_create("threads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, gemm_threads_identical);
  tcase_add_test(tc, vmath_threads_identical);
  tcase_add_test(tc, tape_step_threads_identical);
  tcase_add_test(tc, pool_shares);
  tcase_add_test(tc, uneven_shares_identical);
  tcase_add_test(tc, optim_threads_identical);
  tcase_add_test(tc, set_threads_clamps);
  suite_add_tcase(s, tc);
  tc = tcase_create("vmath");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, vmath_vs_libm, 0, 4);
  tcase_add_test(tc, vmath_special_values);
  tcase_add_test(tc, logistic_closed_form);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

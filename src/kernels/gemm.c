/* gemm.c - see gemm.h; docs/performance.md ("The matrix kernel") explains the design.
 *
 *   small or thin shapes   n == 1 or m == 1 (matrix-vector, logistic regression) use a
 *                          vectorised matrix-vector loop; m n k <= PLAIN_MNK a plain i-p-j
 *                          loop; k <= THIN_K one pass over C.
 *   everything else        Goto/BLIS blocking: for each NC-wide column block of C and each
 *                          KC-deep slice of k, op(B) is packed into NR-wide panels (KC x NR,
 *                          contiguous: one panel stays in L1), op(A) into MR-tall panels
 *                          (an MC x KC block stays in L2), and a register-blocked MR x NR
 *                          micro-kernel accumulates each tile of C over the KC slice.
 *
 * Packing reads op(X) through its strides, so the transposed cases cost no copy beyond the
 * packing every case does. Each element of C is summed in the same order (KC slices in
 * increasing p, the micro-kernel's p loop inside) whatever the thread count: threads split
 * the columns of C (in whole NR panels: the tiles are the same for every thread count), never
 * a sum, so results are bitwise identical for 1..N threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernels/gemm.h"
#include "par/pool.h"

#define MR WG_GEMM_MR
#define NR WG_GEMM_NR
#define PLAIN_MNK WG_GEMM_PLAIN_MNK
#define THIN_K WG_GEMM_THIN_K
#define THIN_BLOCK WG_GEMM_THIN_BLOCK

/* The register tile: MR rows of NV vectors of VL reals (NR = NV VL columns). */
#if defined(WG_SIMD)
#define VL WG_VL
#define NV WG_GEMM_NV
typedef wg_vr vreal;
#endif

/* ---- micro-kernel: C tile (MR x NR, row stride ldc) = or += A panel . B panel ------------ */

/* a: MR x kc packed (a[p*MR + i]); b: kc x NR packed (b[p*NR + j]), both 64-byte aligned.
 * The tile's first nv vectors (nv VL columns, nv <= NV): a panel narrower than NR at the
 * right edge of C costs its own width, not NR. Each lane's sum is the same whichever nv. */
#if defined(WG_SIMD)
static inline __attribute__((always_inline)) void tile_kernel(int nv, int kc,
                                                              const wg_real *restrict a,
                                                              const wg_real *restrict b,
                                                              wg_real *c, size_t ldc, int add) {
  vreal acc[MR][NV];
  memset(acc, 0, sizeof acc);
  if (add) /* C is read at the end: start loading it now (a short kc cannot hide a miss) */
    for (int i = 0; i < MR; i++)
      for (int l = 0; l < nv * VL; l += 64 / (int)sizeof(wg_real))
        __builtin_prefetch(c + (size_t)i * ldc + l, 1);
  for (int p = 0; p < kc; p++) {
    vreal bv[NV];
    for (int v = 0; v < nv; v++) bv[v] = *(const vreal *)(b + (size_t)p * NR + v * VL);
    for (int i = 0; i < MR; i++) {
      wg_real ai = a[(size_t)p * MR + i];
      for (int v = 0; v < nv; v++) acc[i][v] = WG_VFMA(bv[v], ai, acc[i][v]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < nv; v++) {
      wg_real *ci = c + (size_t)i * ldc + v * VL;
      vreal old;
      if (add) {
        memcpy(&old, ci, sizeof old);
        acc[i][v] += old;
      }
      memcpy(ci, &acc[i][v], sizeof old);
    }
}

/* one copy of the loop per width, each with its count of vectors known to the compiler */
static void kernel_1(int kc, const wg_real *a, const wg_real *b, wg_real *c, size_t ldc, int add) {
  tile_kernel(1, kc, a, b, c, ldc, add);
}
static void kernel_2(int kc, const wg_real *a, const wg_real *b, wg_real *c, size_t ldc, int add) {
  tile_kernel(2, kc, a, b, c, ldc, add);
}
#if NV > 2
static void kernel_3(int kc, const wg_real *a, const wg_real *b, wg_real *c, size_t ldc, int add) {
  tile_kernel(3, kc, a, b, c, ldc, add);
}
#endif
_Static_assert(NV <= 3, "a kernel_NV for every width");

/* C tile (MR x nv VL) = or += A panel . B panel (its first nv vectors) */
static void micro_kernel(int nv, int kc, const wg_real *a, const wg_real *b, wg_real *c,
                         size_t ldc, int add) {
#if NV > 2
  if (nv == 3) {
    kernel_3(kc, a, b, c, ldc, add);
    return;
  }
#endif
  if (nv == 2) kernel_2(kc, a, b, c, ldc, add);
  else kernel_1(kc, a, b, c, ldc, add);
}
#define LANES VL
#else
static void micro_kernel(int nv, int kc, const wg_real *restrict a, const wg_real *restrict b,
                         wg_real *c, size_t ldc, int add) {
  (void)nv; /* the whole NR-wide tile */
  wg_real acc[MR][NR] = {{0}};
  for (int p = 0; p < kc; p++)
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i][j] += a[(size_t)p * MR + i] * b[(size_t)p * NR + j];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) c[(size_t)i * ldc + j] = (add ? c[(size_t)i * ldc + j] : 0) + acc[i][j];
}
#define LANES NR
#endif

/* A tile of C: mr x nr (mr <= MR, nr <= NR). Whole vectors and whole rows go straight to C;
 * otherwise the kernel runs into a local tile of which the part that exists is copied. The
 * arithmetic per element is the same either way. */
static void tile(int kc, const wg_real *a, const wg_real *b, wg_real *c, size_t ldc, int add,
                 int mr, int nr) {
  int nv = (nr + LANES - 1) / LANES;
  if (mr == MR && nr == nv * LANES) {
    micro_kernel(nv, kc, a, b, c, ldc, add);
    return;
  }
  _Alignas(64) wg_real t[MR * NR];
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) t[i * NR + j] = add ? c[(size_t)i * ldc + j] : 0;
  micro_kernel(nv, kc, a, b, t, NR, 1);
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[(size_t)i * ldc + j] = t[i * NR + j];
}

/* ---- packing: op(X) read through its strides, zero-padded to whole panels ------------------ */

/* Packing a transposed layout (op(A) = A with its rows into MR-row panels, op(B) = B^T into
 * NR-column panels) turns rows of the source into columns of the panel: one element per
 * store in a plain loop. With vector shuffles it goes T x T at a time: T rows of T reals
 * loaded as vectors, transposed in registers, stored as T vectors; T = 8 when 8 reals fit a
 * register of the build (AVX-512; AVX floats), else 4. Copies only: the bits of the packed
 * panels, and so of the product, are those of the plain loops. */
#if defined(WG_SIMD) && defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define PACK_T (WG_VBYTES >= 8 * (int)sizeof(wg_real) ? 8 : 4)
#endif
#endif
#ifdef PACK_T
#define SHUF __builtin_shufflevector
#if WG_VBYTES >= 8 * (WG_VBYTES / WG_VL)
typedef wg_real vt __attribute__((vector_size(8 * sizeof(wg_real))));
#else
typedef wg_real vt __attribute__((vector_size(4 * sizeof(wg_real))));
#endif

/* dst[q ldd + r] = src[r lds + q] for r < rows (rows beyond: 0), q < T; each output row's
 * first `width` (<= T) reals are written. */
static inline __attribute__((always_inline)) void transpose_t(const wg_real *src, size_t lds,
                                                              int rows, wg_real *dst,
                                                              size_t ldd, int width) {
  enum { T = sizeof(vt) / sizeof(wg_real) };
  vt r[T], out[T];
  for (int i = 0; i < T; i++) {
    r[i] = (vt){0};
    if (i < rows) memcpy(&r[i], src + (size_t)i * lds, sizeof r[i]);
  }
#if WG_VBYTES >= 8 * (WG_VBYTES / WG_VL)
  vt lo[4], hi[4], q[4], t[4];
  for (int k = 0; k < 4; k++) { /* pairs of rows interleaved: (a_2k,c a_2k+1,c), c = 0..3 | 4..7 */
    lo[k] = SHUF(r[2 * k], r[2 * k + 1], 0, 8, 1, 9, 2, 10, 3, 11);
    hi[k] = SHUF(r[2 * k], r[2 * k + 1], 4, 12, 5, 13, 6, 14, 7, 15);
  }
  for (int h = 0; h < 2; h++) { /* rows 4h..4h+3 of two columns per vector */
    q[0] = SHUF(lo[2 * h], lo[2 * h + 1], 0, 1, 8, 9, 2, 3, 10, 11);   /* columns 0, 1 */
    q[1] = SHUF(lo[2 * h], lo[2 * h + 1], 4, 5, 12, 13, 6, 7, 14, 15); /* columns 2, 3 */
    q[2] = SHUF(hi[2 * h], hi[2 * h + 1], 0, 1, 8, 9, 2, 3, 10, 11);   /* columns 4, 5 */
    q[3] = SHUF(hi[2 * h], hi[2 * h + 1], 4, 5, 12, 13, 6, 7, 14, 15); /* columns 6, 7 */
    if (h == 0) memcpy(t, q, sizeof t);
  }
  for (int c = 0; c < 4; c++) { /* rows 0..3 from t, 4..7 from q: columns 2c and 2c + 1 */
    out[2 * c] = SHUF(t[c], q[c], 0, 1, 2, 3, 8, 9, 10, 11);
    out[2 * c + 1] = SHUF(t[c], q[c], 4, 5, 6, 7, 12, 13, 14, 15);
  }
#else
  vt lo0 = SHUF(r[0], r[1], 0, 4, 1, 5), hi0 = SHUF(r[0], r[1], 2, 6, 3, 7); /* rows 0, 1 */
  vt lo1 = SHUF(r[2], r[3], 0, 4, 1, 5), hi1 = SHUF(r[2], r[3], 2, 6, 3, 7); /* rows 2, 3 */
  out[0] = SHUF(lo0, lo1, 0, 1, 4, 5), out[1] = SHUF(lo0, lo1, 2, 3, 6, 7);
  out[2] = SHUF(hi0, hi1, 0, 1, 4, 5), out[3] = SHUF(hi0, hi1, 2, 3, 6, 7);
#endif
  for (int c = 0; c < T; c++) memcpy(dst + (size_t)c * ldd, &out[c], (size_t)width * sizeof(wg_real));
}
#endif

/* Rows i0..i0+mc-1 of op(A), depth p0..p0+kc-1, into MR-row panels: dst[(ip kc + p) MR + i]. */
static void pack_a(int ta, const wg_real *A, int lda, int i0, int mc, int p0, int kc,
                   wg_real *dst) {
  for (int ip = 0; ip < mc; ip += MR) {
    int mr = mc - ip < MR ? mc - ip : MR;
    wg_real *d = dst + (size_t)ip * kc;
    if (ta) { /* op(A)(i, p) = A[p lda + i]: MR contiguous reals per p */
      for (int p = 0; p < kc; p++) {
        const wg_real *s = A + (size_t)(p0 + p) * lda + i0 + ip;
        for (int i = 0; i < mr; i++) d[p * MR + i] = s[i];
        for (int i = mr; i < MR; i++) d[p * MR + i] = 0;
      }
    } else { /* op(A)(i, p) = A[i lda + p]: rows contiguous in p */
      const wg_real *s = A + (size_t)(i0 + ip) * lda + p0;
      int p = 0;
#ifdef PACK_T
      /* PACK_T p at a time: the panel's rows (zeros below mr) in groups of PACK_T */
      for (; p + PACK_T <= kc; p += PACK_T)
        for (int g = 0; g < MR; g += PACK_T)
          transpose_t(s + (size_t)g * lda + p, (size_t)lda, mr - g, d + (size_t)p * MR + g, MR,
                      MR - g < PACK_T ? MR - g : PACK_T);
#endif
      for (int i = 0; i < MR; i++)
        for (int q = p; q < kc; q++) d[q * MR + i] = i < mr ? s[(size_t)i * lda + q] : 0;
    }
  }
}

/* NR-column panel jp of op(B) (columns j0 + jp NR ..), depth p0..p0+kc-1: dst[p NR + j]. */
static void pack_b_panel(int tb, const wg_real *B, int ldb, int p0, int kc, int j0, int nr,
                         wg_real *dst) {
  if (!tb) { /* op(B)(p, j) = B[p ldb + j]: NR contiguous reals per p */
    for (int p = 0; p < kc; p++) {
      const wg_real *s = B + (size_t)(p0 + p) * ldb + j0;
      for (int j = 0; j < nr; j++) dst[p * NR + j] = s[j];
      for (int j = nr; j < NR; j++) dst[p * NR + j] = 0;
    }
  } else { /* op(B)(p, j) = B[j ldb + p] */
    int j = 0;
#ifdef PACK_T
    for (; j + PACK_T <= nr; j += PACK_T) { /* PACK_T columns of the panel (rows of B) */
      const wg_real *s = B + (size_t)(j0 + j) * ldb + p0;
      int p = 0;
      for (; p + PACK_T <= kc; p += PACK_T)
        transpose_t(s + p, (size_t)ldb, PACK_T, dst + (size_t)p * NR + j, NR, PACK_T);
      for (int jj = 0; jj < PACK_T; jj++)
        for (int q = p; q < kc; q++) dst[q * NR + j + jj] = s[(size_t)jj * ldb + q];
    }
#endif
    for (; j < nr; j++) {
      const wg_real *s = B + (size_t)(j0 + j) * ldb + p0;
      for (int p = 0; p < kc; p++) dst[p * NR + j] = s[p];
    }
    for (j = nr; j < NR; j++)
      for (int p = 0; p < kc; p++) dst[p * NR + j] = 0;
  }
}

/* ---- the blocked driver -------------------------------------------------------------------- */

typedef struct {
  int ta, tb, m, n, k, lda, ldb, ldc;
  const wg_real *A, *B;
  wg_real *C;
  int beta1;   /* accumulate into C */
  int kc, mc, nc; /* the block sizes (wg_gemm_sizes_get), read once per product */
  int mcb;     /* rows per packed A block: m split evenly in blocks of at most MC */
  int by_rows; /* tasks split C's rows (else its columns) */
  wg_par_split split; /* task t: panels [bound[t], bound[t + 1]) (MR rows or NR columns) */
} gemm_job;

/* The blocked loops on rows [i0, i1) and columns [j0, j1) of C, with packed blocks in ap
 * (MC x KC) and bp (KC x NC): B panel outer (close to the core), A panels inner (the block
 * stays in L2). i0 is a multiple of MR and j0 of NR: the tiles are the same for any split. */
static void blocked_range(const gemm_job *g, int i0, int i1, int j0, int j1, wg_real *ap,
                          wg_real *bp) {
  const int KC = g->kc, NC = g->nc;
  for (int jc = j0; jc < j1; jc += NC) {
    int nc = j1 - jc < NC ? j1 - jc : NC, n_panels = (nc + NR - 1) / NR;
    for (int pc = 0; pc < g->k; pc += KC) {
      int kc = g->k - pc < KC ? g->k - pc : KC, add = g->beta1 || pc > 0;
      for (int jp = 0; jp < n_panels; jp++) {
        int nr = nc - jp * NR < NR ? nc - jp * NR : NR;
        pack_b_panel(g->tb, g->B, g->ldb, pc, kc, jc + jp * NR, nr, bp + (size_t)jp * kc * NR);
      }
      for (int ic = i0; ic < i1; ic += g->mcb) {
        int mc = i1 - ic < g->mcb ? i1 - ic : g->mcb;
        pack_a(g->ta, g->A, g->lda, ic, mc, pc, kc, ap);
        for (int jp = 0; jp < n_panels; jp++) {
          int nr = nc - jp * NR < NR ? nc - jp * NR : NR;
          const wg_real *b = bp + (size_t)jp * kc * NR;
          for (int ip = 0; ip < mc; ip += MR) {
            int mr = mc - ip < MR ? mc - ip : MR;
            wg_real *c = g->C + (size_t)(ic + ip) * g->ldc + jc + jp * NR;
            const wg_real *a = ap + (size_t)ip * kc;
            tile(kc, a, b, c, (size_t)g->ldc, add, mr, nr);
          }
        }
      }
    }
  }
}

/* The packed A block (MC x KC, rounded up to whole 64-byte lines so that the B block after
 * it is aligned for the vector loads) and the B block (KC x NC or fewer columns). */
static size_t a_block_reals(const gemm_job *g) {
  size_t line = 64 / sizeof(wg_real);
  return ((size_t)g->mc * g->kc + line - 1) / line * line;
}
static size_t scratch_bytes(const gemm_job *g, int cols) {
  size_t bcols = (size_t)(cols < g->nc ? (cols + NR - 1) / NR * NR : g->nc);
  return (a_block_reals(g) + bcols * g->kc) * sizeof(wg_real);
}

/* Task t: its range of rows (MR panels) or columns (NR panels), packing its own A and B
 * blocks (each thread's data stays in its caches; the only synchronisation is the end of the
 * run). Splitting rows repeats the packing of B in every task, splitting columns that of A:
 * gemm_blocked picks the split with the smaller estimated time (balance and packing). The
 * ranges are whole panels, in proportion to each thread's measured speed (wg_par_split):
 * the tiles, and so every sum, are the same for any shares and any thread count. */
static void range_task(void *arg, int task, int slot) {
  gemm_job *g = arg;
  int i0 = 0, i1 = g->m, j0 = 0, j1 = g->n;
  if (g->by_rows) {
    i0 = (int)g->split.bound[task] * MR;
    i1 = (int)g->split.bound[task + 1] * MR < g->m ? (int)g->split.bound[task + 1] * MR : g->m;
  } else {
    j0 = (int)g->split.bound[task] * NR;
    j1 = (int)g->split.bound[task + 1] * NR < g->n ? (int)g->split.bound[task + 1] * NR : g->n;
  }
  wg_real *ap = wg_par_scratch(slot, scratch_bytes(g, g->by_rows ? g->n : j1 - j0)); /* reserved */
  blocked_range(g, i0, i1, j0, j1, ap, ap + a_block_reals(g));
}

/* Split C's rows rather than its columns among `t` threads? A rough cost per thread in units
 * of one packed element: the busiest thread's share of the m n k multiply-adds (about 16 per
 * unit on a vector FMA unit) plus the packing every thread repeats (all of A for a column
 * split, all of B for a row split). Whole panels: MR rows or NR columns. */
static int split_rows_faster(int m, int n, int k, int t) {
  double rows = (double)((m + MR - 1) / MR + t - 1) / t * MR, cols = (double)((n + NR - 1) / NR + t - 1) / t * NR;
  double by_rows = rows * n * k / 16 + (double)k * n, by_cols = cols * m * k / 16 + (double)m * k;
  return by_rows < by_cols;
}

/* Returns 0, before touching C, when the scratch memory cannot be had. */
static int gemm_blocked(gemm_job *g) {
  int threads = wg_par_threads();
  g->by_rows = threads > 1 && split_rows_faster(g->m, g->n, g->k, threads);
  int panels = g->by_rows ? (g->m + MR - 1) / MR : (g->n + NR - 1) / NR;
  int parts = threads < panels ? threads : panels;
  wg_par_split_share(&g->split, (size_t)panels, parts); /* faster threads get more panels */
  const size_t *bound = g->split.bound;
  int widest = 0; /* panels in the largest share */
  for (int t = 0; t < parts; t++)
    if ((int)(bound[t + 1] - bound[t]) > widest) widest = (int)(bound[t + 1] - bound[t]);
  int rows = g->by_rows ? widest * MR : g->m, cols = g->by_rows ? g->n : widest * NR;
  int row_blocks = (rows + g->mc - 1) / g->mc;
  g->mcb = ((rows + row_blocks - 1) / row_blocks + MR - 1) / MR * MR;
  for (int slot = 0; slot < threads; slot++) /* any slot may take over a task */
    if (!wg_par_scratch(slot, scratch_bytes(g, cols))) return 0;
  wg_par_split_run(&g->split, range_task, g);
  return 1;
}

/* ---- small and thin shapes ----------------------------------------------------------------- */

/* y (m, stride incy) = beta y + op(A) x, op(A) (m x k), x (k, stride incx).
 *   op(A) = A^T (A stored k x m): y_i = sum_p x_p A[p][i], a block of up to 4 VL entries of y
 *            kept in registers while p runs over the rows of A (each row read contiguously);
 *   op(A) = A: y_i = dot(row i of A, x) in VL lane partial sums summed in a fixed tree, plus
 *            the scalar tail; rows four at a time (x read once for the four). */
#if defined(WG_SIMD)
static inline vreal vload(const wg_real *p) {
  vreal v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline wg_real hsum(vreal v) {
  wg_real s[VL];
  memcpy(s, &v, sizeof v);
#if VL == 16
  return (((s[0] + s[8]) + (s[1] + s[9])) + ((s[2] + s[10]) + (s[3] + s[11]))) +
         (((s[4] + s[12]) + (s[5] + s[13])) + ((s[6] + s[14]) + (s[7] + s[15])));
#elif VL == 8
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
#elif VL == 4
  return (s[0] + s[2]) + (s[1] + s[3]);
#else
  return s[0] + s[1];
#endif
}

static void gemv_t(int m, int k, const wg_real *A, int lda, const wg_real *x, int incx,
                   wg_real beta, wg_real *y, int incy) {
  for (int i0 = 0; i0 < m; i0 += 4 * VL) {
    int w = m - i0 < 4 * VL ? m - i0 : 4 * VL, nv = w / VL, nt = w - nv * VL;
    vreal acc[4];
    wg_real tail[VL];
    memset(acc, 0, sizeof acc);
    memset(tail, 0, sizeof tail);
    for (int p = 0; p < k; p++) {
      wg_real xp = x[(size_t)p * incx];
      const wg_real *a = A + (size_t)p * lda + i0;
      for (int v = 0; v < 4; v++)
        if (v < nv) acc[v] += vload(a + v * VL) * xp;
      for (int j = 0; j < nt; j++) tail[j] += a[nv * VL + j] * xp;
    }
    wg_real out[4 * VL];
    memcpy(out, acc, sizeof acc);
    for (int j = 0; j < nt; j++) out[nv * VL + j] = tail[j];
    for (int j = 0; j < w; j++) {
      wg_real *yj = y + (size_t)(i0 + j) * incy;
      *yj = (beta == 0 ? 0 : *yj) + out[j];
    }
  }
}

/* dot products of rows r..r+R-1 of A with x (contiguous) into d[0..R) */
#define GEMV_ROWS(R)                                                               \
  static void dots##R(int k, const wg_real *A, int lda, const wg_real *x, wg_real *d) { \
    vreal s[R];                                                                    \
    memset(s, 0, sizeof s);                                                        \
    int p = 0;                                                                     \
    for (; p + VL <= k; p += VL) {                                                 \
      vreal xv = vload(x + p);                                                     \
      for (int r = 0; r < R; r++) s[r] += vload(A + (size_t)r * lda + p) * xv;     \
    }                                                                              \
    wg_real tail[R];                                                               \
    for (int r = 0; r < R; r++) tail[r] = 0;                                       \
    for (int q = p; q < k; q++) /* the R rows' tails side by side: R short chains */ \
      for (int r = 0; r < R; r++) tail[r] += A[(size_t)r * lda + q] * x[q];        \
    for (int r = 0; r < R; r++) d[r] = hsum(s[r]) + tail[r];                       \
  }
GEMV_ROWS(1)
GEMV_ROWS(4)

static void gemv_n(int m, int k, const wg_real *A, int lda, const wg_real *x, wg_real beta,
                   wg_real *y, int incy) {
  wg_real d[4];
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    dots4(k, A + (size_t)i * lda, lda, x, d);
    for (int r = 0; r < 4; r++) {
      wg_real *yi = y + (size_t)(i + r) * incy;
      *yi = (beta == 0 ? 0 : *yi) + d[r];
    }
  }
  for (; i < m; i++) {
    dots1(k, A + (size_t)i * lda, lda, x, d);
    wg_real *yi = y + (size_t)i * incy;
    *yi = (beta == 0 ? 0 : *yi) + d[0];
  }
}
#endif

static void gemv(int ta, int m, int k, const wg_real *A, int lda, const wg_real *x, int incx,
                 wg_real beta, wg_real *y, int incy) {
#if defined(WG_SIMD)
  if (ta) {
    gemv_t(m, k, A, lda, x, incx, beta, y, incy);
    return;
  }
  if (incx == 1) {
    gemv_n(m, k, A, lda, x, beta, y, incy);
    return;
  }
#endif
  if (ta) { /* op(A)(i,p) = A[p lda + i]: y += x_p * (row p of A), contiguous in i */
    for (int i = 0; i < m; i++)
      if (beta == 0) y[(size_t)i * incy] = 0;
    for (int p = 0; p < k; p++) {
      wg_real xp = x[(size_t)p * incx];
      const wg_real *a = A + (size_t)p * lda;
      for (int i = 0; i < m; i++) y[(size_t)i * incy] += xp * a[i];
    }
    return;
  }
  for (int i = 0; i < m; i++) { /* dot(row i of A, x) in 8 interleaved partial sums */
    const wg_real *a = A + (size_t)i * lda;
    wg_real s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int p = 0;
    for (; p + 8 <= k; p += 8)
      for (int u = 0; u < 8; u++) s[u] += a[p + u] * x[(size_t)(p + u) * incx];
    for (; p < k; p++) s[p & 7] += a[p] * x[(size_t)p * incx];
    wg_real dot = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    wg_real *yi = y + (size_t)i * incy;
    *yi = (beta == 0 ? 0 : *yi) + dot;
  }
}

/* The i-p-j loop: along a row of B and a row of C (both contiguous when B is not transposed). */
static void gemm_plain(int ta, int tb, int m, int n, int k, const wg_real *A, int lda,
                       const wg_real *B, int ldb, wg_real beta, wg_real *C, int ldc) {
  for (int i = 0; i < m; i++) {
    wg_real *c = C + (size_t)i * ldc;
    if (beta == 0) memset(c, 0, (size_t)n * sizeof *c);
    for (int p = 0; p < k; p++) {
      wg_real a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
      if (!tb) {
        const wg_real *b = B + (size_t)p * ldb;
        for (int j = 0; j < n; j++) c[j] += a * b[j];
      } else {
        for (int j = 0; j < n; j++) c[j] += a * B[(size_t)j * ldb + p];
      }
    }
  }
}

/* Thin k (an outer product, or a rank-2..4 update): one pass over C, rows in parallel.
 * op(B) is copied THIN_BLOCK columns at a time into a small contiguous block, so the inner loop
 * runs along contiguous memory whatever the transpose; each element of C is
 * (beta C or 0) + a_i0 b_0j + a_i1 b_1j + ... in that order, by itself: any split of the
 * rows gives the same bits. */
typedef struct {
  int ta, tb, n, k;
  const wg_real *A;
  int lda;
  const wg_real *B;
  int ldb;
  wg_real beta, *C;
  int ldc;
} thin_job;

static void thin_rows(void *arg, size_t lo, size_t hi) {
  const thin_job *t = arg;
  _Alignas(64) wg_real bt[THIN_K][THIN_BLOCK];
  for (int j0 = 0; j0 < t->n; j0 += THIN_BLOCK) {
    int nb = t->n - j0 < THIN_BLOCK ? t->n - j0 : THIN_BLOCK;
    for (int p = 0; p < t->k; p++)
      for (int j = 0; j < nb; j++)
        bt[p][j] = t->tb ? t->B[(size_t)(j0 + j) * t->ldb + p] : t->B[(size_t)p * t->ldb + j0 + j];
    for (size_t i = lo; i < hi; i++) {
      wg_real *c = t->C + i * (size_t)t->ldc + j0;
      if (t->beta == 0) memset(c, 0, (size_t)nb * sizeof *c);
      for (int p = 0; p < t->k; p++) {
        wg_real a = t->ta ? t->A[(size_t)p * t->lda + i] : t->A[i * (size_t)t->lda + p];
        for (int j = 0; j < nb; j++) c[j] += a * bt[p][j];
      }
    }
  }
}

/* ---- the block sizes: from the caches of the machine ---------------------------------------- */

/* CPUs in a sysfs list such as "0-1" or "0,2,4-7" (0 when it cannot be read) */
static long cpus_in_list(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  long n = 0, a, b;
  char sep;
  while (fscanf(f, "%ld", &a) == 1) {
    b = a;
    if (fscanf(f, "%c", &sep) == 1 && sep == '-' && fscanf(f, "%ld%c", &b, &sep) < 1) break;
    n += b >= a ? b - a + 1 : 1;
    if (sep != ',') break;
  }
  fclose(f);
  return n;
}

/* The data (or unified) cache of `level` of cpu0 from sysfs, in bytes per core: a cache that
 * several CPUs share counts its share. 0 when the system does not say. */
static long cache_bytes(int level) {
  for (int idx = 0; idx < 8; idx++) {
    char path[96], type[16] = "";
    int lv = 0;
    long kb = 0;
    char unit = 0;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
    FILE *f = fopen(path, "r");
    if (!f) break;
    int ok = fscanf(f, "%d", &lv) == 1;
    fclose(f);
    if (!ok || lv != level) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", idx);
    if ((f = fopen(path, "r"))) {
      ok = fscanf(f, "%15s", type) == 1;
      fclose(f);
    }
    if (!ok || strcmp(type, "Instruction") == 0) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
    if (!(f = fopen(path, "r"))) continue;
    ok = fscanf(f, "%ld%c", &kb, &unit) >= 1;
    fclose(f);
    if (!ok || kb <= 0) continue;
    long bytes = unit == 'M' ? kb << 20 : unit == 'K' ? kb << 10 : kb;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", idx);
    long share = cpus_in_list(path);
    return share > 1 ? bytes / share : bytes;
  }
  return 0;
}

static long round_down(long x, long unit) {
  return x / unit * unit;
}
static long clamp(long x, long lo, long hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* The analytical model of BLIS (Low, Igual, Smith, Quintana-Orti 2016), in bytes, s = the
 * size of a real. The micro-kernel streams one KC x NR panel of op(B) for every MR x KC
 * panel of op(A) of the block, so
 *   KC: the B panel (KC NR s) fills half of L1, the other half holding the A panel that
 *       streams through and the C tile; a multiple of 8, 64 <= KC <= 512.
 *   MC: the A block (MC KC s) fills half of L2 (the B panels it meets take the rest), a
 *       multiple of MR, at least 2 MR and at most 1024 rows.
 *   NC: the B block (KC NC s) fills half of this core's share of L3, a multiple of NR, at
 *       least 8 NR and at most 8160 columns.
 * Unknown caches: 32 KiB, 1 MiB, 2 MiB (a small x86-64 core of the last decade). */
wg_gemm_sizes wg_gemm_sizes_for(long l1, long l2, long l3) {
  const long s = (long)sizeof(wg_real);
  wg_gemm_sizes z = {.mr = MR, .nr = NR, .l1 = l1 > 0 ? l1 : 0, .l2 = l2 > 0 ? l2 : 0,
                     .l3 = l3 > 0 ? l3 : 0};
  if (l1 <= 0) l1 = 32L << 10;
  if (l2 <= 0) l2 = 1L << 20;
  if (l3 <= 0) l3 = 2L << 20;
  z.kc = (int)clamp(round_down(l1 / 2 / (NR * s), 8), 64, 512);
  z.mc = (int)clamp(round_down(l2 / 2 / (z.kc * s), MR), 2 * MR, round_down(1024, MR));
  z.nc = (int)clamp(round_down(l3 / 2 / (z.kc * s), NR), 8 * NR, round_down(8160, NR));
  return z;
}

static wg_gemm_sizes in_use; /* written once by pthread_once (or by wg_gemm_sizes_use, locked) */
static pthread_once_t sizes_done = PTHREAD_ONCE_INIT;

static void sizes_init(void) {
  in_use = wg_gemm_sizes_for(cache_bytes(1), cache_bytes(2), cache_bytes(3));
}

static void sizes_once(void) {
  pthread_once(&sizes_done, sizes_init);
}

wg_gemm_sizes wg_gemm_sizes_get(void) {
  sizes_once();
  wg_par_lock();
  wg_gemm_sizes z = in_use;
  wg_par_unlock();
  return z;
}

int wg_gemm_sizes_use(const wg_gemm_sizes *s) {
  wg_gemm_sizes z;
  if (s) {
    if (s->kc <= THIN_K || s->mc < MR || s->mc % MR || s->nc < NR || s->nc % NR) return 0;
    z = *s;
    z.mr = MR, z.nr = NR;
  }
  sizes_once();
  wg_par_lock();
  in_use = s ? z : wg_gemm_sizes_for(cache_bytes(1), cache_bytes(2), cache_bytes(3));
  wg_par_unlock();
  return 1;
}

wg_gemm_path wg_gemm_path_of(int m, int n, int k) {
  if (n == 1 || m == 1) return WG_GEMM_GEMV;
  if ((double)m * n * k <= PLAIN_MNK) return WG_GEMM_PLAIN; /* in double: m n k can exceed any size_t */
  if (k <= THIN_K) return WG_GEMM_THIN;
  return WG_GEMM_BLOCKED;
}

void wg_gemm(int trans_a, int trans_b, int m, int n, int k, const wg_real *A, int lda,
             const wg_real *B, int ldb, wg_real beta, wg_real *C, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { /* C = beta C + nothing */
    if (beta == 0)
      for (int i = 0; i < m; i++) memset(C + (size_t)i * ldc, 0, (size_t)n * sizeof *C);
    return;
  }
  switch (wg_gemm_path_of(m, n, k)) {
  case WG_GEMM_GEMV:
    if (n == 1) /* C (m x 1) = op(A) x, x = column 0 of op(B) */
      gemv(trans_a, m, k, A, lda, B, trans_b ? 1 : ldb, beta, C, ldc);
    else /* m == 1: C^T (n x 1) = op(B)^T op(A)^T, a matrix-vector product with B as matrix */
      gemv(!trans_b, n, k, B, ldb, A, trans_a ? lda : 1, beta, C, 1);
    return;
  case WG_GEMM_PLAIN:
    gemm_plain(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
    return;
  case WG_GEMM_THIN: {
    thin_job j = {trans_a, trans_b, n, k, A, lda, B, ldb, beta, C, ldc};
    wg_par_for((size_t)m, wg_par_grain_of((size_t)n), thin_rows, &j);
    return;
  }
  case WG_GEMM_BLOCKED:
    break;
  }
  gemm_job g = {.ta = trans_a, .tb = trans_b, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
                .ldc = ldc, .A = A, .B = B, .C = C, .beta1 = beta != 0};
  sizes_once();
  wg_par_lock();
  g.kc = in_use.kc, g.mc = in_use.mc, g.nc = in_use.nc;
  int ok = gemm_blocked(&g);
  wg_par_unlock();
  /* No scratch memory: the plain loop still gives the product (not bit-identical to the
   * packed path); gemm_blocked fails before it writes C. */
  if (!ok) gemm_plain(trans_a, trans_b, m, n, k, A, lda, B, ldb, beta, C, ldc);
}

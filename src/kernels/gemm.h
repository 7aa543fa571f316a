/* gemm.h - the matrix kernel shared by matmul's forward and both of its VJPs.
 *
 *   C (m x n) = beta C + op(A) op(B),   op(A) is (m x k), op(B) is (k x n)
 *
 * Row-major. op(X) = X when the flag is 0, X^T when it is 1; the transposed cases read the
 * stored matrix with swapped strides, never a copy. lda/ldb/ldc are the row strides of the
 * stored matrices (A is stored (m x k) with lda >= k, or (k x m) with lda >= m when
 * transposed). beta is 0 (overwrite; C need not be initialised) or 1 (accumulate). */
#ifndef WG_GEMM_H
#define WG_GEMM_H
#include "kernels/simd.h"
#include "wengert.h"

void wg_gemm(int trans_a, int trans_b, int m, int n, int k, const wg_real *A, int lda,
             const wg_real *B, int ldb, wg_real beta, wg_real *C, int ldc);

/* The paths of wg_gemm and the sizes that choose and block them (how each works:
 * docs/performance.md, "The matrix kernel"). Tests build their shapes from them (KC - 1, KC,
 * KC + 1, MC + MR + 2, ...) so that they cross every edge whatever sizes the machine gets.
 *   WG_GEMM_GEMV     n == 1 or m == 1: a matrix-vector loop
 *   WG_GEMM_PLAIN    m n k <= WG_GEMM_PLAIN_MNK: the i-p-j loop (packing would cost more)
 *   WG_GEMM_THIN     k <= WG_GEMM_THIN_K: one pass over C, op(B) copied WG_GEMM_THIN_BLOCK
 *                    columns at a time
 *   WG_GEMM_BLOCKED  everything else: Goto/BLIS blocking, op(B) packed in KC x NC blocks of
 *                    KC x NR panels, op(A) in MC x KC blocks of MR x KC panels, and an
 *                    MR x NR register tile of C per micro-kernel call
 * MR x NR follows the build's vector registers (kernels/simd.h; NR = NV vectors of wg_real);
 * KC, MC and NC follow the caches of the machine the library runs on (wg_gemm_sizes_for). */
typedef enum { WG_GEMM_GEMV, WG_GEMM_PLAIN, WG_GEMM_THIN, WG_GEMM_BLOCKED } wg_gemm_path;
wg_gemm_path wg_gemm_path_of(int m, int n, int k); /* m, n, k >= 1 */

/* MR rows of NV vectors: NR = NV WG_VL columns (AVX-512: 8 x 24 doubles or 8 x 48 floats) */
#if defined(WG_SIMD) && WG_VBYTES == 64
#define WG_GEMM_MR 8 /* 32 registers: 8 x 3 accumulators, 3 for B, 1 for A */
#define WG_GEMM_NV 3
#elif defined(WG_SIMD) && WG_VBYTES == 32
#define WG_GEMM_MR 6 /* 16 registers: 6 x 2 accumulators, 2 for B, 1 for A */
#define WG_GEMM_NV 2
#elif defined(WG_SIMD)
#define WG_GEMM_MR 4 /* 16 registers of 16 bytes: 4 x 2 accumulators */
#define WG_GEMM_NV 2
#endif
#if defined(WG_SIMD)
#define WG_GEMM_NR (WG_GEMM_NV * WG_VL)
#else
#define WG_GEMM_MR 4 /* plain C: a 4 x 4 tile in arrays */
#define WG_GEMM_NR 4
#endif

/* The block sizes of the blocked path, in wg_reals. */
typedef struct {
  int mr, nr; /* the register tile (WG_GEMM_MR, WG_GEMM_NR) */
  int kc;     /* depth of a packed slice: a KC x NR panel of op(B) stays in L1 */
  int mc;     /* rows of a packed op(A) block (MC x KC in L2), a multiple of MR */
  int nc;     /* columns of a packed op(B) block (KC x NC in L3), a multiple of NR */
  long l1, l2, l3; /* the data cache sizes (bytes) they came from; 0: not reported */
} wg_gemm_sizes;

/* The sizes for data caches of l1, l2, l3 bytes per core (<= 0: unknown, a default is
 * assumed). A pure function: tests call it with other machines' caches. */
wg_gemm_sizes wg_gemm_sizes_for(long l1, long l2, long l3);
/* The sizes in use: computed once (thread-safely) from the caches the system reports. */
wg_gemm_sizes wg_gemm_sizes_get(void);
/* Tests and tuning: use *s instead (NULL: back to the machine's). Blocked products take the
 * pool's lock, and so does this, so a product never sees half a change. Returns 0 (and
 * changes nothing) when *s is not a valid set: kc >= 1, mc a multiple of mr, nc of nr. */
int wg_gemm_sizes_use(const wg_gemm_sizes *s);

/* The sizes in use, for code written when they were constants (tests/check_conv.c). */
#define WG_GEMM_KC (wg_gemm_sizes_get().kc)
#define WG_GEMM_MC (wg_gemm_sizes_get().mc)
#define WG_GEMM_NC (wg_gemm_sizes_get().nc)
#define WG_GEMM_PLAIN_MNK 32768 /* m n k at or below this: the plain loop */
#define WG_GEMM_THIN_K 4        /* k at or below this: the one-pass loop */
#define WG_GEMM_THIN_BLOCK 256  /* columns of op(B) the one-pass loop copies at a time */

#endif

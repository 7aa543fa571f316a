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
 * docs/performance.md, "The matrix kernel"). They are here so that tests build their shapes
 * from them (KC - 1, KC, KC + 1, MC + MR + 2, ...) and still cross every edge after a retune.
 *   WG_GEMM_GEMV     n == 1 or m == 1: a matrix-vector loop
 *   WG_GEMM_PLAIN    m n k <= WG_GEMM_PLAIN_MNK: the i-p-j loop (packing would cost more)
 *   WG_GEMM_THIN     k <= WG_GEMM_THIN_K: one pass over C, op(B) copied WG_GEMM_THIN_BLOCK
 *                    columns at a time
 *   WG_GEMM_BLOCKED  everything else: Goto/BLIS blocking, op(B) packed in KC x NC blocks of
 *                    KC x NR panels, op(A) in MC x KC blocks of MR x KC panels, and an
 *                    MR x NR register tile of C per micro-kernel call
 * MR x NR follows the vector width (kernels/simd.h); KC, MC and NC may be set with -D for
 * tuning experiments (gemm.c checks that MC is a multiple of MR and NC of NR). */
typedef enum { WG_GEMM_GEMV, WG_GEMM_PLAIN, WG_GEMM_THIN, WG_GEMM_BLOCKED } wg_gemm_path;
wg_gemm_path wg_gemm_path_of(int m, int n, int k); /* m, n, k >= 1 */

#if defined(WG_SIMD) && WG_VL == 8
#define WG_GEMM_MR 8  /* 32 registers of 8 doubles: 8 x 3 accumulators, 3 for B, 1 for A */
#define WG_GEMM_NR 24
#elif defined(WG_SIMD) && WG_VL == 4
#define WG_GEMM_MR 6  /* 16 registers of 4 doubles: 6 x 2 accumulators, 2 for B, 1 for A */
#define WG_GEMM_NR 8
#elif defined(WG_SIMD)
#define WG_GEMM_MR 4  /* 16 registers of 2 doubles: 4 x 2 accumulators */
#define WG_GEMM_NR 4
#else
#define WG_GEMM_MR 4  /* plain C */
#define WG_GEMM_NR 4
#endif
#ifndef WG_GEMM_KC
#define WG_GEMM_KC 256   /* depth of a packed slice: an A panel (MR x KC) and a B panel
                            (KC x NR) stay in L1 */
#endif
#ifndef WG_GEMM_MC
#define WG_GEMM_MC 240   /* rows of C per packed A block (MC x KC reals in L2) */
#endif
#ifndef WG_GEMM_NC
#define WG_GEMM_NC 2040  /* columns of C per packed B block */
#endif
#define WG_GEMM_PLAIN_MNK 32768 /* m n k at or below this: the plain loop */
#define WG_GEMM_THIN_K 4        /* k at or below this: the one-pass loop */
#define WG_GEMM_THIN_BLOCK 256  /* columns of op(B) the one-pass loop copies at a time */

#endif

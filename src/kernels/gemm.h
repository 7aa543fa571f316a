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
#include "wengert.h"

void wg_gemm(int trans_a, int trans_b, int m, int n, int k, const wg_real *A, int lda,
             const wg_real *B, int ldb, wg_real beta, wg_real *C, int ldc);

#endif

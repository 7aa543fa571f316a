/* gemm.c - see gemm.h. A clear, cache-friendly i-k-j loop: the innermost loop runs along a
 * row of B and a row of C, both contiguous, when B is not transposed. */
#include <string.h>

#include "ops/gemm.h"

void wg_gemm(int trans_a, int trans_b, int m, int n, int k, const wg_real *A, int lda,
             const wg_real *B, int ldb, wg_real beta, wg_real *C, int ldc) {
  for (int i = 0; i < m; i++) {
    wg_real *c = C + (size_t)i * ldc;
    if (beta == 0) memset(c, 0, (size_t)n * sizeof *c);
    for (int p = 0; p < k; p++) {
      wg_real a = trans_a ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
      if (!trans_b) {
        const wg_real *b = B + (size_t)p * ldb;
        for (int j = 0; j < n; j++) c[j] += a * b[j];
      } else {
        for (int j = 0; j < n; j++) c[j] += a * B[(size_t)j * ldb + p];
      }
    }
  }
}

/* matmul.c - matrix product.
 *   forward: C = A B                  A (m x k), B (k x n), C (m x n)
 *   VJP:     dA += dC B^T  (m x k)    dB += A^T dC  (k x n)
 *   JVP:     tC = tA B + A tB
 * All three use wg_gemm with transpose flags: no transpose is ever materialised. The VJP's
 * first write to an input's adjoint in a sweep is the product itself (beta = 0: the stale
 * buffer is not read, so it need not be zeroed); later ones add (beta = 1). */
#include "kernels/gemm.h"
#include "ops/ops.h"

wg_var wg_matmul(wg_tape *t, wg_var a, wg_var b) {
  const wg_row *ra = wg_row_of(t, a, "matmul");
  const wg_row *rb = ra ? wg_row_of(t, b, "matmul") : NULL;
  if (!rb) return wg_none();
  char sa[WG_SHAPE_TEXT], sb[WG_SHAPE_TEXT];
  if (ra->cols != rb->rows)
    return wg_fail(t, WG_ERR_SHAPE, "matmul: %s @ %s: inner dimensions differ (row %u)",
                   wg_row_shape(t, a.row, sa, sizeof sa), wg_row_shape(t, b.row, sb, sizeof sb),
                   (unsigned)t->n_rows);
  wg_var in[2] = {a, b};
  return wg_op_record(t, WG_OP_MATMUL, 2, in, ra->rows, rb->cols, 0);
}

void wg_op_matmul_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  int m = a->rows, k = a->cols, n = b->cols;
  wg_gemm(0, 0, m, n, k, a->val, k, b->val, n, 0, r->val, n);
}

void wg_op_matmul_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  int m = a->rows, k = a->cols, n = b->cols;
  if (a->needs_grad) /* dC B^T */
    wg_gemm(0, 1, m, k, n, r->adj, n, b->val, n, !wg_adj_first(a), a->adj, k);
  if (b->needs_grad) /* A^T dC */
    wg_gemm(1, 0, k, n, m, a->val, k, r->adj, n, !wg_adj_first(b), b->adj, n);
}

void wg_op_matmul_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  int m = a->rows, k = a->cols, n = b->cols;
  /* an input whose tangent is identically zero (tan_zero, sweep.c) adds nothing: skip its
   * product (wg_jvp calls this only when at least one tangent is not zero) */
  if (!a->tan_zero) wg_gemm(0, 0, m, n, k, a->tan, k, b->val, n, 0, r->tan, n);
  if (!b->tan_zero) wg_gemm(0, 0, m, n, k, a->val, k, b->tan, n, !a->tan_zero, r->tan, n);
}

/* recorded VJP: dA = dC B^T, dB = A^T dC, as two matmuls with transposes */
void wg_op_matmul_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  wg_var a = wg_in(t, row, 0), b = wg_in(t, row, 1);
  if (want[0]) dx[0] = wg_matmul(t, dy, wg_transpose(t, b));
  if (want[1]) dx[1] = wg_matmul(t, wg_transpose(t, a), dy);
}

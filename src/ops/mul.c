/* mul.c - elementwise (Hadamard) product with 2-D broadcasting.
 *   forward: y = a * b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy * b)   (unbcast: sum over the axes an input was repeated along)
 *            db += unbcast(dy * a)
 *   JVP:     ty = ta * b + a * tb */
#include "ops/ops.h"

wg_var wg_mul(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_MUL, a, b, "*");
}

void wg_op_mul_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->val[(size_t)i * r->cols + j] = a->val[i * sa.rs + j * sa.cs] * b->val[i * sb.rs + j * sb.cs];
}

void wg_op_mul_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) {
      wg_real dy = r->adj[(size_t)i * r->cols + j];
      size_t ia = i * sa.rs + j * sa.cs, ib = i * sb.rs + j * sb.cs;
      if (a->needs_grad) a->adj[ia] += dy * b->val[ib];
      if (b->needs_grad) b->adj[ib] += dy * a->val[ia];
    }
}

void wg_op_mul_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) {
      size_t ia = i * sa.rs + j * sa.cs, ib = i * sb.rs + j * sb.cs;
      r->tan[(size_t)i * r->cols + j] = a->tan[ia] * b->val[ib] + a->val[ia] * b->tan[ib];
    }
}

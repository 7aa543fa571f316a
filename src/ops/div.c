/* div.c - elementwise quotient with 2-D broadcasting.
 *   forward: y = a / b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy / b)   (unbcast: sum over the axes an input was repeated along)
 *            db -= unbcast(dy * y / b)       since d(a/b)/db = -a/b^2 = -y/b
 *   JVP:     ty = (ta - y * tb) / b */
#include "ops/ops.h"

wg_var wg_div(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_DIV, a, b, "/");
}

void wg_op_div_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->val[(size_t)i * r->cols + j] = a->val[i * sa.rs + j * sa.cs] / b->val[i * sb.rs + j * sb.cs];
}

void wg_op_div_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) {
      size_t o = (size_t)i * r->cols + j, ia = i * sa.rs + j * sa.cs, ib = i * sb.rs + j * sb.cs;
      wg_real g = r->adj[o] / b->val[ib];
      if (a->needs_grad) a->adj[ia] += g;
      if (b->needs_grad) b->adj[ib] -= g * r->val[o];
    }
}

void wg_op_div_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) {
      size_t o = (size_t)i * r->cols + j, ia = i * sa.rs + j * sa.cs, ib = i * sb.rs + j * sb.cs;
      r->tan[o] = (a->tan[ia] - r->val[o] * b->tan[ib]) / b->val[ib];
    }
}

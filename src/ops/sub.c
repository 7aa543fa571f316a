/* sub.c - elementwise difference with 2-D broadcasting.
 *   forward: y = a - b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy)       (unbcast: sum over the axes an input was repeated along)
 *            db -= unbcast(dy)
 *   JVP:     ty = ta - tb */
#include "ops/ops.h"

wg_var wg_sub(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_SUB, a, b, "-");
}

void wg_op_sub_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->val[(size_t)i * r->cols + j] = a->val[i * sa.rs + j * sa.cs] - b->val[i * sb.rs + j * sb.cs];
}

void wg_op_sub_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++) {
      wg_real dy = r->adj[(size_t)i * r->cols + j];
      if (a->needs_grad) a->adj[i * sa.rs + j * sa.cs] += dy;
      if (b->needs_grad) b->adj[i * sb.rs + j * sb.cs] -= dy;
    }
}

void wg_op_sub_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->tan[(size_t)i * r->cols + j] = a->tan[i * sa.rs + j * sa.cs] - b->tan[i * sb.rs + j * sb.cs];
}

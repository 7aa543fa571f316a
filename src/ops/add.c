/* add.c - elementwise sum with 2-D broadcasting.
 *   forward: y = a + b               a, b broadcast to y (M x N)
 *   VJP:     da += unbcast(dy)       unbcast sums dy over the axes a was repeated along;
 *            db += unbcast(dy)       so a 1xN bias gets the column sums of dy
 *   JVP:     ty = ta + tb */
#include "ops/ops.h"

wg_var wg_add(wg_tape *t, wg_var a, wg_var b) {
  return wg_op_bcast(t, WG_OP_ADD, a, b, "+");
}

void wg_op_add_forward(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  size_t n = wg_row_size(r);
  if (wg_row_size(a) == n && wg_row_size(b) <= 1) { /* x + scalar (a bias of one output) */
    for (size_t i = 0; i < n; i++) r->val[i] = a->val[i] + b->val[0];
    return;
  }
  for (int i = 0; i < r->rows; i++) {
    const wg_real *pa = a->val + i * sa.rs, *pb = b->val + i * sb.rs;
    wg_real *y = r->val + (size_t)i * r->cols;
    if (sa.cs && sb.cs) /* both run along the row: a contiguous loop the compiler vectorises */
      for (int j = 0; j < r->cols; j++) y[j] = pa[j] + pb[j];
    else
      for (int j = 0; j < r->cols; j++) y[j] = pa[j * sa.cs] + pb[j * sb.cs];
  }
}

/* dx += unbcast(dy), row by row, in the order of the elements of dy */
static void unbcast_add(wg_row *x, const wg_row *r) {
  size_t n = wg_row_size(r);
  if (wg_row_size(x) == n) { /* same shape: elementwise */
    for (size_t i = 0; i < n; i++) x->adj[i] += r->adj[i];
    return;
  }
  if (wg_row_size(x) == 1) { /* a scalar: the sum of dy, in order, in a register */
    wg_real acc = x->adj[0];
    for (size_t i = 0; i < n; i++) acc += r->adj[i];
    x->adj[0] = acc;
    return;
  }
  wg_bstride s = wg_bcast_stride(x);
  for (int i = 0; i < r->rows; i++) {
    const wg_real *dy = r->adj + (size_t)i * r->cols;
    wg_real *dx = x->adj + i * s.rs;
    if (s.cs)
      for (int j = 0; j < r->cols; j++) dx[j] += dy[j];
    else
      for (int j = 0; j < r->cols; j++) dx[0] += dy[j];
  }
}

void wg_op_add_vjp(wg_tape *t, wg_row *r) {
  wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  if (a->needs_grad) unbcast_add(a, r);
  if (b->needs_grad) unbcast_add(b, r);
}

void wg_op_add_jvp(wg_tape *t, wg_row *r) {
  const wg_row *a = wg_input_row(t, r, 0), *b = wg_input_row(t, r, 1);
  wg_bstride sa = wg_bcast_stride(a), sb = wg_bcast_stride(b);
  for (int i = 0; i < r->rows; i++)
    for (int j = 0; j < r->cols; j++)
      r->tan[(size_t)i * r->cols + j] = a->tan[i * sa.rs + j * sa.cs] + b->tan[i * sb.rs + j * sb.cs];
}

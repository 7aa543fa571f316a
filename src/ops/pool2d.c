/* pool2d.c - max and average pooling over kernel x kernel windows, no padding.
 *
 * x is (B x C*H*W): image b in row b, channel-major, x_b[c][i][j] at column (c*H + i)*W + j.
 * y is (B x C*Ho*Wo) in the same layout, Ho = (H - kernel)/stride + 1, Wo likewise; the
 * window of output (c, p, q) is x_b[c][p*stride + i][q*stride + j], 0 <= i, j < kernel.
 *
 *   maxpool2d  forward: y = x_m, m = the first index of the window's maximum (row-major scan;
 *                       a NaN in the window wins, so NaN propagates as in PyTorch)
 *              VJP:     dx_m += dy          (the subgradient goes to that first maximum only)
 *              JVP:     ty = tx_m
 *              m is kept per output element (an int32 column index into x's row, arena).
 *   avgpool2d  forward: y = sum over the window of x / n, n = kernel^2 (each term divided
 *                       first, so a window of values near DBL_MAX does not overflow)
 *              VJP:     dx += dy / n on every pixel of the window
 *              JVP:     ty = sum over the window of tx / n */
#include <stdint.h>

#include "ops/ops.h"

typedef struct {
  wg_pool2d_shape s;
  int ho, wo;
  int32_t *arg; /* maxpool: the argmax of each output element (a column of x), arena */
} pool_info;

static wg_var pool_record(wg_tape *t, int op, wg_var x, wg_pool2d_shape s) {
  const char *name = wg_ops[op].name;
  const wg_row *rx = wg_row_of(t, x, name);
  if (!rx) return wg_none();
  unsigned row = (unsigned)t->n_rows;
  char sx[WG_SHAPE_TEXT];
  wg_row_shape(t, x.row, sx, sizeof sx);
  if (s.channels < 1 || s.height < 1 || s.width < 1 || s.kernel < 1 || s.stride < 1)
    return wg_fail(t, WG_ERR_ARG, "%s: x %s: channels %d, height %d, width %d, kernel %d, stride "
                   "%d: each must be >= 1 (row %u)", name, sx, s.channels, s.height, s.width,
                   s.kernel, s.stride, row);
  long long chw = (long long)s.channels * s.height * s.width;
  if (rx->cols != chw)
    return wg_fail(t, WG_ERR_SHAPE, "%s: x %s has %d columns, not channels*height*width = "
                   "%d*%d*%d = %lld (row %u)", name, sx, rx->cols, s.channels, s.height, s.width,
                   chw, row);
  if (s.kernel > s.height || s.kernel > s.width)
    return wg_fail(t, WG_ERR_SHAPE, "%s: x %s: kernel %dx%d is larger than the image %dx%d "
                   "(row %u)", name, sx, s.kernel, s.kernel, s.height, s.width, row);
  pool_info *pi = wg_tape_alloc(t, sizeof *pi);
  if (!pi) return wg_none();
  pi->s = s;
  pi->ho = (s.height - s.kernel) / s.stride + 1;
  pi->wo = (s.width - s.kernel) / s.stride + 1;
  pi->arg = NULL;
  int cols = s.channels * pi->ho * pi->wo; /* <= C*H*W, an int */
  return wg_op_record_ptr(t, op, 1, &x, rx->rows, cols, 0, pi);
}

wg_var wg_maxpool2d(wg_tape *t, wg_var x, wg_pool2d_shape s) {
  return pool_record(t, WG_OP_MAXPOOL2D, x, s);
}

wg_var wg_avgpool2d(wg_tape *t, wg_var x, wg_pool2d_shape s) {
  return pool_record(t, WG_OP_AVGPOOL2D, x, s);
}

/* column of x (in its row) of pixel (c, p*stride, q*stride): the window's top-left corner */
static int corner(const pool_info *pi, int c, int p, int q) {
  return (c * pi->s.height + p * pi->s.stride) * pi->s.width + q * pi->s.stride;
}

void wg_op_maxpool2d_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  pool_info *pi = r->ptr;
  if (!pi->arg && !(pi->arg = wg_tape_alloc(t, wg_row_size(r) * sizeof(int32_t)))) return;
  int k = pi->s.kernel, W = pi->s.width;
  for (int b = 0; b < r->rows; b++) {
    const wg_real *xb = x->val + (size_t)b * x->cols;
    size_t o = (size_t)b * r->cols;
    for (int c = 0; c < pi->s.channels; c++)
      for (int p = 0; p < pi->ho; p++)
        for (int q = 0; q < pi->wo; q++, o++) {
          int at = corner(pi, c, p, q), best = at;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
              int e = at + i * W + j;
              wg_real v = xb[e], m = xb[best];
              if (v > m || (v != v && m == m)) best = e; /* strictly greater: the first max */
            }
          pi->arg[o] = best;
          r->val[o] = xb[best];
        }
  }
}

void wg_op_maxpool2d_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  const pool_info *pi = r->ptr;
  for (int b = 0; b < r->rows; b++) {
    wg_real *dx = x->adj + (size_t)b * x->cols;
    const wg_real *dy = r->adj + (size_t)b * r->cols;
    const int32_t *m = pi->arg + (size_t)b * r->cols;
    for (int o = 0; o < r->cols; o++) dx[m[o]] += dy[o];
  }
}

void wg_op_maxpool2d_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  const pool_info *pi = r->ptr;
  for (int b = 0; b < r->rows; b++) {
    const wg_real *tx = x->tan + (size_t)b * x->cols;
    wg_real *ty = r->tan + (size_t)b * r->cols;
    const int32_t *m = pi->arg + (size_t)b * r->cols;
    for (int o = 0; o < r->cols; o++) ty[o] = tx[m[o]];
  }
}

/* y_o = sum over o's window of v / n, for each output element o of one image (v: x or tx) */
static void avg_rows(const wg_row *r, const pool_info *pi, const wg_real *v, int vcols,
                     wg_real *y) {
  int k = pi->s.kernel, W = pi->s.width;
  wg_real n = (wg_real)k * k;
  for (int b = 0; b < r->rows; b++) {
    const wg_real *vb = v + (size_t)b * vcols;
    size_t o = (size_t)b * r->cols;
    for (int c = 0; c < pi->s.channels; c++)
      for (int p = 0; p < pi->ho; p++)
        for (int q = 0; q < pi->wo; q++, o++) {
          int at = corner(pi, c, p, q);
          wg_real s = 0;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) s += vb[at + i * W + j] / n;
          y[o] = s;
        }
  }
}

void wg_op_avgpool2d_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  avg_rows(r, r->ptr, x->val, x->cols, r->val);
}

void wg_op_avgpool2d_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  const pool_info *pi = r->ptr;
  int k = pi->s.kernel, W = pi->s.width;
  wg_real n = (wg_real)k * k;
  for (int b = 0; b < r->rows; b++) {
    wg_real *dx = x->adj + (size_t)b * x->cols;
    size_t o = (size_t)b * r->cols;
    for (int c = 0; c < pi->s.channels; c++)
      for (int p = 0; p < pi->ho; p++)
        for (int q = 0; q < pi->wo; q++, o++) {
          int at = corner(pi, c, p, q);
          wg_real g = r->adj[o] / n;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) dx[at + i * W + j] += g;
        }
  }
}

void wg_op_avgpool2d_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  avg_rows(r, r->ptr, x->tan, x->cols, r->tan);
}

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
 *              JVP:     ty = sum over the window of tx / n
 *
 * Recorded VJPs (wg_gradients) and the helper ops they need, which close on each other:
 *   maxpool2d              dx = maxpool2d_scatter(x, dy)
 *   maxpool2d_scatter(x, dy)  (B x C*Ho*Wo) -> x's shape (B x C*H*W): zeros, dy_o added at
 *                       window o's first maximum of x (window by window in order)
 *              VJP:     d dy_o += G_m (a gather), dx += 0 (the selection is piecewise constant
 *                       in x: slope 0, as max_axis)
 *              JVP:     ty = the scatter of t dy
 *              recorded: d dy = maxpool2d_gather(x, G)
 *   maxpool2d_gather(x, g)    g of x's shape -> (B x C*Ho*Wo): y_o = g_m, m the first maximum
 *                       of window o of x (maxpool2d(x) is maxpool2d_gather(x, x))
 *              VJP:     dg_m += G_o, dx += 0       JVP: ty_o = tg_m
 *              recorded: dg = maxpool2d_scatter(x, G)
 *   avgpool2d              dx = avgpool2d_transpose(dy)
 *   avgpool2d_transpose(y)    (B x C*Ho*Wo) -> (B x C*H*W): zeros, y_o / n added on every
 *                       pixel of window o (the transpose of the linear map avgpool2d)
 *              VJP:     dy_o += sum over window o of G / n     JVP: the same map on ty
 *              recorded: dy = avgpool2d(G)
 * Each helper keeps the pool's wg_pool2d_shape; the argmax of a maxpool helper is found again
 * from x's values by its own forward (so a replay with new values moves it). */
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"

typedef struct {
  wg_pool2d_shape s;
  int ho, wo;
  int32_t *arg; /* maxpool: the argmax of each output element (a column of x), arena */
} pool_info;

/* Check s and that v (an image batch when image is 1, a pooled batch when 0) has the columns
 * it implies; return the geometry (arena) or NULL after failing the tape naming `name`. */
static pool_info *pool_plan(wg_tape *t, const char *name, wg_var v, wg_pool2d_shape s,
                            int image) {
  const wg_row *rx = wg_row_of(t, v, name);
  if (!rx) return NULL;
  unsigned row = (unsigned)t->n_rows;
  char sx[WG_SHAPE_TEXT];
  wg_row_shape(t, v.row, sx, sizeof sx);
  const char *what = image ? "x" : "y";
  if (s.channels < 1 || s.height < 1 || s.width < 1 || s.kernel < 1 || s.stride < 1) {
    wg_fail(t, WG_ERR_ARG, "%s: %s %s: channels %d, height %d, width %d, kernel %d, stride "
            "%d: each must be >= 1 (row %u)", name, what, sx, s.channels, s.height, s.width,
            s.kernel, s.stride, row);
    return NULL;
  }
  if (s.kernel > s.height || s.kernel > s.width) {
    wg_fail(t, WG_ERR_SHAPE, "%s: %s %s: kernel %dx%d is larger than the image %dx%d "
            "(row %u)", name, what, sx, s.kernel, s.kernel, s.height, s.width, row);
    return NULL;
  }
  int ho = (s.height - s.kernel) / s.stride + 1, wo = (s.width - s.kernel) / s.stride + 1;
  long long want = image ? (long long)s.channels * s.height * s.width
                         : (long long)s.channels * ho * wo;
  if (rx->cols != want) {
    wg_fail(t, WG_ERR_SHAPE, "%s: %s %s has %d columns, not channels*%s = %d*%d*%d = %lld "
            "(row %u)", name, what, sx, rx->cols,
            image ? "height*width" : "out_height*out_width", s.channels, image ? s.height : ho,
            image ? s.width : wo, want, row);
    return NULL;
  }
  pool_info *pi = wg_tape_alloc(t, sizeof *pi);
  if (!pi) return NULL;
  pi->s = s;
  pi->ho = ho, pi->wo = wo;
  pi->arg = NULL;
  return pi;
}

static int pooled_cols(const pool_info *pi) {
  return pi->s.channels * pi->ho * pi->wo; /* <= C*H*W, an int */
}

static wg_var pool_record(wg_tape *t, int op, wg_var x, wg_pool2d_shape s) {
  pool_info *pi = pool_plan(t, wg_ops[op].name, x, s, 1);
  if (!pi) return wg_none();
  return wg_op_record_ptr(t, op, 1, &x, t->rows[x.row].rows, pooled_cols(pi), 0, pi);
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

static int image_cols(const pool_info *pi) {
  return pi->s.channels * pi->s.height * pi->s.width;
}

/* pi->arg[b][o] = the column of x's row b holding the first maximum of window o (a NaN wins),
 * for the rows images of x; the array is taken from the arena on first use. 0 if out of
 * memory (the tape failed). */
static int find_args(wg_tape *t, pool_info *pi, const wg_real *x, int rows) {
  size_t n = (size_t)rows * (size_t)pooled_cols(pi);
  if (!pi->arg && !(pi->arg = wg_tape_alloc(t, n * sizeof(int32_t)))) return 0;
  int k = pi->s.kernel, W = pi->s.width;
  for (int b = 0; b < rows; b++) {
    const wg_real *xb = x + (size_t)b * image_cols(pi);
    size_t o = (size_t)b * pooled_cols(pi);
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
        }
  }
  return 1;
}

/* out (rows x pooled) = img (rows x image) at the maxima, or += when add */
static void gather_args(const pool_info *pi, int rows, const wg_real *img, wg_real *out,
                        int add) {
  int np = pooled_cols(pi), ni = image_cols(pi);
  for (int b = 0; b < rows; b++) {
    const wg_real *ib = img + (size_t)b * ni;
    wg_real *ob = out + (size_t)b * np;
    const int32_t *m = pi->arg + (size_t)b * np;
    for (int o = 0; o < np; o++) ob[o] = add ? ob[o] + ib[m[o]] : ib[m[o]];
  }
}

/* img (rows x image) += pooled (rows x pooled) at the maxima, window by window in order */
static void scatter_args(const pool_info *pi, int rows, const wg_real *pooled, wg_real *img) {
  int np = pooled_cols(pi), ni = image_cols(pi);
  for (int b = 0; b < rows; b++) {
    wg_real *ib = img + (size_t)b * ni;
    const wg_real *pb = pooled + (size_t)b * np;
    const int32_t *m = pi->arg + (size_t)b * np;
    for (int o = 0; o < np; o++) ib[m[o]] += pb[o];
  }
}

void wg_op_maxpool2d_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  if (find_args(t, r->ptr, x->val, r->rows)) gather_args(r->ptr, r->rows, x->val, r->val, 0);
}

void wg_op_maxpool2d_vjp(wg_tape *t, wg_row *r) {
  scatter_args(r->ptr, r->rows, r->adj, wg_input_row(t, r, 0)->adj);
}

void wg_op_maxpool2d_jvp(wg_tape *t, wg_row *r) {
  gather_args(r->ptr, r->rows, wg_input_row(t, r, 0)->tan, r->tan, 0);
}

/* out_o = sum over o's window of img / n (or += when add), each term divided first, for the
 * rows images of img (rows x image) -> out (rows x pooled) */
static void avg_windows(const pool_info *pi, int rows, const wg_real *img, wg_real *out,
                        int add) {
  int k = pi->s.kernel, W = pi->s.width;
  wg_real n = (wg_real)k * k;
  for (int b = 0; b < rows; b++) {
    const wg_real *ib = img + (size_t)b * image_cols(pi);
    size_t o = (size_t)b * pooled_cols(pi);
    for (int c = 0; c < pi->s.channels; c++)
      for (int p = 0; p < pi->ho; p++)
        for (int q = 0; q < pi->wo; q++, o++) {
          int at = corner(pi, c, p, q);
          wg_real s = 0;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) s += ib[at + i * W + j] / n;
          out[o] = add ? out[o] + s : s;
        }
  }
}

/* img (rows x image) += pooled_o / n on every pixel of window o, window by window in order */
static void spread_windows(const pool_info *pi, int rows, const wg_real *pooled, wg_real *img) {
  int k = pi->s.kernel, W = pi->s.width;
  wg_real n = (wg_real)k * k;
  for (int b = 0; b < rows; b++) {
    wg_real *ib = img + (size_t)b * image_cols(pi);
    size_t o = (size_t)b * pooled_cols(pi);
    for (int c = 0; c < pi->s.channels; c++)
      for (int p = 0; p < pi->ho; p++)
        for (int q = 0; q < pi->wo; q++, o++) {
          int at = corner(pi, c, p, q);
          wg_real g = pooled[o] / n;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) ib[at + i * W + j] += g;
        }
  }
}

void wg_op_avgpool2d_forward(wg_tape *t, wg_row *r) {
  avg_windows(r->ptr, r->rows, wg_input_row(t, r, 0)->val, r->val, 0);
}

void wg_op_avgpool2d_vjp(wg_tape *t, wg_row *r) {
  spread_windows(r->ptr, r->rows, r->adj, wg_input_row(t, r, 0)->adj);
}

void wg_op_avgpool2d_jvp(wg_tape *t, wg_row *r) {
  avg_windows(r->ptr, r->rows, wg_input_row(t, r, 0)->tan, r->tan, 0);
}

/* ---- the recorded VJPs and the helper ops they are made of ---------------------------- */

/* recorded VJP: dx = dy added at each window's first maximum, maxpool2d_scatter(x, dy) */
void wg_op_maxpool2d_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  if (!want[0]) return;
  wg_pool2d_shape s = ((const pool_info *)t->rows[row].ptr)->s;
  dx[0] = wg_maxpool2d_scatter(t, wg_in(t, row, 0), dy, s);
}

/* recorded VJP: dx = dy / n spread over each window, avgpool2d_transpose(dy) */
void wg_op_avgpool2d_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  if (!want[0]) return;
  wg_pool2d_shape s = ((const pool_info *)t->rows[row].ptr)->s;
  dx[0] = wg_avgpool2d_transpose(t, dy, s);
}

/* x and a second input v must have the shapes `v_image` says (x's, or the pooled result's) */
static pool_info *pair_plan(wg_tape *t, int op, wg_var x, wg_var v, wg_pool2d_shape s,
                            int v_image) {
  const char *name = wg_ops[op].name;
  pool_info *pi = pool_plan(t, name, x, s, 1);
  const wg_row *rv = pi ? wg_row_of(t, v, name) : NULL;
  if (!rv) return NULL;
  int rows = t->rows[x.row].rows, cols = v_image ? image_cols(pi) : pooled_cols(pi);
  if (rv->rows == rows && rv->cols == cols) return pi;
  char sx[WG_SHAPE_TEXT], sv[WG_SHAPE_TEXT];
  wg_fail(t, WG_ERR_SHAPE, "%s: x %s, %s %s: the second input must be (%dx%d), %s (row %u)",
          name, wg_row_shape(t, x.row, sx, sizeof sx), v_image ? "g" : "dy",
          wg_row_shape(t, v.row, sv, sizeof sv), rows, cols,
          v_image ? "x's shape" : "the pooled shape of x", (unsigned)t->n_rows);
  return NULL;
}

wg_var wg_maxpool2d_scatter(wg_tape *t, wg_var x, wg_var dy, wg_pool2d_shape s) {
  pool_info *pi = pair_plan(t, WG_OP_MAXPOOL2D_SCATTER, x, dy, s, 0);
  if (!pi) return wg_none();
  wg_var in[2] = {x, dy};
  return wg_op_record_ptr(t, WG_OP_MAXPOOL2D_SCATTER, 2, in, t->rows[x.row].rows,
                          image_cols(pi), 0, pi);
}

void wg_op_maxpool2d_scatter_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *dy = wg_input_row(t, r, 1);
  if (!find_args(t, r->ptr, x->val, r->rows)) return;
  memset(r->val, 0, wg_row_size(r) * sizeof *r->val);
  scatter_args(r->ptr, r->rows, dy->val, r->val);
}

void wg_op_maxpool2d_scatter_vjp(wg_tape *t, wg_row *r) { /* x: slope 0 */
  wg_row *dy = wg_input_row(t, r, 1);
  if (dy->needs_grad) gather_args(r->ptr, r->rows, r->adj, dy->adj, 1);
}

void wg_op_maxpool2d_scatter_jvp(wg_tape *t, wg_row *r) {
  memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
  scatter_args(r->ptr, r->rows, wg_input_row(t, r, 1)->tan, r->tan);
}

/* recorded VJP: d dy = g at each window's first maximum, maxpool2d_gather(x, g); x: none */
void wg_op_maxpool2d_scatter_record_vjp(wg_tape *t, uint32_t row, wg_var g,
                                        const uint8_t *want, wg_var *dx) {
  if (!want[1]) return;
  wg_pool2d_shape s = ((const pool_info *)t->rows[row].ptr)->s;
  dx[1] = wg_maxpool2d_gather(t, wg_in(t, row, 0), g, s);
}

wg_var wg_maxpool2d_gather(wg_tape *t, wg_var x, wg_var g, wg_pool2d_shape s) {
  pool_info *pi = pair_plan(t, WG_OP_MAXPOOL2D_GATHER, x, g, s, 1);
  if (!pi) return wg_none();
  wg_var in[2] = {x, g};
  return wg_op_record_ptr(t, WG_OP_MAXPOOL2D_GATHER, 2, in, t->rows[x.row].rows,
                          pooled_cols(pi), 0, pi);
}

void wg_op_maxpool2d_gather_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *g = wg_input_row(t, r, 1);
  if (find_args(t, r->ptr, x->val, r->rows)) gather_args(r->ptr, r->rows, g->val, r->val, 0);
}

void wg_op_maxpool2d_gather_vjp(wg_tape *t, wg_row *r) { /* x: slope 0 */
  wg_row *g = wg_input_row(t, r, 1);
  if (g->needs_grad) scatter_args(r->ptr, r->rows, r->adj, g->adj);
}

void wg_op_maxpool2d_gather_jvp(wg_tape *t, wg_row *r) {
  gather_args(r->ptr, r->rows, wg_input_row(t, r, 1)->tan, r->tan, 0);
}

/* recorded VJP: d g = the adjoint added at each window's first maximum,
 * maxpool2d_scatter(x, adjoint); x: none */
void wg_op_maxpool2d_gather_record_vjp(wg_tape *t, uint32_t row, wg_var a, const uint8_t *want,
                                       wg_var *dx) {
  if (!want[1]) return;
  wg_pool2d_shape s = ((const pool_info *)t->rows[row].ptr)->s;
  dx[1] = wg_maxpool2d_scatter(t, wg_in(t, row, 0), a, s);
}

wg_var wg_avgpool2d_transpose(wg_tape *t, wg_var y, wg_pool2d_shape s) {
  pool_info *pi = pool_plan(t, "avgpool2d_transpose", y, s, 0);
  if (!pi) return wg_none();
  return wg_op_record_ptr(t, WG_OP_AVGPOOL2D_TRANSPOSE, 1, &y, t->rows[y.row].rows,
                          image_cols(pi), 0, pi);
}

void wg_op_avgpool2d_transpose_forward(wg_tape *t, wg_row *r) {
  memset(r->val, 0, wg_row_size(r) * sizeof *r->val);
  spread_windows(r->ptr, r->rows, wg_input_row(t, r, 0)->val, r->val);
}

void wg_op_avgpool2d_transpose_vjp(wg_tape *t, wg_row *r) {
  avg_windows(r->ptr, r->rows, r->adj, wg_input_row(t, r, 0)->adj, 1);
}

void wg_op_avgpool2d_transpose_jvp(wg_tape *t, wg_row *r) {
  memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
  spread_windows(r->ptr, r->rows, wg_input_row(t, r, 0)->tan, r->tan);
}

/* recorded VJP: dy = the mean of the adjoint over each window, avgpool2d(adjoint) */
void wg_op_avgpool2d_transpose_record_vjp(wg_tape *t, uint32_t row, wg_var a,
                                          const uint8_t *want, wg_var *dx) {
  if (!want[0]) return;
  wg_pool2d_shape s = ((const pool_info *)t->rows[row].ptr)->s;
  dx[0] = wg_avgpool2d(t, a, s);
}

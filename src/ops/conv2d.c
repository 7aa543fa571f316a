/* conv2d.c - 2-D convolution (cross-correlation, as in PyTorch) on the matrix kernel.
 *
 * x is (B x C*H*W): image b in row b, channel-major, x_b[c][i][j] at column (c*H + i)*W + j.
 * w is (K x O) with K = C*kh*kw, row (c*kh + i)*kw + j, so that the layer reads as X W.
 * With P = Ho*Wo output positions, Ho = (H + 2 pad - kh)/stride + 1 (Wo likewise), the K x P
 * matrix im2col(x_b) holds every window of image b as a column:
 *
 *   im2col(x_b)[(c*kh + i)*kw + j][p*Wo + q] = x_b[c][p*stride - pad + i][q*stride - pad + j]
 *                                              (0 when that pixel lies in the padding)
 *   forward: y_b (O x P) = w^T im2col(x_b)          y is (B x O*P), channel-major like x
 *   VJP:     dw (K x O) += sum_b im2col(x_b) dy_b^T
 *            dx_b        += col2im(w dy_b)           col2im adds each entry of the K x P matrix
 *                                                    back onto the pixel im2col read it from
 *   JVP:     ty_b = tw^T im2col(x_b) + w^T im2col(tx_b)
 *
 * Recorded VJPs (wg_gradients), with two helper ops that are the two partial adjoints:
 *   conv2d_transpose(y, w)   y (B x O*P), w (K x O) -> (B x C*H*W): col2im(w y_b) per image
 *                            (the transposed convolution: conv2d's VJP in x)
 *   conv2d_weight_grad(x, y) x (B x C*H*W), y (B x O*P) -> (K x O): sum_b im2col(x_b) y_b^T
 *                            (conv2d's VJP in w)
 *   conv2d:             dx = conv2d_transpose(dy, w);     dw = conv2d_weight_grad(x, dy)
 * All three are bilinear with <G, conv2d_transpose(y, w)> = <conv2d(G, w), y> and
 * <G, conv2d_weight_grad(x, y)> = <conv2d(x, G), y>, so their VJPs close on the three:
 *   conv2d_transpose (adjoint G of x's shape):   dy = conv2d(G, w);  dw = conv2d_weight_grad(G, y)
 *   conv2d_weight_grad (adjoint G of w's shape): dx = conv2d_transpose(y, G);  dy = conv2d(x, G)
 * and their JVPs are the product rule (ty = op(tx, y) + op(x, ty)).
 *
 * Every product is one wg_gemm per image (transpose flags, no copies). The forward keeps the
 * B matrices im2col(x_b) (B*K*P reals, arena) for the VJP's dw; one more K x P buffer holds
 * w dy_b in the VJP and im2col(tx_b) in the JVP. Both are taken at record time. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops/ops.h"
#include "tape/size.h"

typedef struct {
  wg_conv2d_shape s;
  int ho, wo;        /* output height and width */
  int k, p, o;       /* K = C*kh*kw, P = ho*wo, O = output channels */
  wg_real *col;      /* B blocks of K x P: im2col(x_b), filled by the forward */
  wg_real *work;     /* K x P: w dy_b (VJP), im2col(tx_b) (JVP) */
} conv_info;

wg_var wg_conv2d(wg_tape *t, wg_var x, wg_var w, wg_conv2d_shape s) {
  const wg_row *rx = wg_row_of(t, x, "conv2d");
  const wg_row *rw = rx ? wg_row_of(t, w, "conv2d") : NULL;
  if (!rw) return wg_none();
  unsigned row = (unsigned)t->n_rows;
  char sx[WG_SHAPE_TEXT], sw[WG_SHAPE_TEXT];
  wg_row_shape(t, x.row, sx, sizeof sx);
  wg_row_shape(t, w.row, sw, sizeof sw);
  if (s.channels < 1 || s.height < 1 || s.width < 1 || s.kernel_h < 1 || s.kernel_w < 1 ||
      s.stride < 1 || s.padding < 0)
    return wg_fail(t, WG_ERR_ARG, "conv2d: x %s, w %s: channels %d, height %d, width %d, kernel "
                   "%dx%d, stride %d, padding %d: sizes and stride must be >= 1, padding >= 0 "
                   "(row %u)", sx, sw, s.channels, s.height, s.width, s.kernel_h, s.kernel_w,
                   s.stride, s.padding, row);
  long long chw = (long long)s.channels * s.height * s.width;
  long long k = (long long)s.channels * s.kernel_h * s.kernel_w;
  if (rx->cols != chw)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d: x %s has %d columns, not channels*height*width = "
                   "%d*%d*%d = %lld (row %u)", sx, rx->cols, s.channels, s.height, s.width, chw,
                   row);
  if (rw->rows != k)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d: w %s has %d rows, not channels*kernel_h*kernel_w = "
                   "%d*%d*%d = %lld (x %s) (row %u)", sw, rw->rows, s.channels, s.kernel_h,
                   s.kernel_w, k, sx, row);
  long long ph = (long long)s.height + 2LL * s.padding, pw = (long long)s.width + 2LL * s.padding;
  if (s.kernel_h > ph || s.kernel_w > pw)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d: x %s, w %s: kernel %dx%d is larger than the padded "
                   "image %lldx%lld (%dx%d, padding %d) (row %u)", sx, sw, s.kernel_h, s.kernel_w,
                   ph, pw, s.height, s.width, s.padding, row);
  long long ho = (ph - s.kernel_h) / s.stride + 1, wo = (pw - s.kernel_w) / s.stride + 1;
  long long cols = (long long)rw->cols * ho * wo;
  if (cols > INT_MAX)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d: x %s, w %s: the output has %d*%lld*%lld = %lld "
                   "columns, more than an int holds (row %u)", sx, sw, rw->cols, ho, wo, cols,
                   row);
  size_t n_col, n_work;
  if (!wg_mul_size((size_t)k, (size_t)(ho * wo), &n_work) ||
      !wg_mul_size(n_work, (size_t)rx->rows, &n_col) ||
      !wg_mul_size(n_col, sizeof(wg_real), &n_col))
    return wg_fail(t, WG_ERR_SHAPE, "conv2d: x %s, w %s: the im2col matrices (%d of %lldx%lld) "
                   "are more than a %d-bit size_t counts (row %u)", sx, sw, rx->rows, k, ho * wo,
                   (int)(sizeof(size_t) * CHAR_BIT), row);
  conv_info *ci = wg_tape_alloc(t, sizeof *ci);
  if (!ci) return wg_none();
  memset(ci, 0, sizeof *ci);
  ci->s = s;
  ci->ho = (int)ho, ci->wo = (int)wo;
  ci->k = (int)k, ci->p = (int)(ho * wo), ci->o = rw->cols;
  wg_var in[2] = {x, w};
  return wg_op_record_ptr(t, WG_OP_CONV2D, 2, in, rx->rows, (int)cols, 0, ci);
}

/* col (K x P) = im2col of one image img (C*H*W) */
static void im2col(const conv_info *ci, const wg_real *img, wg_real *col) {
  const wg_conv2d_shape *s = &ci->s;
  for (int c = 0; c < s->channels; c++)
    for (int i = 0; i < s->kernel_h; i++)
      for (int j = 0; j < s->kernel_w; j++) {
        wg_real *dst = col + (size_t)((c * s->kernel_h + i) * s->kernel_w + j) * ci->p;
        for (int p = 0; p < ci->ho; p++) {
          int y = p * s->stride - s->padding + i;
          wg_real *d = dst + (size_t)p * ci->wo;
          if (y < 0 || y >= s->height) {
            for (int q = 0; q < ci->wo; q++) d[q] = 0;
            continue;
          }
          const wg_real *src = img + ((size_t)c * s->height + y) * s->width;
          for (int q = 0; q < ci->wo; q++) {
            int xx = q * s->stride - s->padding + j;
            d[q] = xx >= 0 && xx < s->width ? src[xx] : 0;
          }
        }
      }
}

/* img (C*H*W) += col2im(col): each entry goes back onto the pixel im2col read (padding: dropped) */
static void col2im_add(const conv_info *ci, const wg_real *col, wg_real *img) {
  const wg_conv2d_shape *s = &ci->s;
  for (int c = 0; c < s->channels; c++)
    for (int i = 0; i < s->kernel_h; i++)
      for (int j = 0; j < s->kernel_w; j++) {
        const wg_real *src = col + (size_t)((c * s->kernel_h + i) * s->kernel_w + j) * ci->p;
        for (int p = 0; p < ci->ho; p++) {
          int y = p * s->stride - s->padding + i;
          if (y < 0 || y >= s->height) continue;
          wg_real *dst = img + ((size_t)c * s->height + y) * s->width;
          const wg_real *sp = src + (size_t)p * ci->wo;
          for (int q = 0; q < ci->wo; q++) {
            int xx = q * s->stride - s->padding + j;
            if (xx >= 0 && xx < s->width) dst[xx] += sp[q];
          }
        }
      }
}

void wg_op_conv2d_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  conv_info *ci = r->ptr;
  size_t kp = (size_t)ci->k * ci->p;
  if (!ci->col && !(ci->col = wg_tape_reals(t, kp * (size_t)x->rows))) return;
  if (!ci->work && !(ci->work = wg_tape_reals(t, kp))) return;
  for (int b = 0; b < x->rows; b++) {
    wg_real *col = ci->col + kp * (size_t)b;
    im2col(ci, x->val + (size_t)b * x->cols, col);
    wg_gemm(1, 0, ci->o, ci->p, ci->k, w->val, ci->o, col, ci->p, 0,
            r->val + (size_t)b * r->cols, ci->p);
  }
}

void wg_op_conv2d_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  const conv_info *ci = r->ptr;
  size_t kp = (size_t)ci->k * ci->p;
  for (int b = 0; b < x->rows; b++) {
    const wg_real *dy = r->adj + (size_t)b * r->cols; /* O x P */
    if (w->needs_grad) /* dw (K x O) += im2col(x_b) dy_b^T */
      wg_gemm(0, 1, ci->k, ci->o, ci->p, ci->col + kp * (size_t)b, ci->p, dy, ci->p, 1, w->adj,
              ci->o);
    if (x->needs_grad) { /* dx_b += col2im(w dy_b) */
      wg_gemm(0, 0, ci->k, ci->p, ci->o, w->val, ci->o, dy, ci->p, 0, ci->work, ci->p);
      col2im_add(ci, ci->work, x->adj + (size_t)b * x->cols);
    }
  }
}

void wg_op_conv2d_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  const conv_info *ci = r->ptr;
  size_t kp = (size_t)ci->k * ci->p;
  for (int b = 0; b < x->rows; b++) {
    wg_real *ty = r->tan + (size_t)b * r->cols;
    if (!w->tan_zero) /* an identically zero tangent adds nothing (sweep.c, tan_zero) */
      wg_gemm(1, 0, ci->o, ci->p, ci->k, w->tan, ci->o, ci->col + kp * (size_t)b, ci->p, 0, ty,
              ci->p);
    if (x->tan_zero) continue;
    im2col(ci, x->tan + (size_t)b * x->cols, ci->work);
    wg_gemm(1, 0, ci->o, ci->p, ci->k, w->val, ci->o, ci->work, ci->p, !w->tan_zero, ty, ci->p);
  }
}

/* ---- the recorded VJP and its two helper ops ------------------------------------------- */

/* recorded VJP: dx = conv2d_transpose(dy, w);  dw = conv2d_weight_grad(x, dy) */
void wg_op_conv2d_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                             wg_var *dx) {
  wg_conv2d_shape s = ((const conv_info *)t->rows[row].ptr)->s;
  wg_var x = wg_in(t, row, 0), w = wg_in(t, row, 1);
  if (want[0]) dx[0] = wg_conv2d_transpose(t, dy, w, s);
  if (want[1]) dx[1] = wg_conv2d_weight_grad(t, x, dy, s);
}

/* The geometry of s for a helper op `name` over images with o output channels: s checked as
 * wg_conv2d checks it (shapes: the inputs' shapes, for the messages), the buffers' sizes
 * counted; the conv_info (arena) or NULL after failing the tape. */
static conv_info *conv_plan(wg_tape *t, const char *name, const char *shapes, wg_conv2d_shape s,
                            int o) {
  unsigned row = (unsigned)t->n_rows;
  if (s.channels < 1 || s.height < 1 || s.width < 1 || s.kernel_h < 1 || s.kernel_w < 1 ||
      s.stride < 1 || s.padding < 0) {
    wg_fail(t, WG_ERR_ARG, "%s: %s: channels %d, height %d, width %d, kernel %dx%d, stride %d, "
            "padding %d: sizes and stride must be >= 1, padding >= 0 (row %u)", name, shapes,
            s.channels, s.height, s.width, s.kernel_h, s.kernel_w, s.stride, s.padding, row);
    return NULL;
  }
  long long ph = (long long)s.height + 2LL * s.padding, pw = (long long)s.width + 2LL * s.padding;
  if (s.kernel_h > ph || s.kernel_w > pw) {
    wg_fail(t, WG_ERR_SHAPE, "%s: %s: kernel %dx%d is larger than the padded image %lldx%lld "
            "(%dx%d, padding %d) (row %u)", name, shapes, s.kernel_h, s.kernel_w, ph, pw,
            s.height, s.width, s.padding, row);
    return NULL;
  }
  long long ho = (ph - s.kernel_h) / s.stride + 1, wo = (pw - s.kernel_w) / s.stride + 1;
  long long chw = (long long)s.channels * s.height * s.width;
  long long k = (long long)s.channels * s.kernel_h * s.kernel_w;
  size_t n_work, n_bytes;
  if (chw > INT_MAX || k > INT_MAX || ho * wo > INT_MAX ||
      !wg_mul_size((size_t)k, (size_t)(ho * wo), &n_work) ||
      !wg_mul_size(n_work, 2 * sizeof(wg_real), &n_bytes)) {
    wg_fail(t, WG_ERR_SHAPE, "%s: %s: an image of %d*%d*%d with kernel %d*%d*%d and %lldx%lld "
            "outputs is more than an int or a %d-bit size_t counts (row %u)", name, shapes,
            s.channels, s.height, s.width, s.channels, s.kernel_h, s.kernel_w, ho, wo,
            (int)(sizeof(size_t) * CHAR_BIT), row);
    return NULL;
  }
  conv_info *ci = wg_tape_alloc(t, sizeof *ci);
  if (!ci) return NULL;
  memset(ci, 0, sizeof *ci);
  ci->s = s;
  ci->ho = (int)ho, ci->wo = (int)wo;
  ci->k = (int)k, ci->p = (int)(ho * wo), ci->o = o;
  return ci;
}

/* the two K x P buffers of a helper row: ci->col and ci->work, taken on the first forward */
static int conv_buffers(wg_tape *t, conv_info *ci) {
  size_t kp = (size_t)ci->k * ci->p;
  if (!ci->col && !(ci->col = wg_tape_reals(t, kp))) return 0;
  if (!ci->work && !(ci->work = wg_tape_reals(t, kp))) return 0;
  return 1;
}

/* ---- conv2d_transpose(y, w): x_b = col2im(w y_b) ---------------------------------------- */

wg_var wg_conv2d_transpose(wg_tape *t, wg_var y, wg_var w, wg_conv2d_shape s) {
  const wg_row *ry = wg_row_of(t, y, "conv2d_transpose");
  const wg_row *rw = ry ? wg_row_of(t, w, "conv2d_transpose") : NULL;
  if (!rw) return wg_none();
  char sy[WG_SHAPE_TEXT], sw[WG_SHAPE_TEXT], shapes[2 * WG_SHAPE_TEXT + 16];
  snprintf(shapes, sizeof shapes, "y %s, w %s", wg_row_shape(t, y.row, sy, sizeof sy),
           wg_row_shape(t, w.row, sw, sizeof sw));
  int batch = ry->rows, o = rw->cols, w_rows = rw->rows, y_cols = ry->cols;
  conv_info *ci = conv_plan(t, "conv2d_transpose", shapes, s, o);
  if (!ci) return wg_none();
  if (w_rows != ci->k || (long long)y_cols != (long long)o * ci->p)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d_transpose: %s: w must have channels*kernel_h*"
                   "kernel_w = %d rows and y C_out*H_out*W_out = %d*%d*%d columns (row %u)",
                   shapes, ci->k, o, ci->ho, ci->wo, (unsigned)t->n_rows);
  wg_var in[2] = {y, w};
  return wg_op_record_ptr(t, WG_OP_CONV2D_TRANSPOSE, 2, in, batch,
                          s.channels * s.height * s.width, 0, ci);
}

/* out (B x C*H*W) = col2im(a y_b) (+ col2im(b ty_b) when b is not NULL), per image */
static void transpose_rows(const conv_info *ci, int batch, const wg_real *a, const wg_real *y,
                           const wg_real *b, const wg_real *ty, int out_cols, wg_real *out) {
  size_t yc = (size_t)ci->o * ci->p;
  memset(out, 0, (size_t)batch * (size_t)out_cols * sizeof *out);
  for (int i = 0; i < batch; i++) {
    wg_gemm(0, 0, ci->k, ci->p, ci->o, a, ci->o, y + yc * i, ci->p, 0, ci->work, ci->p);
    if (b) wg_gemm(0, 0, ci->k, ci->p, ci->o, b, ci->o, ty + yc * i, ci->p, 1, ci->work, ci->p);
    col2im_add(ci, ci->work, out + (size_t)out_cols * i);
  }
}

void wg_op_conv2d_transpose_forward(wg_tape *t, wg_row *r) {
  const wg_row *y = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  if (conv_buffers(t, r->ptr))
    transpose_rows(r->ptr, r->rows, w->val, y->val, NULL, NULL, r->cols, r->val);
}

void wg_op_conv2d_transpose_vjp(wg_tape *t, wg_row *r) {
  wg_row *y = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  const conv_info *ci = r->ptr;
  for (int b = 0; b < r->rows; b++) {
    im2col(ci, r->adj + (size_t)b * r->cols, ci->col); /* im2col(G_b), K x P */
    if (y->needs_grad) /* dy_b += w^T im2col(G_b) */
      wg_gemm(1, 0, ci->o, ci->p, ci->k, w->val, ci->o, ci->col, ci->p, 1,
              y->adj + (size_t)b * y->cols, ci->p);
    if (w->needs_grad) /* dw += im2col(G_b) y_b^T */
      wg_gemm(0, 1, ci->k, ci->o, ci->p, ci->col, ci->p, y->val + (size_t)b * y->cols, ci->p, 1,
              w->adj, ci->o);
  }
}

void wg_op_conv2d_transpose_jvp(wg_tape *t, wg_row *r) {
  const wg_row *y = wg_input_row(t, r, 0), *w = wg_input_row(t, r, 1);
  transpose_rows(r->ptr, r->rows, w->tan, y->val, w->val, y->tan, r->cols, r->tan);
}

/* recorded VJP (G: the adjoint, x's shape): dy = conv2d(G, w);  dw = conv2d_weight_grad(G, y) */
void wg_op_conv2d_transpose_record_vjp(wg_tape *t, uint32_t row, wg_var g, const uint8_t *want,
                                       wg_var *dx) {
  wg_conv2d_shape s = ((const conv_info *)t->rows[row].ptr)->s;
  wg_var y = wg_in(t, row, 0), w = wg_in(t, row, 1);
  if (want[0]) dx[0] = wg_conv2d(t, g, w, s);
  if (want[1]) dx[1] = wg_conv2d_weight_grad(t, g, y, s);
}

/* ---- conv2d_weight_grad(x, y): sum_b im2col(x_b) y_b^T ---------------------------------- */

wg_var wg_conv2d_weight_grad(wg_tape *t, wg_var x, wg_var y, wg_conv2d_shape s) {
  const wg_row *rx = wg_row_of(t, x, "conv2d_weight_grad");
  const wg_row *ry = rx ? wg_row_of(t, y, "conv2d_weight_grad") : NULL;
  if (!ry) return wg_none();
  char sx[WG_SHAPE_TEXT], sy[WG_SHAPE_TEXT], shapes[2 * WG_SHAPE_TEXT + 16];
  snprintf(shapes, sizeof shapes, "x %s, y %s", wg_row_shape(t, x.row, sx, sizeof sx),
           wg_row_shape(t, y.row, sy, sizeof sy));
  int batch = rx->rows, x_cols = rx->cols, y_rows = ry->rows, y_cols = ry->cols;
  conv_info *ci = conv_plan(t, "conv2d_weight_grad", shapes, s, 0);
  if (!ci) return wg_none();
  if ((long long)x_cols != (long long)s.channels * s.height * s.width || y_rows != batch ||
      y_cols % ci->p != 0)
    return wg_fail(t, WG_ERR_SHAPE, "conv2d_weight_grad: %s: x must have channels*height*width "
                   "= %d*%d*%d columns and y x's %d rows and C_out*H_out*W_out = C_out*%d*%d "
                   "columns (row %u)", shapes, s.channels, s.height, s.width, batch, ci->ho,
                   ci->wo, (unsigned)t->n_rows);
  ci->o = y_cols / ci->p;
  wg_var in[2] = {x, y};
  return wg_op_record_ptr(t, WG_OP_CONV2D_WEIGHT_GRAD, 2, in, ci->k, ci->o, 0, ci);
}

/* out (K x O) = sum_b im2col(a_b) y_b^T (+ im2col(b_b) ty_b^T when b is not NULL) */
static void weight_grad_sum(const conv_info *ci, int batch, const wg_real *a, const wg_real *y,
                            const wg_real *b, const wg_real *ty, int img_cols, wg_real *out) {
  size_t yc = (size_t)ci->o * ci->p;
  for (int i = 0; i < batch; i++) {
    im2col(ci, a + (size_t)img_cols * i, ci->col);
    wg_gemm(0, 1, ci->k, ci->o, ci->p, ci->col, ci->p, y + yc * i, ci->p, i > 0, out, ci->o);
    if (!b) continue;
    im2col(ci, b + (size_t)img_cols * i, ci->col);
    wg_gemm(0, 1, ci->k, ci->o, ci->p, ci->col, ci->p, ty + yc * i, ci->p, 1, out, ci->o);
  }
}

void wg_op_conv2d_weight_grad_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  if (conv_buffers(t, r->ptr))
    weight_grad_sum(r->ptr, x->rows, x->val, y->val, NULL, NULL, x->cols, r->val);
}

void wg_op_conv2d_weight_grad_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  const conv_info *ci = r->ptr;
  for (int b = 0; b < x->rows; b++) {
    const wg_real *yb = y->val + (size_t)b * y->cols;
    if (y->needs_grad) { /* dy_b += G^T im2col(x_b) */
      im2col(ci, x->val + (size_t)b * x->cols, ci->col);
      wg_gemm(1, 0, ci->o, ci->p, ci->k, r->adj, ci->o, ci->col, ci->p, 1,
              y->adj + (size_t)b * y->cols, ci->p);
    }
    if (x->needs_grad) { /* dx_b += col2im(G y_b) */
      wg_gemm(0, 0, ci->k, ci->p, ci->o, r->adj, ci->o, yb, ci->p, 0, ci->work, ci->p);
      col2im_add(ci, ci->work, x->adj + (size_t)b * x->cols);
    }
  }
}

void wg_op_conv2d_weight_grad_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0), *y = wg_input_row(t, r, 1);
  weight_grad_sum(r->ptr, x->rows, x->tan, y->val, x->val, y->tan, x->cols, r->tan);
}

/* recorded VJP (G: the adjoint, w's shape): dx = conv2d_transpose(y, G);  dy = conv2d(x, G) */
void wg_op_conv2d_weight_grad_record_vjp(wg_tape *t, uint32_t row, wg_var g,
                                         const uint8_t *want, wg_var *dx) {
  wg_conv2d_shape s = ((const conv_info *)t->rows[row].ptr)->s;
  wg_var x = wg_in(t, row, 0), y = wg_in(t, row, 1);
  if (want[0]) dx[0] = wg_conv2d_transpose(t, y, g, s);
  if (want[1]) dx[1] = wg_conv2d(t, x, g, s);
}

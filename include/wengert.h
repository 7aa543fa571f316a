/* wengert.h - reverse-mode automatic differentiation on a Wengert tape, in C11.
 *
 * What it is
 *   A tape (the "Wengert list") records every matrix operation as it runs: one row per
 *   elementary op, appended in evaluation order. wg_backward walks the rows in reverse and
 *   applies each op's vector-Jacobian product (VJP); the gradients of every parameter fall out
 *   of the ops' local derivatives. wg_forward replays the rows on new leaf values; wg_jvp runs
 *   forward mode (Jacobian-vector products) over the same rows.
 *
 * Example: one sigmoid unit trained with binary cross-entropy (samples as rows)
 *
 *   wg_param *W = wg_param_new("W", 30, 1), *b = wg_param_new("b", 1, 1);
 *   wg_tape *t = wg_tape_new();
 *   wg_var X = wg_input(t, m, 30, x_data), T = wg_input(t, m, 1, labels); // T: targets
 *   wg_var A = wg_sigmoid(t, wg_add(t, wg_matmul(t, X, wg_use(t, W)), wg_use(t, b)));
 *   wg_var L = wg_bce(t, A, T);
 *   for (int step = 0; step < 100; step++) {
 *     wg_param_zero_grad(W); wg_param_zero_grad(b);
 *     if (step > 0) wg_forward(t);              // replay on the updated W, b
 *     wg_backward(t, L);                        // dL/dW = (1/m) X^T (A - T)
 *     wg_mat w = wg_param_value(W), g = wg_param_grad(W);
 *     for (int i = 0; i < 30; i++) w.data[i] -= 0.5 * g.data[i];
 *     wg_param_value(b).data[0] -= 0.5 * wg_param_grad(b).data[0];
 *   }
 *   if (wg_tape_status(t)) fprintf(stderr, "%s\n", wg_tape_error(t));
 *   wg_tape_free(t); wg_param_free(W); wg_param_free(b);
 *
 * Memory model
 *   - A tape owns one arena; every row's value, adjoint and tangent live there. wg_tape_reset
 *     rewinds the arena and keeps its memory, so a loop that records the same graph again
 *     allocates nothing after its first step. Views returned by wg_value / wg_grad / wg_tangent
 *     are valid until the next wg_tape_reset or wg_tape_free.
 *   - wg_input references the caller's buffer (no copy): it must stay valid, and may be changed
 *     between replays. wg_use references the parameter: the parameter must outlive the rows that
 *     use it (until the next reset or free of the tape).
 *   - Parameters own their value and gradient. Gradients accumulate across wg_backward calls
 *     until wg_param_zero_grad.
 *   - Every heap allocation of the library goes through one allocator (wg_set_allocator).
 *     Besides tapes and parameters, the library keeps only the matrix kernel's packing
 *     buffers between calls (wg_free_buffers gives them back).
 *
 * Error model
 *   Every failure leaves a message a program can read, in one of three places by the kind of
 *   call, and also in wg_last_error():
 *     - calls on a tape: the tape's sticky status (wg_tape_status) and wg_tape_error(t);
 *     - calls on an object (a model, an optimizer): the returned status (or NULL, -1) and
 *       wg_model_error(m) / wg_optim_error(o);
 *     - calls with no object (files, data sets, wg_optim_new): the returned status and the
 *       caller's err/errlen buffer;
 *     - every failure, of all three kinds and of the calls that have nowhere else to put it
 *       (wg_param_new or wg_model_new returning NULL, a NULL model or optimizer, a refused
 *       wg_set_allocator, wg_tape_new out of memory): wg_last_error(), the message of the most
 *       recent failure in the calling thread.
 *   - Each tape holds a sticky status and a message. The first error wins; every later call on
 *     that tape returns at once (ops return the none handle {0,0}). Check once, at the end:
 *       if (wg_tape_status(t)) fprintf(stderr, "%s\n", wg_tape_error(t));
 *   - Messages name the op, the inputs (with their wg_name, or a parameter's name), the shapes
 *     and the row: "matmul: X (4x3) @ W (2x3): inner dimensions differ (row 7)".
 *     wg_tape_reset clears the status.
 *   - A shape whose bytes (rows x cols x sizeof(wg_real)) do not fit in size_t is a shape error
 *     (WG_ERR_SHAPE), never a wrapped count: with a 32-bit size_t, (65536x1)(1x65537) is one.
 *   - A NULL tape behaves as a tape whose allocation failed: every call is safe and reports
 *     WG_ERR_NOMEM. Handles from another tape or from before a reset are reported, never
 *     dereferenced. The library never prints and never calls exit or abort.
 */
#ifndef WENGERT_H
#define WENGERT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WG_BUILD) && (defined(__GNUC__) || defined(__clang__))
#define WG_API __attribute__((visibility("default")))
#else
#define WG_API
#endif

#ifdef WG_REAL_FLOAT
typedef float wg_real;
#else
typedef double wg_real;
#endif

typedef enum wg_status {
  WG_OK = 0,
  WG_ERR_SHAPE,     /* shapes do not fit the op */
  WG_ERR_HANDLE,    /* none, stale or foreign wg_var */
  WG_ERR_ARG,       /* bad argument: NULL pointer, non-positive dimension, ... */
  WG_ERR_NOMEM,     /* an allocation failed (or the tape itself is NULL) */
  WG_ERR_STATE,     /* call out of order */
  WG_ERR_NONFINITE, /* a NaN or Inf appeared (with finite checks on) */
  WG_ERR_IO,        /* a file could not be opened, read or written */
  WG_ERR_FORMAT,    /* a file or text is malformed */
  WG_STATUS_COUNT
} wg_status;

typedef struct wg_tape wg_tape;   /* opaque */
typedef struct wg_param wg_param; /* opaque: value + grad + name */
typedef struct {
  uint32_t gen, row;
} wg_var; /* handle to a row; {0,0} is "no variable" */
typedef struct {
  int rows, cols;
  wg_real *data;
} wg_mat; /* row-major view, owns nothing */
typedef struct {
  uint64_t s[4];
} wg_rng; /* a random generator's state (see "random numbers" below) */

/* ---- status ---------------------------------------------------------------------------- */
WG_API const char *wg_status_string(wg_status s); /* "ok", "shape mismatch", ... */
/* The message of the most recent failure in the calling thread, whatever call failed (see
 * "Error model" above); "" when none since the thread started. Like errno, it is per thread
 * and a later success does not clear it: read it right after a call reported a failure.
 * A call on a tape that is already in error returns at once and is not a new failure. */
WG_API const char *wg_last_error(void);

/* ---- memory ---------------------------------------------------------------------------- */
/* Lua's convention: new_size 0 frees ptr (returns NULL); otherwise (re)allocate ptr from
 * old_size to new_size bytes, returning NULL on failure (ptr untouched). NULL restores the
 * default (realloc/free). Every block must go back to the allocator that made it, so set it
 * before creating tapes or parameters: while anything made through the current allocator is
 * alive (a tape, parameter, model, optimizer, data set, scaler, .npy array; not the matrix
 * kernel's kept buffers, which this call gives back first) the call is refused: the allocator
 * stays as it was and wg_last_error() says how many blocks are still in use. */
typedef void *(*wg_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);
WG_API void wg_set_allocator(wg_alloc_fn fn, void *ud);

/* ---- tapes ----------------------------------------------------------------------------- */
WG_API wg_tape *wg_tape_new(void);           /* NULL if out of memory (see wg_last_error) */
WG_API void wg_tape_free(wg_tape *t);        /* NULL is fine */
/* Drop all rows, keep memory, clear status. Each wg_tape_new and wg_tape_reset takes one of
 * the process's 2^32 - 1 handle generations, never reused (a reused one would make old
 * handles valid again): when they are used up the tape fails with WG_ERR_STATE (wg_tape_new
 * then returns such a failed tape). Replaying with wg_forward takes none. */
WG_API void wg_tape_reset(wg_tape *t);
WG_API wg_status wg_tape_status(const wg_tape *t);
WG_API const char *wg_tape_error(const wg_tape *t); /* "" when ok */
WG_API int wg_tape_rows(const wg_tape *t);          /* rows recorded */
WG_API size_t wg_tape_bytes(const wg_tape *t);      /* arena bytes in use */

/* ---- leaves and parameters ------------------------------------------------------------- */
WG_API wg_var wg_input(wg_tape *t, int rows, int cols, const wg_real *data); /* references data */
WG_API wg_var wg_scalar(wg_tape *t, wg_real c);                              /* 1x1 constant */

/* Zeros. name: copied (up to 63 chars); "" for an unnamed parameter. NULL on error (a NULL
 * name, a dimension <= 0, a value and gradient (2 rows cols sizeof(wg_real) bytes) that do not
 * fit in size_t, out of memory), with the reason in wg_last_error(). */
WG_API wg_param *wg_param_new(const char *name, int rows, int cols);
WG_API void wg_param_free(wg_param *p);
WG_API wg_mat wg_param_value(wg_param *p); /* writable view of the value */
WG_API wg_mat wg_param_grad(wg_param *p);  /* writable view of the accumulated gradient */
WG_API const char *wg_param_name(const wg_param *p);
WG_API void wg_param_zero_grad(wg_param *p);
WG_API wg_var wg_use(wg_tape *t, wg_param *p); /* leaf: reads the value, accumulates into grad */

/* ---- ops (shapes as rows x cols; "bcast" = equal shapes, or a side of 1 on either axis) -- */
WG_API wg_var wg_matmul(wg_tape *t, wg_var a, wg_var b); /* (m x k)(k x n): C = A B        */
WG_API wg_var wg_transpose(wg_tape *t, wg_var x);        /* (m x n) -> (n x m): y = x^T    */
WG_API wg_var wg_add(wg_tape *t, wg_var a, wg_var b);    /* bcast: y = a + b               */
WG_API wg_var wg_sub(wg_tape *t, wg_var a, wg_var b);    /* bcast: y = a - b               */
WG_API wg_var wg_mul(wg_tape *t, wg_var a, wg_var b);    /* bcast: y = a * b (elementwise) */
WG_API wg_var wg_div(wg_tape *t, wg_var a, wg_var b);    /* bcast: y = a / b               */
WG_API wg_var wg_neg(wg_tape *t, wg_var x);              /* y = -x                         */
WG_API wg_var wg_scale(wg_tape *t, wg_var x, wg_real c); /* y = c x                        */
WG_API wg_var wg_exp(wg_tape *t, wg_var x);              /* y = exp(x)                     */
WG_API wg_var wg_log(wg_tape *t, wg_var x);              /* y = log(x)                     */
WG_API wg_var wg_sigmoid(wg_tape *t, wg_var x);          /* y = 1 / (1 + exp(-x))          */
WG_API wg_var wg_tanh(wg_tape *t, wg_var x);             /* y = tanh(x)                    */
WG_API wg_var wg_relu(wg_tape *t, wg_var x);             /* y = max(x, 0)                  */
WG_API wg_var wg_square(wg_tape *t, wg_var x);           /* y = x^2                        */
WG_API wg_var wg_sum(wg_tape *t, wg_var x);              /* (1x1) y = sum_ij x_ij          */
WG_API wg_var wg_mean(wg_tape *t, wg_var x);             /* (1x1) y = sum_ij x_ij / (m n)  */
WG_API wg_var wg_sum_rows(wg_tape *t, wg_var x);         /* (m x n) -> (1 x n): y_j = sum_i x_ij */
/* (1x1) L = -mean(t log p + (1-t) log(1-p)), t = target (0..1), each log clamped at -100 */
WG_API wg_var wg_bce(wg_tape *t, wg_var p, wg_var target);
/* (1x1) L = mean(max(z,0) - z t + log1p(exp(-|z|))) = bce(sigmoid(z), t) without overflow */
WG_API wg_var wg_bce_logits(wg_tape *t, wg_var z, wg_var target);
WG_API wg_var wg_mse(wg_tape *t, wg_var a, wg_var b); /* (1x1) L = mean((a - b)^2) */

/* Row-wise softmax. labels: (m x 1) input of class indices 0..n-1 stored as wg_real. */
WG_API wg_var wg_softmax(wg_tape *t, wg_var x); /* y_ij = exp(x_ij - max_k x_ik) / sum_k (...) */
/* (1x1) L = (1/m) sum_i [ logsumexp(z_i) - z_i,label_i ];  dz = (softmax(z) - onehot) / m */
WG_API wg_var wg_softmax_ce(wg_tape *t, wg_var logits, wg_var labels);

/* More elementwise math, shape of x unless "bcast". Slopes at the kinks, as
 * PyTorch: |x|' = 0 at 0; leaky_relu' = alpha at 0; clamp passes the gradient at lo and hi;
 * maximum/minimum split it in half on ties; sqrt' and pow' (0 < c < 1) are +inf at 0. */
WG_API wg_var wg_pow(wg_tape *t, wg_var x, wg_real c);   /* y = x^c, c finite; slope 0 if c = 0 */
WG_API wg_var wg_sqrt(wg_tape *t, wg_var x);             /* y = sqrt(x)                    */
WG_API wg_var wg_abs(wg_tape *t, wg_var x);              /* y = |x|                        */
WG_API wg_var wg_sin(wg_tape *t, wg_var x);              /* y = sin(x)                     */
WG_API wg_var wg_cos(wg_tape *t, wg_var x);              /* y = cos(x)                     */
WG_API wg_var wg_softplus(wg_tape *t, wg_var x);         /* y = max(x,0) + log1p(exp(-|x|)) */
WG_API wg_var wg_gelu(wg_tape *t, wg_var x);             /* y = x/2 (1 + erf(x / sqrt 2))  */
/* y = x for x > 0, alpha x otherwise; alpha finite (any sign) */
WG_API wg_var wg_leaky_relu(wg_tape *t, wg_var x, wg_real alpha);
/* y = min(max(x, lo), hi); lo <= hi, either may be infinite, neither NaN */
WG_API wg_var wg_clamp(wg_tape *t, wg_var x, wg_real lo, wg_real hi);
WG_API wg_var wg_maximum(wg_tape *t, wg_var a, wg_var b); /* bcast: y = max(a, b)          */
WG_API wg_var wg_minimum(wg_tape *t, wg_var a, wg_var b); /* bcast: y = min(a, b)          */

/* Axis reductions, log-softmax, layer norm, dropout.
 * Axis reductions of x (m x n): axis 0 reduces over the rows, giving (1 x n); axis 1 over
 * the columns, giving (m x 1). Another axis fails with WG_ERR_ARG naming the op and x. */
WG_API wg_var wg_sum_axis(wg_tape *t, wg_var x, int axis);  /* y_j = sum_i x_ij (axis 0)     */
WG_API wg_var wg_mean_axis(wg_tape *t, wg_var x, int axis); /* y_j = sum_i x_ij / m (axis 0) */
/* y_j = max_i x_ij (axis 0); the gradient goes to the first maximum; a NaN counts as largest */
WG_API wg_var wg_max_axis(wg_tape *t, wg_var x, int axis);
/* y_j = M_j + log sum_i exp(x_ij - M_j), M_j = max_i x_ij (axis 0): no overflow */
WG_API wg_var wg_logsumexp_axis(wg_tape *t, wg_var x, int axis);
WG_API wg_var wg_log_softmax(wg_tape *t, wg_var x); /* y_ij = x_ij - logsumexp_k x_ik      */
/* Row-wise y_ij = (x_ij - mu_i) / sqrt(var_i + eps), mu_i and var_i the mean and population
 * variance (divisor n) of row i; no affine part (wg_mul, wg_add a gain and a bias after it).
 * eps must be finite and > 0 (PyTorch's default is 1e-5). */
WG_API wg_var wg_layernorm(wg_tape *t, wg_var x, wg_real eps);
/* Inverted dropout: y = x * m, m_ij = [u_ij >= p] / (1 - p), u_ij uniform in [0, 1) from r,
 * p in [0, 1) (p = 0: y = x). dx = dy * m: the gradient is mask / (1 - p).
 * The mask is drawn from r when the row is recorded and kept: wg_forward replays it, so
 * wg_gradcheck, wg_check_rows and wg_dot_test see one fixed mask. A new mask each training
 * step: record again (r has moved on), or call wg_dropout_resample(t) before wg_forward.
 * r must stay valid while the tape holds the row (until the next reset or free). */
WG_API wg_var wg_dropout(wg_tape *t, wg_var x, double p, wg_rng *r);
/* Draw a new mask for every dropout row of t, in row order, from each row's generator; takes
 * effect at the next wg_forward. Returns the tape's status (refused while t is busy). */
WG_API wg_status wg_dropout_resample(wg_tape *t);
/* Training mode (on by default, kept by wg_tape_reset). Off (evaluation), every dropout row's
 * forward is y = x, at record and in wg_forward, and its VJP and JVP are the identity; the
 * masks are kept (and still drawn at record), so switching back on and replaying applies them
 * again. Switch, then wg_forward, before reading values or running a backward. */
WG_API void wg_tape_set_training(wg_tape *t, int on);
WG_API int wg_tape_training(const wg_tape *t); /* 1 training, 0 evaluation (and NULL) */

/* Shapes and indexing. Bad shapes, blocks or indices fail the tape with a
 * message naming the op, the shapes and the row. concat takes any n >= 1 inputs (xs[0..n-1]). */
/* (m x n) -> (rows x cols), rows cols = m n: the same elements in row-major order */
WG_API wg_var wg_reshape(wg_tape *t, wg_var x, int rows, int cols);
/* (m x n) -> (rows x cols): y_ij = x_(row0+i)(col0+j), the block inside x */
WG_API wg_var wg_slice(wg_tape *t, wg_var x, int row0, int col0, int rows, int cols);
/* (m_1 x n) .. (m_n x n) -> (sum m_k x n): the inputs stacked top to bottom */
WG_API wg_var wg_concat_rows(wg_tape *t, int n, const wg_var *xs);
/* (m x n_1) .. (m x n_n) -> (m x sum n_k): the inputs side by side, left to right */
WG_API wg_var wg_concat_cols(wg_tape *t, int n, const wg_var *xs);
/* table (r x n), idx (m x 1) of row indices 0..r-1 as wg_real (an input: no gradient) ->
 * (m x n): y_i = table_(idx_i), an embedding lookup; dtable_(idx_i) += dy_i. Indices are
 * checked at every forward (replays too). */
WG_API wg_var wg_gather_rows(wg_tape *t, wg_var table, wg_var idx);

/* Convolution and pooling. Images are stored one per row, channel-major:
 * row b of x is x_b[c][i][j] at column (c * height + i) * width + j. Output sizes:
 * H_out = (height + 2 padding - kernel_h) / stride + 1 (rounded down), W_out likewise. */
typedef struct {
  int channels, height, width; /* of each input image: x is (batch x channels*height*width) */
  int kernel_h, kernel_w;      /* the window; w is (channels*kernel_h*kernel_w x C_out) */
  int stride;                  /* >= 1, both axes */
  int padding;                 /* >= 0 rows and columns of zeros on every side */
} wg_conv2d_shape;
/* (batch x C*H*W)(C*kh*kw x C_out) -> (batch x C_out*H_out*W_out): y_b = w^T im2col(x_b), i.e.
 * y[b][o][p][q] = sum_{c,i,j} w[(c*kh + i)*kw + j][o] x_b[c][p*stride - padding + i]
 * [q*stride - padding + j] (zero outside the image); a dense layer X W over every window.
 * PyTorch's weight (C_out, C_in, kh, kw) reshaped to (C_out, C_in*kh*kw) and transposed. */
WG_API wg_var wg_conv2d(wg_tape *t, wg_var x, wg_var w, wg_conv2d_shape s);
typedef struct {
  int channels, height, width; /* of each input image: x is (batch x channels*height*width) */
  int kernel;                  /* the window is kernel x kernel, no padding */
  int stride;                  /* >= 1, both axes */
} wg_pool2d_shape;
/* (batch x C*H*W) -> (batch x C*H_out*W_out): y = max of x over each window, per channel; the
 * subgradient goes to the first maximum in the window (row-major order); a NaN wins. */
WG_API wg_var wg_maxpool2d(wg_tape *t, wg_var x, wg_pool2d_shape s);
/* (batch x C*H*W) -> (batch x C*H_out*W_out): y = mean of x over each kernel x kernel window */
WG_API wg_var wg_avgpool2d(wg_tape *t, wg_var x, wg_pool2d_shape s);

/* ---- higher-order derivatives (docs/higher-order.md) --------------------------------------
 * Record the reverse sweep from loss (1x1) as new rows of t: grads[i] = d loss / d wrt[i], each
 * an ordinary row (printable, replayed by wg_forward, differentiable by wg_backward and wg_jvp,
 * checkable by wg_gradcheck). A wg_use row stands for its parameter: its gradient sums over
 * every use of that parameter on the tape. Any other row may be asked for too (an input, an
 * intermediate row): its gradient is its adjoint. A variable the loss does not depend on gets
 * a row of zeros. Each op records its VJP with ops (a row "adj(X)" per named row X); a custom
 * op needs its record_vjp callback. On error grads[i] are none and the tape holds why. */
WG_API wg_status wg_gradients(wg_tape *t, wg_var loss, int n, const wg_var *wrt, wg_var *grads);
/* Hessian-vector products, forward over reverse: with grads from wg_gradients(t, loss, n,
 * wrt, grads), hv[i] = sum_j (d^2 loss / d wrt[i] d wrt[j]) v[j], read as the gradient rows'
 * tangents after wg_jvp with tangent v[j] on wrt[j] (on every use of its parameter) and 0 on
 * every other leaf. wrt must be leaves; v[i] and hv[i] hold the rows x cols of wrt[i]. The
 * tape's tangents are overwritten. The other oracle, reverse over reverse: wg_backward of
 * sum_i sum(grads[i] * V_i) leaves H v in the parameters' gradients (tests/check_higher.c). */
WG_API wg_status wg_hvp(wg_tape *t, int n, const wg_var *wrt, const wg_var *grads,
                        const wg_real *const *v, wg_real *const *hv);
/* Ops the recorded VJPs are made of (useful on their own too):
 * x (m x n) -> (rows x cols), each axis of x equal to the result's or 1: x repeated */
WG_API wg_var wg_broadcast(wg_tape *t, wg_var x, int rows, int cols);
WG_API wg_var wg_step(wg_tape *t, wg_var x); /* y = [x > 0]: 1 or 0 (NaN: 0); slope 0 */
/* x (m x n) -> (rows x cols): x placed with its corner at [row0, col0] in zeros, row0 + m <=
 * rows, col0 + n <= cols; the adjoint of wg_slice (each one's VJP is the other) */
WG_API wg_var wg_pad(wg_tape *t, wg_var x, int rows, int cols, int row0, int col0);
/* src (m x n), idx (m x 1 row indices 0..rows-1 as reals, no gradient) -> (rows x n): zeros
 * with row i of src added into row idx[i] (repeats add); the adjoint of wg_gather_rows */
WG_API wg_var wg_scatter_rows(wg_tape *t, wg_var src, wg_var idx, int rows);
/* x (batch x C*H*W), dy (batch x C*H_out*W_out) -> x's shape: zeros with dy added at each
 * window's first maximum of x (wg_maxpool2d's VJP); no gradient into x (slope 0) */
WG_API wg_var wg_maxpool2d_scatter(wg_tape *t, wg_var x, wg_var dy, wg_pool2d_shape s);
/* x, g (batch x C*H*W) -> (batch x C*H_out*W_out): g at each window's first maximum of x (the
 * adjoint of wg_maxpool2d_scatter in dy); no gradient into x */
WG_API wg_var wg_maxpool2d_gather(wg_tape *t, wg_var x, wg_var g, wg_pool2d_shape s);
/* y (batch x C*H_out*W_out) -> (batch x C*H*W): y / kernel^2 spread over each window, the
 * transpose of wg_avgpool2d (its VJP) */
WG_API wg_var wg_avgpool2d_transpose(wg_tape *t, wg_var y, wg_pool2d_shape s);
/* y (batch x C_out*H_out*W_out), w (C*kh*kw x C_out) -> (batch x C*H*W): x_b = col2im(w y_b),
 * the transposed convolution (wg_conv2d's VJP in x: <conv2d(x, w), y> = <x, this>) */
WG_API wg_var wg_conv2d_transpose(wg_tape *t, wg_var y, wg_var w, wg_conv2d_shape s);
/* x (batch x C*H*W), y (batch x C_out*H_out*W_out) -> (C*kh*kw x C_out): sum_b im2col(x_b)
 * y_b^T (wg_conv2d's VJP in w: <conv2d(x, w), y> = <w, this>) */
WG_API wg_var wg_conv2d_weight_grad(wg_tape *t, wg_var x, wg_var y, wg_conv2d_shape s);
/* x (m x n) -> (m x n): y = Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF */
WG_API wg_var wg_normal_cdf(wg_tape *t, wg_var x);
/* labels (m x 1) of class indices 0..n-1 (from an input: no gradient) -> (m x n):
 * y_ij = [j == labels_i]; a label that is not a class index fails the tape */
WG_API wg_var wg_onehot(wg_tape *t, wg_var labels, int n);
/* x (m x n) -> (m x n): 1 at the first maximum of each column (axis 0) or row (axis 1) of
 * x, the one wg_max_axis picks (the first NaN if any), 0 elsewhere; slope 0 */
WG_API wg_var wg_argmax_mask(wg_tape *t, wg_var x, int axis);
/* x (the shape of row `dropout`) -> y = x * m, m the mask of `dropout` (a wg_dropout row, or
 * a wg_dropout_apply row, which shares its mask) as its last forward used it (1 in
 * evaluation); follows wg_dropout_resample and wg_tape_set_training as that row does */
WG_API wg_var wg_dropout_apply(wg_tape *t, wg_var x, wg_var dropout);

/* ---- sweeps and views ------------------------------------------------------------------ */
WG_API wg_status wg_forward(wg_tape *t);              /* replay every row from the leaves */
WG_API wg_status wg_backward(wg_tape *t, wg_var loss); /* loss must be 1x1 */
WG_API wg_status wg_jvp(wg_tape *t); /* forward mode from the tangents set on leaves */
WG_API wg_mat wg_value(wg_tape *t, wg_var v);
/* Adjoint dLoss/dv after wg_backward; data is NULL when v needs no gradient or no backward
 * has run since it was recorded. For a parameter leaf (wg_use) the backward sweeps straight
 * into the parameter's gradient, so this is then the parameter's gradient: the sum over all
 * its uses and every backward since wg_param_zero_grad (with a trace or finite checks on, the
 * leaf's own adjoint). */
WG_API wg_mat wg_grad(wg_tape *t, wg_var v);
/* Tangent of v: writable on leaves before wg_jvp (zeros at first), the result after. */
WG_API wg_mat wg_tangent(wg_tape *t, wg_var v);
WG_API void wg_name(wg_tape *t, wg_var v, const char *name); /* shown in prints and errors */

/* ---- custom ops ------------------------------------------------------------------------ */
/* A user-defined op. in[i] are the inputs' values, out the row's value (rows x cols), all
 * row-major views valid only during the call.
 * Its own tape: while any of these callbacks runs (at record, in wg_forward, wg_backward,
 * wg_jvp, and in the checks wg_gradcheck, wg_check_rows, wg_dot_test), the tape that runs it
 * is busy: recording on it (any op or leaf), sweeping it (wg_forward, wg_backward, wg_jvp),
 * checking it, wg_tape_reset or wg_tape_free is refused and fails the tape with WG_ERR_STATE,
 * e.g. "scalar: refused: custom op 'grow' (row 3) is running its vjp on this tape; ...".
 * Reading it (wg_value, wg_tape_status, the printers) is fine, and so is any other tape. */
typedef struct wg_custom_op {
  const char *name; /* shown in prints and errors ("custom" if NULL), cut to 63 chars */
  /* output shape; NULL: the shape of in[0]; non-zero return: a shape error naming the op */
  int (*shape)(int n_in, const wg_mat *in, int *rows, int *cols, void *ctx);
  /* out = f(in...), required */
  void (*forward)(int n_in, const wg_mat *in, wg_mat out, void *ctx);
  /* in_adj[i] += J_i^T out_adj (accumulate, never assign); in_adj[i].data is NULL when input i
   * needs no gradient. Required. */
  void (*vjp)(int n_in, const wg_mat *in, wg_mat out, wg_mat out_adj, wg_mat *in_adj,
              void *ctx);
  /* out_tan = sum_i J_i in_tan[i] (assign). May be NULL: wg_jvp then fails naming the op. */
  void (*jvp)(int n_in, const wg_mat *in, const wg_mat *in_tan, wg_mat out, wg_mat out_tan,
              void *ctx);
  /* The VJP recorded with ops, for wg_gradients (higher-order derivatives): given the handles
   * of the inputs, of the output and of its adjoint out_adj (a row of the output's shape),
   * record on t rows holding each J_i^T out_adj and set in_adj[i] to it (a row of input i's
   * shape); leave in_adj[i] the none handle ({0, 0}, as it comes) where the term is zero.
   * Unlike the callbacks above it runs while the tape is NOT busy: it records on t (and only
   * records: no sweeps, checks or resets). May be NULL: wg_gradients then fails naming the
   * op. */
  void (*record_vjp)(wg_tape *t, int n_in, const wg_var *in, wg_var out, wg_var out_adj,
                     wg_var *in_adj, void *ctx);
} wg_custom_op;

/* Record a custom op over 1..4 inputs (WG_MAX_INPUTS). The descriptor (and its name) is
 * copied to the tape: op need not outlive the call; ctx must stay valid while the tape holds
 * the row (until the next reset or free). The op takes part in replay, backward, forward mode
 * and the checks like a built-in one. */
WG_API wg_var wg_custom(wg_tape *t, const wg_custom_op *op, void *ctx, int n_in,
                        const wg_var *in);

/* ---- finite checks --------------------------------------------------------------------- */
/* With WG_CHECK_FINITE set, the first NaN or Inf that a row produces fails the tape with
 * WG_ERR_NONFINITE and a message naming the row, its op and what it was given, e.g.
 *   "log: row 5 (v5) produced -inf at [2,0] from input v4 = 0"
 * It is checked after each row's forward (at record and in wg_forward), after each VJP in
 * wg_backward (the adjoints it wrote) and after each row in wg_jvp. A leaf whose data is not
 * finite (a wg_input buffer, a parameter, a wg_scalar) is reported as that leaf. Off by default;
 * off, it costs one branch per row. wg_tape_reset keeps the setting. */
#define WG_CHECK_FINITE 1u
WG_API void wg_tape_set_checks(wg_tape *t, unsigned flags); /* WG_CHECK_* flags, 0: off */
WG_API unsigned wg_tape_checks(const wg_tape *t);

/* ---- gradient checking ----------------------------------------------------------------- */
/* Three independent oracles for a derivative: finite differences (wg_gradcheck, and per row
 * wg_check_rows), forward mode (wg_jvp, wg_dot_test) and the closed forms in the op files.
 * They are sharpest in double precision (the default wg_real): a central difference with
 * h = 1e-6 in float (eps 1.2e-7) has a round-off error near 1e-2 on a loss of 0.1 (measured by
 * examples/eps_sweep, docs/gradcheck.md). The float build (WG_REAL_FLOAT) has its own defaults,
 * which catch a derivative wrong by about a percent but not a smaller error (docs/gradcheck.md,
 * "float32"); the dot test's discrepancy there is at float rounding level, ~1e-6, not ~1e-15. */

/* Options; NULL means eps 1e-6 (the finite-difference step h, absolute), atol 1e-5,
 * rtol 1e-3 (PyTorch's gradcheck defaults) and no CSV; in the float build eps 4.9e-3
 * (cbrt of float's eps_mach), atol 1e-3, rtol 1e-2. A field <= 0 takes its default, so
 * `wg_gradcheck_opts o = {.csv = f};` works (for a purely relative test set atol to 1e-300). */
typedef struct wg_gradcheck_opts {
  double eps, atol, rtol;
  FILE *csv; /* one line per element (gradcheck) or per row (check_rows), with a header */
  /* 1: also treat every wg_input row as a variable (except softmax_ce labels, which are class
   * indices): gradcheck checks dL/d(input) element by element, check_rows also checks each
   * row's VJP into its inputs. The caller's buffers are never written: the check perturbs a
   * copy, and the rows point back at the buffers afterwards. 0: parameters only. */
  int inputs;
} wg_gradcheck_opts;

typedef struct wg_gradcheck_result {
  int checked, failed, skipped; /* elements (gradcheck) or rows (check_rows); checked counts
                                 * the compared ones, skipped the kinks, failed <= checked */
  double max_abs_err, max_rel_err; /* over the compared ones */
  int worst_row;  /* gradcheck: the parameter leaf row of the worst failing element;
                   * check_rows: the first failing row; -1 when nothing failed */
  char worst[160]; /* e.g. "W1[3,2]: analytic 0.1234, numeric 0.1301"; "" when nothing failed */
} wg_gradcheck_result;

/* Central differences (f(x+h) - f(x-h)) / 2h of the 1x1 loss for every element of every
 * parameter used on the tape (a parameter used twice is checked once), replaying the tape with
 * wg_forward for each perturbation, against the analytic gradient from wg_backward. An element
 * passes when |analytic - numeric| <= atol + rtol |numeric|. A failing element whose one-sided
 * differences disagree beyond that tolerance by a jump that stays when h is halved (not the
 * h f'' of curvature), with the analytic value between them, sits on a kink (relu at 0) and is
 * counted as skipped. Parameter values and gradients are restored and the tape is replayed
 * and swept back once more, so values and adjoints are as after wg_forward +
 * wg_backward(loss). The CSV has one line per element: parameter, index, i, j, analytic,
 * numeric, abs_err, rel_err, status (ok, FAIL, kink); with opts->inputs, input rows are
 * named by their label (wg_name, or "v3"). res may be NULL. Returns the number of failed
 * elements; -1 when the tape is in error (nothing is touched but *res, which is cleared), the
 * arguments are bad, or there is nothing to check (no parameter on the tape, nor input with
 * opts->inputs: WG_ERR_ARG, so a check of nothing never looks like a pass); the tape then
 * holds the message. */
WG_API int wg_gradcheck(wg_tape *t, wg_var loss, const wg_gradcheck_opts *opts,
                        wg_gradcheck_result *res);

/* Per-row check: for every non-leaf row the backward sweep uses, compare the row's VJP with
 * finite differences of that row's forward alone, in dot-product form with a random direction
 * u on its inputs that need a gradient and a random cotangent w:
 *   <w, (f(x + h u) - f(x - h u)) / 2h>  vs  <J^T w, u>
 * so a wrong derivative is blamed on the row that has it (kinks are skipped as above). The
 * CSV has one line per row: row, op, name, analytic, numeric, errors, status. The tape is replayed first; inputs'
 * buffers are never written (perturbations go to copies); values and adjoints are left as
 * they were. Returns the number of failed rows (worst_row = the first), -1 as wg_gradcheck
 * (nothing to check: no row needs a gradient). */
WG_API int wg_check_rows(wg_tape *t, const wg_gradcheck_opts *opts, wg_gradcheck_result *res);

/* Dot-product test of forward against reverse mode: random u (uniform in [-1,1), from seed)
 * as the tangent of every parameter leaf, random w on out's adjoint; returns
 * |<w, J u> - <J^T w, u>| / max(|<w, J u>|, |<J^T w, u>|) (0 when both are 0), about 1e-15 when
 * every JVP and VJP on the path agree. Overwrites the tape's tangents and adjoints (inputs'
 * tangents become 0); parameters' gradients are left untouched. Negative on error (the tape
 * holds the message; a custom op without a jvp is one). */
WG_API double wg_dot_test(wg_tape *t, wg_var out, unsigned seed);

/* ---- printing: Wengert table, Graphviz DOT, backward trace, web page -------------------- */
/* These write only to the FILE passed; a NULL tape or FILE is safe. Matrices of up to 12
 * elements are written in full ("[1 2; 3 4]"), larger ones as "min .. mean .. max ..". */
/* The Wengert table: one line per row (index, name, op, inputs, shape, value and, after a
 * backward, adjoint), each op row followed by its forward and VJP rule from the op table. */
WG_API void wg_tape_print(wg_tape *t, FILE *f);
/* A Graphviz DOT graph (render with `dot -Tsvg`): a node per row (name, op, shape; value and
 * adjoint when small), edges from inputs; inputs grey boxes, parameters orange boxes, ops
 * blue ellipses, rows nothing uses (the loss) double-bordered. */
WG_API void wg_tape_dot(wg_tape *t, FILE *f);
/* While f is set, wg_backward writes each step of the reverse sweep to f: the row, its VJP
 * rule with the rows' labels, and what it added to each input's adjoint, e.g.
 *   A sigmoid: adj(Z) += adj(A) * A * (1 - A) = [0.1 -0.2]
 * NULL turns it off (then it costs one branch per row). Out of memory fails the tape. */
WG_API void wg_tape_trace(wg_tape *t, FILE *f);
/* One self-contained HTML page (no network: inline SVG, styles and plain JavaScript) to step
 * through the tape: its graph, laid out in evaluation order, beside the Wengert table, and
 * controls that walk the forward replay and the reverse sweep. Each step shows the row, its
 * rule with the rows' labels and with the numbers, and what it added to each input's adjoint,
 * the numbers of wg_tape_trace. The address #step=N (#forward=N) opens step N. The sweep starts
 * at the loss, the last 1x1 row that needs a gradient and that no later row uses: the page
 * runs it once, traced (so afterwards the rows' adjoints are that sweep's, as after
 * wg_backward with a trace on); the parameters' gradients are put back as they were. Without
 * such a row the page shows the forward replay only. Out of memory fails the tape. */
WG_API void wg_tape_html(wg_tape *t, FILE *f);

/* ---- random numbers and initialisers --------------------------------------------------- */
/* Random numbers: xoshiro256** (Blackman & Vigna) seeded through SplitMix64. The same seed
 * gives the same numbers on every platform (pure 64-bit integer arithmetic). wg_rng, the
 * generator's state, is defined with the other types at the top (wg_dropout takes one). */
WG_API void wg_rng_seed(wg_rng *r, uint64_t seed);      /* state = 4 SplitMix64 outputs */
WG_API uint64_t wg_rng_next(wg_rng *r);                 /* 64 random bits */
WG_API double wg_rng_uniform(wg_rng *r);                /* [0, 1), 53 bits */
WG_API double wg_rng_normal(wg_rng *r);                 /* N(0, 1), Box-Muller */
WG_API uint64_t wg_rng_below(wg_rng *r, uint64_t n);    /* [0, n) without bias; 0 if n == 0 */

/* Initialisers. A weight (fan_in x fan_out) is used as X W with samples as rows, so
 * fan_in = rows, fan_out = cols (PyTorch stores the transpose, (out x in)).
 *   ZEROS           w = 0
 *   CONSTANT        w = a
 *   UNIFORM         w ~ U(a, b)
 *   NORMAL          w ~ N(mean a, std b)
 *   XAVIER_UNIFORM  w ~ U(-s, s),  s = sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
 *   XAVIER_NORMAL   w ~ N(0, s),   s = sqrt(2 / (fan_in + fan_out))
 *   HE_UNIFORM      w ~ U(-s, s),  s = sqrt(6 / fan_in)                (He et al. 2015, ReLU)
 *   HE_NORMAL       w ~ N(0, s),   s = sqrt(2 / fan_in) */
typedef enum wg_init_kind {
  WG_INIT_ZEROS,
  WG_INIT_CONSTANT,
  WG_INIT_UNIFORM,
  WG_INIT_NORMAL,
  WG_INIT_XAVIER_UNIFORM,
  WG_INIT_XAVIER_NORMAL,
  WG_INIT_HE_UNIFORM,
  WG_INIT_HE_NORMAL
} wg_init_kind;
typedef struct {
  wg_init_kind kind;
  double a, b; /* CONSTANT: a; UNIFORM: bounds a, b; NORMAL: mean a, std b */
} wg_init;
/* Fill w as described above (nothing happens for an empty w, a w whose byte count does not fit
 * in size_t, or a NULL r when one is needed). */
WG_API void wg_init_fill(wg_mat w, wg_init init, wg_rng *r);

/* ---- models ---------------------------------------------------------------------------- */
/* A model: a named, ordered set of parameters and the seeded generator that initialises them.
 * Errors return a status and keep a message in the model (wg_model_error). */
typedef struct wg_model wg_model;
WG_API wg_model *wg_model_new(uint64_t seed); /* NULL if out of memory (see wg_last_error) */
WG_API void wg_model_free(wg_model *m);       /* frees the model and all its parameters */
/* Create parameter `name` (unique, < 64 chars) of shape rows x cols, initialised with init
 * from the model's generator; *out (may be NULL) receives it. A NULL m: WG_ERR_ARG, with the
 * message in wg_last_error() (as for every failure). A shape whose value and gradient bytes do
 * not fit in size_t is WG_ERR_SHAPE; no memory for it, WG_ERR_NOMEM. */
WG_API wg_status wg_model_add(wg_model *m, const char *name, int rows, int cols, wg_init init,
                              wg_param **out);
WG_API int wg_model_count(const wg_model *m);
WG_API wg_param *wg_model_get(const wg_model *m, int i);           /* NULL if out of range */
WG_API wg_param *wg_model_find(const wg_model *m, const char *name); /* NULL if absent */
WG_API void wg_model_zero_grad(wg_model *m);
WG_API wg_rng *wg_model_rng(wg_model *m);
WG_API const char *wg_model_error(const wg_model *m); /* last error, "" when none */
/* Save every parameter as NAME.npy in an uncompressed .npz (numpy.load(path)["W1"] works),
 * '<f8', or '<f4' from the float build; load reads either (see ".npy files" below).
 * Save and load take regular files only (see "Files" at the data sets below). */
WG_API wg_status wg_model_save(wg_model *m, const char *path);
/* Load an .npz: every parameter of m must be in it with its shape, and nothing else. On error
 * the model is unchanged. */
WG_API wg_status wg_model_load(wg_model *m, const char *path);

/* Gradient clipping, PyTorch's clip_grad_norm_: total = sqrt(sum of all grad^2); when
 * total > max_norm every gradient is scaled by max_norm / (total + 1e-6). Returns total (the
 * norm before clipping). A max_norm < 0 or NaN is refused: the gradients stay as they are, the
 * model's error says why, and -1 is returned (0 for a NULL model, with wg_last_error). */
WG_API double wg_clip_grad_norm(wg_model *m, double max_norm);

/* ---- optimizers ------------------------------------------------------------------------ */
/* Optimizers over all parameters of a model, with PyTorch's update rules (src/model/optim.c
 * writes them out). g = grad, p = parameter, t = step count starting at 1. */
typedef enum wg_optim_kind { WG_SGD, WG_ADAM, WG_ADAMW } wg_optim_kind;
typedef struct {
  wg_optim_kind kind;
  double lr;
  double momentum, dampening; /* SGD */
  int nesterov;               /* SGD: needs momentum > 0 and dampening 0 */
  double beta1, beta2, eps;   /* Adam, AdamW */
  double weight_decay;        /* SGD, Adam: L2 (g += wd p); AdamW: decoupled p -= lr wd p */
} wg_optim_config;
WG_API wg_optim_config wg_sgd_config(double lr, double momentum, int nesterov);
WG_API wg_optim_config wg_adam_config(double lr);  /* betas (0.9, 0.999), eps 1e-8, wd 0 */
WG_API wg_optim_config wg_adamw_config(double lr, double weight_decay);
typedef struct wg_optim wg_optim;
/* Buffers for every parameter m has now (add parameters first). NULL with a message in err
 * (errlen bytes, may be NULL) on a bad config or out of memory. */
WG_API wg_optim *wg_optim_new(wg_model *m, wg_optim_config cfg, char *err, size_t errlen);
WG_API void wg_optim_free(wg_optim *o);
WG_API wg_status wg_optim_step(wg_optim *o);     /* update every parameter from its grad
                                                    (large ones split over the threads) */
WG_API void wg_optim_reset(wg_optim *o);         /* zero the buffers and the step count */
WG_API long wg_optim_steps(const wg_optim *o);   /* steps taken since creation or reset */
/* A negative or non-finite lr is refused: the rate stays, wg_optim_error says why. */
WG_API void wg_optim_set_lr(wg_optim *o, double lr);
WG_API const char *wg_optim_error(const wg_optim *o);
/* Per-parameter weight decay (PyTorch's parameter groups): every parameter starts with the
 * config's weight_decay; this sets p's own (0 excludes it, as is usual for biases and norm
 * gains). The decay enters p's update as the config's does for its kind (SGD, Adam: L2,
 * g += wd p; AdamW: p -= lr wd p). WG_ERR_ARG (the decay unchanged, wg_optim_error says why)
 * for a p that is not one of o's parameters or a wd that is negative or not finite. Kept by
 * wg_optim_reset; checkpoints save and restore it (optim.weight_decay). */
WG_API wg_status wg_optim_set_weight_decay(wg_optim *o, const wg_param *p, double wd);
/* p's weight decay in o; -1 when o or p is NULL or p is not one of o's parameters. */
WG_API double wg_optim_weight_decay(const wg_optim *o, const wg_param *p);

/* ---- metrics --------------------------------------------------------------------------- */
/* Metrics. idx receives m = x.rows column indices (ties: the first). */
WG_API wg_status wg_argmax_rows(wg_mat x, int *idx);
/* Fraction of rows predicted right. scores (m x k), labels (m x 1). k > 1: the prediction is
 * the row's argmax; k == 1: 1 when score > threshold, else 0 (0.5 for probabilities, 0 for
 * logits). Returns -1 on mismatched or empty shapes. */
WG_API double wg_accuracy(wg_mat scores, wg_mat labels, double threshold);

/* ---- data sets and files: CSV, .npy ---------------------------------------------------- */
/* Data sets: features x (rows x cols) and labels or targets y (rows x targets), row-major,
 * owned. A data set built by hand with targets 0 has one target (wg_dataset_targets). */
typedef struct {
  int rows, cols;
  wg_real *x, *y;
  char **names;     /* cols feature names */
  char *label_name; /* the (first) target's name */
  int targets;      /* columns of y (wg_csv_load: 1; wg_csv_load_targets: n) */
  char **target_names; /* targets names, in the order asked (NULL in a hand-built set) */
} wg_dataset;
WG_API int wg_dataset_targets(const wg_dataset *d); /* columns of y: targets, or 1 when 0 */
/* Files (CSV, .npy, .npz, read and written): regular files only. A directory, FIFO, device or
 * socket is refused with WG_ERR_IO naming its kind, before anything is read or written (so
 * /dev/zero cannot fill memory and a FIFO cannot block); a read takes exactly the size the file
 * had when opened, and a file that grows or shrinks meanwhile is a WG_ERR_IO. Functions with an
 * err buffer (errlen bytes, may be NULL) leave "" in it when they succeed. */

/* CSV limits: longer lines or more columns are a WG_ERR_FORMAT naming the line. */
#define WG_CSV_MAX_LINE 16777216 /* bytes in one line, without its line ending (16 MiB) */
#define WG_CSV_MAX_COLS 1048576  /* columns (fields of the header line) */
/* Read a CSV file: one header row of names, then numeric rows of equal length (finite numbers
 * in strtod syntax; subnormals and values that round to 0 are accepted). A UTF-8 byte-order
 * mark before the header is skipped. The label column is label_name when not NULL, else column
 * label_index when >= 0, else the last one. On any error d is left empty and err (errlen
 * bytes) says file, line, column and what was expected. */
WG_API wg_status wg_csv_load(wg_dataset *d, const char *path, const char *label_name,
                             int label_index, char *err, size_t errlen);
/* Several target columns (multi-output regression): the columns named names[0..n) become y
 * (rows x n, in that order), every other column a feature. A name that is not in the header,
 * one listed twice, or no column left for the features is an error naming it. */
WG_API wg_status wg_csv_load_targets(wg_dataset *d, const char *path, const char *const *names,
                                     int n, char *err, size_t errlen);
WG_API void wg_dataset_free(wg_dataset *d); /* frees the contents and zeroes *d */
/* Permute the rows (features and targets together) in place (Fisher-Yates with r). */
WG_API void wg_dataset_shuffle(wg_dataset *d, wg_rng *r);
/* Shuffle a copy of all with r and split it: the first round(test_fraction * rows) rows go to
 * test, the rest to train. test_fraction in (0, 1); both parts get at least one row. */
WG_API wg_status wg_dataset_split(const wg_dataset *all, double test_fraction, wg_rng *r,
                                  wg_dataset *train, wg_dataset *test, char *err, size_t errlen);
/* Standardisation: per column mean and (population) std fitted on one set, std 0 -> 1. */
typedef struct {
  int cols;
  wg_real *mean, *std;
} wg_scaler;
WG_API wg_status wg_scaler_fit(wg_scaler *s, const wg_dataset *d, char *err, size_t errlen);
WG_API wg_status wg_scaler_apply(const wg_scaler *s, wg_dataset *d, char *err, size_t errlen);
WG_API void wg_scaler_free(wg_scaler *s);
/* Mini-batches over consecutive rows: views into d (no copy); the last batch may be smaller.
 * y is (batch rows x targets).
 *   wg_batches b = wg_batches_begin(&train, 32);  wg_mat x, y;
 *   while (wg_batches_next(&b, &x, &y)) { ... } */
typedef struct {
  const wg_dataset *d;
  int size, pos;
} wg_batches;
WG_API wg_batches wg_batches_begin(const wg_dataset *d, int batch_size);
WG_API int wg_batches_next(wg_batches *b, wg_mat *x, wg_mat *y); /* 0 when done */

/* .npy files: C order, 1-D or 2-D, format 1.0 or 2.0. Written in wg_real's dtype: float64
 * '<f8', or float32 '<f4' in the float build. Both builds read both: '<f4' into double is
 * exact; '<f8' into float rounds to nearest, refuses (WG_ERR_FORMAT, naming the file and the
 * element) a finite number beyond FLT_MAX, and rounds one below float's range to a subnormal
 * or a signed zero, as NumPy's astype(np.float32). The same holds for the .npz files below. */
/* Write m as a 2-D array (ndim 2) or, when m is 1 x n or n x 1 and ndim is 1, as 1-D. */
WG_API wg_status wg_npy_save(const char *path, wg_mat m, int ndim, char *err, size_t errlen);
/* Read into a new buffer (free with wg_npy_free); a 1-D array of n becomes 1 x n. A shape
 * whose byte count does not fit size_t is a WG_ERR_FORMAT. */
WG_API wg_status wg_npy_load(const char *path, wg_mat *m, char *err, size_t errlen);
WG_API void wg_npy_free(wg_mat *m);

/* ---- training: checkpoints, learning-rate schedules, metrics, progress ---------------- */

/* Optimizer learning rate now (the last wg_optim_set_lr, or the config's); -1 for NULL. */
WG_API double wg_optim_lr(const wg_optim *o);

/* Checkpoints: the whole training state in one uncompressed .npz that numpy.load reads.
 * Entries (C order; parameters and optimizer buffers in wg_real's dtype, '<f8' or in the float
 * build '<f4'; model.rng, rng.*, optim.step, optim.lr and value.* always float64 '<f8', so a
 * float build resumes exactly too; either build loads the other's checkpoints):
 *   NAME.npy                       every parameter of the model (as wg_model_save)
 *   model.rng.npy                  the model's generator                           (4 x 2)
 *   optim.step.npy, optim.lr.npy   the optimizer's step count and rate              (1 x 1)
 *   optim.NAME.momentum.npy        SGD with momentum: the buffer b of parameter NAME
 *   optim.NAME.exp_avg.npy         Adam/AdamW: first moment m        (PyTorch's state names)
 *   optim.NAME.exp_avg_sq.npy      Adam/AdamW: second moment v
 *   optim.weight_decay.npy         each parameter's weight decay, in the model's order (n x 1)
 *   rng.NAME.npy                   each generator listed in rngs                    (4 x 2)
 *   value.NAME.npy                 each of the caller's values (epoch, batch, ...)  (1 x 1)
 * A generator's state words s[0..3] are rows, each split into [high 32 bits, low 32 bits]
 * (exact in float64): in NumPy, s[i] = int(z["rng.NAME"][i, 0]) << 32 | int(z["rng.NAME"][i, 1]).
 * Resuming from a checkpoint restores every bit, so N steps, save, load, M steps gives the same
 * parameters as N + M steps without a stop. Values are doubles: integers up to 2^53 are exact. */
typedef struct {
  const char *name; /* 1..47 characters: letters, digits, '_', '-' */
  wg_rng *rng;
} wg_checkpoint_rng;
typedef struct {
  const char *name; /* as for a generator */
  double *value;    /* saved from, loaded into */
} wg_checkpoint_value;
typedef struct {
  wg_optim *optim; /* NULL: none (then no optim.* entries are written or expected) */
  const wg_checkpoint_rng *rngs;
  int n_rngs;
  const wg_checkpoint_value *values;
  int n_values;
} wg_checkpoint;
/* Save m and the state c lists (c may be NULL: the model and its generator). The optimizer
 * must be one made for m. Errors: the status and wg_model_error(m). */
WG_API wg_status wg_checkpoint_save(wg_model *m, const wg_checkpoint *c, const char *path);
/* Load a checkpoint saved with the same model (names and shapes), optimizer kind, generators
 * and values: an entry missing, left over or of another shape is refused with a message naming
 * it, and then nothing is changed (model, optimizer, generators, values). */
WG_API wg_status wg_checkpoint_load(wg_model *m, const wg_checkpoint *c, const char *path);

/* Learning-rate schedules: PyTorch's closed forms (torch.optim.lr_scheduler, the
 * _get_closed_form_lr of each), with e the schedule's step (epoch) from 0 and base the
 * optimizer's initial rate:
 *   WG_LR_CONSTANT     lr = base
 *   WG_LR_STEP         lr = base gamma^floor(e / period)                        (StepLR)
 *   WG_LR_EXPONENTIAL  lr = base gamma^e                                        (ExponentialLR)
 *   WG_LR_COSINE       lr = eta_min + (base - eta_min) (1 + cos(pi e / period)) / 2
 *                                                                  (CosineAnnealingLR, T_max)
 *   WG_LR_LINEAR       lr = base (start + (end - start) min(e, period) / period) (LinearLR)
 * Composition (SequentialLR): with `next` set, steps e >= until run next at its step e - until
 * (so warm-up then cosine is linear.until = 5, linear.next = &cosine). */
typedef enum wg_lr_kind {
  WG_LR_CONSTANT,
  WG_LR_STEP,
  WG_LR_EXPONENTIAL,
  WG_LR_COSINE,
  WG_LR_LINEAR
} wg_lr_kind;
typedef struct wg_lr_schedule {
  wg_lr_kind kind;
  long period;             /* STEP: step_size; COSINE: T_max; LINEAR: total_iters (> 0) */
  double gamma;            /* STEP, EXPONENTIAL (> 0) */
  double eta_min;          /* COSINE (>= 0) */
  double start, end;       /* LINEAR: start_factor in (0, 1], end_factor in [0, 1] */
  long until;              /* with next: the step from which next runs (> 0) */
  const struct wg_lr_schedule *next; /* NULL: this schedule for every step */
} wg_lr_schedule;
WG_API wg_lr_schedule wg_lr_step(long step_size, double gamma);
WG_API wg_lr_schedule wg_lr_exponential(double gamma);
WG_API wg_lr_schedule wg_lr_cosine(long t_max, double eta_min);
WG_API wg_lr_schedule wg_lr_linear(double start_factor, double end_factor, long total_iters);
/* The rate at step e >= 0; -1 for a bad schedule or argument (wg_last_error says which field;
 * a chain of more than 64 schedules is refused, so a loop of `next` pointers ends). */
WG_API double wg_lr_at(const wg_lr_schedule *s, double base, long e);
/* wg_optim_set_lr(o, wg_lr_at(s, base, e)); on error o keeps its rate (wg_optim_error). */
WG_API wg_status wg_lr_apply(wg_optim *o, const wg_lr_schedule *s, double base, long e);

/* ReduceLROnPlateau (PyTorch's rule). After each epoch pass the metric:
 *   better = mode min: metric < best (1 - threshold)  (rel) or  metric < best - threshold (abs)
 *            mode max: metric > best (1 + threshold)  (rel) or  metric > best + threshold (abs)
 *   better: best = metric, bad = 0; else bad += 1
 *   in cooldown (cooldown_left > 0): cooldown_left -= 1, bad = 0
 *   bad > patience: new = max(lr factor, min_lr); when lr - new > eps the rate becomes new;
 *                   cooldown_left = cooldown, bad = 0
 * The state fields are doubles so a checkpoint can hold them (wg_checkpoint_value). */
typedef struct {
  int mode_max;       /* 0: lower is better (a loss); 1: higher (an accuracy) */
  int threshold_abs;  /* 0: relative threshold (PyTorch's 'rel'); 1: absolute ('abs') */
  double factor;      /* in (0, 1); PyTorch's default 0.1 */
  double patience;    /* epochs without improvement tolerated (10) */
  double threshold;   /* 1e-4 */
  double cooldown;    /* epochs to wait after a reduction (0) */
  double min_lr;      /* 0 */
  double eps;         /* smallest change applied (1e-8) */
  double best, bad, cooldown_left; /* state: wg_plateau_config sets best = +-inf, 0, 0 */
} wg_plateau;
WG_API wg_plateau wg_plateau_config(int mode_max, double factor, double patience);
/* One epoch's metric; may lower o's rate. 1 when it did, 0 when not, -1 on a bad argument
 * (a NaN metric, a factor outside (0, 1), ...: wg_last_error). */
WG_API int wg_plateau_step(wg_plateau *p, wg_optim *o, double metric);

/* Metrics. Predictions are as in wg_accuracy: the row's argmax when scores has k > 1 columns,
 * score > threshold (class 1, else 0) when it has one. labels (m x 1) hold class indices.
 * Confusion matrix cm (classes x classes, row-major): cm[true][predicted] counts. A label or
 * prediction outside 0..classes-1 is an error naming the row. */
WG_API wg_status wg_confusion_matrix(wg_mat scores, wg_mat labels, double threshold, int classes,
                                     long *cm);
/* From cm: per class c (arrays of classes, each may be NULL)
 *   precision_c = cm[c][c] / sum_i cm[i][c],  recall_c = cm[c][c] / sum_j cm[c][j],
 *   f1_c = 2 precision_c recall_c / (precision_c + recall_c)    (0 when a denominator is 0,
 *   scikit-learn's zero_division=0), and macro[3] = their unweighted means over the classes. */
WG_API wg_status wg_precision_recall_f1(const long *cm, int classes, double *precision,
                                        double *recall, double *f1, double *macro);
/* Log loss (cross-entropy) of probabilities: -(1/m) sum_i log p_i,label_i, where p (m x k)
 * holds each row's class probabilities (k > 1) or the probability of class 1 (k = 1, then
 * p_i,0 = 1 - p). Each p is clipped to [eps, 1 - eps] (eps <= 0: 1e-15). -1 on bad shapes or
 * labels (wg_last_error). */
WG_API double wg_log_loss(wg_mat probs, wg_mat labels, double eps);
/* Regression metrics per target column j of pred and target (both m x n):
 *   mse_j = (1/m) sum_i (pred - target)^2,  mae_j = (1/m) sum_i |pred - target|,
 *   r2_j = 1 - sum_i (target - pred)^2 / sum_i (target - mean_j)^2
 *          (scikit-learn's r2_score: 1 when both sums are 0, 0 when only the second is).
 * per (n entries, may be NULL) receives each column's; mean (may be NULL) their averages
 * (scikit-learn's multioutput='uniform_average'). */
typedef struct {
  double mse, mae, r2;
} wg_regression_metrics;
WG_API wg_status wg_regression_report(wg_mat pred, wg_mat target, wg_regression_metrics *per,
                                      wg_regression_metrics *mean);

/* Progress on long work, written only to the FILE given (never stdout or stderr by itself).
 * On a terminal (isatty) one line redrawn with '\r', at most every 0.1 s:
 *   training [#######-------------]  39% 5266/13500  17536/s, 0:00 left
 * Otherwise plain lines, at most one every `interval` seconds (10 by default), and one at the
 * end: "training: 900/900 (100%), 10772/s, done in 0.08 s". wg_progress_end writes the last state
 * and a newline. Set tty or interval after begin to choose; clock (NULL: CLOCK_MONOTONIC in
 * seconds) can be replaced, e.g. by a test's. */
typedef struct {
  FILE *f;
  const char *label;
  long total, done;
  int tty;                /* 1: the one-line bar; 0: plain lines */
  double interval;        /* plain lines: seconds between two */
  double (*clock)(void);  /* seconds */
  double start, last;     /* clock at begin and at the last line written */
  int drawn;              /* a bar is on the line (wg_progress_clear removes it) */
} wg_progress;
WG_API void wg_progress_begin(wg_progress *p, FILE *f, const char *label, long total);
WG_API void wg_progress_update(wg_progress *p, long done);
/* On a terminal, erase the bar (before printing other lines); nothing otherwise. */
WG_API void wg_progress_clear(wg_progress *p);
WG_API void wg_progress_end(wg_progress *p);

/* ---- threads and kept buffers ---------------------------------------------------------- */
/* Threads used by large matrix products, elementwise ops and optimizer steps (a pool inside
 * the library). The default is 1, or the environment variable WG_NUM_THREADS read at the
 * first use. Results are bitwise identical for every thread count (threads split the
 * outputs, never a sum); a thread that proves faster gets a larger share of the outputs.
 * n is clamped to 1..64; returns the threads now in use, fewer than asked when the system
 * refuses to create a thread (1 at worst: the library never fails for lack of threads).
 * Safe to call at any time, also while other threads use the library: the change waits for
 * a product or pass in progress to end and applies from the next one. */
WG_API int wg_set_threads(int n);

/* The matrix kernel keeps its packing buffers between calls (so a training step allocates
 * nothing after the first). This gives them back; they are made again when next needed.
 * wg_set_allocator does it too, so a buffer always returns to the allocator that made it. */
WG_API void wg_free_buffers(void);

#ifdef __cplusplus
}
#endif
#endif /* WENGERT_H */

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
 *   wg_var X = wg_input(t, m, 30, x_data), Y = wg_input(t, m, 1, y_data);
 *   wg_var A = wg_sigmoid(t, wg_add(t, wg_matmul(t, X, wg_use(t, W)), wg_use(t, b)));
 *   wg_var L = wg_bce(t, A, Y);
 *   for (int step = 0; step < 100; step++) {
 *     wg_param_zero_grad(W); wg_param_zero_grad(b);
 *     if (step > 0) wg_forward(t);              // replay on the updated W, b
 *     wg_backward(t, L);                        // dL/dW = (1/m) X^T (A - y)
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
 *
 * Error model
 *   - Each tape holds a sticky status and a message. The first error wins; every later call on
 *     that tape returns at once (ops return the none handle {0,0}). Check once, at the end:
 *       if (wg_tape_status(t)) fprintf(stderr, "%s\n", wg_tape_error(t));
 *   - Messages name the op, the shapes and the row: "matmul: (4x3) @ (2x3): inner dimensions
 *     differ (row 7)". wg_tape_reset clears the status.
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

/* ---- status ---------------------------------------------------------------------------- */
WG_API const char *wg_status_string(wg_status s); /* "ok", "shape mismatch", ... */

/* ---- memory ---------------------------------------------------------------------------- */
/* Lua's convention: new_size 0 frees ptr (returns NULL); otherwise (re)allocate ptr from
 * old_size to new_size bytes, returning NULL on failure (ptr untouched). NULL restores the
 * default (realloc/free). Set it before creating tapes or parameters. */
typedef void *(*wg_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);
WG_API void wg_set_allocator(wg_alloc_fn fn, void *ud);

/* ---- tapes ----------------------------------------------------------------------------- */
WG_API wg_tape *wg_tape_new(void);           /* NULL if out of memory */
WG_API void wg_tape_free(wg_tape *t);        /* NULL is fine */
WG_API void wg_tape_reset(wg_tape *t);       /* drop all rows, keep memory, clear status */
WG_API wg_status wg_tape_status(const wg_tape *t);
WG_API const char *wg_tape_error(const wg_tape *t); /* "" when ok */
WG_API int wg_tape_rows(const wg_tape *t);          /* rows recorded */
WG_API size_t wg_tape_bytes(const wg_tape *t);      /* arena bytes in use */

/* ---- leaves ---------------------------------------------------------------------------- */
WG_API wg_var wg_input(wg_tape *t, int rows, int cols, const wg_real *data); /* references data */
WG_API wg_var wg_scalar(wg_tape *t, wg_real c);                              /* 1x1 constant */

WG_API wg_param *wg_param_new(const char *name, int rows, int cols); /* zeros; NULL on error */
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
/* (1x1) L = -mean(y log p + (1-y) log(1-p)), each log clamped at -100 */
WG_API wg_var wg_bce(wg_tape *t, wg_var p, wg_var y);
/* (1x1) L = mean(max(z,0) - z y + log1p(exp(-|z|))) = bce(sigmoid(z), y) without overflow */
WG_API wg_var wg_bce_logits(wg_tape *t, wg_var z, wg_var y);
WG_API wg_var wg_mse(wg_tape *t, wg_var a, wg_var b); /* (1x1) L = mean((a - b)^2) */

/* ---- sweeps and views ------------------------------------------------------------------ */
WG_API wg_status wg_forward(wg_tape *t);              /* replay every row from the leaves */
WG_API wg_status wg_backward(wg_tape *t, wg_var loss); /* loss must be 1x1 */
WG_API wg_status wg_jvp(wg_tape *t); /* forward mode from the tangents set on leaves */
WG_API wg_mat wg_value(wg_tape *t, wg_var v);
/* Adjoint dLoss/dv after wg_backward; data is NULL when v needs no gradient or no backward
 * has run since it was recorded. */
WG_API wg_mat wg_grad(wg_tape *t, wg_var v);
/* Tangent of v: writable on leaves before wg_jvp (zeros at first), the result after. */
WG_API wg_mat wg_tangent(wg_tape *t, wg_var v);
WG_API void wg_name(wg_tape *t, wg_var v, const char *name); /* shown in prints and errors */

/* ---- printing: Wengert table, Graphviz DOT, backward trace ------------------------------ */

/* (end of printing) */

/* ---- gradient checking, forward-mode checks, custom ops -------------------------------- */

/* (end of gradient checking) */

/* ---- models, initialisers, optimizers, data, .npy/.npz, softmax ------------------------- */

/* (end of models) */

/* ---- performance: threads -------------------------------------------------------------- */

/* (end of performance) */

/* ---- reliability: finite checks -------------------------------------------------------- */
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

/* (end of reliability) */

#ifdef __cplusplus
}
#endif
#endif /* WENGERT_H */

/* binary.h - binary elementwise ops with 2-D broadcasting (add, sub, mul, div, ...), written
 * once: the loops over the shapes, the VJP's unbcast, the JVP and the thread pool are in
 * binary.c; an op supplies only its math, as three inline functions of one element:
 *
 *   static inline wg_real NAME_y(wg_real a, wg_real b)                       y = f(a, b)
 *   static inline wg_real NAME_da(wg_real a, wg_real b, wg_real y, wg_real g)  g * df/da
 *   static inline wg_real NAME_db(wg_real a, wg_real b, wg_real y, wg_real g)  g * df/db
 *
 * then WG_BINARY_KERNELS(NAME) below, which makes `static const wg_binary NAME_kernels` from
 * them, and its three kernels as one line each:
 *
 *   void wg_op_NAME_forward(wg_tape *t, wg_row *r) { wg_binary_forward(t, r, &NAME_kernels); }
 *   void wg_op_NAME_vjp(wg_tape *t, wg_row *r) { wg_binary_vjp(t, r, &NAME_kernels); }
 *   void wg_op_NAME_jvp(wg_tape *t, wg_row *r) { wg_binary_jvp(t, r, &NAME_kernels); }
 *
 * da and db take g and return the product (rather than returning df/da) so that an op keeps
 * the rounding of its own formula: div's da is g / b, not g * (1 / b). The VJP calls them
 * with g = dy and adds the result into the input's adjoint; the JVP calls them with the
 * inputs' tangents, ty = da(a, b, y, ta) + db(a, b, y, tb). A term subtracted in the math
 * (sub's db: dy * -1) is returned negated: x + (-t) has the bits of x - t.
 *
 * Shapes (wg_op_bcast in record.c): per axis equal, or 1 on one side, which is repeated along
 * that axis. Element (i, j) of an input lies at i*rs + j*cs (wg_bcast_stride in ops.h). The
 * VJP sums each input's terms over the axes it was repeated along (unbcast), every sum in the
 * row-major order of dy, so the bits do not depend on the thread count:
 *   x of y's shape         dx_ij (+)= term_ij                  row (or element) ranges
 *   x (1 x N), y (M x N)   dx_j (+)= sum_i term_ij, i in order   column ranges
 *   x (M x 1), y (M x N)   dx_i (+)= sum_j term_ij, j in order   row ranges
 *   x (1 x 1), y larger    dx (+)= sum_ij term_ij, row-major     one thread
 * An op using these is marked first = 1 in oplist.h: its VJP writes 0 + its sum into an
 * adjoint no VJP has reached yet in the sweep (wg_adj_first) instead of adding to zeros. */
#ifndef WG_BINARY_H
#define WG_BINARY_H
#include "ops/ops.h"

/* A block of y: `rows` runs of n elements, run i starting at y + i*ys, a + i*ars, b + i*brs
 * (and dy, ta, tb likewise). When every input is y's shape or 1x1 the block is one run of
 * any elements of y; otherwise each run lies within one row of y. */
typedef struct {
  const wg_real *a, *b;   /* the inputs' values at the block's first element */
  const wg_real *ta, *tb; /* JVP: their tangents there */
  const wg_real *y, *dy;  /* y's value, and its adjoint (VJP), there */
  size_t as, bs;          /* a's and b's step along a run: 1, or 0 where repeated */
  size_t ars, brs, ys;    /* their steps (and y's) from one run to the next */
  size_t rows, n;
} wg_seg;

/* The kernels WG_BINARY_KERNELS makes from an op's three functions; k = 0 is a, 1 is b.
 * grad's dx advances by dxs per run: y's row length when x has y's shape, 0 when x is a row
 * repeated down y (its runs all add into the same elements; then only the first run writes
 * when `first` says x is stale). grad_sum takes a block of one run. */
typedef struct {
  void (*value)(const wg_seg *s, wg_real *y);                 /* y_j = f(a_j, b_j) */
  void (*grad)(const wg_seg *s, int k, int first, wg_real *dx, size_t dxs); /* dx_j += term_j,
                                                                 first: dx_j = 0 + term_j */
  wg_real (*grad_sum)(const wg_seg *s, int k, wg_real acc);   /* acc + term_0 + term_1 ... */
  void (*tangent)(const wg_seg *s, wg_real *ty);              /* ty_j = da(ta_j) + db(tb_j) */
} wg_binary;

void wg_binary_forward(wg_tape *t, wg_row *r, const wg_binary *op);
void wg_binary_vjp(wg_tape *t, wg_row *r, const wg_binary *op);
void wg_binary_jvp(wg_tape *t, wg_row *r, const wg_binary *op);

/* Call run(s, ..., as, bs) with a's and b's steps as the constants 1 or 0: inlined, each case
 * is a plain loop the compiler vectorises (a step of 0 reads one element for the whole run). */
#define WG_BY_STEPS(s, run, ...)                                                   \
  ((s)->as ? ((s)->bs ? run(s, __VA_ARGS__, 1, 1) : run(s, __VA_ARGS__, 1, 0))     \
           : ((s)->bs ? run(s, __VA_ARGS__, 0, 1) : run(s, __VA_ARGS__, 0, 0)))

/* The kernels of op NAME from NAME_y, NAME_da and NAME_db: static const wg_binary
 * NAME_kernels. */
#define WG_BINARY_KERNELS(NAME)                                                              \
  static inline void NAME##_value_run(const wg_seg *s, wg_real *y, size_t as, size_t bs) {   \
    for (size_t i = 0; i < s->rows; i++) {                                                   \
      const wg_real *a = s->a + i * s->ars, *b = s->b + i * s->brs;                          \
      wg_real *yi = y + i * s->ys;                                                           \
      for (size_t j = 0; j < s->n; j++) yi[j] = NAME##_y(a[j * as], b[j * bs]);              \
    }                                                                                        \
  }                                                                                          \
  static void NAME##_value(const wg_seg *s, wg_real *y) {                                    \
    WG_BY_STEPS(s, NAME##_value_run, y);                                                     \
  }                                                                                          \
  static inline void NAME##_grad_run(const wg_seg *s, int k, int first, wg_real *dx,         \
                                     size_t dxs, size_t as, size_t bs) {                     \
    for (size_t i = 0; i < s->rows; i++) {                                                   \
      const wg_real *a = s->a + i * s->ars, *b = s->b + i * s->brs;                          \
      const wg_real *y = s->y + i * s->ys, *dy = s->dy + i * s->ys;                          \
      wg_real *d = dx + i * dxs;                                                             \
      size_t n = s->n;                                                                       \
      int w = first && (i == 0 || dxs); /* d is stale: store 0 + term */                     \
      if (k == 0 && w)                                                                       \
        for (size_t j = 0; j < n; j++) d[j] = 0 + NAME##_da(a[j * as], b[j * bs], y[j], dy[j]); \
      else if (k == 0)                                                                       \
        for (size_t j = 0; j < n; j++) d[j] += NAME##_da(a[j * as], b[j * bs], y[j], dy[j]); \
      else if (w)                                                                            \
        for (size_t j = 0; j < n; j++) d[j] = 0 + NAME##_db(a[j * as], b[j * bs], y[j], dy[j]); \
      else                                                                                   \
        for (size_t j = 0; j < n; j++) d[j] += NAME##_db(a[j * as], b[j * bs], y[j], dy[j]); \
    }                                                                                        \
  }                                                                                          \
  static void NAME##_grad(const wg_seg *s, int k, int first, wg_real *dx, size_t dxs) {      \
    WG_BY_STEPS(s, NAME##_grad_run, k, first, dx, dxs);                                      \
  }                                                                                          \
  static wg_real NAME##_grad_sum(const wg_seg *s, int k, wg_real acc) {                      \
    for (size_t j = 0; j < s->n; j++) {                                                      \
      wg_real a = s->a[j * s->as], b = s->b[j * s->bs];                                      \
      acc += k == 0 ? NAME##_da(a, b, s->y[j], s->dy[j]) : NAME##_db(a, b, s->y[j], s->dy[j]); \
    }                                                                                        \
    return acc;                                                                              \
  }                                                                                          \
  static void NAME##_tangent(const wg_seg *s, wg_real *ty) {                                 \
    for (size_t i = 0; i < s->rows; i++)                                                     \
      for (size_t j = 0; j < s->n; j++) {                                                    \
        size_t ia = i * s->ars + j * s->as, ib = i * s->brs + j * s->bs, iy = i * s->ys + j; \
        ty[iy] = NAME##_da(s->a[ia], s->b[ib], s->y[iy], s->ta[ia]) +                        \
                 NAME##_db(s->a[ia], s->b[ib], s->y[iy], s->tb[ib]);                         \
      }                                                                                      \
  }                                                                                          \
  static const wg_binary NAME##_kernels = {NAME##_value, NAME##_grad, NAME##_grad_sum,       \
                                           NAME##_tangent}

/* The recorded VJP of maximum (larger = 1) and minimum (larger = 0), shared: with the picked
 * side's margin d = a - b (maximum) or b - a (minimum), s = step(d) and r = step(-d),
 *   da = unbcast(dy * m),  db = unbcast(dy * (1 - m)),  m = (s + 1 - r) / 2
 * m is 1, 0 or 1/2 on a tie (a = b = inf too: inf - inf is NaN, both steps 0), exactly the
 * numeric VJP's factors. A NaN input gets 1/2 each where the numeric VJP gives 0 (the value
 * is NaN already). */
void wg_record_pick_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want, wg_var *dx,
                        int larger);

#endif

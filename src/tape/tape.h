/* tape.h - the Wengert list's internals, shared by src/tape/, src/ops/ and the other modules.
 *
 * A row is one elementary operation. Rows are appended in evaluation order, so the list is
 * already topologically sorted: the backward sweep is a reverse loop, no graph search. */
#ifndef WG_TAPE_H
#define WG_TAPE_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "wengert.h"
#include "tape/arena.h"

#define WG_MAX_INPUTS 4      /* inputs of a custom op (wg_custom); built-in ops take any number */
#define WG_NAME_MAX 64

typedef struct wg_row {
  uint16_t op;               /* index into wg_ops[] */
  uint8_t needs_grad;        /* some input (or this leaf) leads to a parameter */
  uint8_t adj_stale;         /* backward: adj holds stale values, to be read as zero: the
                                first VJP to reach it writes it (ops marked `first`,
                                wg_adj_first) or the sweep zeroes it just before that VJP */
  uint8_t tan_zero;          /* forward mode: wg_jvp found this row's tangent identically 0
                                (a leaf whose tangent holds only zeros, or a row whose inputs
                                all are), skipped its JVP and zeroed it; a JVP may skip the
                                terms of such inputs (matmul: one product instead of two) */
  uint32_t n_in;             /* inputs in in[] */
  uint32_t *in;              /* n_in input row indices, all < this row's index: an arena array
                                made at record time (NULL for leaves); the arena never moves
                                it, so growing the row list copies only the pointer */
  int rows, cols;            /* shape of val, adj, tan */
  wg_real *val;              /* value (arena; for inputs/params: the caller's buffer) */
  wg_real *adj;              /* adjoint dLoss/dval, NULL until a backward needs it */
  wg_real *tan;              /* tangent (forward mode), NULL until used */
  const char *name;          /* arena copy, or NULL */
  wg_real c;                 /* op constant: scale factor, scalar value */
  void *ptr;                 /* op data: the wg_param of a PARAM leaf, custom op info, ... */
  void *aux;                 /* op scratch kept in the arena (what a VJP needs) */
  wg_real *sink;             /* a leaf whose VJP only adds its adjoint into a buffer of its
                                own (a parameter's gradient): that buffer, else NULL */
  wg_real *own_adj;          /* the row's own adjoint buffer while adj is the sink */
} wg_row;

struct wg_step_terms; /* one traced step of the reverse sweep (teach/trace.h) */

/* A tape is busy while it runs a callback of a custom op (custom.c sets this around each
 * call): recording on it, sweeping it, checking, resetting or freeing it is then refused
 * (wg_tape_busy), so the row array never moves under a sweep and the arena never rewinds. */
typedef struct wg_busy {
  const char *op;            /* the custom op's name; NULL: not busy */
  const char *callback;      /* "shape", "forward", "vjp" or "jvp" */
  uint32_t row;              /* the op's row (for shape: the row it would have) */
} wg_busy;

struct wg_tape {
  uint32_t gen;              /* generation: handles must match it */
  wg_status status;          /* sticky: first error wins */
  char error[256];
  wg_row *rows;
  uint32_t n_rows, cap_rows;
  wg_arena arena;
  FILE *trace;               /* backward trace stream (teach/print.c), NULL when off */
  /* where wg_trace_step hands each traced step (teach/trace.h): NULL writes the text trace
   * to `trace`; the HTML page (teach/html.c) sets its own writer while it runs the sweep */
  void (*trace_writer)(wg_tape *t, const struct wg_step_terms *step);
  unsigned checks;           /* WG_CHECK_* flags */
  int eval;                  /* wg_tape_set_training(t, 0): dropout rows pass x through
                                (ops/dropout.c); kept by wg_tape_reset */
  wg_busy busy;              /* the custom op callback running on this tape, if any */
  const char *building;      /* the op of the row being recorded (row n_rows), else NULL */
};

struct wg_param {
  char name[WG_NAME_MAX];
  int rows, cols;
  wg_real *value, *grad;     /* rows*cols each, in the same block as the struct */
  size_t alloc_size;
};

/* The single error path: record the first error on t with a printf-style message. Returns
 * the none handle so op constructors can `return wg_fail(...)`. t may be NULL. */
wg_var wg_fail(wg_tape *t, wg_status s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* 1 when t exists and is not in error (ops bail out early otherwise). */
int wg_live(const wg_tape *t);

/* 1 when t is busy running a custom op's callback: then `call` (the op or function that was
 * called on t) is refused, failing t with WG_ERR_STATE and a message naming both. */
int wg_tape_busy(wg_tape *t, const char *call);

/* Resolve a handle, or fail naming `who` (an op name) and return NULL. */
wg_row *wg_row_of(wg_tape *t, wg_var v, const char *who);

/* Append a row of the given op and shape with an arena buffer for its value; returns its
 * index or fails (NOMEM) and returns UINT32_MAX. Pointers into t->rows are invalidated. */
uint32_t wg_row_append(wg_tape *t, int op, int rows, int cols);

/* Arena allocation of n reals (or bytes), failing the tape on OOM. */
wg_real *wg_tape_reals(wg_tape *t, size_t n);
void *wg_tape_alloc(wg_tape *t, size_t bytes);

/* Elements of a row's value (and adjoint, tangent). Never wraps: every shape on a tape has
 * passed wg_op_fits (src/ops/ops.h), so this count times sizeof(wg_real) fits in size_t. */
static inline size_t wg_row_size(const wg_row *r) {
  return (size_t)r->rows * (size_t)r->cols;
}
static inline wg_row *wg_input_row(wg_tape *t, const wg_row *r, int k) {
  return &t->rows[r->in[k]];
}
static inline wg_var wg_handle(const wg_tape *t, uint32_t row) {
  wg_var v = {t->gen, row};
  return v;
}
static inline wg_var wg_none(void) {
  wg_var v = {0, 0};
  return v;
}

/* Ensure a row's adjoint / tangent buffer exists (arena); 0 on OOM (tape failed). */
int wg_row_ensure_adj(wg_tape *t, wg_row *r);
int wg_row_ensure_tan(wg_tape *t, wg_row *r);

/* The traced form of one backward step (teach/print.c): run row r's VJP and write to
 * t->trace what each of its terms added. wg_backward calls it instead of the VJP while a
 * trace is set. */
void wg_trace_step(wg_tape *t, wg_row *r);

/* Reverse sweep from row `top`, its adjoint seeded with `seed` (that row's size; wg_backward
 * passes 1 for a 1x1 loss): for each row from top down to 0 that needs a gradient, its VJP.
 * Every adjoint reads as zero before the first VJP adds into it (sweep.c zeroes it just
 * before, or the op writes it first), except a parameter leaf's: it is the parameter's
 * gradient itself (the leaf's sink), so its consumers' VJPs add straight into the gradient and
 * the leaf's own VJP (sink += adj) is skipped. With a trace or finite checks on, or when the
 * seeded row is itself such a leaf, the leaf has its own zeroed adjoint and its VJP adds it
 * into the sink. With into_params = 0 the leaves' VJPs are not called and no sink is used:
 * adjoints reach the leaf rows (their own buffers) but not the parameters' gradients (the
 * dot-product test uses this to leave gradients untouched). */
wg_status wg_backward_seeded(wg_tape *t, uint32_t top, const wg_real *seed, int into_params);

/* Finite checks (finite.c), called after a row's forward (record or replay; phase is "" or
 * "wg_forward: "), VJP and JVP when t->checks is set: fail the tape with WG_ERR_NONFINITE
 * naming the row, its op and its inputs, and return 0, at the first NaN or Inf. */
int wg_finite_forward(wg_tape *t, uint32_t row, const char *phase);
int wg_finite_backward(wg_tape *t, uint32_t row);
int wg_finite_jvp(wg_tape *t, uint32_t row);

/* Tests only: the next generation fresh_gen hands out (to reach the end of the 32-bit space). */
void wg_tape_set_next_gen(uint32_t next);

/* An input as shape messages show it: "X (2x3)" when the row has a name (wg_name, or the
 * parameter's), "(2x3)" otherwise; buf should hold WG_SHAPE_TEXT chars. */
#define WG_SHAPE_TEXT (WG_NAME_MAX + 32)
const char *wg_row_shape(const wg_tape *t, uint32_t row, char *buf, size_t n);

/* "name" or "v7" for messages and prints; buf must hold WG_NAME_MAX + 16 chars. */
const char *wg_row_label(const wg_tape *t, uint32_t row, char *buf, size_t n);

#endif

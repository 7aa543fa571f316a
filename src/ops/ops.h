/* ops.h - the op table and the helpers every op file uses.
 *
 * An op file holds, in this order: the math comment (forward, VJP, JVP), the shape rule, the
 * public constructor, the forward kernel, the VJP, the JVP. The VJP accumulates (+=) into the
 * inputs' adjoints and only for inputs that need a gradient (an op marked `first` in oplist.h
 * writes 0 + its term instead when wg_adj_first says it is the first); the JVP assigns the
 * row's tangent.
 * No malloc here: scratch goes in the tape's arena at record time. */
#ifndef WG_OPS_H
#define WG_OPS_H
#include "tape/tape.h"

typedef void (*wg_kernel)(wg_tape *t, wg_row *r);

/* The VJP recorded as rows (wg_gradients, src/tape/gradients.c): given dy, the handle of row
 * `row`'s adjoint (a row of its shape), record with ordinary ops each input's term J_k^T dy and
 * set dx[k] to its handle, a row of input k's shape. dx[k] is the none handle on entry; leave
 * it so when want[k] is 0 (input k does not lead to a variable asked for) or the term is
 * zero. t->rows may move while rows are recorded: keep row indices, not wg_row pointers, across
 * calls that record. The recorded rows are ordinary rows, so their own VJPs, recorded or
 * numeric, give the next order of derivative. */
typedef void (*wg_vjp_recorder)(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx);

typedef struct wg_op_info {
  const char *name;     /* "sigmoid" */
  int n_in;             /* inputs (-1: variable, for custom ops) */
  int writes_first;     /* the VJP writes inputs' stale adjoints itself (wg_adj_first) */
  const char *forward_rule, *vjp_rule, *jvp_rule; /* from oplist.h */
  wg_kernel forward;    /* computes r->val from the inputs' val */
  wg_kernel vjp;        /* inputs' adj += J^T r->adj */
  wg_kernel jvp;        /* r->tan = J (inputs' tan) */
  wg_vjp_recorder record_vjp; /* records the VJP as rows (wg_gradients) */
} wg_op_info;

enum {
#define WG_OP(E, name, n, w, f, v, j) WG_OP_##E,
#include "ops/oplist.h"
#undef WG_OP
  WG_OP_COUNT
};

extern const wg_op_info wg_ops[WG_OP_COUNT];

#define WG_OP(E, name, n, w, f, v, j)              \
  void wg_op_##name##_forward(wg_tape *t, wg_row *r); \
  void wg_op_##name##_vjp(wg_tape *t, wg_row *r);     \
  void wg_op_##name##_jvp(wg_tape *t, wg_row *r);     \
  void wg_op_##name##_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want, \
                                 wg_var *dx);
#include "ops/oplist.h"
#undef WG_OP

/* Record a row of `op` over `n_in` resolved inputs with the given shape and constant, compute
 * its value with the op's forward, and return its handle (or the none handle after failing). */
wg_var wg_op_record(wg_tape *t, int op, int n_in, const wg_var *in, int rows, int cols,
                    wg_real c);

/* wg_op_record for an op whose forward needs r->ptr (set before the forward runs). */
wg_var wg_op_record_ptr(wg_tape *t, int op, int n_in, const wg_var *in, int rows, int cols,
                        wg_real c, void *ptr);

/* 1 when a (rows x cols) value can be counted: rows cols elements and their bytes fit in
 * size_t (a 32-bit size_t holds 65536 x 65535 elements, not 65536 x 65537). Otherwise fail
 * the tape with WG_ERR_SHAPE naming who, the n_in inputs' shapes, the result and the row,
 * and return 0. Every row's shape passes here (wg_op_record_ptr, wg_input), so the element
 * and byte counts of a row's buffers, wg_row_size(r) * sizeof(wg_real), never wrap. */
int wg_op_fits(wg_tape *t, const char *who, int n_in, const wg_var *in, int rows, int cols);

/* The op's name as prints and errors show it: wg_ops[r->op].name, or the user's name for a
 * custom op (table.c). */
const char *wg_row_op_name(const wg_row *r);
/* The user's name of a custom row (custom.c); wg_row_op_name is the one to call. */
const char *wg_op_custom_name(const wg_row *r);

/* Constructors shared by op families (record.c). Each validates the handles, applies the
 * family's shape rule (failing with a message naming the op, the shapes and the row) and
 * records. */
wg_var wg_op_unary(wg_tape *t, int op, wg_var x, wg_real c);         /* same shape as x */
/* 2-D broadcasting; symbol ("+") is shown between the shapes in the error message */
wg_var wg_op_bcast(wg_tape *t, int op, wg_var a, wg_var b, const char *symbol);
wg_var wg_op_reduce(wg_tape *t, int op, wg_var x, int rows, int cols);/* shape given */
wg_var wg_op_pair_loss(wg_tape *t, int op, wg_var a, wg_var b);      /* equal shapes -> 1x1 */

/* Broadcast strides: element (i,j) of an input of shape (r x c) seen as (R x C) lies at
 * i*rs + j*cs, with rs = 0 along a broadcast row axis (r == 1) and cs = 0 along a broadcast
 * column axis (c == 1). */
typedef struct {
  size_t rs, cs;
} wg_bstride;
static inline wg_bstride wg_bcast_stride(const wg_row *x) {
  wg_bstride s = {x->rows == 1 ? 0 : (size_t)x->cols, x->cols == 1 ? 0 : 1};
  return s;
}

/* Input x's adjoint, before a VJP of an op marked `first` writes its term into it: 1 if no
 * VJP has reached x yet in this sweep, so the buffer holds stale values and the VJP stores
 * 0 + term in every element (the bits of zeroing and then adding, one pass fewer, and the
 * buffer is never read); 0 if it holds a sum to add to. Call it once per input, before the
 * work starts: it clears the mark, so a second input that is the same row (x * x) adds. */
static inline int wg_adj_first(wg_row *x) {
  int first = x->adj_stale;
  x->adj_stale = 0;
  return first;
}

/* ---- helpers of the recorded VJPs ---------------------------------------------------- */

/* Handle of input k of row `row`. */
static inline wg_var wg_in(const wg_tape *t, uint32_t row, uint32_t k) {
  return wg_handle(t, t->rows[row].in[k]);
}
static inline int wg_is_none(wg_var v) {
  return v.gen == 0;
}
/* g (R x C) summed back to (rows x cols) over the axes a broadcast repeated (rows == 1 < R,
 * cols == 1 < C): the adjoint of broadcasting, as sum_axis rows. g itself when equal. */
wg_var wg_unbcast(wg_tape *t, wg_var g, int rows, int cols);
/* (rows x cols) of zeros: broadcast(scalar 0), for a gradient the loss does not reach. */
wg_var wg_zeros(wg_tape *t, int rows, int cols);
/* Offset in x of the first maximum of group g along axis (0: column g, 1: row g), the first
 * NaN if the group has one: max_axis's pick (axis.c), shared with argmax_mask. */
size_t wg_axis_first_max(const wg_row *x, int axis, int g);
/* The mask a dropout row's last forward used, given the row's ptr (dropout.c): 0 or
 * 1 / (1 - p) per element in training, NULL when it passed x through (evaluation). */
const wg_real *wg_dropout_mask_of(const void *state);

#endif

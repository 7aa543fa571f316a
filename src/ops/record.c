/* record.c - recording a row, and the shape rules shared by op families. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/size.h"

int wg_op_fits(wg_tape *t, const char *who, int n_in, const wg_var *in, int rows, int cols) {
  size_t bytes;
  if (wg_shape_bytes(rows, cols, sizeof(wg_real), &bytes)) return 1;
  char from[WG_MAX_INPUTS * 32 + 32] = ""; /* the first inputs' shapes, then how many more */
  size_t used = 0;
  for (int k = 0; k < n_in; k++) {
    const wg_row *x = &t->rows[in[k].row];
    if (k == WG_MAX_INPUTS && n_in > WG_MAX_INPUTS + 1) {
      snprintf(from + used, sizeof from - used, "... (%d inputs) -> ", n_in);
      break;
    }
    snprintf(from + used, sizeof from - used, "(%dx%d)%s", x->rows, x->cols,
             k + 1 < n_in ? ", " : " -> ");
    used += strlen(from + used);
  }
  wg_fail(t, WG_ERR_SHAPE, "%s: %s(%dx%d): %llu elements of %zu bytes are more than a %d-bit "
          "size_t counts (row %u)", who, from, rows, cols,
          (unsigned long long)rows * (unsigned long long)cols, sizeof(wg_real),
          (int)(sizeof(size_t) * CHAR_BIT), (unsigned)t->n_rows);
  return 0;
}

wg_var wg_op_record(wg_tape *t, int op, int n_in, const wg_var *in, int rows, int cols,
                    wg_real c) {
  return wg_op_record_ptr(t, op, n_in, in, rows, cols, c, NULL);
}

/* The row is built just past the end of the list (n_rows stays i) and joins it once its value
 * is computed: a failure on the way (out of memory, a custom op's callback breaking the busy
 * rule) leaves the rows as they were, and its message names row i and the op (t->building).
 * A row whose value is not finite (WG_CHECK_FINITE) is kept: its message names it. */
wg_var wg_op_record_ptr(wg_tape *t, int op, int n_in, const wg_var *in, int rows, int cols,
                        wg_real c, void *ptr) {
  if (!wg_live(t)) return wg_none();
  if (!wg_op_fits(t, wg_ops[op].name, n_in, in, rows, cols)) return wg_none();
  const char *outer = t->building; /* wg_custom names its own rows */
  if (!outer) t->building = wg_ops[op].name;
  uint32_t i = wg_row_append(t, op, rows, cols);
  if (i != UINT32_MAX) {
    t->n_rows = i;
    wg_row *r = &t->rows[i];
    r->c = c;
    r->ptr = ptr;
    /* the input list lives in the arena: any count, and it stays put when t->rows grows */
    r->in = n_in > 0 ? wg_tape_alloc(t, (size_t)n_in * sizeof *r->in) : NULL;
    r->n_in = r->in ? (uint32_t)n_in : 0;
    for (uint32_t k = 0; k < r->n_in; k++) {
      r->in[k] = in[k].row;
      if (t->rows[in[k].row].needs_grad) r->needs_grad = 1;
    }
    if (r->n_in == (uint32_t)n_in) r->val = wg_tape_reals(t, wg_row_size(r));
    if (r->val) wg_ops[op].forward(t, r);
  }
  t->building = outer;
  if (!wg_live(t)) return wg_none();
  t->n_rows = i + 1;
  if (t->checks && !wg_finite_forward(t, i, "")) return wg_none();
  return wg_handle(t, i);
}

wg_var wg_op_unary(wg_tape *t, int op, wg_var x, wg_real c) {
  const wg_row *a = wg_row_of(t, x, wg_ops[op].name);
  if (!a) return wg_none();
  return wg_op_record(t, op, 1, &x, a->rows, a->cols, c);
}

/* 2-D broadcasting, per axis: equal sizes, or one side 1 (it is repeated along that axis). */
static int bcast_dim(int p, int q) {
  return p == q ? p : p == 1 ? q : q == 1 ? p : -1;
}

wg_var wg_op_bcast(wg_tape *t, int op, wg_var a, wg_var b, const char *symbol) {
  const wg_row *ra = wg_row_of(t, a, wg_ops[op].name);
  const wg_row *rb = ra ? wg_row_of(t, b, wg_ops[op].name) : NULL;
  if (!rb) return wg_none();
  int rows = bcast_dim(ra->rows, rb->rows), cols = bcast_dim(ra->cols, rb->cols);
  char sa[WG_SHAPE_TEXT], sb[WG_SHAPE_TEXT];
  if (rows < 0 || cols < 0)
    return wg_fail(t, WG_ERR_SHAPE,
                   "%s: %s %s %s: shapes do not broadcast (each axis must be equal or 1) (row %u)",
                   wg_ops[op].name, wg_row_shape(t, a.row, sa, sizeof sa), symbol,
                   wg_row_shape(t, b.row, sb, sizeof sb), (unsigned)t->n_rows);
  wg_var in[2] = {a, b};
  return wg_op_record(t, op, 2, in, rows, cols, 0);
}

wg_var wg_op_reduce(wg_tape *t, int op, wg_var x, int rows, int cols) {
  if (!wg_row_of(t, x, wg_ops[op].name)) return wg_none();
  return wg_op_record(t, op, 1, &x, rows, cols, 0);
}

wg_var wg_op_pair_loss(wg_tape *t, int op, wg_var a, wg_var b) {
  const wg_row *ra = wg_row_of(t, a, wg_ops[op].name);
  const wg_row *rb = ra ? wg_row_of(t, b, wg_ops[op].name) : NULL;
  if (!rb) return wg_none();
  char sa[WG_SHAPE_TEXT], sb[WG_SHAPE_TEXT];
  if (ra->rows != rb->rows || ra->cols != rb->cols)
    return wg_fail(t, WG_ERR_SHAPE, "%s: %s vs %s: shapes differ (row %u)", wg_ops[op].name,
                   wg_row_shape(t, a.row, sa, sizeof sa), wg_row_shape(t, b.row, sb, sizeof sb),
                   (unsigned)t->n_rows);
  wg_var in[2] = {a, b};
  return wg_op_record(t, op, 2, in, 1, 1, 0);
}

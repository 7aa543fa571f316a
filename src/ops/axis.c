/* axis.c - reductions along one axis: sum_axis, mean_axis, max_axis, logsumexp_axis.
 *
 * x (m x n); the axis is the row's constant c:
 *   axis 0 (over the rows):    y (1 x n), y_j = R_i x_ij     a column j of x is one group
 *   axis 1 (over the columns): y (m x 1), y_i = R_j x_ij     a row i of x is one group
 * Each output element g reduces K elements (K = m for axis 0, n for axis 1), the k-th of
 * which lies at x[base(g) + k step] (axis 0: base j, step n; axis 1: base i n, step 1).
 *
 *   sum_axis        y_g = sum_k x_gk
 *                   VJP dx_gk += dy_g                      JVP ty_g = sum_k tx_gk
 *   mean_axis       y_g = (1/K) sum_k x_gk
 *                   VJP dx_gk += dy_g / K                  JVP ty_g = (1/K) sum_k tx_gk
 *   max_axis        y_g = x_gk*, k* the first k with the largest value (a NaN counts as the
 *                   largest, so a group with a NaN gives NaN, as in NumPy and PyTorch)
 *                   VJP dx_gk* += dy_g (the subgradient that picks the first maximum)
 *                   JVP ty_g = tx_gk*
 *   logsumexp_axis  y_g = M_g + log sum_k exp(x_gk - M_g),  M_g = max_k x_gk   (every
 *                   exponent <= 0: no overflow; M_g = +-inf gives y_g = M_g)
 *                   VJP dx_gk += dy_g exp(x_gk - y_g)      (softmax of the group)
 *                   JVP ty_g = sum_k exp(x_gk - y_g) tx_gk
 *
 * wg_sum_rows stays its own row (sum_rows.c) with the same numbers as sum_axis(x, 0). */
#include <math.h>

#include "ops/ops.h"
#include "kernels/vmath.h"

/* the groups of x along axis: count of groups, elements per group, and where each starts */
typedef struct {
  int groups, k;
  size_t step;
} axis_walk;

static axis_walk walk_of(const wg_row *x, int axis) {
  axis_walk w;
  if (axis == 0) w.groups = x->cols, w.k = x->rows, w.step = (size_t)x->cols;
  else w.groups = x->rows, w.k = x->cols, w.step = 1;
  return w;
}

static size_t base_of(const wg_row *x, int axis, int g) {
  return axis == 0 ? (size_t)g : (size_t)g * (size_t)x->cols;
}

static int axis_of(const wg_row *r) {
  return r->c != 0;
}

/* the shared constructor: the axis must be 0 or 1 */
static wg_var record_axis(wg_tape *t, int op, wg_var x, int axis) {
  const char *name = wg_ops[op].name;
  const wg_row *a = wg_row_of(t, x, name);
  if (!a) return wg_none();
  if (axis != 0 && axis != 1) {
    char sx[WG_SHAPE_TEXT];
    return wg_fail(t, WG_ERR_ARG, "%s: axis %d for %s: the axis must be 0 (over the rows, "
                   "result 1x%d) or 1 (over the columns, result %dx1) (row %u)", name, axis,
                   wg_row_shape(t, x.row, sx, sizeof sx), a->cols, a->rows,
                   (unsigned)t->n_rows);
  }
  return wg_op_record(t, op, 1, &x, axis == 0 ? 1 : a->rows, axis == 0 ? a->cols : 1,
                      (wg_real)axis);
}

wg_var wg_sum_axis(wg_tape *t, wg_var x, int axis) {
  return record_axis(t, WG_OP_SUM_AXIS, x, axis);
}
wg_var wg_mean_axis(wg_tape *t, wg_var x, int axis) {
  return record_axis(t, WG_OP_MEAN_AXIS, x, axis);
}
wg_var wg_max_axis(wg_tape *t, wg_var x, int axis) {
  return record_axis(t, WG_OP_MAX_AXIS, x, axis);
}
wg_var wg_logsumexp_axis(wg_tape *t, wg_var x, int axis) {
  return record_axis(t, WG_OP_LOGSUMEXP_AXIS, x, axis);
}

/* y_g = scale sum_k v_gk over the groups of x (v: x's value or tangent) */
static void group_sums(const wg_row *x, int axis, const wg_real *v, wg_real scale, wg_real *y) {
  axis_walk w = walk_of(x, axis);
  for (int g = 0; g < w.groups; g++) {
    const wg_real *vg = v + base_of(x, axis, g);
    wg_real s = 0;
    for (int k = 0; k < w.k; k++) s += vg[(size_t)k * w.step];
    y[g] = s * scale;
  }
}

/* dx_gk += scale dy_g */
static void spread(wg_row *x, int axis, const wg_real *dy, wg_real scale) {
  axis_walk w = walk_of(x, axis);
  for (int g = 0; g < w.groups; g++) {
    wg_real *dg = x->adj + base_of(x, axis, g), d = dy[g] * scale;
    for (int k = 0; k < w.k; k++) dg[(size_t)k * w.step] += d;
  }
}

static wg_real group_count(const wg_row *x, int axis) {
  return (wg_real)(axis == 0 ? x->rows : x->cols);
}

void wg_op_sum_axis_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  group_sums(x, axis_of(r), x->val, 1, r->val);
}
void wg_op_sum_axis_vjp(wg_tape *t, wg_row *r) {
  spread(wg_input_row(t, r, 0), axis_of(r), r->adj, 1);
}
void wg_op_sum_axis_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  group_sums(x, axis_of(r), x->tan, 1, r->tan);
}

void wg_op_mean_axis_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  group_sums(x, axis_of(r), x->val, 1 / group_count(x, axis_of(r)), r->val);
}
void wg_op_mean_axis_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  spread(x, axis_of(r), r->adj, 1 / group_count(x, axis_of(r)));
}
void wg_op_mean_axis_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  group_sums(x, axis_of(r), x->tan, 1 / group_count(x, axis_of(r)), r->tan);
}

/* offset in x of the first maximum of group g (the first NaN, if there is one); ops.h.
 * One pass that ignores NaN (every comparison with it is false) and notes whether it saw one;
 * only then a second pass finds the first NaN. */
size_t wg_axis_first_max(const wg_row *x, int axis, int g) {
  axis_walk w = walk_of(x, axis);
  size_t at = base_of(x, axis, g);
  const wg_real *v = x->val + at;
  wg_real top = v[0];
  int best = 0, nan = top != top;
  for (int k = 1; k < w.k; k++) {
    wg_real e = v[(size_t)k * w.step];
    if (e > top) top = e, best = k;
    nan |= e != e;
  }
  if (nan)
    for (best = 0; v[(size_t)best * w.step] == v[(size_t)best * w.step]; best++) {
    }
  return at + (size_t)best * w.step;
}

/* max_axis keeps each group's pick from its forward in r->aux (an int per group, the position
 * k* within the group), so its VJP and JVP read it instead of searching again; the forward
 * runs before them (at record and in every replay). axis 0 walks the rows once with every
 * column's running maximum (contiguous); a column that met a NaN is searched again. */
static int *picks_of(wg_tape *t, wg_row *r, int groups) {
  if (!r->aux) r->aux = wg_tape_alloc(t, (size_t)groups * sizeof(int));
  return r->aux;
}

static void column_picks(const wg_row *x, wg_real *y, int *pick) {
  int m = x->rows, n = x->cols, nan = 0;
  for (int j = 0; j < n; j++) y[j] = x->val[j], pick[j] = 0, nan |= x->val[j] != x->val[j];
  for (int i = 1; i < m; i++) {
    const wg_real *row = x->val + (size_t)i * n;
    for (int j = 0; j < n; j++) {
      if (row[j] > y[j]) y[j] = row[j], pick[j] = i;
      nan |= row[j] != row[j];
    }
  }
  if (nan)
    for (int j = 0; j < n; j++) {
      pick[j] = (int)(wg_axis_first_max(x, 0, j) / (size_t)n);
      y[j] = x->val[(size_t)pick[j] * n + j];
    }
}

void wg_op_max_axis_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  int axis = axis_of(r), groups = walk_of(x, axis).groups;
  int *pick = picks_of(t, r, groups);
  if (!pick) return; /* out of memory: the tape has failed */
  if (axis == 0) {
    column_picks(x, r->val, pick);
    return;
  }
  for (int g = 0; g < groups; g++) {
    size_t at = wg_axis_first_max(x, 1, g);
    pick[g] = (int)(at - (size_t)g * (size_t)x->cols);
    r->val[g] = x->val[at];
  }
}

/* offset in x of group g's pick (from the forward) */
static size_t pick_at(const wg_row *x, const wg_row *r, int g) {
  int axis = axis_of(r);
  return base_of(x, axis, g) + (size_t)((const int *)r->aux)[g] * walk_of(x, axis).step;
}

void wg_op_max_axis_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  int groups = walk_of(x, axis_of(r)).groups;
  for (int g = 0; g < groups; g++) x->adj[pick_at(x, r, g)] += r->adj[g];
}
void wg_op_max_axis_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  int groups = walk_of(x, axis_of(r)).groups;
  for (int g = 0; g < groups; g++) r->tan[g] = x->tan[pick_at(x, r, g)];
}

/* logsumexp's exponentials exp(x_gk - shift) go through the vector exp (kernels/vmath.h, within
 * 2 ulp of libm's exp) a chunk of LSE_CHUNK elements at a time, on the stack: buf_j =
 * exp(x_g(k0+j) - shift) for j < len. */
#define LSE_CHUNK 256

static int lse_chunk(const wg_real *xg, size_t step, int k0, int k, wg_real shift, wg_real *buf) {
  int len = k - k0 < LSE_CHUNK ? k - k0 : LSE_CHUNK;
  for (int j = 0; j < len; j++) buf[j] = xg[(size_t)(k0 + j) * step] - shift;
  wg_vexp(buf, buf, (size_t)len);
  return len;
}

/* The group's largest element when it is finite (LSE_LANES running maxima, so the compares do
 * not wait on each other); a NaN elsewhere in the group then makes the sum, so y_g, NaN. When
 * the result is not finite (+inf, -inf or a leading NaN), first_max's element: what y_g is. */
#define LSE_LANES 8

static wg_real lse_top(const wg_row *x, int axis, int g) {
  axis_walk w = walk_of(x, axis);
  const wg_real *xg = x->val + base_of(x, axis, g);
  wg_real m[LSE_LANES];
  for (int l = 0; l < LSE_LANES; l++) m[l] = xg[0];
  int k = 0;
  for (; k + LSE_LANES <= w.k; k += LSE_LANES)
    for (int l = 0; l < LSE_LANES; l++) {
      wg_real v = xg[(size_t)(k + l) * w.step];
      m[l] = v > m[l] ? v : m[l];
    }
  for (; k < w.k; k++) m[0] = xg[(size_t)k * w.step] > m[0] ? xg[(size_t)k * w.step] : m[0];
  for (int l = 1; l < LSE_LANES; l++) m[0] = m[l] > m[0] ? m[l] : m[0];
  return isfinite(m[0]) ? m[0] : x->val[wg_axis_first_max(x, axis, g)];
}

/* sum_j buf_j in LSE_LANES running sums (acc), so the adds do not wait on each other */
static void lse_add(const wg_real *buf, int len, wg_real *acc) {
  int j = 0;
  for (; j + LSE_LANES <= len; j += LSE_LANES)
    for (int l = 0; l < LSE_LANES; l++) acc[l] += buf[j + l];
  for (; j < len; j++) acc[0] += buf[j];
}

void wg_op_logsumexp_axis_forward(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  int axis = axis_of(r);
  axis_walk w = walk_of(x, axis);
  wg_real buf[LSE_CHUNK];
  for (int g = 0; g < w.groups; g++) {
    const wg_real *xg = x->val + base_of(x, axis, g);
    wg_real top = lse_top(x, axis, g), s = 0, acc[LSE_LANES] = {0};
    if (!isfinite(top)) { /* +inf, -inf (every element -inf) or NaN: the sum adds nothing */
      r->val[g] = top;
      continue;
    }
    for (int k = 0; k < w.k;) {
      int len = lse_chunk(xg, w.step, k, w.k, top, buf);
      lse_add(buf, len, acc);
      k += len;
    }
    for (int l = 0; l < LSE_LANES; l++) s += acc[l];
    r->val[g] = top + log(s);
  }
}

/* out (+)= the weights exp(x_gk - y_g) times v: the VJP spreads dy_g (acc), the JVP sums tx.
 * A group whose y_g is -inf (every element -inf) has weights 0 (no element contributes). */
void wg_op_logsumexp_axis_vjp(wg_tape *t, wg_row *r) {
  wg_row *x = wg_input_row(t, r, 0);
  int axis = axis_of(r);
  axis_walk w = walk_of(x, axis);
  wg_real buf[LSE_CHUNK];
  for (int g = 0; g < w.groups; g++) {
    size_t at = base_of(x, axis, g);
    if (r->val[g] == -INFINITY) continue;
    for (int k = 0; k < w.k;) {
      int len = lse_chunk(x->val + at, w.step, k, w.k, r->val[g], buf);
      for (int j = 0; j < len; j++) x->adj[at + (size_t)(k + j) * w.step] += r->adj[g] * buf[j];
      k += len;
    }
  }
}
void wg_op_logsumexp_axis_jvp(wg_tape *t, wg_row *r) {
  const wg_row *x = wg_input_row(t, r, 0);
  int axis = axis_of(r);
  axis_walk w = walk_of(x, axis);
  wg_real buf[LSE_CHUNK];
  for (int g = 0; g < w.groups; g++) {
    size_t at = base_of(x, axis, g);
    wg_real s = 0;
    if (r->val[g] != -INFINITY)
      for (int k = 0; k < w.k;) {
        int len = lse_chunk(x->val + at, w.step, k, w.k, r->val[g], buf);
        for (int j = 0; j < len; j++) s += buf[j] * x->tan[at + (size_t)(k + j) * w.step];
        k += len;
      }
    r->tan[g] = s;
  }
}

/* recorded VJP: dx = dy (1 x n or m x 1) repeated along the reduced axis */
void wg_op_sum_axis_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                               wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  if (want[0]) dx[0] = wg_broadcast(t, dy, x->rows, x->cols);
}

/* recorded VJP: dx = (dy / K) repeated along the reduced axis, K its length */
void wg_op_mean_axis_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                wg_var *dx) {
  const wg_row *x = &t->rows[t->rows[row].in[0]];
  int m = x->rows, n = x->cols;
  wg_real k = group_count(x, axis_of(&t->rows[row]));
  if (want[0]) dx[0] = wg_broadcast(t, wg_scale(t, dy, 1 / k), m, n);
}

/* recorded VJP: dx = dy * exp(x - y), dy and y (1 x n or m x 1) broadcast along the axis */
void wg_op_logsumexp_axis_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                     wg_var *dx) {
  if (!want[0]) return;
  wg_var x = wg_in(t, row, 0);
  dx[0] = wg_mul(t, wg_exp(t, wg_sub(t, x, wg_handle(t, row))), dy);
}

/* recorded VJP: dx = argmax_mask(x) * dy, dy (1 x n or m x 1) broadcast along the axis: dy_g
 * at the first maximum of group g (max_axis's pick, NaN included), 0 elsewhere; the mask is a
 * helper op (argmax_mask.c) whose slope is 0 */
void wg_op_max_axis_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                               wg_var *dx) {
  if (!want[0]) return;
  int axis = axis_of(&t->rows[row]);
  dx[0] = wg_mul(t, wg_argmax_mask(t, wg_in(t, row, 0), axis), dy);
}

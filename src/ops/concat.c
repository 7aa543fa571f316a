/* concat.c - concat_rows and concat_cols: n >= 1 inputs joined into one matrix. A row has
 * any number of inputs (r->in is an arena array), so an unrolled sequence can be stacked.
 *
 * concat_rows:  x_k (m_k x n)  ->  y (M x n), M = sum_k m_k, x_k in rows o_k .. o_k + m_k - 1
 *               (o_k = m_1 + .. + m_(k-1))
 *   forward: y_(o_k+i)j = (x_k)_ij
 *   VJP:     (dx_k)_ij += dy_(o_k+i)j
 *   JVP:     ty_(o_k+i)j = (tx_k)_ij
 * concat_cols:  x_k (m x n_k)  ->  y (m x N), N = sum_k n_k, x_k in columns o_k .. o_k + n_k - 1
 *   forward: y_i(o_k+j) = (x_k)_ij
 *   VJP:     (dx_k)_ij += dy_i(o_k+j)
 *   JVP:     ty_i(o_k+j) = (tx_k)_ij
 * In row-major order a concat_rows input is one contiguous run of y; a concat_cols input is
 * m runs of n_k, one per row. Both are copies in the forward and JVP, and adds in the VJP. */
#include <limits.h>
#include <string.h>

#include "ops/ops.h"

/* Check the list and the matching axis (rows = 1: concat_rows, columns must agree; 0:
 * concat_cols, rows must agree), sum the other, and record. */
static wg_var concat(wg_tape *t, int op, int n, const wg_var *xs, int by_rows) {
  const char *who = wg_ops[op].name;
  if (!wg_live(t)) return wg_none();
  if (n < 1 || !xs)
    return wg_fail(t, WG_ERR_ARG, "%s: %s (n = %d): it needs n >= 1 inputs (row %u)", who,
                   xs ? "no inputs" : "the input list is NULL", n, (unsigned)t->n_rows);
  const wg_row *x0 = wg_row_of(t, xs[0], who);
  if (!x0) return wg_none();
  long long total = 0;
  char s0[WG_SHAPE_TEXT], sk[WG_SHAPE_TEXT];
  for (int k = 0; k < n; k++) {
    const wg_row *x = wg_row_of(t, xs[k], who);
    if (!x) return wg_none();
    if (by_rows ? x->cols != x0->cols : x->rows != x0->rows)
      return wg_fail(t, WG_ERR_SHAPE, "%s: input %d %s and input 0 %s: the %s differ (all %d "
                     "inputs need the same number of %s) (row %u)", who, k,
                     wg_row_shape(t, xs[k].row, sk, sizeof sk),
                     wg_row_shape(t, xs[0].row, s0, sizeof s0), by_rows ? "columns" : "rows", n,
                     by_rows ? "columns" : "rows", (unsigned)t->n_rows);
    total += by_rows ? x->rows : x->cols;
  }
  if (total > INT_MAX)
    return wg_fail(t, WG_ERR_SHAPE, "%s: the %d inputs have %lld %s in all, more than a "
                   "dimension holds (%d) (row %u)", who, n, total, by_rows ? "rows" : "columns",
                   INT_MAX, (unsigned)t->n_rows);
  return by_rows ? wg_op_record(t, op, n, xs, (int)total, x0->cols, 0)
                 : wg_op_record(t, op, n, xs, x0->rows, (int)total, 0);
}

wg_var wg_concat_rows(wg_tape *t, int n, const wg_var *xs) {
  return concat(t, WG_OP_CONCAT_ROWS, n, xs, 1);
}

wg_var wg_concat_cols(wg_tape *t, int n, const wg_var *xs) {
  return concat(t, WG_OP_CONCAT_COLS, n, xs, 0);
}

/* ---- concat_rows: input k is the contiguous run of y starting at element o_k n ---------- */

void wg_op_concat_rows_forward(wg_tape *t, wg_row *r) {
  size_t at = 0;
  for (uint32_t k = 0; k < r->n_in; k++) {
    const wg_row *x = wg_input_row(t, r, k);
    memcpy(r->val + at, x->val, wg_row_size(x) * sizeof *r->val);
    at += wg_row_size(x);
  }
}

void wg_op_concat_rows_vjp(wg_tape *t, wg_row *r) {
  size_t at = 0;
  for (uint32_t k = 0; k < r->n_in; k++) {
    wg_row *x = wg_input_row(t, r, k);
    size_t n = wg_row_size(x);
    if (x->needs_grad)
      for (size_t e = 0; e < n; e++) x->adj[e] += r->adj[at + e];
    at += n;
  }
}

void wg_op_concat_rows_jvp(wg_tape *t, wg_row *r) {
  size_t at = 0;
  for (uint32_t k = 0; k < r->n_in; k++) {
    const wg_row *x = wg_input_row(t, r, k);
    memcpy(r->tan + at, x->tan, wg_row_size(x) * sizeof *r->tan);
    at += wg_row_size(x);
  }
}

/* ---- concat_cols: row i of input k is the run of y at i N + o_k ------------------------- */

/* mode 0: y's runs = the inputs' rows (from each input's buffer: val or tan, chosen by
 * `tangent`); mode 1: the inputs' adjoints += y's runs of dy. */
static void concat_cols_runs(wg_tape *t, wg_row *r, int tangent, int add_back) {
  size_t N = (size_t)r->cols, o = 0;
  for (uint32_t k = 0; k < r->n_in; k++) {
    wg_row *x = wg_input_row(t, r, k);
    size_t nk = (size_t)x->cols;
    if (add_back && !x->needs_grad) {
      o += nk;
      continue;
    }
    for (int i = 0; i < r->rows; i++) {
      size_t yi = (size_t)i * N + o, xi = (size_t)i * nk;
      if (add_back)
        for (size_t j = 0; j < nk; j++) x->adj[xi + j] += r->adj[yi + j];
      else if (tangent)
        memcpy(r->tan + yi, x->tan + xi, nk * sizeof *r->tan);
      else
        memcpy(r->val + yi, x->val + xi, nk * sizeof *r->val);
    }
    o += nk;
  }
}

void wg_op_concat_cols_forward(wg_tape *t, wg_row *r) { concat_cols_runs(t, r, 0, 0); }
void wg_op_concat_cols_vjp(wg_tape *t, wg_row *r) { concat_cols_runs(t, r, 0, 1); }
void wg_op_concat_cols_jvp(wg_tape *t, wg_row *r) { concat_cols_runs(t, r, 1, 0); }

/* ---- recorded VJPs: input k's term is its block of dy, a slice ------------------------ */

/* by_rows: dx_k = slice(dy, o_k, 0, m_k, n); else dx_k = slice(dy, 0, o_k, m, n_k). The
 * offsets and shapes are read before each slice is recorded (t->rows may move). */
static void concat_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx, int by_rows) {
  uint32_t n = t->rows[row].n_in;
  int o = 0;
  for (uint32_t k = 0; k < n; k++) {
    const wg_row *x = wg_input_row(t, &t->rows[row], k);
    int m = x->rows, c = x->cols;
    if (want[k]) dx[k] = by_rows ? wg_slice(t, dy, o, 0, m, c) : wg_slice(t, dy, 0, o, m, c);
    o += by_rows ? m : c;
  }
}

void wg_op_concat_rows_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                  wg_var *dx) {
  concat_record_vjp(t, row, dy, want, dx, 1);
}

void wg_op_concat_cols_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                                  wg_var *dx) {
  concat_record_vjp(t, row, dy, want, dx, 0);
}

/* gradients.c - the reverse sweep recorded as rows (wg_gradients), and Hessian-vector
 * products by forward mode over those rows (wg_hvp).
 *
 * wg_backward runs each row's VJP on numbers. wg_gradients walks the same rows in the same
 * reverse order but asks each op to *record* its VJP with ordinary ops (the op table's
 * record_vjp, next to the numeric VJP in each op file): the adjoint of every row becomes a
 * row of its own, adj(v) = sum over v's consumers of their terms J^T adj(consumer). The
 * results are rows like any other, so
 *   - wg_forward replays them with new parameter values (a gradient that follows the data),
 *   - wg_backward of sum(grad * v) gives H v in the parameters' gradients (reverse over
 *     reverse), and wg_jvp with tangent v gives H v as the gradient rows' tangents (forward
 *     over reverse, wg_hvp): two independent Hessian-vector products;
 *   - wg_gradcheck of sum(grad * v) checks second derivatives against finite differences;
 *   - wg_gradients of a gradient gives third derivatives.
 *
 * Which rows get an adjoint: only those on a path from a variable asked for (wrt) to the
 * loss. reaches[i] marks row i if it is a variable asked for (or another use of a parameter
 * asked for) or one of its inputs is marked; an op is asked only for the terms of its marked
 * inputs. Adjoints start as "none" (zero, no row); the first term of a row is its adjoint,
 * later ones are added with wg_add. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/alloc.h"
#include "tape/tape.h"

/* 1 when row i is asked for: a variable in wrt, or a use of a parameter some wrt uses */
static int asked_for(const wg_tape *t, uint32_t i, int n, const wg_var *wrt) {
  const wg_row *r = &t->rows[i];
  for (int k = 0; k < n; k++) {
    const wg_row *w = &t->rows[wrt[k].row];
    if (wrt[k].row == i) return 1;
    if (r->op == WG_OP_PARAM && w->op == WG_OP_PARAM && r->ptr == w->ptr) return 1;
  }
  return 0;
}

/* The rows the recorded sweep looks at: lo..top, where top is the loss and lo the first row
 * that can depend on a variable asked for (that variable's row, or a parameter's first use).
 * Rows below lo cannot, so a sweep inside a loop that keeps recording (nested derivatives:
 * GradBench's saddle and particle) costs the rows since the variables, not the whole tape.
 * reaches[i - lo]: row i depends on a variable asked for; adj[i - lo]: its adjoint so far. */
typedef struct {
  uint32_t lo, top;
  uint8_t *reaches;
  wg_var *adj;
} window;

static int reaches(const window *w, uint32_t i) {
  return i >= w->lo && w->reaches[i - w->lo];
}

/* the lowest row asked for: wrt[k]'s own row, or its parameter's first use; > top if none */
static uint32_t lowest_asked(const wg_tape *t, uint32_t top, int n, const wg_var *wrt) {
  uint32_t lo = top + 1;
  for (int k = 0; k < n; k++) {
    const wg_row *w = &t->rows[wrt[k].row];
    uint32_t first = wrt[k].row;
    if (w->op == WG_OP_PARAM)
      for (uint32_t i = 0; i < first && i < lo; i++)
        if (t->rows[i].op == WG_OP_PARAM && t->rows[i].ptr == w->ptr) {
          first = i;
          break;
        }
    if (first < lo) lo = first;
  }
  return lo;
}

static void mark_reaching(const wg_tape *t, window *w, int n, const wg_var *wrt) {
  for (uint32_t i = w->lo; i <= w->top; i++) {
    const wg_row *r = &t->rows[i];
    uint8_t m = (uint8_t)asked_for(t, i, n, wrt);
    for (uint32_t k = 0; k < r->n_in && !m; k++) m = (uint8_t)reaches(w, r->in[k]);
    w->reaches[i - w->lo] = m;
  }
}

/* adj[x] += term (the first term is the adjoint itself) */
static void accumulate(wg_tape *t, window *w, uint32_t x, wg_var term) {
  wg_var *a = &w->adj[x - w->lo];
  *a = wg_is_none(*a) ? term : wg_add(t, *a, term);
}

/* A term must have its input's shape: a recorded VJP that breaks this is a bug in that op,
 * caught here rather than as a wrong broadcast further on. */
static int check_term(wg_tape *t, uint32_t row, uint32_t k, wg_var term) {
  const wg_row *d = wg_row_of(t, term, "wg_gradients (a recorded VJP term)");
  if (!d) return 0;
  const wg_row *r = &t->rows[row], *x = &t->rows[r->in[k]];
  if (d->rows == x->rows && d->cols == x->cols) return 1;
  wg_fail(t, WG_ERR_STATE, "wg_gradients: %s (row %u) recorded a (%dx%d) term for its input %u "
          "of shape (%dx%d): its record_vjp is wrong", wg_row_op_name(r), (unsigned)row, d->rows,
          d->cols, (unsigned)k, x->rows, x->cols);
  return 0;
}

/* One step of the recorded sweep: row i's terms, added into its inputs' adjoints. */
static void record_step(wg_tape *t, uint32_t i, window *w) {
  uint32_t n_in = t->rows[i].n_in;
  uint8_t want_small[8];
  wg_var dx_small[8];
  uint8_t *want = n_in <= 8 ? want_small : wg_alloc(n_in);
  wg_var *dx = n_in <= 8 ? dx_small : wg_alloc(n_in * sizeof *dx);
  if (!want || !dx) {
    wg_fail(t, WG_ERR_NOMEM, "wg_gradients: out of memory for row %u's %u inputs", (unsigned)i,
            (unsigned)n_in);
  } else {
    for (uint32_t k = 0; k < n_in; k++) {
      want[k] = (uint8_t)reaches(w, t->rows[i].in[k]);
      dx[k] = wg_none();
    }
    wg_ops[t->rows[i].op].record_vjp(t, i, w->adj[i - w->lo], want, dx);
    for (uint32_t k = 0; k < n_in && wg_live(t); k++)
      if (want[k] && !wg_is_none(dx[k]) && check_term(t, i, k, dx[k]))
        accumulate(t, w, t->rows[i].in[k], dx[k]);
  }
  if (want != want_small) wg_free(want, n_in);
  if (dx != dx_small) wg_free(dx, n_in * sizeof *dx);
}

/* Name a fresh adjoint row after the row it belongs to: "adj(A)" (for the teaching table). */
static void name_adjoint(wg_tape *t, uint32_t i, wg_var a, uint32_t first_new) {
  const wg_row *r = &t->rows[i];
  if (wg_is_none(a) || a.row < first_new || !r->name || t->rows[a.row].name) return;
  char name[WG_NAME_MAX];
  snprintf(name, sizeof name, "adj(%.*s)", WG_NAME_MAX - 6, r->name);
  wg_name(t, a, name);
}

/* grads[k]: the adjoint of wrt[k], summed over every use of its parameter for a wg_use row;
 * zeros when the loss does not depend on it */
static wg_var gradient_of(wg_tape *t, wg_var v, const window *w) {
  const wg_row *r = &t->rows[v.row];
  int rows = r->rows, cols = r->cols;
  wg_var g = wg_none();
  if (r->op != WG_OP_PARAM) {
    if (v.row >= w->lo && v.row <= w->top) g = w->adj[v.row - w->lo];
  } else {
    const void *p = r->ptr;
    for (uint32_t i = w->lo; i <= w->top; i++) {
      wg_var a = w->adj[i - w->lo];
      if (t->rows[i].op == WG_OP_PARAM && t->rows[i].ptr == p && !wg_is_none(a))
        g = wg_is_none(g) ? a : wg_add(t, g, a);
    }
  }
  return wg_is_none(g) ? wg_zeros(t, rows, cols) : g;
}

static int check_args(wg_tape *t, wg_var loss, int n, const wg_var *wrt, wg_var *grads) {
  if (!wg_live(t) || wg_tape_busy(t, "wg_gradients")) return 0;
  const wg_row *l = wg_row_of(t, loss, "wg_gradients (loss)");
  if (!l) return 0;
  if (l->rows != 1 || l->cols != 1) {
    wg_fail(t, WG_ERR_SHAPE, "wg_gradients: loss (row %u) is (%dx%d), not (1x1): reduce it "
            "first (wg_sum, wg_mean)", (unsigned)loss.row, l->rows, l->cols);
    return 0;
  }
  if (n < 1 || !wrt || !grads) {
    wg_fail(t, WG_ERR_ARG, "wg_gradients: %s", n < 1 ? "n must be >= 1" : !wrt ?
            "wrt is NULL" : "grads is NULL");
    return 0;
  }
  for (int k = 0; k < n; k++)
    if (!wg_row_of(t, wrt[k], "wg_gradients (wrt)")) return 0;
  return 1;
}

/* the recorded sweep over w's rows, from the loss (w->top) down to w->lo */
static void record_sweep(wg_tape *t, window *w, int n, const wg_var *wrt, uint32_t first_new) {
  mark_reaching(t, w, n, wrt);
  for (uint32_t i = w->lo; i <= w->top; i++) w->adj[i - w->lo] = wg_none();
  w->adj[w->top - w->lo] = wg_scalar(t, 1); /* the seed: d loss / d loss */
  for (uint32_t i = w->top + 1; i-- > w->lo && wg_live(t);) {
    name_adjoint(t, i, w->adj[i - w->lo], first_new);
    if (w->reaches[i - w->lo] && t->rows[i].n_in > 0 && !wg_is_none(w->adj[i - w->lo]))
      record_step(t, i, w);
  }
}

wg_status wg_gradients(wg_tape *t, wg_var loss, int n, const wg_var *wrt, wg_var *grads) {
  if (grads)
    for (int k = 0; k < n; k++) grads[k] = wg_none();
  if (!check_args(t, loss, n, wrt, grads)) return wg_tape_status(t);
  uint32_t top = loss.row, first_new = t->n_rows;
  window w = {lowest_asked(t, top, n, wrt), top, NULL, NULL};
  if (w.lo > top) w.lo = top; /* the loss depends on nothing asked for: zeros below */
  size_t count = (size_t)(top - w.lo) + 1;
  w.reaches = wg_alloc(count);
  w.adj = wg_alloc(count * sizeof *w.adj);
  if (!w.reaches || !w.adj)
    wg_fail(t, WG_ERR_NOMEM, "wg_gradients: out of memory for the adjoints of %zu rows", count);
  else
    record_sweep(t, &w, n, wrt, first_new);
  for (int k = 0; k < n && wg_live(t); k++) grads[k] = gradient_of(t, wrt[k], &w);
  wg_free(w.reaches, count);
  wg_free(w.adj, count * sizeof *w.adj);
  if (!wg_live(t))
    for (int k = 0; k < n; k++) grads[k] = wg_none();
  return wg_tape_status(t);
}

/* ---- Hessian-vector products: forward mode over the gradient rows ----------------------- */

/* the tangent of every leaf: v[k] on wrt[k] (and every use of its parameter), 0 elsewhere */
static int seed_tangents(wg_tape *t, int n, const wg_var *wrt, const wg_real *const *v) {
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    if (r->n_in > 0) continue;
    if (!wg_row_ensure_tan(t, r)) return 0;
    memset(r->tan, 0, wg_row_size(r) * sizeof *r->tan);
    for (int k = 0; k < n; k++)
      if (asked_for(t, i, 1, &wrt[k]))
        memcpy(r->tan, v[k], wg_row_size(r) * sizeof *r->tan);
  }
  return 1;
}

wg_status wg_hvp(wg_tape *t, int n, const wg_var *wrt, const wg_var *grads,
                 const wg_real *const *v, wg_real *const *hv) {
  if (!wg_live(t) || wg_tape_busy(t, "wg_hvp")) return wg_tape_status(t);
  if (n < 1 || !wrt || !grads || !v || !hv) {
    wg_fail(t, WG_ERR_ARG, "wg_hvp: n must be >= 1 and wrt, grads, v and hv non-NULL");
    return t->status;
  }
  for (int k = 0; k < n; k++) {
    const wg_row *w = wg_row_of(t, wrt[k], "wg_hvp (wrt)");
    const wg_row *g = w ? wg_row_of(t, grads[k], "wg_hvp (grads)") : NULL;
    if (!g) return t->status;
    if (w->n_in > 0 || g->rows != w->rows || g->cols != w->cols || !v[k] || !hv[k]) {
      wg_fail(t, WG_ERR_ARG, "wg_hvp: wrt[%d] (row %u) must be a leaf (wg_use, wg_input) and "
              "grads[%d] (row %u) its gradient of the same shape, v[%d] and hv[%d] non-NULL",
              k, (unsigned)wrt[k].row, k, (unsigned)grads[k].row, k, k);
      return t->status;
    }
  }
  if (!seed_tangents(t, n, wrt, v) || wg_jvp(t) != WG_OK) return t->status;
  for (int k = 0; k < n; k++) {
    const wg_row *g = &t->rows[grads[k].row];
    memcpy(hv[k], g->tan, wg_row_size(g) * sizeof *g->tan);
  }
  return WG_OK;
}

/* checkrows.c - the per-row check: each row's VJP against finite differences of that row's
 * forward alone, so a wrong derivative is blamed on the row that has it.
 *
 * For a row y = f(x_1 .. x_n) (any n; only the inputs that need a gradient are moved), a
 * random direction u_k per input and a random cotangent w on y (uniform in [-1, 1)):
 *   numeric   <w, f(x + h u) - f(x - h u)> / 2h           two evaluations of this row only
 *   analytic  sum_k <J_k^T w, u_k>                        the row's VJP with dy = w, into
 *                                                          zeroed scratch adjoints
 * A row passes when |analytic - numeric| <= atol + rtol |numeric|. A failing row whose
 * one-sided differences <w, f(x + h u) - f(x)> / h and <w, f(x) - f(x - h u)> / h disagree
 * beyond that tolerance by a jump that keeps its size at h / 2 has a kink in reach (relu of
 * an exact 0) and is counted as skipped (wg_gc_kink in check.h).
 *
 * Nothing the caller owns is written: the perturbed inputs are copies (an input row's val is
 * pointed at the copy for the evaluation, then back), the row's output during the evaluations
 * and the adjoints of the VJP are scratch buffers swapped in and out the same way. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check/check.h"
#include "ops/ops.h"
#include "tape/alloc.h"

enum { SCR_W, SCR_YP, SCR_YM, N_SLOTS }; /* scratch of the row's size */

/* The distinct inputs of a row that need a gradient (any number: concat has hundreds), their
 * buffers to put back, and scratch of each one's size (u, xp, g): one wg_alloc block per
 * checked row, `bytes` long. */
typedef struct {
  uint32_t *row;
  wg_real **val, **adj, **u, **xp, **g;
  int n;
  void *block;
  size_t bytes;
} row_inputs;

/* Fill `in` for row r; 0 when out of memory (the tape failed). */
static int find_inputs(wg_tape *t, const wg_row *r, row_inputs *in) {
  memset(in, 0, sizeof *in);
  size_t n = 0, elems = 0;
  for (uint32_t k = 0; k < r->n_in; k++) { /* count first, the same rule as below */
    uint32_t x = r->in[k];
    int seen = 0;
    for (uint32_t j = 0; j < k && !seen; j++) seen = r->in[j] == x;
    if (seen || !t->rows[x].needs_grad) continue;
    n++;
    elems += wg_row_size(&t->rows[x]);
  }
  if (n == 0) return 1;
  size_t head = n * (sizeof(uint32_t) + 5 * sizeof(wg_real *));
  head = (head + sizeof(wg_real) - 1) / sizeof(wg_real) * sizeof(wg_real);
  if (elems > (SIZE_MAX - head) / (3 * sizeof(wg_real)) ||
      !(in->block = wg_alloc(in->bytes = head + 3 * elems * sizeof(wg_real)))) {
    wg_fail(t, WG_ERR_NOMEM, "wg_check_rows: out of memory (scratch for the %zu inputs of row %u)",
            n, (unsigned)(r - t->rows));
    return 0;
  }
  wg_real **p = in->block;
  in->val = p, in->adj = p + n, in->u = p + 2 * n, in->xp = p + 3 * n, in->g = p + 4 * n;
  in->row = (uint32_t *)(void *)(p + 5 * n);
  wg_real *scratch = (wg_real *)(void *)((char *)in->block + head);
  for (uint32_t k = 0; k < r->n_in; k++) {
    uint32_t x = r->in[k];
    int seen = 0;
    for (int j = 0; j < in->n && !seen; j++) seen = in->row[j] == x;
    if (seen || !t->rows[x].needs_grad) continue;
    int j = in->n++;
    size_t m = wg_row_size(&t->rows[x]);
    in->row[j] = x;
    in->val[j] = t->rows[x].val;
    in->adj[j] = t->rows[x].adj;
    in->u[j] = scratch, in->xp[j] = scratch + m, in->g[j] = scratch + 2 * m;
    scratch += 3 * m;
  }
  return 1;
}

/* out = f(x + step u), the inputs pointed at perturbed copies and back. */
static void eval_at(wg_tape *t, wg_row *r, const row_inputs *in, double step, wg_real *out) {
  for (int j = 0; j < in->n; j++) {
    wg_row *x = &t->rows[in->row[j]];
    for (size_t e = 0, n = wg_row_size(x); e < n; e++) in->xp[j][e] = in->val[j][e] + step * in->u[j][e];
    x->val = in->xp[j];
  }
  wg_real *keep = r->val;
  r->val = out;
  wg_ops[r->op].forward(t, r);
  r->val = keep;
  for (int j = 0; j < in->n; j++) t->rows[in->row[j]].val = in->val[j];
}

/* <J^T w, u> through the row's VJP into zeroed scratch adjoints. */
static double vjp_dot(wg_tape *t, wg_row *r, const row_inputs *in, wg_real *w) {
  wg_real *keep = r->adj;
  for (int j = 0; j < in->n; j++) {
    wg_row *x = &t->rows[in->row[j]];
    memset(in->g[j], 0, wg_row_size(x) * sizeof(wg_real));
    x->adj = in->g[j];
    x->adj_stale = 0; /* zeroed: the VJP adds */
  }
  r->adj = w;
  wg_ops[r->op].vjp(t, r);
  r->adj = keep;
  double s = 0;
  for (int j = 0; j < in->n; j++) {
    wg_row *x = &t->rows[in->row[j]];
    x->adj = in->adj[j];
    for (size_t e = 0, n = wg_row_size(x); e < n; e++) s += in->g[j][e] * in->u[j][e];
  }
  return s;
}

static double dot_diff(const wg_real *w, const wg_real *a, const wg_real *b, size_t n) {
  double s = 0;
  for (size_t e = 0; e < n; e++) s += w[e] * (a[e] - b[e]);
  return s;
}

typedef struct {
  wg_gc_cfg cfg;
  wg_gradcheck_result res;
} cr_state;

static void judge_row(cr_state *s, wg_tape *t, uint32_t i, double ad, double fd,
                      const char *status) {
  const wg_gc_cfg *c = &s->cfg;
  double abs_err = fabs(ad - fd), rel_err = wg_gc_rel(ad, fd);
  wg_gc_count(&s->res, status, abs_err, rel_err);
  char label[WG_NAME_MAX + 16];
  const char *op = wg_row_op_name(&t->rows[i]);
  wg_row_label(t, i, label, sizeof label);
  if (status[0] == 'F' && s->res.failed++ == 0) {
    s->res.worst_row = (int)i;
    snprintf(s->res.worst, sizeof s->res.worst, "row %u (%.40s %.40s): vjp %.6g, numeric %.6g",
             (unsigned)i, op, label, ad, fd);
  }
  if (c->csv)
    fprintf(c->csv, "%u,%s,%s,%.17g,%.17g,%.3e,%.3e,%s\n", (unsigned)i, op, label, ad, fd,
            abs_err, rel_err, status);
}

/* <w, f(x + h u)>-based differences of the row along u with step h; yp, ym: scratch. */
static wg_gc_fd row_diffs(wg_tape *t, wg_row *r, const row_inputs *in, const wg_real *w,
                             double h, wg_real *yp, wg_real *ym) {
  size_t n = wg_row_size(r);
  eval_at(t, r, in, h, yp);
  eval_at(t, r, in, -h, ym);
  wg_gc_fd d = {dot_diff(w, yp, ym, n) / (2 * h), dot_diff(w, yp, r->val, n) / h,
                   dot_diff(w, r->val, ym, n) / h};
  return d;
}

static void check_row(cr_state *s, wg_tape *t, uint32_t i, wg_real **slot, wg_gc_rng *g) {
  wg_row *r = &t->rows[i];
  row_inputs in;
  if (!find_inputs(t, r, &in) || in.n == 0) return;
  wg_real *w = slot[SCR_W], *yp = slot[SCR_YP], *ym = slot[SCR_YM];
  for (size_t e = 0, n = wg_row_size(r); e < n; e++) w[e] = wg_gc_uniform(g);
  for (int j = 0; j < in.n; j++)
    for (size_t e = 0, m = wg_row_size(&t->rows[in.row[j]]); e < m; e++)
      in.u[j][e] = wg_gc_uniform(g);
  const wg_gc_cfg *c = &s->cfg;
  wg_gc_fd d = row_diffs(t, r, &in, w, c->eps, yp, ym);
  wg_ops[r->op].forward(t, r); /* at x again: anything the forward keeps for its VJP is x's */
  double ad = vjp_dot(t, r, &in, w);
  const char *status = "ok";
  if (!wg_gc_close(c, ad, d.central)) {
    wg_gc_fd d2 = row_diffs(t, r, &in, w, c->eps / 2, yp, ym);
    wg_ops[r->op].forward(t, r);
    status = wg_gc_kink(c, d, d2) ? "kink" : "FAIL";
  }
  judge_row(s, t, i, ad, d.central, status);
  wg_free(in.block, in.bytes);
}

int wg_check_rows(wg_tape *t, const wg_gradcheck_opts *opts, wg_gradcheck_result *res) {
  wg_gc_clear(res);
  if (wg_tape_busy(t, "wg_check_rows")) return -1;
  if (!wg_live(t)) return -1;
  cr_state s = {wg_gc_config(opts), {0}};
  wg_gc_clear(&s.res);
  size_t most = 1;
  for (uint32_t i = 0; i < t->n_rows; i++)
    if (wg_row_size(&t->rows[i]) > most) most = wg_row_size(&t->rows[i]);
  size_t bytes = N_SLOTS * most * sizeof(wg_real);
  wg_real *scratch = most <= SIZE_MAX / (N_SLOTS * sizeof(wg_real)) ? wg_alloc(bytes) : NULL;
  if (!scratch) {
    wg_fail(t, WG_ERR_NOMEM, "wg_check_rows: out of memory (%d scratch buffers of %zu elements)",
            N_SLOTS, most);
    return -1;
  }
  wg_real *slot[N_SLOTS];
  for (int k = 0; k < N_SLOTS; k++) slot[k] = scratch + (size_t)k * most;
  size_t n_flags = t->n_rows ? t->n_rows : 1;
  unsigned char *was = s.cfg.inputs ? wg_alloc(n_flags) : NULL;
  if (s.cfg.inputs && !was)
    wg_fail(t, WG_ERR_NOMEM, "wg_check_rows: out of memory (%zu bytes of flags)", n_flags);
  else if (wg_forward(t) == WG_OK) {
    if (was) wg_gc_mark_inputs(t, was);
    if (s.cfg.csv) fprintf(s.cfg.csv, "row,op,name,analytic,numeric,abs_err,rel_err,status\n");
    wg_gc_rng g = {0x5EEDull};
    for (uint32_t i = 0; i < t->n_rows && wg_live(t); i++)
      if (t->rows[i].n_in > 0 && t->rows[i].needs_grad) check_row(&s, t, i, slot, &g);
    if (was) wg_gc_unmark_inputs(t, was);
    if (wg_live(t) && s.res.checked + s.res.skipped == 0) /* a check of nothing is no pass */
      wg_fail(t, WG_ERR_ARG, "wg_check_rows: nothing to check: no row needs a gradient (the "
              "tape uses no parameter%s)", was ? " and has no input" : "; opts.inputs = 1 also "
              "checks the rows' VJPs into the wg_input rows");
  }
  wg_free(was, n_flags);
  wg_free(scratch, bytes);
  if (!wg_live(t)) return -1;
  if (res) *res = s.res;
  return s.res.failed;
}

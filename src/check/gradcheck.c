/* gradcheck.c - the whole-tape gradient check: central differences against the backward sweep.
 *
 * For every element x_i of every parameter used on the tape (each parameter once, however many
 * leaves use it), with h = eps:
 *   numeric   g_i = (L(x + h e_i) - L(x - h e_i)) / (h_+ + h_-)    two replays (wg_forward)
 *             where h_+ = (x_i + h) - x_i and h_- = x_i - (x_i - h) are the steps actually
 *             taken after rounding
 *   analytic  a_i = what one wg_backward(loss) adds to the parameter's gradient
 *   pass      |a_i - g_i| <= atol + rtol |g_i|
 * The truncation error of the central difference is h^2 |L'''| / 6, its round-off about
 * eps_mach |L| / h: with double's eps_mach = 2.2e-16 and h = 1e-6 both are near 1e-10, far
 * below atol = 1e-5. In float (eps_mach = 1.2e-7) the round-off at that h is ~1e-2 on a loss
 * of 0.1 (docs/gradcheck.md measures it): the float build's defaults are h = cbrt(eps_mach) =
 * 4.9e-3, atol 1e-3, rtol 1e-2 (check.h), which find a derivative off by a percent, not less.
 *
 * Kinks: where L is not differentiable (relu at 0) the one-sided differences
 *   d_+ = (L(x + h e_i) - L(x)) / h_+,   d_- = (L(x) - L(x - h e_i)) / h_-
 * disagree by a jump in slope that stays when h is halved, where on a smooth L they differ by
 * h L'' which halves with h. A failing element whose d_+ and d_- disagree beyond the tolerance
 * by such a jump, with the analytic value between them (AD returns one of the one-sided
 * derivatives), is counted as skipped, not failed (wg_gc_kink in check.h). */
#include <math.h>
#include <string.h>

#include "check/check.h"
#include "ops/ops.h"
#include "tape/alloc.h"

/* One variable: a parameter (each once, however many leaves use it) or, with opts.inputs, an
 * input row, whose elements the check moves. An input row's value is pointed at a copy of the
 * caller's buffer for the check (x), and back at the buffer (own) afterwards. */
typedef struct {
  wg_param *p;        /* NULL for an input row */
  wg_real *x;         /* the elements to perturb */
  const wg_real *own; /* input: the caller's buffer */
  int rows, cols;
  uint32_t row;       /* its (first) leaf row */
  size_t off;         /* offset of its elements in the saved / analytic buffers */
} check_var;

typedef struct {
  wg_gc_cfg cfg;
  wg_gradcheck_result res;
  double worst_ratio;
} gc_state;

static size_t var_size(const check_var *v) {
  return (size_t)v->rows * (size_t)v->cols;
}

/* The parameters used on the tape, each once, in order of first use; then, when inputs is
 * set (was: the flags before wg_gc_mark_inputs), the input rows. *total: their elements. */
static size_t collect_vars(const wg_tape *t, check_var *vs, const unsigned char *was,
                           size_t *total) {
  size_t n = 0;
  *total = 0;
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    if (r->op != WG_OP_PARAM) continue;
    size_t k = 0;
    while (k < n && vs[k].p != r->ptr) k++;
    if (k < n) continue;
    wg_param *p = r->ptr;
    vs[n++] = (check_var){p, p->value, NULL, r->rows, r->cols, i, *total};
    *total += wg_row_size(r);
  }
  for (uint32_t i = 0; was && i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    if (!wg_gc_is_input_var(t, i, was)) continue;
    vs[n++] = (check_var){NULL, NULL, r->val, r->rows, r->cols, i, *total};
    *total += wg_row_size(r);
  }
  return n;
}

/* Replay and read the loss; NAN if the replay failed. */
static double loss_at(wg_tape *t, uint32_t loss) {
  if (wg_forward(t) != WG_OK) return NAN;
  return t->rows[loss].val[0];
}

static const char *var_label(const wg_tape *t, const check_var *v, char *buf, size_t n) {
  if (v->p && v->p->name[0]) {
    snprintf(buf, n, "%s", v->p->name);
    return buf;
  }
  return wg_row_label(t, v->row, buf, n);
}

/* Differences of the loss along element i of x with step h (x[i] is put back). */
static wg_gc_fd diffs(wg_tape *t, uint32_t loss, wg_real *x, size_t i, double h, double f0) {
  wg_real v = x[i];
  x[i] = v + h;
  double hp = x[i] - v, fp = loss_at(t, loss); /* the steps actually taken, after rounding */
  x[i] = v - h;
  double hm = v - x[i], fm = loss_at(t, loss);
  x[i] = v;
  wg_gc_fd d = {(fp - fm) / (hp + hm), (fp - f0) / hp, (f0 - fm) / hm};
  return d;
}

/* Record one element's verdict in the result and the CSV. */
static void tally(gc_state *s, const wg_tape *t, const check_var *v, size_t i, double ad,
                  double fd, const char *status) {
  const wg_gc_cfg *c = &s->cfg;
  double abs_err = fabs(ad - fd), rel_err = wg_gc_rel(ad, fd);
  char name[WG_NAME_MAX + 16];
  var_label(t, v, name, sizeof name);
  int r = (int)(i / (size_t)v->cols), col = (int)(i % (size_t)v->cols);
  wg_gc_count(&s->res, status, abs_err, rel_err);
  if (status[0] == 'F') {
    s->res.failed++;
    double ratio = wg_gc_ratio(c, ad, fd);
    if (s->res.worst_row < 0 || ratio > s->worst_ratio) {
      s->worst_ratio = ratio;
      s->res.worst_row = (int)v->row;
      snprintf(s->res.worst, sizeof s->res.worst, "%.*s[%d,%d]: analytic %.6g, numeric %.6g",
               WG_NAME_MAX, name, r, col, ad, fd);
    }
  }
  if (c->csv)
    fprintf(c->csv, "%s,%zu,%d,%d,%.17g,%.17g,%.3e,%.3e,%s\n", name, i, r, col, ad, fd,
            abs_err, rel_err, status);
}

/* Every element of one variable: pass, or a kink (skipped), or a failure. A kink excuses a
 * failure only when the analytic value lies between the one-sided differences (within the
 * tolerance), as the one-sided derivative AD picks does: a wrong slope at a kink still fails. */
static void check_var_elements(gc_state *s, wg_tape *t, uint32_t loss, const check_var *v,
                               const wg_real *analytic, double f0) {
  const wg_gc_cfg *c = &s->cfg;
  for (size_t i = 0, n = var_size(v); i < n && wg_live(t); i++) {
    double ad = analytic[v->off + i];
    wg_gc_fd d = diffs(t, loss, v->x, i, c->eps, f0);
    const char *status = "ok";
    if (!wg_gc_close(c, ad, d.central)) {
      wg_gc_fd d2 = diffs(t, loss, v->x, i, c->eps / 2, f0);
      double lo = fmin(d.plus, d.minus), hi = fmax(d.plus, d.minus);
      double tol = c->atol + c->rtol * fmax(fabs(lo), fabs(hi));
      int between = ad >= lo - tol && ad <= hi + tol;
      status = wg_gc_kink(c, d, d2) && between ? "kink" : "FAIL";
    }
    if (wg_live(t)) tally(s, t, v, i, ad, d.central, status);
  }
}

/* The scratch of one check: the variables, the saved gradients, the analytic gradient, the
 * copies of the inputs and the needs_grad flags, in blocks from wg_alloc. */
typedef struct {
  check_var *vs;
  size_t cap, total, n_vars, n_inputs_total;
  wg_real *saved, *analytic, *copies;
  unsigned char *was;
} gc_scratch;

static void scratch_free(gc_scratch *g) {
  size_t bytes = (g->total ? g->total : 1) * sizeof(wg_real);
  wg_free(g->saved, bytes);
  wg_free(g->analytic, bytes);
  wg_free(g->copies, g->n_inputs_total * sizeof(wg_real));
  wg_free(g->vs, g->cap * sizeof *g->vs);
  wg_free(g->was, g->cap);
}

/* Point each input variable's row at a copy of its buffer (or back at the buffer). */
static void inputs_to_copies(wg_tape *t, gc_scratch *g, int on) {
  for (size_t k = 0; k < g->n_vars; k++) {
    check_var *v = &g->vs[k];
    if (v->p) continue;
    t->rows[v->row].val = on ? v->x : (wg_real *)(uintptr_t)v->own;
  }
}

/* Allocate the scratch and find the variables; 0 (tape failed) on out of memory. */
static int scratch_new(wg_tape *t, const wg_gc_cfg *cfg, gc_scratch *g) {
  memset(g, 0, sizeof *g);
  g->cap = t->n_rows ? t->n_rows : 1;
  g->vs = wg_alloc(g->cap * sizeof *g->vs);
  g->was = cfg->inputs ? wg_alloc(g->cap) : NULL;
  if (!g->vs || (cfg->inputs && !g->was)) {
    wg_fail(t, WG_ERR_NOMEM, "wg_gradcheck: out of memory (list of %zu variables)", g->cap);
    return 0;
  }
  if (g->was) wg_gc_mark_inputs(t, g->was);
  g->n_vars = collect_vars(t, g->vs, g->was, &g->total);
  for (size_t k = 0; k < g->n_vars; k++)
    if (!g->vs[k].p) g->n_inputs_total += var_size(&g->vs[k]);
  size_t bytes = (g->total ? g->total : 1) * sizeof(wg_real);
  g->saved = wg_alloc(bytes), g->analytic = wg_alloc(bytes);
  g->copies = g->n_inputs_total ? wg_alloc(g->n_inputs_total * sizeof(wg_real)) : NULL;
  if (!g->saved || !g->analytic || (g->n_inputs_total && !g->copies)) {
    wg_fail(t, WG_ERR_NOMEM, "wg_gradcheck: out of memory (2 x %zu bytes of gradients, %zu "
            "of input copies)", bytes, g->n_inputs_total * sizeof(wg_real));
    return 0;
  }
  for (size_t k = 0, off = 0; k < g->n_vars; k++) {
    check_var *v = &g->vs[k];
    if (v->p) continue;
    v->x = g->copies + off;
    memcpy(v->x, v->own, var_size(v) * sizeof *v->x);
    off += var_size(v);
  }
  return 1;
}

/* A check of nothing must not look like a pass. */
static int nothing_to_check(wg_tape *t, const wg_gc_cfg *cfg, uint32_t loss) {
  char name[WG_NAME_MAX + 16];
  wg_fail(t, WG_ERR_ARG, "wg_gradcheck: nothing to check: the tape of loss %s (row %u) uses no "
          "parameter%s", wg_row_label(t, loss, name, sizeof name), (unsigned)loss,
          cfg->inputs ? " and has no input" : " (opts.inputs = 1 also checks the wg_input rows)");
  return -1;
}

int wg_gradcheck(wg_tape *t, wg_var loss, const wg_gradcheck_opts *opts,
                 wg_gradcheck_result *res) {
  wg_gc_clear(res);
  if (wg_tape_busy(t, "wg_gradcheck")) return -1;
  const wg_row *l = wg_row_of(t, loss, "wg_gradcheck");
  if (!l) return -1;
  if (l->rows != 1 || l->cols != 1) {
    char sl[WG_SHAPE_TEXT];
    wg_fail(t, WG_ERR_SHAPE, "wg_gradcheck: the loss %s (row %u) is not (1x1)",
            wg_row_shape(t, loss.row, sl, sizeof sl), (unsigned)loss.row);
    return -1;
  }
  gc_state s = {wg_gc_config(opts), {0}, 0};
  wg_gc_clear(&s.res);
  gc_scratch g;
  if (!scratch_new(t, &s.cfg, &g)) goto done;
  if (g.n_vars == 0) {
    nothing_to_check(t, &s.cfg, loss.row);
    goto done;
  }
  inputs_to_copies(t, &g, 1);
  /* analytic: save the gradients, zero them, one backward, read, put the saved ones back */
  for (size_t k = 0; k < g.n_vars; k++) {
    const check_var *v = &g.vs[k];
    if (!v->p) continue;
    memcpy(g.saved + v->off, v->p->grad, var_size(v) * sizeof *g.saved);
    memset(v->p->grad, 0, var_size(v) * sizeof *g.saved);
  }
  double f0 = loss_at(t, loss.row);
  if (wg_backward(t, loss) == WG_OK)
    for (size_t k = 0; k < g.n_vars; k++) {
      const check_var *v = &g.vs[k];
      memcpy(g.analytic + v->off, v->p ? v->p->grad : t->rows[v->row].adj,
             var_size(v) * sizeof *g.analytic);
    }
  if (s.cfg.csv) fprintf(s.cfg.csv, "parameter,index,i,j,analytic,numeric,abs_err,rel_err,status\n");
  for (size_t k = 0; k < g.n_vars && wg_live(t); k++)
    check_var_elements(&s, t, loss.row, &g.vs[k], g.analytic, f0);
  /* leave the tape as a forward + backward leaves it, and the gradients as they were */
  inputs_to_copies(t, &g, 0);
  if (g.was) wg_gc_unmark_inputs(t, g.was);
  wg_forward(t);
  wg_backward(t, loss);
  for (size_t k = 0; k < g.n_vars; k++)
    if (g.vs[k].p)
      memcpy(g.vs[k].p->grad, g.saved + g.vs[k].off, var_size(&g.vs[k]) * sizeof *g.saved);
done:
  if (g.was && g.vs) { /* out of memory or nothing to check after marking: unmark */
    inputs_to_copies(t, &g, 0);
    wg_gc_unmark_inputs(t, g.was);
  }
  scratch_free(&g);
  if (!wg_live(t)) return -1;
  if (res) *res = s.res;
  return s.res.failed;
}

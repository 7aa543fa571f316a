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
 * below atol = 1e-5. In float (eps_mach = 1.2e-7) the round-off alone is ~1e-2 on a loss of
 * 0.1 (docs/gradcheck.md measures it): the check needs double precision.
 *
 * Kinks: where L is not differentiable (relu at 0) the one-sided differences
 *   d_+ = (L(x + h e_i) - L(x)) / h_+,   d_- = (L(x) - L(x - h e_i)) / h_-
 * disagree by a jump in slope that stays when h is halved, where on a smooth L they differ by
 * h L'' which halves with h. A failing element whose d_+ and d_- disagree beyond the tolerance
 * by such a jump, with the analytic value between them (AD returns one of the one-sided
 * derivatives), is counted as skipped, not failed (wg_check_kink in check.h). */
#include <math.h>
#include <string.h>

#include "check/check.h"
#include "ops/ops.h"
#include "tape/alloc.h"

typedef struct {
  wg_param *p;
  uint32_t row;   /* its first leaf row */
  size_t off;     /* offset of its elements in the saved / analytic buffers */
} param_ref;

typedef struct {
  wg_check_cfg cfg;
  wg_gradcheck_result res;
  double worst_ratio;
} gc_state;

/* The parameters used on the tape, each once, in order of first use. */
static size_t collect_params(const wg_tape *t, param_ref *ps, size_t *total) {
  size_t n = 0;
  *total = 0;
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    if (r->op != WG_OP_PARAM) continue;
    size_t k = 0;
    while (k < n && ps[k].p != r->ptr) k++;
    if (k < n) continue;
    ps[n] = (param_ref){r->ptr, i, *total};
    *total += wg_row_size(r);
    n++;
  }
  return n;
}

/* Replay and read the loss; NAN if the replay failed. */
static double loss_at(wg_tape *t, uint32_t loss) {
  if (wg_forward(t) != WG_OK) return NAN;
  return t->rows[loss].val[0];
}

static const char *param_label(const wg_tape *t, const param_ref *pr, char *buf, size_t n) {
  if (pr->p->name[0]) {
    snprintf(buf, n, "%s", pr->p->name);
    return buf;
  }
  return wg_row_label(t, pr->row, buf, n);
}

/* Differences of the loss along element i of x with step h (x[i] is put back). */
static wg_check_fd diffs(wg_tape *t, uint32_t loss, wg_real *x, size_t i, double h, double f0) {
  wg_real v = x[i];
  x[i] = v + h;
  double hp = x[i] - v, fp = loss_at(t, loss); /* the steps actually taken, after rounding */
  x[i] = v - h;
  double hm = v - x[i], fm = loss_at(t, loss);
  x[i] = v;
  wg_check_fd d = {(fp - fm) / (hp + hm), (fp - f0) / hp, (f0 - fm) / hm};
  return d;
}

/* Record one element's verdict in the result and the CSV. */
static void tally(gc_state *s, const wg_tape *t, const param_ref *pr, size_t i, double ad,
                  double fd, const char *status) {
  const wg_check_cfg *c = &s->cfg;
  double abs_err = fabs(ad - fd), rel_err = wg_check_rel(ad, fd);
  char name[WG_NAME_MAX + 16];
  param_label(t, pr, name, sizeof name);
  int r = (int)(i / (size_t)pr->p->cols), col = (int)(i % (size_t)pr->p->cols);
  wg_check_count(&s->res, status, abs_err, rel_err);
  if (status[0] == 'F') {
    s->res.failed++;
    double ratio = wg_check_ratio(c, ad, fd);
    if (s->res.worst_row < 0 || ratio > s->worst_ratio) {
      s->worst_ratio = ratio;
      s->res.worst_row = (int)pr->row;
      snprintf(s->res.worst, sizeof s->res.worst, "%.*s[%d,%d]: analytic %.6g, numeric %.6g",
               WG_NAME_MAX, name, r, col, ad, fd);
    }
  }
  if (c->csv)
    fprintf(c->csv, "%s,%zu,%d,%d,%.17g,%.17g,%.3e,%.3e,%s\n", name, i, r, col, ad, fd,
            abs_err, rel_err, status);
}

/* Every element of one parameter: pass, or a kink (skipped), or a failure. A kink excuses a
 * failure only when the analytic value lies between the one-sided differences (within the
 * tolerance), as the one-sided derivative AD picks does: a wrong slope at a kink still fails. */
static void check_param(gc_state *s, wg_tape *t, uint32_t loss, const param_ref *pr,
                        const wg_real *analytic, double f0) {
  const wg_check_cfg *c = &s->cfg;
  for (size_t i = 0, n = (size_t)pr->p->rows * (size_t)pr->p->cols; i < n && wg_live(t); i++) {
    double ad = analytic[pr->off + i];
    wg_check_fd d = diffs(t, loss, pr->p->value, i, c->eps, f0);
    const char *status = "ok";
    if (!wg_check_close(c, ad, d.central)) {
      wg_check_fd d2 = diffs(t, loss, pr->p->value, i, c->eps / 2, f0);
      double lo = fmin(d.plus, d.minus), hi = fmax(d.plus, d.minus);
      double tol = c->atol + c->rtol * fmax(fabs(lo), fabs(hi));
      int between = ad >= lo - tol && ad <= hi + tol;
      status = wg_check_kink(c, d, d2) && between ? "kink" : "FAIL";
    }
    if (wg_live(t)) tally(s, t, pr, i, ad, d.central, status);
  }
}

int wg_gradcheck(wg_tape *t, wg_var loss, const wg_gradcheck_opts *opts,
                 wg_gradcheck_result *res) {
  wg_check_clear(res);
  if (wg_tape_busy(t, "wg_gradcheck")) return -1;
  const wg_row *l = wg_row_of(t, loss, "wg_gradcheck");
  if (!l) return -1;
  if (l->rows != 1 || l->cols != 1) {
    char sl[WG_SHAPE_TEXT];
    wg_fail(t, WG_ERR_SHAPE, "wg_gradcheck: the loss %s (row %u) is not (1x1)",
            wg_row_shape(t, loss.row, sl, sizeof sl), (unsigned)loss.row);
    return -1;
  }
  gc_state s = {wg_check_config(opts), {0}, 0};
  wg_check_clear(&s.res);
  size_t cap = t->n_rows ? t->n_rows : 1, total;
  param_ref *ps = wg_alloc(cap * sizeof *ps);
  if (!ps) {
    wg_fail(t, WG_ERR_NOMEM, "wg_gradcheck: out of memory (list of %zu parameters)", cap);
    return -1;
  }
  size_t np = collect_params(t, ps, &total), bytes = (total ? total : 1) * sizeof(wg_real);
  wg_real *saved = wg_alloc(bytes), *analytic = wg_alloc(bytes);
  if (!saved || !analytic) {
    wg_fail(t, WG_ERR_NOMEM, "wg_gradcheck: out of memory (2 x %zu bytes of gradients)", bytes);
    goto done;
  }
  /* analytic: save the gradients, zero them, one backward, read, put the saved ones back */
  for (size_t k = 0; k < np; k++) {
    size_t n = (size_t)ps[k].p->rows * (size_t)ps[k].p->cols;
    memcpy(saved + ps[k].off, ps[k].p->grad, n * sizeof *saved);
    memset(ps[k].p->grad, 0, n * sizeof *saved);
  }
  double f0 = loss_at(t, loss.row);
  wg_backward(t, loss);
  for (size_t k = 0; k < np; k++) {
    size_t n = (size_t)ps[k].p->rows * (size_t)ps[k].p->cols;
    memcpy(analytic + ps[k].off, ps[k].p->grad, n * sizeof *saved);
  }
  if (s.cfg.csv) fprintf(s.cfg.csv, "parameter,index,i,j,analytic,numeric,abs_err,rel_err,status\n");
  for (size_t k = 0; k < np && wg_live(t); k++) check_param(&s, t, loss.row, &ps[k], analytic, f0);
  /* leave the tape as a forward + backward leaves it, and the gradients as they were */
  wg_forward(t);
  wg_backward(t, loss);
  for (size_t k = 0; k < np; k++)
    memcpy(ps[k].p->grad, saved + ps[k].off,
           (size_t)ps[k].p->rows * (size_t)ps[k].p->cols * sizeof *saved);
done:
  wg_free(saved, bytes);
  wg_free(analytic, bytes);
  wg_free(ps, cap * sizeof *ps);
  if (!wg_live(t)) return -1;
  if (res) *res = s.res;
  return s.res.failed;
}

/* dropout.c - inverted dropout with a mask that is drawn, not replayed.
 *   forward: y = x * m,  m_ij = [u_ij >= p] / (1 - p),  u_ij uniform in [0, 1) from the
 *            caller's generator; p = c, the row's constant, in [0, 1)
 *            (training; in evaluation, wg_tape_set_training(t, 0): y = x, i.e. m = 1)
 *   VJP:     dx += dy * m          (the gradient is mask / (1 - p))
 *   JVP:     ty = tx * m
 * E[m_ij] = (1 - p) / (1 - p) = 1, so E[y] = x and evaluation needs no rescaling.
 *
 * The mask is drawn once, when the row is recorded, into the tape's arena. wg_forward
 * replays it unchanged, so every replay of wg_gradcheck, wg_check_rows and wg_dot_test sees
 * one fixed function of x. A training loop gets a new mask each step either by recording
 * again (the generator has moved on) or, when it replays, by calling wg_dropout_resample(t)
 * before wg_forward. The forward notes whether it applied the mask (per row), and the VJP and
 * JVP follow that note, so they always differentiate the forward that ran. */
#include <math.h>

#include "ops/ops.h"

typedef struct {
  wg_rng *rng;   /* the caller's generator (must outlive the row) */
  wg_real *mask; /* 0 or 1 / (1 - p), one per element of x */
  int applied;   /* the last forward used the mask (training) */
} dropout_state;

static void draw_mask(dropout_state *d, size_t n, wg_real p) {
  wg_real keep = 1 / (1 - p);
  for (size_t e = 0; e < n; e++) d->mask[e] = wg_rng_uniform(d->rng) >= p ? keep : 0;
}

wg_var wg_dropout(wg_tape *t, wg_var x, double p, wg_rng *r) {
  const wg_row *a = wg_row_of(t, x, "dropout");
  if (!a) return wg_none();
  char sx[WG_SHAPE_TEXT];
  if (!(p >= 0 && p < 1))
    return wg_fail(t, WG_ERR_ARG, "dropout: p = %g for %s: the drop probability must be in "
                   "[0, 1) (row %u)", p, wg_row_shape(t, x.row, sx, sizeof sx),
                   (unsigned)t->n_rows);
  if (!r)
    return wg_fail(t, WG_ERR_ARG, "dropout: the generator is NULL for %s (p = %g): the mask "
                   "is drawn from it (row %u)", wg_row_shape(t, x.row, sx, sizeof sx), p,
                   (unsigned)t->n_rows);
  size_t n = wg_row_size(a);
  dropout_state *d = wg_tape_alloc(t, sizeof *d);
  wg_real *mask = d ? wg_tape_reals(t, n) : NULL;
  if (!mask) return wg_none();
  d->rng = r, d->mask = mask, d->applied = 0;
  draw_mask(d, n, (wg_real)p);
  return wg_op_record_ptr(t, WG_OP_DROPOUT, 1, &x, a->rows, a->cols, (wg_real)p, d);
}

wg_status wg_dropout_resample(wg_tape *t) {
  if (!t) return WG_ERR_NOMEM;
  if (wg_tape_busy(t, "wg_dropout_resample") || !wg_live(t)) return t->status;
  for (uint32_t i = 0; i < t->n_rows; i++) {
    wg_row *r = &t->rows[i];
    if (r->op == WG_OP_DROPOUT) draw_mask(r->ptr, wg_row_size(r), r->c);
  }
  return WG_OK;
}

void wg_tape_set_training(wg_tape *t, int on) {
  if (t) t->eval = !on;
}

int wg_tape_training(const wg_tape *t) {
  return t ? !t->eval : 0;
}

void wg_op_dropout_forward(wg_tape *t, wg_row *r) {
  const wg_real *x = wg_input_row(t, r, 0)->val;
  dropout_state *d = r->ptr;
  size_t n = wg_row_size(r);
  d->applied = !t->eval;
  for (size_t e = 0; e < n; e++) r->val[e] = d->applied ? x[e] * d->mask[e] : x[e];
}

void wg_op_dropout_vjp(wg_tape *t, wg_row *r) {
  wg_real *dx = wg_input_row(t, r, 0)->adj;
  const dropout_state *d = r->ptr;
  size_t n = wg_row_size(r);
  for (size_t e = 0; e < n; e++) dx[e] += d->applied ? r->adj[e] * d->mask[e] : r->adj[e];
}

void wg_op_dropout_jvp(wg_tape *t, wg_row *r) {
  const wg_real *tx = wg_input_row(t, r, 0)->tan;
  const dropout_state *d = r->ptr;
  size_t n = wg_row_size(r);
  for (size_t e = 0; e < n; e++) r->tan[e] = d->applied ? tx[e] * d->mask[e] : tx[e];
}

const wg_real *wg_dropout_mask_of(const void *state) {
  const dropout_state *d = state;
  return d->applied ? d->mask : NULL;
}

/* recorded VJP: dx = dy * m with this row's mask, as a dropout_apply row (dropout_apply.c)
 * that refers to it: it replays with the row's mask, follows wg_dropout_resample and
 * evaluation mode as this row does, and its own VJP is itself */
void wg_op_dropout_record_vjp(wg_tape *t, uint32_t row, wg_var dy, const uint8_t *want,
                              wg_var *dx) {
  if (want[0]) dx[0] = wg_dropout_apply(t, dy, wg_handle(t, row));
}

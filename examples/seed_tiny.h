/* seed_tiny.h - the seed's network, one sigmoid unit trained with binary cross-entropy, on a
 * data set of m = 4 samples and 2 features: small enough to check every number by hand.
 * Samples as rows:
 *   Z = X W + b     X (4x2), W (2x1), b (1x1) broadcast down the 4 rows
 *   A = sigmoid(Z)  (4x1), the predictions yhat
 *   L = bce(A, t)   (1x1), averaged over the 4 samples; t: the targets (labels 0 or 1)
 * (y in the op rules is a row's own output, so the labels are not called y).
 * Used by examples/chain_rule.c, examples/tape_graph.c and tests/check_print.c. */
#ifndef SEED_TINY_H
#define SEED_TINY_H
#include "wengert.h"

enum { SEED_M = 4, SEED_N = 2 };

static const wg_real seed_x[SEED_M * SEED_N] = {
    1.0, 2.0,   /* sample 1 */
    2.0, -1.0,  /* sample 2 */
    -1.0, 0.5,  /* sample 3 */
    0.5, -2.0,  /* sample 4 */
};
static const wg_real seed_t[SEED_M] = {1, 0, 0, 1};

typedef struct {
  wg_param *W, *b;
  wg_var X, t, XW, Z, A, L;
} seed_net;

/* Record the network up to the predictions A, with W = [0.5; -0.25] and b = 0.1. The caller
 * frees s->W, s->b (wg_param_free) after the tape; a failed allocation shows in
 * wg_tape_status(t). */
static void seed_record_predictions(wg_tape *t, seed_net *s) {
  s->W = wg_param_new("W", SEED_N, 1);
  s->b = wg_param_new("b", 1, 1);
  if (s->W && s->b) {
    wg_param_value(s->W).data[0] = 0.5;
    wg_param_value(s->W).data[1] = -0.25;
    wg_param_value(s->b).data[0] = 0.1;
  }
  s->X = wg_input(t, SEED_M, SEED_N, seed_x);
  s->t = wg_input(t, SEED_M, 1, seed_t);
  wg_name(t, s->X, "X");
  wg_name(t, s->t, "t");
  s->XW = wg_matmul(t, s->X, wg_use(t, s->W));
  s->Z = wg_add(t, s->XW, wg_use(t, s->b));
  s->A = wg_sigmoid(t, s->Z);
  wg_name(t, s->XW, "XW");
  wg_name(t, s->Z, "Z");
  wg_name(t, s->A, "A");
  s->L.gen = s->L.row = 0; /* no loss yet */
}

/* The whole network: predictions, then the loss L = bce(A, t). */
static inline void seed_record(wg_tape *t, seed_net *s) {
  seed_record_predictions(t, s);
  s->L = wg_bce(t, s->A, s->t);
  wg_name(t, s->L, "L");
}

#endif

/* fuzz_graph.c - libFuzzer target: bytes decode into a program of ops on a tape.
 *
 * The program records ops of every kind in the op table (one constructor per op, below), on
 * shapes that may not fit, on none, stale and foreign handles, on values that include NaN,
 * +-Inf, +-DBL_MAX, subnormals and raw bit patterns; it names rows, resets the tape, toggles
 * the finite checks, pokes the leaves' data and runs the derivative checks (wg_gradcheck,
 * wg_check_rows, wg_dot_test) on small tapes. Then it replays (wg_forward), runs wg_backward
 * on some row, sets tangents and runs wg_jvp, updates the parameters and replays again, and
 * reads every view it has. The library may report any status, but must not crash, leak, read
 * or write out of bounds or hit undefined behaviour (ASan, UBSan, LeakSanitizer), and must
 * keep its contracts: a tape in error has a message, a tape that is ok has none, and every
 * byte taken from the allocator is given back with the size it was taken with (countalloc.h,
 * which also refuses requests above 64 MB and, when the input asks, the Nth request).
 *
 * A new op in src/ops/oplist.h needs a constructor here, `static wg_var fz_<name>(fz *f)`:
 * the table fz_ctors[] is generated from oplist.h, so without one this file does not compile.
 *
 * Build and run: make fuzz FUZZ_SECONDS=60 (or by hand, see the Makefile's fuzz target). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "countalloc.h"
#include "ops/ops.h" /* WG_OP_COUNT and the op list */
#include "wengert.h"

enum { MAX_VARS = 64, MAX_BUFS = 48, MAX_PARAMS = 4, MAX_STEPS = 96 };

typedef struct fz {
  const uint8_t *p;
  size_t n;                   /* bytes left */
  wg_tape *t, *other;         /* other: a second tape, source of foreign handles */
  wg_var vars[MAX_VARS];      /* handles recorded so far (stale after a reset) */
  int n_vars;
  wg_param *params[MAX_PARAMS];
  int n_params;
  wg_real *bufs[MAX_BUFS];    /* the fuzzer's input buffers: they outlive the tape */
  size_t buf_len[MAX_BUFS];
  int n_bufs;
} fz;

/* ---- decoding ---------------------------------------------------------------------------- */

static uint8_t u8(fz *f) {
  if (!f->n) return 0;
  f->n--;
  return *f->p++;
}

/* a value: mostly ordinary, often one of the edge cases, sometimes raw bits */
static wg_real real(fz *f) {
  static const wg_real special[] = {0, -0.0, 1, -1, 0.5, 2, NAN, INFINITY, -INFINITY, DBL_MAX,
                                     -DBL_MAX, DBL_MIN, 4.9406564584124654e-324, 1e-310, 1e300,
                                     -1e300, 700, 800, -800, 1e-8};
  uint8_t b = u8(f);
  if (b < 100) return (wg_real)((int)b - 50) / 8; /* -6.25 .. 6.125 */
  if (b < 240) return special[b % (sizeof special / sizeof special[0])];
  double d = 0;
  for (size_t i = 0; i < sizeof d; i++) ((unsigned char *)&d)[i] = u8(f);
  return d;
}

/* a dimension: 1..4 mostly, up to 8, rarely out of range */
static int dim(fz *f) {
  uint8_t b = u8(f);
  if (b == 255) return 0;
  if (b == 254) return -3;
  return b < 200 ? 1 + b % 4 : 1 + b % 8;
}

static void keep(fz *f, wg_var v) {
  if (v.gen && f->n_vars < MAX_VARS) f->vars[f->n_vars++] = v;
}

/* a handle: a recorded one (maybe stale), or the none handle, a foreign one, garbage */
static wg_var pick(fz *f) {
  uint8_t b = u8(f);
  if (b == 250 || !f->n_vars) return (wg_var){0, 0};
  if (b == 251) return wg_input(f->other, 1, 1, f->bufs[0]); /* foreign */
  if (b == 252) {
    uint32_t gen = (uint32_t)u8(f) << 24;
    return (wg_var){gen | u8(f), u8(f)};
  }
  return f->vars[b % f->n_vars];
}

static wg_real *buffer(fz *f, size_t len) {
  if (f->n_bufs == MAX_BUFS) return NULL; /* wg_input reports the NULL data */
  wg_real *b = malloc(len * sizeof *b);
  if (!b) abort();
  for (size_t i = 0; i < len; i++) b[i] = real(f);
  f->buf_len[f->n_bufs] = len;
  return f->bufs[f->n_bufs++] = b;
}

/* ---- one constructor per op (ORDER OP is not needed: the table is indexed by enum) ------- */

static wg_var fz_input(fz *f) {
  int r = dim(f), c = dim(f);
  if (r <= 0 || c <= 0) return wg_input(f->t, r, c, f->bufs[0]);
  if (u8(f) == 77) return wg_input(f->t, r, c, NULL);
  return wg_input(f->t, r, c, buffer(f, (size_t)r * (size_t)c));
}
static wg_var fz_scalar(fz *f) { return wg_scalar(f->t, real(f)); }
static wg_var fz_param(fz *f) {
  uint8_t b = u8(f);
  return wg_use(f->t, b < f->n_params ? f->params[b] : b == 200 ? NULL : f->params[b % f->n_params]);
}
static wg_var fz_matmul(fz *f) { return wg_matmul(f->t, pick(f), pick(f)); }
static wg_var fz_transpose(fz *f) { return wg_transpose(f->t, pick(f)); }
static wg_var fz_add(fz *f) { return wg_add(f->t, pick(f), pick(f)); }
static wg_var fz_sub(fz *f) { return wg_sub(f->t, pick(f), pick(f)); }
static wg_var fz_mul(fz *f) { return wg_mul(f->t, pick(f), pick(f)); }
static wg_var fz_div(fz *f) { return wg_div(f->t, pick(f), pick(f)); }
static wg_var fz_neg(fz *f) { return wg_neg(f->t, pick(f)); }
static wg_var fz_scale(fz *f) { return wg_scale(f->t, pick(f), real(f)); }
static wg_var fz_exp(fz *f) { return wg_exp(f->t, pick(f)); }
static wg_var fz_log(fz *f) { return wg_log(f->t, pick(f)); }
static wg_var fz_sigmoid(fz *f) { return wg_sigmoid(f->t, pick(f)); }
static wg_var fz_tanh(fz *f) { return wg_tanh(f->t, pick(f)); }
static wg_var fz_relu(fz *f) { return wg_relu(f->t, pick(f)); }
static wg_var fz_square(fz *f) { return wg_square(f->t, pick(f)); }
static wg_var fz_sum(fz *f) { return wg_sum(f->t, pick(f)); }
static wg_var fz_mean(fz *f) { return wg_mean(f->t, pick(f)); }
static wg_var fz_sum_rows(fz *f) { return wg_sum_rows(f->t, pick(f)); }
static wg_var fz_bce(fz *f) { return wg_bce(f->t, pick(f), pick(f)); }
static wg_var fz_bce_logits(fz *f) { return wg_bce_logits(f->t, pick(f), pick(f)); }
static wg_var fz_mse(fz *f) { return wg_mse(f->t, pick(f), pick(f)); }
static wg_var fz_pow(fz *f) { return wg_pow(f->t, pick(f), real(f)); }
static wg_var fz_sqrt(fz *f) { return wg_sqrt(f->t, pick(f)); }
static wg_var fz_abs(fz *f) { return wg_abs(f->t, pick(f)); }
static wg_var fz_sin(fz *f) { return wg_sin(f->t, pick(f)); }
static wg_var fz_cos(fz *f) { return wg_cos(f->t, pick(f)); }
static wg_var fz_softplus(fz *f) { return wg_softplus(f->t, pick(f)); }
static wg_var fz_gelu(fz *f) { return wg_gelu(f->t, pick(f)); }
static wg_var fz_leaky_relu(fz *f) { return wg_leaky_relu(f->t, pick(f), real(f)); }
static wg_var fz_clamp(fz *f) {
  wg_var x = pick(f);
  wg_real lo = real(f);
  return wg_clamp(f->t, x, lo, real(f));
}
static wg_var fz_maximum(fz *f) { return wg_maximum(f->t, pick(f), pick(f)); }
static wg_var fz_minimum(fz *f) { return wg_minimum(f->t, pick(f), pick(f)); }
static wg_var fz_softmax(fz *f) { return wg_softmax(f->t, pick(f)); }
static wg_var fz_softmax_ce(fz *f) { return wg_softmax_ce(f->t, pick(f), pick(f)); }
/* family C: the axis is mostly 0 or 1, sometimes out of range; p and eps sometimes bad */
static int fz_axis(fz *f) {
  uint8_t b = u8(f);
  return b < 250 ? b % 2 : (int)b - 252;
}
static wg_var fz_sum_axis(fz *f) { return wg_sum_axis(f->t, pick(f), fz_axis(f)); }
static wg_var fz_mean_axis(fz *f) { return wg_mean_axis(f->t, pick(f), fz_axis(f)); }
static wg_var fz_max_axis(fz *f) { return wg_max_axis(f->t, pick(f), fz_axis(f)); }
static wg_var fz_logsumexp_axis(fz *f) { return wg_logsumexp_axis(f->t, pick(f), fz_axis(f)); }
static wg_var fz_log_softmax(fz *f) { return wg_log_softmax(f->t, pick(f)); }
static wg_var fz_layernorm(fz *f) { return wg_layernorm(f->t, pick(f), u8(f) < 240 ? 1e-5 : real(f)); }
static wg_rng fz_rng = {{1, 2, 3, 4}}; /* outlives every tape; its state only picks masks */
static wg_var fz_dropout(fz *f) {
  uint8_t b = u8(f);
  if (b == 255) wg_dropout_resample(f->t);
  if (b == 254) wg_tape_set_training(f->t, !wg_tape_training(f->t));
  return wg_dropout(f->t, pick(f), b < 250 ? (double)(b % 10) / 10 : real(f), b == 253 ? NULL : &fz_rng);
}
/* family A: shapes and indices in range and out of it (dim() gives 0 and -3 too) */
static wg_var fz_reshape(fz *f) { return wg_reshape(f->t, pick(f), dim(f), dim(f)); }
static wg_var fz_slice(fz *f) {
  int r0 = dim(f) - 1, c0 = dim(f) - 1;
  return wg_slice(f->t, pick(f), r0, c0, dim(f), dim(f));
}
static wg_var fz_concat(fz *f, wg_var (*cat)(wg_tape *, int, const wg_var *)) {
  wg_var in[12];
  uint8_t b = u8(f);
  int n = b == 255 ? -1 : b % 13; /* 0 and -1 are refused */
  for (int k = 0; k < n; k++) in[k] = pick(f);
  return cat(f->t, n, b == 254 ? NULL : in);
}
static wg_var fz_concat_rows(fz *f) { return fz_concat(f, wg_concat_rows); }
static wg_var fz_concat_cols(fz *f) { return fz_concat(f, wg_concat_cols); }
static wg_var fz_gather_rows(fz *f) { return wg_gather_rows(f->t, pick(f), pick(f)); }

/* a user op: y = the elementwise product of its 0..5 inputs (all of one shape, else its shape
 * callback refuses), with or without a JVP */
static int fzc_shape(int n, const wg_mat *in, int *rows, int *cols, void *ctx) {
  (void)ctx;
  for (int k = 1; k < n; k++)
    if (in[k].rows != in[0].rows || in[k].cols != in[0].cols) return 1;
  *rows = in[0].rows, *cols = in[0].cols;
  return 0;
}
static wg_real fzc_others(int n, const wg_mat *in, int skip, int i) {
  wg_real p = 1;
  for (int k = 0; k < n; k++)
    if (k != skip) p *= in[k].data[i];
  return p;
}
static void fzc_forward(int n, const wg_mat *in, wg_mat out, void *ctx) {
  (void)ctx;
  for (int i = 0; i < out.rows * out.cols; i++) out.data[i] = fzc_others(n, in, -1, i);
}
static void fzc_vjp(int n, const wg_mat *in, wg_mat out, wg_mat dy, wg_mat *din, void *ctx) {
  (void)ctx;
  for (int k = 0; k < n; k++)
    if (din[k].data)
      for (int i = 0; i < out.rows * out.cols; i++) din[k].data[i] += dy.data[i] * fzc_others(n, in, k, i);
}
static void fzc_jvp(int n, const wg_mat *in, const wg_mat *tin, wg_mat out, wg_mat tout, void *ctx) {
  (void)ctx;
  for (int i = 0; i < out.rows * out.cols; i++) {
    tout.data[i] = 0;
    for (int k = 0; k < n; k++) tout.data[i] += tin[k].data[i] * fzc_others(n, in, k, i);
  }
}
/* convolution and pooling: the image shape from small decoded numbers (0 and negatives too),
 * so that most calls fail a shape check and some fit the picked handles; one field per
 * statement, so the bytes are read in a fixed order */
static int small(fz *f) { return (int)(u8(f) % 7) - 1; }
static wg_var fz_conv2d(fz *f) {
  int v[7];
  for (int k = 0; k < 7; k++) v[k] = small(f);
  wg_conv2d_shape s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
  wg_var x = pick(f);
  return wg_conv2d(f->t, x, pick(f), s);
}
static wg_pool2d_shape pool_shape(fz *f) {
  int v[5];
  for (int k = 0; k < 5; k++) v[k] = small(f);
  return (wg_pool2d_shape){v[0], v[1], v[2], v[3], v[4]};
}
static wg_var fz_maxpool2d(fz *f) {
  wg_pool2d_shape s = pool_shape(f);
  return wg_maxpool2d(f->t, pick(f), s);
}
static wg_var fz_avgpool2d(fz *f) {
  wg_pool2d_shape s = pool_shape(f);
  return wg_avgpool2d(f->t, pick(f), s);
}

static wg_var fz_broadcast(fz *f) { return wg_broadcast(f->t, pick(f), dim(f), dim(f)); }
static wg_var fz_step(fz *f) { return wg_step(f->t, pick(f)); }
static wg_var fz_normal_cdf(fz *f) { return wg_normal_cdf(f->t, pick(f)); }
static wg_var fz_onehot(fz *f) { return wg_onehot(f->t, pick(f), dim(f)); }
static wg_var fz_argmax_mask(fz *f) { return wg_argmax_mask(f->t, pick(f), fz_axis(f)); }
static wg_var fz_dropout_apply(fz *f) { return wg_dropout_apply(f->t, pick(f), pick(f)); }
static wg_var fz_custom(fz *f) {
  wg_custom_op op = {"product", fzc_shape, fzc_forward, fzc_vjp, fzc_jvp, NULL};
  if (u8(f) == 3) op.jvp = NULL; /* wg_jvp must then fail naming the op */
  wg_var in[5];
  int n = u8(f) % 6; /* 0 and 5 are refused */
  for (int k = 0; k < n; k++) in[k] = pick(f);
  return wg_custom(f->t, &op, NULL, n, in);
}

typedef wg_var (*fz_ctor)(fz *f);
/* generated from the op list: an op without fz_<name> above is a compile error */
static const fz_ctor fz_ctors[WG_OP_COUNT] = {
#define WG_OP(E, name, ...) [WG_OP_##E] = fz_##name,
#include "ops/oplist.h"
#undef WG_OP
};
_Static_assert(sizeof fz_ctors / sizeof fz_ctors[0] == WG_OP_COUNT, "one constructor per op");

/* ---- actions other than recording an op -------------------------------------------------- */

enum {
  ACT_NAME, ACT_RESET, ACT_CHECKS, ACT_FORWARD, ACT_BACKWARD, ACT_POKE, ACT_VIEW, ACT_GRADCHECK,
  ACT_GRADIENTS, ACT_COUNT
};

static volatile double sink;

static void touch(wg_mat m) {
  double s = 0;
  if (m.data)
    for (size_t i = 0, n = (size_t)m.rows * (size_t)m.cols; i < n; i++) s += m.data[i];
  sink = s;
}

static void backward_on(fz *f, wg_var v) {
  wg_mat m = wg_value(f->t, v);
  if (m.data && (m.rows != 1 || m.cols != 1) && u8(f) & 1) v = wg_sum(f->t, v);
  wg_backward(f->t, v);
}

/* The derivative checks on a picked row (summed to 1x1 for wg_gradcheck when needed), only on
 * small tapes (gradcheck replays the whole tape twice per parameter element). Whatever they
 * find, their contracts must hold: -1 (negative for wg_dot_test) exactly when the tape is in
 * error, failed <= checked, worst_row -1 and worst "" exactly when nothing failed. */
static void check_result(const wg_tape *t, int ret, const wg_gradcheck_result *r) {
  if ((ret < 0) != (wg_tape_status(t) != WG_OK)) abort();
  if (ret < 0) return;
  if (ret != r->failed || r->failed > r->checked || r->checked < 0 || r->skipped < 0) abort();
  if ((r->failed == 0) != (r->worst_row == -1) || (r->failed == 0) != (r->worst[0] == 0)) abort();
}

static void gradcheck_on(fz *f, wg_var v) {
  size_t elems = 0;
  for (int k = 0; k < f->n_params; k++) {
    wg_mat w = wg_param_value(f->params[k]);
    elems += (size_t)w.rows * (size_t)w.cols;
  }
  uint8_t how = u8(f);
  if (wg_tape_rows(f->t) > 40 || elems > 48) return; /* keep an execution cheap */
  wg_gradcheck_opts o = {how & 4 ? 1e-3 : 0, how & 8 ? 1e-300 : 0, 0, NULL, 0};
  wg_gradcheck_result r;
  switch (how % 3) {
  case 0: {
    wg_mat m = wg_value(f->t, v);
    if (m.data && (m.rows != 1 || m.cols != 1)) v = wg_sum(f->t, v);
    check_result(f->t, wg_gradcheck(f->t, v, how & 16 ? NULL : &o, &r), &r);
    break;
  }
  case 1:
    check_result(f->t, wg_check_rows(f->t, how & 16 ? NULL : &o, &r), &r);
    break;
  default: {
    double rel = wg_dot_test(f->t, v, how);
    if ((rel < 0) != (wg_tape_status(f->t) != WG_OK)) abort();
    sink = rel;
  }
  }
}

/* The recorded sweep from a picked row (summed to 1x1 when asked) with respect to 1..3 picked
 * handles: the gradients become handles like any other, so later steps record on them,
 * replay, sweep and differentiate them again. Contract: status and handles agree. */
static void gradients_on(fz *f, wg_var L) {
  wg_mat m = wg_value(f->t, L);
  if (m.data && (m.rows != 1 || m.cols != 1) && u8(f) & 1) L = wg_sum(f->t, L);
  int n = 1 + u8(f) % 3;
  wg_var wrt[3], g[3];
  for (int k = 0; k < n; k++) wrt[k] = pick(f);
  wg_status s = wg_gradients(f->t, L, n, wrt, g);
  if ((s == WG_OK) != (wg_tape_status(f->t) == WG_OK)) abort();
  for (int k = 0; k < n; k++) {
    if ((s == WG_OK) != (g[k].gen != 0)) abort();
    keep(f, g[k]);
  }
}

static void act(fz *f, int a) {
  switch (a) {
  case ACT_NAME: {
    char name[80];
    size_t len = u8(f) % sizeof name;
    for (size_t i = 0; i < len; i++) name[i] = (char)(u8(f) | 1);
    name[len] = '\0';
    wg_name(f->t, pick(f), u8(f) == 3 ? NULL : name);
    break;
  }
  case ACT_RESET:
    wg_tape_reset(f->t); /* every kept handle is now stale */
    break;
  case ACT_CHECKS:
    wg_tape_set_checks(f->t, u8(f) & 1 ? WG_CHECK_FINITE : 0);
    break;
  case ACT_FORWARD:
    wg_forward(f->t);
    break;
  case ACT_BACKWARD:
    backward_on(f, pick(f));
    break;
  case ACT_POKE: { /* change leaf data between replays */
    uint8_t b = u8(f);
    if (b & 1 && f->n_params) {
      wg_mat w = wg_param_value(f->params[b / 2 % f->n_params]);
      w.data[u8(f) % (w.rows * w.cols)] = real(f);
    } else if (f->n_bufs) {
      int k = b / 2 % f->n_bufs;
      f->bufs[k][u8(f) % f->buf_len[k]] = real(f);
    }
    break;
  }
  case ACT_VIEW: {
    wg_var v = pick(f);
    touch(wg_value(f->t, v));
    touch(wg_grad(f->t, v));
    break;
  }
  case ACT_GRADCHECK:
    gradcheck_on(f, pick(f));
    break;
  case ACT_GRADIENTS:
    gradients_on(f, pick(f));
    break;
  }
}

/* ---- the run ----------------------------------------------------------------------------- */

static void check_contract(const wg_tape *t) {
  const char *e = wg_tape_error(t);
  if ((wg_tape_status(t) == WG_OK) != (e[0] == '\0')) abort(); /* status and message agree */
  if (strlen(e) >= 256) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ca_state st;
  memset(&st, 0, sizeof st);
  st.limit = (size_t)64 << 20;
  fz f = {.p = data, .n = size};
  /* header: allocator failure injection, parameters */
  uint8_t fail = u8(&f);
  if (fail >= 192) st.fail_at = 1 + (fail & 31), st.persistent = fail & 32;
  wg_set_allocator(ca_alloc, &st);

  static wg_real one = 1;
  f.bufs[0] = &one, f.buf_len[0] = 1, f.n_bufs = 1; /* for invalid-shape and foreign inputs */
  f.t = wg_tape_new();
  f.other = wg_tape_new();
  f.n_params = 1 + u8(&f) % MAX_PARAMS;
  for (int k = 0; k < f.n_params; k++) {
    int r = dim(&f), c = dim(&f);
    if (u8(&f) == 99) r = 1 << 20, c = 1 << 12; /* 32 GB: refused, the constructor says NULL */
    f.params[k] = wg_param_new("p", r, c);
    if (!f.params[k]) f.params[k] = wg_param_new("fallback", 1, 1);
    if (!f.params[k]) { /* out of memory by injection: the run ends here */
      f.n_params = k;
      goto done;
    }
    wg_mat w = wg_param_value(f.params[k]);
    for (int i = 0; i < w.rows * w.cols; i++) w.data[i] = real(&f);
  }
  wg_tape_set_checks(f.t, u8(&f) & 1 ? WG_CHECK_FINITE : 0);

  for (int step = 0; step < MAX_STEPS && f.n; step++) {
    uint8_t op = u8(&f);
    if (op % (WG_OP_COUNT + ACT_COUNT) < WG_OP_COUNT) keep(&f, fz_ctors[op % (WG_OP_COUNT + ACT_COUNT)](&f));
    else act(&f, op % (WG_OP_COUNT + ACT_COUNT) - WG_OP_COUNT);
    check_contract(f.t);
  }

  /* the sweeps: replay, backward, forward mode, an update and a replay on the new values */
  wg_forward(f.t);
  backward_on(&f, f.n_vars ? f.vars[f.n_vars - 1] : pick(&f));
  for (int i = 0; i < f.n_vars; i++)
    if (u8(&f) & 1) {
      wg_mat tv = wg_tangent(f.t, f.vars[i]);
      if (tv.data) tv.data[0] = real(&f);
    }
  wg_jvp(f.t);
  for (int k = 0; k < f.n_params; k++) {
    wg_mat w = wg_param_value(f.params[k]), g = wg_param_grad(f.params[k]);
    for (int i = 0; i < w.rows * w.cols; i++) w.data[i] -= 0.1 * g.data[i];
  }
  wg_forward(f.t);
  check_contract(f.t);
  for (int i = 0; i < f.n_vars; i++) {
    touch(wg_value(f.t, f.vars[i]));
    touch(wg_grad(f.t, f.vars[i]));
    touch(wg_tangent(f.t, f.vars[i]));
  }
  sink = (double)wg_tape_rows(f.t) + (double)wg_tape_bytes(f.t);

done:
  wg_tape_free(f.t);
  wg_tape_free(f.other);
  for (int k = 0; k < f.n_params; k++) wg_param_free(f.params[k]);
  for (int k = 1; k < f.n_bufs; k++) free(f.bufs[k]);
  wg_set_allocator(NULL, NULL);
  if (st.live != 0 || st.bad_size != 0) abort(); /* a leak, or a free with the wrong size */
  return 0;
}

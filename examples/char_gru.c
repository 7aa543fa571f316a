/* char_gru.c - a character-level GRU language model, built from the engine's ops, trained on
 * a small public-domain text (examples/data/quotes.txt: Shakespeare and Mark Twain's
 * "Pudd'nhead Wilson's Calendar", from Debian's fortunes-min; examples/data/README.md).
 *
 * Characters are indices 0..V-1 into the text's sorted character set. One GRU step over a
 * batch of B streams, x (B x D) the embedded characters, h (B x H) the state:
 *   [z r] = sigmoid([x h] Wzr + bzr)        Wzr (D+H x 2H): both gates from one matmul, then
 *                                           z = the first H columns, r = the last H (wg_slice)
 *   n     = tanh([x, r * h] Wn + bn)        Wn (D+H x H)
 *   h'    = (1 - z) n + z h = n + z (h - n)
 * The embedding is a row lookup, x_t = E[c_t] (wg_gather_rows, E (V x D)), and the logits of
 * every step come from one matmul over the stacked states: [h_1; ..; h_T] Wo + bo
 * (wg_concat_rows of T inputs), with L = softmax_ce(logits, next characters) in nats per
 * character. Truncated backpropagation through time: each training window is T characters
 * from h = 0, at a random place in the first 90% of the text (so the gradient, and the state,
 * reach back T steps); the tape of the T unrolled steps is recorded once and replayed with new
 * windows (wg_forward: the gather re-checks its indices each time). Adam, gradients clipped at
 * norm 5. The last 10% of the text is held out: its loss per character is the final metric.
 *
 *   build/examples/char_gru [--steps N] [--seed S] [--save PATH.npz] [--load PATH.npz]
 *                           [--stop-after STEPS --checkpoint PATH.npz] [--resume PATH.npz]
 *                           [--data PATH] [--check]
 *
 * --check records the unrolled tape at small sizes (D 3, H 5, T 4, B 2) and runs wg_gradcheck,
 * wg_check_rows and wg_dot_test on it. --stop-after N --checkpoint F trains N steps, saves the
 * training state (weights, Adam's moments and step, the window generator, the seed) and exits;
 * --resume F goes on from it and ends bitwise where a run without a stop ends. */
#include <float.h>
#include <math.h>

#include "stop_options.h"

#define USAGE "[--steps N] [--seed S] [--save PATH.npz] [--load PATH.npz] [--data PATH] " \
              "[--stop-after STEPS --checkpoint PATH.npz] [--resume PATH.npz] [--check]"
#define EMB 16
#define HID 64
#define SEQ 32
#define BATCH 16
#define STEPS 600
#define REPORT 100   /* steps between progress lines */
#define SAMPLE 240   /* characters generated at the end */
#define TEMPERATURE 0.6

typedef struct {
  int V, D, H;
  wg_model *m;
  wg_param *E, *Wzr, *bzr, *Wn, *bn, *Wo, *bo;
} gru;

/* The parameters as rows of the tape being recorded (one wg_use each, shared by all steps). */
typedef struct {
  wg_var E, Wzr, bzr, Wn, bn, Wo, bo;
} gru_vars;

static gru_vars use_all(wg_tape *t, const gru *g) {
  gru_vars u = {wg_use(t, g->E), wg_use(t, g->Wzr), wg_use(t, g->bzr), wg_use(t, g->Wn),
                wg_use(t, g->bn), wg_use(t, g->Wo), wg_use(t, g->bo)};
  return u;
}

static wg_status gru_init(gru *g, int V, int D, int H, unsigned long long seed) {
  g->V = V, g->D = D, g->H = H;
  g->m = wg_model_new(seed);
  if (!g->m) return WG_ERR_NOMEM;
  wg_init zeros = {WG_INIT_ZEROS, 0, 0}, xavier = {WG_INIT_XAVIER_UNIFORM, 0, 0};
  wg_status s = wg_model_add(g->m, "E", V, D, (wg_init){WG_INIT_NORMAL, 0, 0.3}, &g->E);
  if (!s) s = wg_model_add(g->m, "Wzr", D + H, 2 * H, xavier, &g->Wzr);
  if (!s) s = wg_model_add(g->m, "bzr", 1, 2 * H, zeros, &g->bzr);
  if (!s) s = wg_model_add(g->m, "Wn", D + H, H, xavier, &g->Wn);
  if (!s) s = wg_model_add(g->m, "bn", 1, H, zeros, &g->bn);
  if (!s) s = wg_model_add(g->m, "Wo", H, V, xavier, &g->Wo);
  if (!s) s = wg_model_add(g->m, "bo", 1, V, zeros, &g->bo);
  return s;
}

/* One GRU step: x (B x D), h (B x H) -> h' (B x H). */
static wg_var gru_step(wg_tape *t, const gru *g, const gru_vars *u, wg_var x, wg_var h, int B) {
  int H = g->H;
  wg_var xh[2] = {x, h};
  wg_var zr = wg_sigmoid(t, wg_add(t, wg_matmul(t, wg_concat_cols(t, 2, xh), u->Wzr), u->bzr));
  wg_var z = wg_slice(t, zr, 0, 0, B, H), r = wg_slice(t, zr, 0, H, B, H);
  wg_var xrh[2] = {x, wg_mul(t, r, h)};
  wg_var n = wg_tanh(t, wg_add(t, wg_matmul(t, wg_concat_cols(t, 2, xrh), u->Wn), u->bn));
  return wg_add(t, n, wg_mul(t, z, wg_sub(t, h, n)));
}

/* The unrolled window: idx and next (T B x 1, time-major: row s B + b is stream b at step s),
 * h0 (B x H). Returns the loss; *out gets the stacked logits (T B x V). */
static wg_var record_window(wg_tape *t, const gru *g, int B, int T, const wg_real *idx,
                            const wg_real *next, const wg_real *h0, wg_var *hs, wg_var *out) {
  gru_vars u = use_all(t, g);
  wg_var X = wg_gather_rows(t, u.E, wg_input(t, T * B, 1, idx)); /* (T B x D) */
  wg_var h = wg_input(t, B, g->H, h0);
  for (int s = 0; s < T; s++)
    hs[s] = h = gru_step(t, g, &u, wg_slice(t, X, s * B, 0, B, g->D), h, B);
  wg_var logits = wg_add(t, wg_matmul(t, wg_concat_rows(t, T, hs), u.Wo), u.bo);
  if (out) *out = logits;
  return wg_softmax_ce(t, logits, wg_input(t, T * B, 1, next));
}

/* ---- the text ------------------------------------------------------------------------- */

typedef struct {
  char *bytes;
  int *code; /* each character's index into chars */
  long n;
  char chars[256];
  int V;
} text;

static void load_text(const char *prog, const char *path, text *x) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
    exit(1);
  }
  long cap = 1 << 16;
  x->bytes = malloc((size_t)cap);
  x->n = 0;
  size_t got;
  while (x->bytes && (got = fread(x->bytes + x->n, 1, (size_t)(cap - x->n), f)) > 0)
    if ((x->n += (long)got) == cap) x->bytes = realloc(x->bytes, (size_t)(cap *= 2));
  fclose(f);
  if (!x->bytes) die(prog, "out of memory");
  if (x->n < 20 * (SEQ + 1)) die(prog, "the text is too short (at least 20 windows are needed)");
  int seen[256] = {0};
  for (long i = 0; i < x->n; i++) seen[(unsigned char)x->bytes[i]] = 1;
  int map[256];
  x->V = 0;
  for (int c = 0; c < 256; c++)
    if (seen[c]) map[c] = x->V, x->chars[x->V++] = (char)c;
  x->code = malloc((size_t)x->n * sizeof *x->code);
  if (!x->code) die(prog, "out of memory");
  for (long i = 0; i < x->n; i++) x->code[i] = map[(unsigned char)x->bytes[i]];
}

/* Fill the window buffers: stream b reads text[start_b ..], its targets one character on. */
static void fill_window(const text *x, const long *start, int B, int T, wg_real *idx,
                        wg_real *next) {
  for (int s = 0; s < T; s++)
    for (int b = 0; b < B; b++) {
      idx[s * B + b] = x->code[start[b] + s];
      next[s * B + b] = x->code[start[b] + s + 1];
    }
}

/* ---- --check: the three oracles on a small unrolled tape ------------------------------- */

static int run_check(const char *prog, const text *x) {
  enum { B = 2, T = 4 };
  gru g;
  if (gru_init(&g, x->V, 3, 5, 7)) die(prog, "out of memory");
  wg_real idx[T * B], next[T * B], h0[B * 5] = {0};
  long start[B] = {0, 100};
  fill_window(x, start, B, T, idx, next);
  wg_tape *t = wg_tape_new();
  wg_var hs[T], logits;
  wg_var L = record_window(t, &g, B, T, idx, next, h0, hs, &logits);
  check_tape(prog, t);
  wg_gradcheck_result gc, cr;
  int failed = wg_gradcheck(t, L, NULL, &gc);
  printf("unrolled GRU (V %d, D 3, H 5, T %d, B %d): %d rows\n", x->V, T, B, wg_tape_rows(t));
  printf("wg_gradcheck: %d parameter elements, %d failed, max abs err %.2e: %s\n", gc.checked,
         gc.failed, gc.max_abs_err, failed == 0 ? "pass" : "FAIL");
  int rows_failed = wg_check_rows(t, NULL, &cr);
  printf("wg_check_rows: %d rows, %d failed, max abs err %.2e: %s\n", cr.checked, cr.failed,
         cr.max_abs_err, rows_failed == 0 ? "pass" : "FAIL");
  double worst = 0;
  for (unsigned seed = 1; seed <= 3; seed++) {
    double d = wg_dot_test(t, logits, seed);
    if (d < 0 || d > worst) worst = d < 0 ? INFINITY : d;
  }
  /* 1e-10 is rounding level in double; built for float (WG_REAL_FLOAT) the same count of
   * ulps is 1e-10 FLT_EPSILON / DBL_EPSILON = 5.4e-2 (tests/tol.h) */
#ifdef WG_REAL_FLOAT
  int dot_ok = worst < 1e-10 * (FLT_EPSILON / DBL_EPSILON);
#else
  int dot_ok = worst < 1e-10;
#endif
  printf("wg_dot_test (3 seeds, on the logits): largest relative difference %.2e: %s\n", worst,
         dot_ok ? "pass" : "FAIL");
  check_tape(prog, t);
  wg_tape_free(t);
  wg_model_free(g.m);
  return failed == 0 && rows_failed == 0 && dot_ok ? 0 : 1;
}

/* ---- sampling: one step at a time on a tape of its own, replayed per character ---------- */

static void sample(const char *prog, const gru *g, const text *x, unsigned long long seed) {
  wg_real c = 0, *h = calloc((size_t)g->H, sizeof *h);
  if (!h) die(prog, "out of memory");
  wg_tape *t = wg_tape_new();
  gru_vars u = use_all(t, g);
  wg_var xv = wg_gather_rows(t, u.E, wg_input(t, 1, 1, &c));
  wg_var hn = gru_step(t, g, &u, xv, wg_input(t, 1, g->H, h), 1);
  wg_var logits = wg_add(t, wg_matmul(t, hn, u.Wo), u.bo);
  wg_var p = wg_softmax(t, wg_scale(t, logits, 1 / TEMPERATURE));
  check_tape(prog, t);
  wg_rng r;
  wg_rng_seed(&r, seed);
  const char *prime = "A ";
  printf("sample (temperature %.1f, after \"%s\"):\n%s", TEMPERATURE, prime, prime);
  /* feed the prime one character at a time: h carries the state, p then predicts the next */
  int n_prime = (int)strlen(prime);
  for (int i = 0; i < n_prime + SAMPLE; i++) {
    if (i < n_prime) {
      const char *at = strchr(x->chars, prime[i]);
      c = at ? (wg_real)(at - x->chars) : 0;
    } else { /* draw the next character from p */
      const wg_real *pv = wg_value(t, p).data;
      double u01 = wg_rng_uniform(&r), acc = 0;
      int k = 0;
      while (k < g->V - 1 && (acc += pv[k]) <= u01) k++;
      putchar(x->chars[k]);
      c = k;
    }
    if (wg_forward(t)) check_tape(prog, t);
    memcpy(h, wg_value(t, hn).data, (size_t)g->H * sizeof *h);
  }
  printf("\n");
  wg_tape_free(t);
  free(h);
}

/* ---- options ------------------------------------------------------------------------- */

typedef struct {
  long steps;
  int check;
} gru_options;

/* --steps and --check: taken out of argv (after take_stop_options) before parse_options sees
 * the rest */
static int take_options(int argc, char **argv, gru_options *g) {
  int k = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--check") == 0) g->check = 1;
    else if (strcmp(a, "--steps") != 0) argv[k++] = argv[i];
    else if (i + 1 < argc) g->steps = parse_long(argv[0], a, argv[++i], 0, 100000000);
    else {
      fprintf(stderr, "%s: %s needs a value\nusage: %s %s\n", argv[0], a, argv[0], USAGE);
      exit(2);
    }
  }
  return k;
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  gru_options go = {STEPS, 0};
  stop_options so = {0, NULL, NULL};
  argc = take_stop_options(argc, argv, 100000000, USAGE, &so);
  argc = take_options(argc, argv, &go);
  options o = parse_options(argc, argv, (options){"examples/data/quotes.txt", NULL, NULL, NULL, 0, 42}, USAGE);
  text x;
  load_text(prog, o.data, &x);
  if (go.check) return run_check(prog, &x);

  long n_train = x.n * 9 / 10; /* windows of the training part end before n_train */
  printf("%s: %ld characters, %d distinct; training on the first %ld, held out: the last %ld\n",
         o.data, x.n, x.V, n_train, x.n - n_train);
  printf("GRU: embedding %d, state %d; windows of %d characters, %d per batch, %ld steps\n", EMB,
         HID, SEQ, BATCH, go.steps);
  gru g;
  if (gru_init(&g, x.V, EMB, HID, o.seed + 1)) die(prog, g.m ? wg_model_error(g.m) : "out of memory");
  if (o.load && wg_model_load(g.m, o.load)) die(prog, wg_model_error(g.m));
  char err[256];
  wg_optim *opt = wg_optim_new(g.m, wg_adam_config(0.005), err, sizeof err);
  if (!opt) die(prog, err);

  wg_rng windows;
  wg_rng_seed(&windows, o.seed + 2);
  double seed = (double)o.seed;
  wg_checkpoint_rng ck_rngs[1] = {{"windows", &windows}};
  wg_checkpoint_value ck_values[1] = {{"seed", &seed}};
  wg_checkpoint ck = {opt, ck_rngs, 1, ck_values, 1};
  if (so.resume) {
    if (wg_checkpoint_load(g.m, &ck, so.resume)) die(prog, wg_model_error(g.m));
    if (seed != (double)o.seed) {
      snprintf(err, sizeof err, "%s was saved with --seed %.0f, not %llu", so.resume, seed, o.seed);
      die(prog, err);
    }
    printf("resumed from %s at step %ld\n", so.resume, wg_optim_steps(opt));
  }

  /* one tape for training and held-out evaluation, recorded once, replayed every step */
  static wg_real idx[SEQ * BATCH], next[SEQ * BATCH], h0[BATCH * HID];
  long start[BATCH];
  wg_tape *t = wg_tape_new();
  if (!t) die(prog, "out of memory");
  wg_var hs[SEQ];
  for (int b = 0; b < BATCH; b++) start[b] = 0;
  fill_window(&x, start, BATCH, SEQ, idx, next);
  wg_var L = record_window(t, &g, BATCH, SEQ, idx, next, h0, hs, NULL);
  check_tape(prog, t);
  printf("the unrolled tape: %d rows (one concat_rows of %d states)\n", wg_tape_rows(t), SEQ);

  /* held out: BATCH windows spread evenly over the last 10% */
  long held[BATCH], span = x.n - 1 - SEQ - n_train;
  for (int b = 0; b < BATCH; b++) held[b] = n_train + span * b / (BATCH - 1);

  wg_progress bar;
  long steps = wg_optim_steps(opt);
  wg_progress_begin(&bar, stderr, "training", go.steps);
  double held_loss = 0;
  for (;;) {
    int report = steps % REPORT == 0 || steps == go.steps;
    if (report) { /* the held-out loss now (the training step below refills the buffers) */
      fill_window(&x, held, BATCH, SEQ, idx, next);
      if (wg_forward(t)) check_tape(prog, t);
      held_loss = wg_value(t, L).data[0];
    }
    if (steps == go.steps) break;
    if (so.stop_after && steps == so.stop_after) {
      if (wg_checkpoint_save(g.m, &ck, so.checkpoint)) die(prog, wg_model_error(g.m));
      wg_progress_clear(&bar);
      printf("stopped after %ld steps: checkpoint %s\n", steps, so.checkpoint);
      goto stopped;
    }
    for (int b = 0; b < BATCH; b++)
      start[b] = (long)wg_rng_below(&windows, (uint64_t)(n_train - SEQ - 1));
    fill_window(&x, start, BATCH, SEQ, idx, next);
    wg_model_zero_grad(g.m);
    if (wg_forward(t) == WG_OK) wg_backward(t, L);
    check_tape(prog, t);
    double train_loss = wg_value(t, L).data[0];
    wg_clip_grad_norm(g.m, 5.0);
    wg_optim_step(opt);
    steps++;
    wg_progress_update(&bar, steps);
    if (report) {
      wg_progress_clear(&bar);
      printf("step %5ld  batch loss %.3f nats/char  held-out %.3f nats/char (%.3f bits)\n",
             steps - 1, train_loss, held_loss, held_loss / log(2));
      fflush(stdout);
    }
  }
  wg_progress_end(&bar);
  printf("held-out loss after %ld steps: %.3f nats per character (%.3f bits; a uniform guess "
         "over the %d characters: %.3f nats)\n", steps, held_loss, held_loss / log(2), x.V,
         log((double)x.V));
  sample(prog, &g, &x, o.seed + 3);
  if (o.save && wg_model_save(g.m, o.save)) die(prog, wg_model_error(g.m));
  if (o.save) printf("saved %s\n", o.save);
stopped:
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(g.m);
  free(x.bytes);
  free(x.code);
  return 0;
}

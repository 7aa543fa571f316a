/* check_train.c - training helpers: checkpoints (exact resume, refusals), learning-rate
 * schedules, ReduceLROnPlateau, classification and regression metrics, the progress line.
 *
 * Reference numbers come from outside the code under test:
 *  - schedules: PyTorch's closed forms and ReduceLROnPlateau's rule, written out in
 *    tests/ref/lr_ref.py (no PyTorch needed) and run as `python3 tests/ref/lr_ref.py`; its
 *    output is pasted below.
 *  - metrics: small cases worked by hand (the arithmetic is in the comments).
 *  - checkpoints: the same training run without a stop (bitwise equality, not a tolerance). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* ---- checkpoints ------------------------------------------------------------------------ */

/* A 3-feature, 2-output linear model z = X W + b fitted by MSE on fixed data; each step draws a
 * batch of 4 of the 16 rows with the generator r, and the rate follows a cosine schedule. */
#define ROWS 16
static wg_real data_x[ROWS * 3], data_y[ROWS * 2];

static void make_data(void) {
  unsigned long long s = 99;
  for (int i = 0; i < ROWS; i++) {
    for (int j = 0; j < 3; j++) data_x[i * 3 + j] = tu_uniform(&s, -1, 1);
    data_y[i * 2] = 2 * data_x[i * 3] - data_x[i * 3 + 2] + 0.5;
    data_y[i * 2 + 1] = data_x[i * 3 + 1] * 3 - 1;
  }
}

typedef struct {
  wg_model *m;
  wg_param *W, *b;
  wg_optim *o;
  wg_rng r;
  double step; /* the caller's position, kept in the checkpoint as value.step */
} run;

static void run_new(run *u, int adam, uint64_t seed) {
  u->m = wg_model_new(seed);
  ck_assert_ptr_nonnull(u->m);
  ck_assert_int_eq(wg_model_add(u->m, "W", 3, 2, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &u->W),
                   WG_OK);
  ck_assert_int_eq(wg_model_add(u->m, "b", 1, 2, (wg_init){WG_INIT_NORMAL, 0, 0.1}, &u->b), WG_OK);
  char err[256];
  u->o = wg_optim_new(u->m, adam ? wg_adam_config(0.05) : wg_sgd_config(0.1, 0.9, 0), err,
                      sizeof err);
  ck_assert_msg(u->o != NULL, "%s", err);
  wg_rng_seed(&u->r, seed + 100);
  u->step = 0;
}

static void run_free(run *u) {
  wg_optim_free(u->o);
  wg_model_free(u->m);
}

static void train(run *u, int steps) {
  wg_lr_schedule cosine = wg_lr_cosine(40, 0.001);
  wg_tape *t = wg_tape_new();
  wg_real bx[4 * 3], by[4 * 2];
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < 4; i++) {
      int k = (int)wg_rng_below(&u->r, ROWS);
      memcpy(bx + i * 3, data_x + k * 3, 3 * sizeof *bx);
      memcpy(by + i * 2, data_y + k * 2, 2 * sizeof *by);
    }
    ck_assert_int_eq(wg_lr_apply(u->o, &cosine, 0.05, (long)u->step), WG_OK);
    wg_tape_reset(t);
    wg_var X = wg_input(t, 4, 3, bx), Y = wg_input(t, 4, 2, by);
    wg_var z = wg_add(t, wg_matmul(t, X, wg_use(t, u->W)), wg_use(t, u->b));
    wg_var L = wg_mse(t, z, Y);
    wg_model_zero_grad(u->m);
    ck_assert_int_eq(wg_backward(t, L), WG_OK);
    ck_assert_int_eq(wg_optim_step(u->o), WG_OK);
    u->step++;
  }
  wg_tape_free(t);
}

static wg_checkpoint state_of(run *u, wg_checkpoint_rng *rg, wg_checkpoint_value *v) {
  *rg = (wg_checkpoint_rng){"batches", &u->r};
  *v = (wg_checkpoint_value){"step", &u->step};
  return (wg_checkpoint){u->o, rg, 1, v, 1};
}

static void tmp_path(char *buf, size_t n, const char *tag) {
  snprintf(buf, n, "/tmp/wg_check_train_%ld_%s.npz", (long)getpid(), tag);
}

static int same_bits(wg_param *a, wg_param *b) {
  wg_mat x = wg_param_value(a), y = wg_param_value(b);
  return x.rows == y.rows && x.cols == y.cols &&
         memcmp(x.data, y.data, (size_t)x.rows * x.cols * sizeof *x.data) == 0;
}

/* N steps, save, load into a fresh run (another seed: other weights and generator), M steps:
 * bitwise the parameters of N + M steps without a stop (loop index: 0 SGD momentum, 1 Adam) */
START_TEST(resume_is_bitwise) {
  int adam = _i;
  make_data();
  const int N = 17, M = 23;
  run whole, first, second;
  run_new(&whole, adam, 5);
  train(&whole, N + M);

  char path[128];
  tmp_path(path, sizeof path, adam ? "adam" : "sgd");
  run_new(&first, adam, 5);
  train(&first, N);
  wg_checkpoint_rng rg;
  wg_checkpoint_value v;
  wg_checkpoint c = state_of(&first, &rg, &v);
  ck_assert_msg(wg_checkpoint_save(first.m, &c, path) == WG_OK, "%s", wg_model_error(first.m));

  run_new(&second, adam, 6);
  ck_assert(!same_bits(second.W, first.W));
  c = state_of(&second, &rg, &v);
  ck_assert_msg(wg_checkpoint_load(second.m, &c, path) == WG_OK, "%s", wg_model_error(second.m));
  ck_assert(same_bits(second.W, first.W) && same_bits(second.b, first.b));
  ck_assert_int_eq(wg_optim_steps(second.o), N);
  ck_assert(second.step == N);
  ck_assert(memcmp(&second.r, &first.r, sizeof first.r) == 0);
  ck_assert(memcmp(wg_model_rng(second.m), wg_model_rng(first.m), sizeof(wg_rng)) == 0);
  ck_assert(wg_optim_lr(second.o) == wg_optim_lr(first.o));
  train(&second, M);
  ck_assert_msg(same_bits(second.W, whole.W) && same_bits(second.b, whole.b),
                "resumed W[0] %.17g, uninterrupted %.17g", wg_param_value(second.W).data[0],
                wg_param_value(whole.W).data[0]);
  run_free(&first);
  remove(path);
  run_free(&whole), run_free(&second);
}
END_TEST

/* the optimizer state matters: resuming with the parameters alone does not give the same */
START_TEST(parameters_alone_do_not_resume) {
  make_data();
  run whole, part;
  run_new(&whole, 1, 5);
  train(&whole, 40);
  run_new(&part, 1, 5);
  train(&part, 17);
  wg_optim_reset(part.o); /* Adam's moments and step count lost, as with wg_model_save only */
  train(&part, 23);
  ck_assert(!same_bits(part.W, whole.W));
  run_free(&whole), run_free(&part);
}
END_TEST

/* A refused load changes nothing and names what differs. */
static void refused(run *u, const wg_checkpoint *c, const char *path, wg_status want,
                    const char *needle) {
  wg_mat w = wg_param_value(u->W);
  wg_real before[6];
  memcpy(before, w.data, sizeof before);
  wg_rng r = u->r;
  double step = u->step, lr = wg_optim_lr(u->o);
  long steps = wg_optim_steps(u->o);
  wg_status st = wg_checkpoint_load(u->m, c, path);
  ck_assert_int_eq(st, want);
  ck_assert_msg(strstr(wg_model_error(u->m), needle) != NULL, "message '%s' lacks '%s'",
                wg_model_error(u->m), needle);
  ck_assert_str_eq(wg_last_error(), wg_model_error(u->m));
  ck_assert(memcmp(before, w.data, sizeof before) == 0);
  ck_assert(memcmp(&r, &u->r, sizeof r) == 0);
  ck_assert(step == u->step && lr == wg_optim_lr(u->o) && steps == wg_optim_steps(u->o));
}

START_TEST(refusals_name_what_differs) {
  make_data();
  char path[128], plain[128];
  tmp_path(path, sizeof path, "refuse");
  tmp_path(plain, sizeof plain, "plain");
  run a;
  run_new(&a, 0, 5); /* SGD with momentum */
  train(&a, 3);
  wg_checkpoint_rng rg;
  wg_checkpoint_value v;
  wg_checkpoint c = state_of(&a, &rg, &v);
  ck_assert_int_eq(wg_checkpoint_save(a.m, &c, path), WG_OK);
  ck_assert_int_eq(wg_model_save(a.m, plain), WG_OK);

  /* another optimizer: Adam finds SGD's momentum buffers */
  run b;
  run_new(&b, 1, 7);
  train(&b, 2);
  c = state_of(&b, &rg, &v);
  refused(&b, &c, path, WG_ERR_FORMAT, "optim.W.momentum.npy: this optimizer keeps no such state");
  /* no optimizer given */
  wg_checkpoint no_opt = {NULL, &rg, 1, &v, 1};
  refused(&b, &no_opt, path, WG_ERR_FORMAT, "optim.step.npy: no optimizer was given");
  /* a value the file lacks, a generator it lacks */
  double epoch = 3;
  wg_checkpoint_value two[2] = {{"step", &b.step}, {"epoch", &epoch}};
  run s;
  run_new(&s, 0, 8);
  c = state_of(&s, &rg, &v);
  c.values = two, c.n_values = 2;
  two[0].value = &s.step;
  refused(&s, &c, path, WG_ERR_FORMAT, "no value.epoch.npy (the value epoch)");
  ck_assert(epoch == 3);
  c = state_of(&s, &rg, &v);
  c.n_values = 0;
  refused(&s, &c, path, WG_ERR_FORMAT, "value.step.npy: no value of that name was given");
  c = state_of(&s, &rg, &v);
  rg.name = "other";
  refused(&s, &c, path, WG_ERR_FORMAT, "rng.batches.npy: no generator of that name was given");
  /* a model saved by wg_model_save is no checkpoint */
  c = state_of(&s, &rg, &v);
  refused(&s, &c, plain, WG_ERR_FORMAT, "no model.rng.npy (the state of generator model.rng)");
  /* the optimizer must be the model's */
  c = state_of(&b, &rg, &v);
  ck_assert_int_eq(wg_checkpoint_load(s.m, &c, path), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(s.m), "the optimizer was made for another model"));
  run_free(&a), run_free(&b), run_free(&s);
  remove(path), remove(plain);
}
END_TEST

/* the model's values and generator are left as they were */
static void refused_model(wg_model *m, const char *path, wg_status want, const char *needle) {
  wg_real before[64];
  int n = 0;
  for (int k = 0; k < wg_model_count(m); k++) {
    wg_mat v = wg_param_value(wg_model_get(m, k));
    for (int i = 0; i < v.rows * v.cols; i++) before[n++] = v.data[i];
  }
  wg_rng r = *wg_model_rng(m);
  ck_assert_int_eq(wg_checkpoint_load(m, NULL, path), want);
  ck_assert_msg(strstr(wg_model_error(m), needle) != NULL, "message '%s' lacks '%s'",
                wg_model_error(m), needle);
  n = 0;
  for (int k = 0; k < wg_model_count(m); k++) {
    wg_mat v = wg_param_value(wg_model_get(m, k));
    for (int i = 0; i < v.rows * v.cols; i++) ck_assert(before[n++] == v.data[i]);
  }
  ck_assert(memcmp(&r, wg_model_rng(m), sizeof r) == 0);
}

static wg_model *model_of(const char *names, const int *shape) {
  wg_model *m = wg_model_new(11);
  for (int k = 0; names[k]; k++) {
    char name[2] = {names[k], 0};
    ck_assert_int_eq(wg_model_add(m, name, shape[2 * k], shape[2 * k + 1],
                                  (wg_init){WG_INIT_UNIFORM, -1, 1}, NULL), WG_OK);
  }
  return m;
}

START_TEST(another_model_is_refused) {
  char path[128];
  tmp_path(path, sizeof path, "model");
  wg_model *a = model_of("Wb", (const int[]){3, 2, 1, 2});
  ck_assert_int_eq(wg_checkpoint_save(a, NULL, path), WG_OK); /* parameters + model.rng */
  wg_model *shape = model_of("Wb", (const int[]){3, 3, 1, 2});
  refused_model(shape, path, WG_ERR_SHAPE, "W.npy is (3x2), the model's parameter W is (3x3)");
  wg_model *extra = model_of("Wbc", (const int[]){3, 2, 1, 2, 1, 1});
  refused_model(extra, path, WG_ERR_FORMAT, "no c.npy (the model's parameter c)");
  wg_model *fewer = model_of("W", (const int[]){3, 2});
  refused_model(fewer, path, WG_ERR_FORMAT,
                "b.npy: the model has no parameter of that name (another model?)");
  wg_model *same = model_of("Wb", (const int[]){3, 2, 1, 2});
  wg_rng_next(wg_model_rng(same));
  ck_assert_int_eq(wg_checkpoint_load(same, NULL, path), WG_OK);
  ck_assert_str_eq(wg_model_error(same), "");
  ck_assert(memcmp(wg_model_rng(same), wg_model_rng(a), sizeof(wg_rng)) == 0);
  wg_model_free(a), wg_model_free(shape), wg_model_free(extra), wg_model_free(fewer);
  wg_model_free(same);
  remove(path);
}
END_TEST

START_TEST(checkpoint_bad_arguments) {
  wg_model *m = model_of("W", (const int[]){2, 2});
  char err[256];
  wg_optim *o = wg_optim_new(m, wg_adam_config(0.1), err, sizeof err);
  ck_assert_int_eq(wg_checkpoint_save(NULL, NULL, "x.npz"), WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), "wg_checkpoint_save: the model is NULL");
  ck_assert_int_eq(wg_checkpoint_load(NULL, NULL, "x.npz"), WG_ERR_ARG);
  ck_assert_int_eq(wg_checkpoint_save(m, NULL, NULL), WG_ERR_ARG);
  ck_assert_str_eq(wg_model_error(m), "wg_checkpoint_save: path is NULL");
  wg_rng r;
  wg_rng_seed(&r, 1);
  wg_checkpoint_rng bad_name = {"a.b", &r};
  wg_checkpoint c = {o, &bad_name, 1, NULL, 0};
  ck_assert_int_eq(wg_checkpoint_save(m, &c, "/tmp/never.npz"), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "generator 0 (a.b): a name of 1 to 47"));
  wg_checkpoint_value null_value = {"epoch", NULL};
  c = (wg_checkpoint){o, NULL, 0, &null_value, 1};
  ck_assert_int_eq(wg_checkpoint_save(m, &c, "/tmp/never.npz"), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "value 0 (epoch): its pointer is NULL"));
  c = (wg_checkpoint){o, NULL, -1, NULL, 0};
  ck_assert_int_eq(wg_checkpoint_save(m, &c, "/tmp/never.npz"), WG_ERR_ARG);
  /* a parameter whose entry would be another's: "model.rng" */
  wg_model *clash = wg_model_new(1);
  ck_assert_int_eq(wg_model_add(clash, "model.rng", 4, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL),
                   WG_OK);
  ck_assert_int_eq(wg_checkpoint_save(clash, NULL, "/tmp/never.npz"), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(clash), "would both be the entry model.rng.npy"));
  ck_assert_int_eq(wg_checkpoint_load(m, NULL, "/nonexistent/x.npz"), WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "/nonexistent/x.npz"));
  ck_assert_int_eq(access("/tmp/never.npz", F_OK), -1);
  wg_model_free(clash);
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* ---- learning-rate schedules ------------------------------------------------------------- */

static void near(double got, double want) {
  ck_assert_msg(fabs(got - want) <= TU_TOL(1e-15) * fabs(want), "got %.17g, want %.17g", got, want);
}

/* python3 tests/ref/lr_ref.py (PyTorch's closed forms), base rate 0.1 */
START_TEST(schedules_match_pytorch_closed_forms) {
  wg_lr_schedule step = wg_lr_step(3, 0.5); /* StepLR(step_size=3, gamma=0.5), e = 0..7 */
  const double step_ref[8] = {0.10000000000000001, 0.10000000000000001, 0.10000000000000001,
                              0.050000000000000003, 0.050000000000000003, 0.050000000000000003,
                              0.025000000000000001, 0.025000000000000001};
  for (long e = 0; e < 8; e++) near(wg_lr_at(&step, 0.1, e), step_ref[e]);
  wg_lr_schedule ex = wg_lr_exponential(0.9); /* ExponentialLR(0.9), e = 0, 1, 5, 20 */
  const long ex_e[4] = {0, 1, 5, 20};
  const double ex_ref[4] = {0.10000000000000001, 0.090000000000000011, 0.059049000000000011,
                            0.012157665459056936};
  for (int i = 0; i < 4; i++) near(wg_lr_at(&ex, 0.1, ex_e[i]), ex_ref[i]);
  wg_lr_schedule cos = wg_lr_cosine(10, 0.001); /* CosineAnnealingLR(T_max=10, eta_min=1e-3) */
  const long cos_e[5] = {0, 3, 5, 10, 13};
  const double cos_ref[5] = {0.10000000000000001, 0.079595369988477424, 0.050500000000000003,
                             0.001, 0.021404630011522575};
  for (int i = 0; i < 5; i++) near(wg_lr_at(&cos, 0.1, cos_e[i]), cos_ref[i]);
  wg_lr_schedule lin = wg_lr_linear(0.25, 1.0, 4); /* LinearLR(0.25, 1.0, total_iters=4) */
  const double lin_ref[6] = {0.025000000000000001, 0.043750000000000004, 0.0625,
                             0.081250000000000003, 0.10000000000000001, 0.10000000000000001};
  for (long e = 0; e < 6; e++) near(wg_lr_at(&lin, 0.1, e), lin_ref[e]);
  /* SequentialLR([LinearLR(0.1, 1.0, 5), CosineAnnealingLR(10, 1e-3)], milestones=[5]) */
  wg_lr_schedule warm = wg_lr_linear(0.1, 1.0, 5), anneal = wg_lr_cosine(10, 0.001);
  warm.next = &anneal, warm.until = 5;
  const long seq_e[6] = {0, 2, 4, 5, 10, 15};
  const double seq_ref[6] = {0.010000000000000002, 0.045999999999999999, 0.082000000000000003,
                             0.10000000000000001, 0.050500000000000003, 0.001};
  for (int i = 0; i < 6; i++) near(wg_lr_at(&warm, 0.1, seq_e[i]), seq_ref[i]);
  wg_lr_schedule constant = {WG_LR_CONSTANT, 0, 0, 0, 0, 0, 0, NULL};
  ck_assert(wg_lr_at(&constant, 0.3, 1000) == 0.3);
}
END_TEST

START_TEST(schedules_refuse_bad_fields) {
  wg_lr_schedule s = wg_lr_step(0, 0.5);
  ck_assert(wg_lr_at(&s, 0.1, 0) == -1);
  ck_assert_str_eq(wg_last_error(), "wg_lr_at: schedule 0 of the chain: STEP: period "
                   "(step_size) must be > 0");
  s = wg_lr_linear(0, 1, 5);
  ck_assert(wg_lr_at(&s, 0.1, 0) == -1);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "start factor must be in (0, 1]"));
  ck_assert(wg_lr_at(NULL, 0.1, 0) == -1);
  s = wg_lr_exponential(0.9);
  ck_assert(wg_lr_at(&s, 0.1, -1) == -1);
  ck_assert(wg_lr_at(&s, NAN, 0) == -1);
  wg_lr_schedule loop = wg_lr_exponential(0.9); /* next points back at itself */
  loop.next = &loop, loop.until = 1;
  ck_assert(wg_lr_at(&loop, 0.1, 1000) == -1);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "more than 64 schedules"));
  loop.until = 0;
  ck_assert(wg_lr_at(&loop, 0.1, 5) == -1);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "until must be > 0"));
  /* wg_lr_apply keeps the rate on error and sets it otherwise */
  wg_model *m = model_of("W", (const int[]){1, 1});
  wg_optim *o = wg_optim_new(m, wg_sgd_config(0.5, 0, 0), NULL, 0);
  s = wg_lr_step(-1, 0.5);
  ck_assert_int_eq(wg_lr_apply(o, &s, 0.1, 3), WG_ERR_ARG);
  ck_assert(wg_optim_lr(o) == 0.5);
  ck_assert_ptr_nonnull(strstr(wg_optim_error(o), "step_size"));
  s = wg_lr_step(2, 0.5);
  ck_assert_int_eq(wg_lr_apply(o, &s, 0.1, 3), WG_OK);
  ck_assert(wg_optim_lr(o) == 0.05);
  ck_assert_int_eq(wg_lr_apply(NULL, &s, 0.1, 3), WG_ERR_ARG);
  ck_assert(wg_optim_lr(NULL) == -1);
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

START_TEST(plateau_matches_pytorch_rule) {
  wg_model *m = model_of("W", (const int[]){1, 1});
  wg_optim *o = wg_optim_new(m, wg_sgd_config(0.1, 0, 0), NULL, 0);
  /* ReduceLROnPlateau(mode='min', factor=0.5, patience=2, cooldown=1, min_lr=0.01):
   * python3 tests/ref/lr_ref.py, the "plateau" line */
  wg_plateau p = wg_plateau_config(0, 0.5, 2);
  p.cooldown = 1, p.min_lr = 0.01;
  const double metric[15] = {1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8,
                             0.8, 0.8};
  const double want[15] = {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025,
                           0.025, 0.025, 0.025};
  for (int e = 0; e < 15; e++) {
    int cut = wg_plateau_step(&p, o, metric[e]);
    ck_assert_int_eq(cut, e == 4 || e == 11);
    near(wg_optim_lr(o), want[e]);
  }
  /* mode max, absolute threshold 0.1, patience 0, min_lr 0.03 (by hand): 0.5 is better than
   * -inf; 0.55 is not > 0.5 + 0.1: bad 1 > 0: 0.1 -> 0.05; 0.7 > 0.6: best 0.7; 0.75: bad:
   * 0.05 -> max(0.025, 0.03) = 0.03; 0.75 again: max(0.015, 0.03) = 0.03, no change (0). */
  wg_optim_set_lr(o, 0.1);
  p = wg_plateau_config(1, 0.5, 0);
  p.threshold_abs = 1, p.threshold = 0.1, p.min_lr = 0.03;
  const double m2[5] = {0.5, 0.55, 0.7, 0.75, 0.75}, w2[5] = {0.1, 0.05, 0.05, 0.03, 0.03};
  const int cut2[5] = {0, 1, 0, 1, 0};
  for (int e = 0; e < 5; e++) {
    ck_assert_int_eq(wg_plateau_step(&p, o, m2[e]), cut2[e]);
    near(wg_optim_lr(o), w2[e]);
  }
  ck_assert_int_eq(wg_plateau_step(&p, o, NAN), -1);
  ck_assert_str_eq(wg_last_error(), "wg_plateau_step: the metric is NaN");
  p.factor = 1;
  ck_assert_int_eq(wg_plateau_step(&p, o, 1), -1);
  ck_assert_int_eq(wg_plateau_step(NULL, o, 1), -1);
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* ---- metrics ----------------------------------------------------------------------------- */

START_TEST(confusion_precision_recall_f1_by_hand) {
  /* labels 0 0 1 1 2 2 2, predictions (argmax) 0 1 1 1 2 0 2:
   *   cm = [1 1 0; 0 2 0; 1 0 2]   (rows: true class, columns: predicted)
   *   precision = 1/2, 2/3, 2/2;  recall = 1/2, 2/2, 2/3;
   *   f1 = 1/2, 2 (2/3)(1) / (5/3) = 0.8, 0.8;  macro = 0.72222, 0.72222, 0.7 */
  wg_real scores[7 * 3] = {0};
  const int pred[7] = {0, 1, 1, 1, 2, 0, 2};
  for (int i = 0; i < 7; i++) scores[i * 3 + pred[i]] = 1;
  wg_real labels[7] = {0, 0, 1, 1, 2, 2, 2};
  long cm[9];
  ck_assert_int_eq(wg_confusion_matrix((wg_mat){7, 3, scores}, (wg_mat){7, 1, labels}, 0, 3, cm),
                   WG_OK);
  const long cm_ref[9] = {1, 1, 0, 0, 2, 0, 1, 0, 2};
  for (int k = 0; k < 9; k++) ck_assert_int_eq(cm[k], cm_ref[k]);
  double p[3], r[3], f[3], macro[3];
  ck_assert_int_eq(wg_precision_recall_f1(cm, 3, p, r, f, macro), WG_OK);
  const double p_ref[3] = {0.5, 2.0 / 3, 1}, r_ref[3] = {0.5, 1, 2.0 / 3}, f_ref[3] = {0.5, 0.8, 0.8};
  for (int c = 0; c < 3; c++) {
    ck_assert(fabs(p[c] - p_ref[c]) < TU_TOL(1e-15) && fabs(r[c] - r_ref[c]) < TU_TOL(1e-15));
    ck_assert(fabs(f[c] - f_ref[c]) < TU_TOL(1e-15));
  }
  ck_assert(fabs(macro[0] - 13.0 / 18) < TU_TOL(1e-15) && fabs(macro[1] - 13.0 / 18) < TU_TOL(1e-15));
  ck_assert(fabs(macro[2] - 0.7) < TU_TOL(1e-15));
  /* one column of logits: class 1 when > 0; a class never predicted has precision 0 (0/0) */
  wg_real z[4] = {-1, 2, 3, -4}, t[4] = {0, 1, 0, 0};
  long cm2[4];
  ck_assert_int_eq(wg_confusion_matrix((wg_mat){4, 1, z}, (wg_mat){4, 1, t}, 0, 2, cm2), WG_OK);
  ck_assert(cm2[0] == 2 && cm2[1] == 1 && cm2[2] == 0 && cm2[3] == 1);
  long none[4] = {3, 0, 1, 0}; /* class 1 never predicted, never right */
  ck_assert_int_eq(wg_precision_recall_f1(none, 2, p, r, f, NULL), WG_OK);
  ck_assert(p[1] == 0 && r[1] == 0 && f[1] == 0 && p[0] == 0.75 && r[0] == 1);
  /* bad input: named */
  labels[3] = 5;
  ck_assert_int_eq(wg_confusion_matrix((wg_mat){7, 3, scores}, (wg_mat){7, 1, labels}, 0, 3, cm),
                   WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), "wg_confusion_matrix: label 5 in row 3 is not a class index 0..2");
  ck_assert_int_eq(wg_confusion_matrix((wg_mat){7, 3, scores}, (wg_mat){6, 1, labels}, 0, 3, cm),
                   WG_ERR_SHAPE);
  ck_assert_int_eq(wg_confusion_matrix((wg_mat){7, 3, scores}, (wg_mat){7, 1, labels}, 0, 2, cm),
                   WG_ERR_ARG);
  ck_assert_int_eq(wg_precision_recall_f1(NULL, 3, p, r, f, macro), WG_ERR_ARG);
}
END_TEST

START_TEST(log_loss_by_hand) {
  /* -(log 0.7 + log 0.1) / 2 = (0.35667494393873238 + 2.3025850929940455) / 2 */
  wg_real p[6] = {0.7, 0.2, 0.1, 0.1, 0.8, 0.1}, y[2] = {0, 2};
  ck_assert(fabs(wg_log_loss((wg_mat){2, 3, p}, (wg_mat){2, 1, y}, 0) - 1.3296300184663889) <
            TU_TOL(1e-15));
  /* one column: p(class 1); -(log 0.9 + log (1 - 0.2)) / 2 */
  wg_real q[2] = {0.9, 0.2}, t[2] = {1, 0};
  ck_assert(fabs(wg_log_loss((wg_mat){2, 1, q}, (wg_mat){2, 1, t}, 0) -
                 (-(log(0.9) + log(0.8)) / 2)) < TU_TOL(1e-15));
  /* a probability of 0 is clipped to eps: -log(1e-15) = 34.538776394910684 */
  wg_real zero[2] = {0, 1}, c0[1] = {0};
  ck_assert(fabs(wg_log_loss((wg_mat){1, 2, zero}, (wg_mat){1, 1, c0}, 0) - 34.538776394910684) <
            TU_TOL(1e-12));
  wg_real bad[2] = {1.5, -0.5};
  ck_assert(wg_log_loss((wg_mat){1, 2, bad}, (wg_mat){1, 1, c0}, 0) == -1);
  ck_assert_str_eq(wg_last_error(), "wg_log_loss: probability 1.5 in row 0 is not in [0, 1]");
  y[1] = 3;
  ck_assert(wg_log_loss((wg_mat){2, 3, p}, (wg_mat){2, 1, y}, 0) == -1);
  ck_assert(wg_log_loss((wg_mat){2, 3, NULL}, (wg_mat){2, 1, y}, 0) == -1);
}
END_TEST

START_TEST(regression_metrics_by_hand) {
  /* pred [1 2; 2 4; 3 5], target [1 1; 2 3; 4 5]
   * column 0: errors 0 0 -1: mse 1/3, mae 1/3; mean 7/3, ss 16/9 + 1/9 + 25/9 = 14/3,
   *           r2 = 1 - (1)/(14/3) = 11/14
   * column 1: errors 1 1 0: mse 2/3, mae 2/3; mean 3, ss 4 + 0 + 4 = 8, r2 = 1 - 2/8 = 3/4 */
  wg_real pred[6] = {1, 2, 2, 4, 3, 5}, target[6] = {1, 1, 2, 3, 4, 5};
  wg_regression_metrics per[2], mean;
  ck_assert_int_eq(wg_regression_report((wg_mat){3, 2, pred}, (wg_mat){3, 2, target}, per, &mean),
                   WG_OK);
  ck_assert(fabs(per[0].mse - 1.0 / 3) < TU_TOL(1e-15) && fabs(per[0].mae - 1.0 / 3) < TU_TOL(1e-15));
  ck_assert(fabs(per[0].r2 - 11.0 / 14) < TU_TOL(1e-15));
  ck_assert(fabs(per[1].mse - 2.0 / 3) < TU_TOL(1e-15) && fabs(per[1].mae - 2.0 / 3) < TU_TOL(1e-15));
  ck_assert(fabs(per[1].r2 - 0.75) < TU_TOL(1e-15));
  ck_assert(fabs(mean.mse - 0.5) < TU_TOL(1e-15) && fabs(mean.mae - 0.5) < TU_TOL(1e-15));
  ck_assert(fabs(mean.r2 - (11.0 / 14 + 0.75) / 2) < TU_TOL(1e-15));
  /* a constant target: r2 1 when predicted exactly, else 0 (scikit-learn's force_finite) */
  wg_real c[2] = {2, 2}, off[2] = {2, 3};
  ck_assert_int_eq(wg_regression_report((wg_mat){2, 1, c}, (wg_mat){2, 1, c}, NULL, &mean), WG_OK);
  ck_assert(mean.r2 == 1 && mean.mse == 0);
  ck_assert_int_eq(wg_regression_report((wg_mat){2, 1, off}, (wg_mat){2, 1, c}, per, NULL), WG_OK);
  ck_assert(per[0].r2 == 0 && per[0].mse == 0.5 && per[0].mae == 0.5);
  ck_assert_int_eq(wg_regression_report((wg_mat){3, 2, pred}, (wg_mat){2, 3, target}, per, &mean),
                   WG_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "pred (3x2) and target (2x3)"));
}
END_TEST

/* ---- progress ------------------------------------------------------------------------------ */

static double fake_now;
static double fake_clock(void) {
  return fake_now;
}

static void read_back(FILE *f, char *buf, size_t n) {
  long len = ftell(f);
  ck_assert(len >= 0 && (size_t)len < n);
  rewind(f);
  ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
  buf[len] = 0;
}

START_TEST(progress_plain_lines) {
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  wg_progress p;
  fake_now = 100;
  wg_progress_begin(&p, f, "job", 100);
  ck_assert_int_eq(p.tty, 0); /* a file */
  p.clock = fake_clock, p.start = p.last = 100;
  fake_now = 101, wg_progress_update(&p, 10); /* 1 s after the start: under the interval */
  fake_now = 110, wg_progress_update(&p, 50); /* 10 s: a line; 50 in 10 s = 5/s, 50 left: 0:10 */
  fake_now = 115, wg_progress_update(&p, 60); /* 5 s after the last line: none */
  fake_now = 120, wg_progress_update(&p, 90); /* 4.5/s, 10 left: 2.2 s = 0:02 */
  fake_now = 125, wg_progress_update(&p, 100);
  wg_progress_end(&p); /* 100 in 25 s = 4.0/s */
  wg_progress_update(&p, 100); /* ended: nothing */
  char buf[512];
  read_back(f, buf, sizeof buf);
  ck_assert_str_eq(buf, "job: 50/100 (50%), 5.0/s, 0:10 left\n"
                        "job: 90/100 (90%), 4.5/s, 0:02 left\n"
                        "job: 100/100 (100%), 4.0/s, done in 25.00 s\n");
  fclose(f);
}
END_TEST

START_TEST(progress_terminal_bar) {
  FILE *f = tmpfile();
  wg_progress p;
  wg_progress_begin(&p, f, "train", 200);
  p.tty = 1, p.clock = fake_clock, p.start = p.last = fake_now = 0;
  fake_now = 0.05, wg_progress_update(&p, 5);   /* under 0.1 s: no redraw */
  fake_now = 0.5, wg_progress_update(&p, 50);   /* 100/s, 150 left: 1.5 s -> 0:02 */
  wg_progress_clear(&p);
  wg_progress_clear(&p);                        /* nothing drawn: nothing */
  fake_now = 4000, wg_progress_update(&p, 150); /* 150 in 4000 s: 0.0375/s, 50 left: 1333 s = 22:13 */
  fake_now = 4001, wg_progress_update(&p, 500); /* past the total: counted as 200 */
  wg_progress_end(&p);
  char buf[1024];
  read_back(f, buf, sizeof buf);
  ck_assert_str_eq(buf,
                   "\rtrain [#####---------------]  25% 50/200  100/s, 0:02 left\033[K"
                   "\r\033[K"
                   "\rtrain [###############-----]  75% 150/200  0.04/s, 22:13 left\033[K"
                   "\rtrain [####################] 100% 200/200  0.05/s, 0:00 left\033[K"
                   "\rtrain [####################] 100% 200/200  0.05/s, done in 4001.00 s\033[K\n");
  fclose(f);
  /* no FILE: nothing happens */
  wg_progress_begin(&p, NULL, "x", 10);
  wg_progress_update(&p, 5), wg_progress_clear(&p), wg_progress_end(&p);
  wg_progress_begin(NULL, stdout, "x", 10);
}
END_TEST

/* ---- several target columns -------------------------------------------------------------- */

static const char *write_csv(const char *tag, const char *text) {
  static char path[128];
  snprintf(path, sizeof path, "/tmp/wg_check_train_%ld_%s.csv", (long)getpid(), tag);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return path;
}

/* t1 = 10 a, t2 = 10 b: every row's targets can be checked against its features */
#define MULTI "a,t1,b,t2\n1,10,2,20\n3,30,4,40\n5,50,6,60\n7,70,8,80\n9,90,10,100\n"

static void rows_whole(const wg_dataset *d) {
  for (int i = 0; i < d->rows; i++) {
    const wg_real *x = d->x + 2 * i, *y = d->y + 2 * i;
    ck_assert_msg(y[0] == 10 * x[1] && y[1] == 10 * x[0], "row %d: x %g %g, y %g %g", i,
                  (double)x[0], (double)x[1], (double)y[0], (double)y[1]);
  }
}

START_TEST(csv_several_targets) {
  const char *path = write_csv("multi", MULTI);
  const char *names[2] = {"t2", "t1"};
  wg_dataset d;
  char err[256];
  ck_assert_msg(wg_csv_load_targets(&d, path, names, 2, err, sizeof err) == WG_OK, "%s", err);
  ck_assert(d.rows == 5 && d.cols == 2 && d.targets == 2 && wg_dataset_targets(&d) == 2);
  ck_assert_str_eq(d.names[0], "a");
  ck_assert_str_eq(d.names[1], "b");
  ck_assert_str_eq(d.target_names[0], "t2");
  ck_assert_str_eq(d.target_names[1], "t1");
  ck_assert_str_eq(d.label_name, "t2");
  ck_assert(d.y[0] == 20 && d.y[1] == 10 && d.y[8] == 100 && d.y[9] == 90);
  rows_whole(&d);
  wg_rng r;
  wg_rng_seed(&r, 3);
  wg_dataset_shuffle(&d, &r);
  rows_whole(&d);
  wg_dataset tr, te;
  ck_assert_int_eq(wg_dataset_split(&d, 0.4, &r, &tr, &te, err, sizeof err), WG_OK);
  ck_assert(tr.rows == 3 && te.rows == 2 && tr.targets == 2 && te.targets == 2);
  ck_assert_str_eq(te.target_names[1], "t1");
  rows_whole(&tr), rows_whole(&te);
  wg_batches b = wg_batches_begin(&tr, 2);
  wg_mat x, y;
  ck_assert(wg_batches_next(&b, &x, &y) && y.rows == 2 && y.cols == 2 && y.data == tr.y);
  ck_assert(wg_batches_next(&b, &x, &y) && y.rows == 1 && y.cols == 2 && y.data == tr.y + 4);
  ck_assert(!wg_batches_next(&b, &x, &y));
  wg_scaler sc;
  wg_real y_before[6];
  memcpy(y_before, tr.y, sizeof y_before);
  ck_assert_int_eq(wg_scaler_fit(&sc, &tr, err, sizeof err), WG_OK);
  ck_assert_int_eq(wg_scaler_apply(&sc, &tr, err, sizeof err), WG_OK);
  ck_assert(memcmp(y_before, tr.y, sizeof y_before) == 0); /* features only */
  wg_scaler_free(&sc);
  wg_dataset_free(&tr), wg_dataset_free(&te), wg_dataset_free(&d);
  /* wg_csv_load gives one target, named */
  ck_assert_int_eq(wg_csv_load(&d, path, "t1", -1, err, sizeof err), WG_OK);
  ck_assert(d.targets == 1 && d.cols == 3);
  ck_assert_str_eq(d.target_names[0], "t1");
  wg_dataset_free(&d);
  /* a data set built by hand (targets 0) has one target */
  wg_real hx[3] = {1, 2, 3}, hy[3] = {4, 5, 6};
  wg_dataset h = {3, 1, hx, hy, NULL, NULL, 0, NULL};
  ck_assert_int_eq(wg_dataset_targets(&h), 1);
  b = wg_batches_begin(&h, 2);
  ck_assert(wg_batches_next(&b, &x, &y) && y.cols == 1 && y.rows == 2);
  remove(path);
}
END_TEST

START_TEST(csv_several_targets_refused) {
  const char *path = write_csv("multibad", MULTI);
  wg_dataset d;
  char err[256];
  const char *missing[2] = {"t1", "t3"}, *twice[2] = {"t1", "t1"}, *all[4] = {"a", "b", "t1", "t2"};
  ck_assert_int_eq(wg_csv_load_targets(&d, path, missing, 2, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "line 1: expected a target column named 't3' in the header, "
                               "found none among its 4 columns"));
  ck_assert_str_eq(wg_last_error(), err);
  ck_assert(d.rows == 0 && !d.x && !d.y && !d.target_names);
  ck_assert_int_eq(wg_csv_load_targets(&d, path, twice, 2, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "target column 't1' is listed twice"));
  ck_assert_int_eq(wg_csv_load_targets(&d, path, all, 4, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "the 4 target columns leave no feature"));
  ck_assert_int_eq(wg_csv_load_targets(&d, path, NULL, 2, err, sizeof err), WG_ERR_ARG);
  ck_assert_int_eq(wg_csv_load_targets(&d, path, missing, 0, err, sizeof err), WG_ERR_ARG);
  const char *null_name[1] = {NULL};
  ck_assert_int_eq(wg_csv_load_targets(&d, path, null_name, 1, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "target name 0 is NULL"));
  ck_assert_int_eq(wg_csv_load_targets(NULL, path, missing, 1, err, sizeof err), WG_ERR_ARG);
  ck_assert_int_eq(wg_csv_load_targets(&d, NULL, missing, 1, err, sizeof err), WG_ERR_ARG);
  const char *bad = write_csv("multibad2", "a,t1,b,t2\n1,10,2,20\n3,x,4,40\n");
  ck_assert_int_eq(wg_csv_load_targets(&d, bad, missing, 1, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "line 3, column 2 (t1): expected a finite number, found 'x'"));
  remove(bad);
  remove(path);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("train");
  TCase *tc = tcase_create("checkpoint");
  tcase_add_loop_test(tc, resume_is_bitwise, 0, 2);
  tcase_add_test(tc, parameters_alone_do_not_resume);
  tcase_add_test(tc, refusals_name_what_differs);
  tcase_add_test(tc, another_model_is_refused);
  tcase_add_test(tc, checkpoint_bad_arguments);
  suite_add_tcase(s, tc);
  tc = tcase_create("schedule");
  tcase_add_test(tc, schedules_match_pytorch_closed_forms);
  tcase_add_test(tc, schedules_refuse_bad_fields);
  tcase_add_test(tc, plateau_matches_pytorch_rule);
  suite_add_tcase(s, tc);
  tc = tcase_create("metrics");
  tcase_add_test(tc, confusion_precision_recall_f1_by_hand);
  tcase_add_test(tc, log_loss_by_hand);
  tcase_add_test(tc, regression_metrics_by_hand);
  suite_add_tcase(s, tc);
  tc = tcase_create("progress");
  tcase_add_test(tc, progress_plain_lines);
  tcase_add_test(tc, progress_terminal_bar);
  suite_add_tcase(s, tc);
  tc = tcase_create("targets");
  tcase_add_test(tc, csv_several_targets);
  tcase_add_test(tc, csv_several_targets_refused);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

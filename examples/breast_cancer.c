/* breast_cancer.c - logistic regression and a one-hidden-layer MLP on the UCI breast cancer
 * data (569 samples, 30 features, label 1 benign / 0 malignant).
 *
 * Pipeline: CSV -> seeded 80/20 split -> standardise (fitted on the training split) ->
 * mini-batches of 32 shuffled every epoch -> Adam -> held-out accuracy.
 *   logistic regression:  z = X W + b                      W (30x1), b (1x1)
 *   MLP:                  z = relu(X W1 + b1) W2 + b2       W1 (30x16), W2 (16x1)
 *   loss:                 bce_logits(z, t) = mean(max(z,0) - z t + log1p(exp(-|z|))), t the labels
 * The tape is reset and re-recorded for every batch (the last batch is smaller); the arena
 * keeps its memory, so after the first batch nothing is allocated.
 *
 *   build/examples/breast_cancer [--model logreg|mlp|both] [--data PATH] [--epochs N]
 *                                [--seed S] [--save PATH.npz] [--load PATH.npz] */
#include "common.h"

#define USAGE "[--model logreg|mlp|both] [--data PATH] [--epochs N] [--seed S] " \
              "[--save PATH.npz] [--load PATH.npz]"
#define BATCH 32
#define HIDDEN 16

typedef struct {
  wg_model *m;
  wg_param *W1, *b1, *W2, *b2; /* logistic regression uses W1, b1 only */
  int mlp;
} net;

static void add(const char *prog, wg_model *m, const char *name, int r, int c, wg_init init,
                wg_param **p) {
  if (wg_model_add(m, name, r, c, init, p)) die(prog, wg_model_error(m));
}

static net make_net(const char *prog, int features, int mlp, unsigned long long seed) {
  net n = {wg_model_new(seed), NULL, NULL, NULL, NULL, mlp};
  if (!n.m) die(prog, "out of memory");
  wg_init zeros = {WG_INIT_ZEROS, 0, 0};
  if (mlp) {
    add(prog, n.m, "W1", features, HIDDEN, (wg_init){WG_INIT_HE_NORMAL, 0, 0}, &n.W1);
    add(prog, n.m, "b1", 1, HIDDEN, zeros, &n.b1);
    add(prog, n.m, "W2", HIDDEN, 1, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &n.W2);
    add(prog, n.m, "b2", 1, 1, zeros, &n.b2);
  } else {
    add(prog, n.m, "W", features, 1, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &n.W1);
    add(prog, n.m, "b", 1, 1, zeros, &n.b1);
  }
  return n;
}

/* logits (m x 1) of the rows of x */
static wg_var logits(wg_tape *t, const net *n, wg_var X) {
  wg_var z = wg_add(t, wg_matmul(t, X, wg_use(t, n->W1)), wg_use(t, n->b1));
  if (!n->mlp) return z;
  wg_var h = wg_relu(t, z);
  return wg_add(t, wg_matmul(t, h, wg_use(t, n->W2)), wg_use(t, n->b2));
}

/* loss and accuracy of the whole set d */
static void evaluate(const char *prog, wg_tape *t, const net *n, const wg_dataset *d,
                     double *loss, double *acc) {
  wg_tape_reset(t);
  wg_var X = wg_input(t, d->rows, d->cols, d->x), Y = wg_input(t, d->rows, 1, d->y);
  wg_var z = logits(t, n, X), L = wg_bce_logits(t, z, Y);
  check_tape(prog, t);
  *loss = wg_value(t, L).data[0];
  *acc = wg_accuracy(wg_value(t, z), (wg_mat){d->rows, 1, d->y}, 0.0); /* z > 0 <=> p > 0.5 */
}

/* the held-out report: accuracy, log loss, per-class precision / recall / F1, confusion */
static void report(const char *prog, wg_tape *t, const net *n, const wg_dataset *d) {
  wg_tape_reset(t);
  wg_var z = logits(t, n, wg_input(t, d->rows, d->cols, d->x)), p = wg_sigmoid(t, z);
  check_tape(prog, t);
  wg_mat labels = {d->rows, 1, d->y};
  long cm[4];
  double pr[2], rc[2], f1[2], ll = wg_log_loss(wg_value(t, p), labels, 0);
  if (ll < 0 || wg_confusion_matrix(wg_value(t, z), labels, 0.0, 2, cm) ||
      wg_precision_recall_f1(cm, 2, pr, rc, f1, NULL))
    die(prog, wg_last_error());
  printf("test accuracy: %.1f%%\n", 100 * wg_accuracy(wg_value(t, z), labels, 0.0));
  printf("test log loss %.4f; confusion [[%ld %ld] [%ld %ld]] (rows: true 0, 1)\n", ll, cm[0],
         cm[1], cm[2], cm[3]);
  for (int c = 0; c < 2; c++)
    printf("  class %d (%s): precision %.3f, recall %.3f, F1 %.3f\n", c,
           c ? "benign" : "malignant", pr[c], rc[c], f1[c]);
}

static void run(const char *prog, const char *title, int mlp, const options *o,
                wg_dataset *train, const wg_dataset *test) {
  printf("== %s ==\n", title);
  net n = make_net(prog, train->cols, mlp, o->seed + 1);
  if (o->load && wg_model_load(n.m, o->load)) die(prog, wg_model_error(n.m));
  char err[256];
  wg_optim *opt = wg_optim_new(n.m, wg_adam_config(mlp ? 0.005 : 0.01), err, sizeof err);
  wg_tape *t = wg_tape_new();
  if (!opt || !t) die(prog, opt ? "out of memory" : err);
  wg_rng rng;
  wg_rng_seed(&rng, o->seed + 2);
  for (long epoch = 1; epoch <= o->epochs; epoch++) {
    wg_dataset_shuffle(train, &rng);
    wg_batches b = wg_batches_begin(train, BATCH);
    wg_mat x, y;
    while (wg_batches_next(&b, &x, &y)) {
      wg_tape_reset(t);
      wg_var X = wg_input(t, x.rows, x.cols, x.data), Y = wg_input(t, y.rows, 1, y.data);
      wg_var L = wg_bce_logits(t, logits(t, &n, X), Y);
      wg_model_zero_grad(n.m);
      wg_backward(t, L);
      check_tape(prog, t);
      wg_optim_step(opt);
    }
    double loss, acc;
    evaluate(prog, t, &n, train, &loss, &acc);
    printf("epoch %3ld  loss %.4f  train accuracy %5.1f%%\n", epoch, loss, 100 * acc);
  }
  report(prog, t, &n, test);
  if (o->save && wg_model_save(n.m, o->save)) die(prog, wg_model_error(n.m));
  if (o->save) printf("saved %s\n", o->save);
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(n.m);
}

/* the seeded 80/20 split, standardised with the training split's statistics */
static void prepare(const char *prog, const options *o, const wg_dataset *all, wg_dataset *train,
                    wg_dataset *test) {
  char err[512];
  wg_rng rng;
  wg_rng_seed(&rng, o->seed);
  if (wg_dataset_split(all, 0.2, &rng, train, test, err, sizeof err)) die(prog, err);
  wg_scaler sc = {0, NULL, NULL};
  if (wg_scaler_fit(&sc, train, err, sizeof err) || wg_scaler_apply(&sc, train, err, sizeof err) ||
      wg_scaler_apply(&sc, test, err, sizeof err))
    die(prog, err);
  wg_scaler_free(&sc);
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  options o = {"examples/data/breast_cancer.csv", NULL, NULL, "both", 30, 42};
  o = parse_options(argc, argv, o, USAGE);
  int logreg = strcmp(o.model, "logreg") == 0, mlp = strcmp(o.model, "mlp") == 0;
  if (!logreg && !mlp && strcmp(o.model, "both") != 0)
    die(prog, "--model expects logreg, mlp or both");
  if ((o.save || o.load) && !logreg && !mlp)
    die(prog, "--save and --load take one model: add --model logreg or --model mlp");

  wg_dataset all, train, test;
  char err[512];
  if (wg_csv_load(&all, o.data, NULL, -1, err, sizeof err)) die(prog, err);
  for (int i = 0; i < all.rows; i++)
    if (all.y[i] != 0 && all.y[i] != 1) {
      snprintf(err, sizeof err, "%s: line %d: label %s = %g: expected 0 or 1", o.data, i + 2,
               all.label_name, all.y[i]);
      die(prog, err);
    }
  for (int k = 0; k < 2; k++) { /* each model gets the same split, in the same order */
    if ((k == 0 && mlp) || (k == 1 && logreg)) continue;
    prepare(prog, &o, &all, &train, &test);
    if (k == 0 || logreg || mlp)
      printf("%s: %d samples, %d features; train %d, test %d\n", o.data, all.rows, all.cols,
             train.rows, test.rows);
    run(prog, k == 0 ? "logistic regression" : "MLP 30-16-1 (relu)", k, &o, &train, &test);
    wg_dataset_free(&train), wg_dataset_free(&test);
  }
  wg_dataset_free(&all);
  return 0;
}

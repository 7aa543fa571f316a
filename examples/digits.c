/* digits.c - a softmax MLP on the UCI handwritten digits (1797 images of 8x8 pixels, 0..16,
 * label 0..9).
 *
 *   z = relu(X W1 + b1) W2 + b2        W1 (64x64), W2 (64x10): one logit per class
 *   L = softmax_ce(z, c) = mean_i [ logsumexp(z_i) - z_i,c_i ],  dz = (softmax(z) - onehot)/m,
 *   c: the labels, c_i the class of sample i
 * Seeded 80/20 split, standardisation fitted on the training split, mini-batches of 32
 * shuffled every epoch, Adam; the tape is reset and re-recorded per batch.
 *
 *   build/examples/digits [--data PATH] [--epochs N] [--seed S] [--save PATH.npz]
 *                         [--load PATH.npz] [--stop-after STEPS --checkpoint PATH.npz]
 *                         [--resume PATH.npz]
 *
 * Stop and resume: --stop-after N --checkpoint F trains N optimizer steps (batches), writes the
 * whole training state to F (wg_checkpoint_save: weights, Adam's moments and step count, the
 * generators, the epoch, the batch and the seed) and exits; --resume F loads it and trains on.
 * The resumed run ends with bitwise the weights of a run without a stop (make models-check
 * compares them). The order of the training rows is not stored: it is the seeded split
 * shuffled once per epoch, so the resumed run rebuilds it by replaying the epochs' shuffles,
 * and checks that this leaves the generator where the checkpoint says. Progress goes to
 * stderr (wg_progress: a bar on a terminal, otherwise a line every 10 s and one at the end).
 * The batches, the stop, the resume and the bar are examples/training.h's (shared with
 * examples/cnn_digits.c); this file holds the model, its training step and its report. */
#include "training.h"

#define USAGE "[--data PATH] [--epochs N] [--seed S] [--save PATH.npz] [--load PATH.npz] " \
              "[--stop-after STEPS --checkpoint PATH.npz] [--resume PATH.npz]"
#define BATCH 32
#define HIDDEN 64

typedef struct {
  wg_model *m;
  wg_param *W1, *b1, *W2, *b2;
} net;

static wg_var logits(wg_tape *t, const net *n, wg_var X) {
  wg_var h = wg_relu(t, wg_add(t, wg_matmul(t, X, wg_use(t, n->W1)), wg_use(t, n->b1)));
  return wg_add(t, wg_matmul(t, h, wg_use(t, n->W2)), wg_use(t, n->b2));
}

static void evaluate(const char *prog, wg_tape *t, const net *n, const wg_dataset *d,
                     double *loss, double *acc) {
  wg_tape_reset(t);
  wg_var X = wg_input(t, d->rows, d->cols, d->x), Y = wg_input(t, d->rows, 1, d->y);
  wg_var z = logits(t, n, X), L = wg_softmax_ce(t, z, Y);
  check_tape(prog, t);
  *loss = wg_value(t, L).data[0];
  *acc = wg_accuracy(wg_value(t, z), (wg_mat){d->rows, 1, d->y}, 0);
}

/* The held-out report: accuracy, log loss, macro precision / recall / F1, confusion matrix. */
static void report(const char *prog, wg_tape *t, const net *n, const wg_dataset *d, int classes) {
  wg_tape_reset(t);
  wg_var X = wg_input(t, d->rows, d->cols, d->x);
  wg_var z = logits(t, n, X), P = wg_softmax(t, z);
  check_tape(prog, t);
  wg_mat labels = {d->rows, 1, d->y};
  long cm[100];
  double macro[3], ll = wg_log_loss(wg_value(t, P), labels, 0);
  if (classes > 10 || ll < 0 ||
      wg_confusion_matrix(wg_value(t, z), labels, 0, classes, cm) ||
      wg_precision_recall_f1(cm, classes, NULL, NULL, NULL, macro))
    die(prog, classes > 10 ? "the report prints at most 10 classes" : wg_last_error());
  printf("test accuracy: %.1f%%\n", 100 * wg_accuracy(wg_value(t, z), labels, 0));
  printf("test log loss %.4f; macro precision %.3f, recall %.3f, F1 %.3f\n", ll, macro[0],
         macro[1], macro[2]);
  printf("confusion matrix (rows: true class, columns: predicted):\n");
  for (int i = 0; i < classes; i++) {
    printf("  %d:", i);
    for (int j = 0; j < classes; j++) printf(" %3ld", cm[i * classes + j]);
    printf("\n");
  }
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  options o = {"examples/data/digits.csv", NULL, NULL, NULL, 20, 42};
  stop_options so = {0, NULL, NULL};
  argc = take_stop_options(argc, argv, 1000000000, USAGE, &so);
  o = parse_options(argc, argv, o, USAGE);

  wg_dataset all, train, test;
  char err[512];
  if (wg_csv_load(&all, o.data, NULL, -1, err, sizeof err)) die(prog, err);
  int classes = 0;
  for (int i = 0; i < all.rows; i++) {
    wg_real c = all.y[i];
    if (!(c >= 0 && c < 1000 && c == (int)c)) {
      snprintf(err, sizeof err, "%s: line %d: label %s = %g: expected a class index 0..999",
               o.data, i + 2, all.label_name, c);
      die(prog, err);
    }
    if ((int)c + 1 > classes) classes = (int)c + 1;
  }
  if (classes < 2) die(prog, "the labels hold fewer than 2 classes");
  wg_rng rng;
  wg_rng_seed(&rng, o.seed);
  if (wg_dataset_split(&all, 0.2, &rng, &train, &test, err, sizeof err)) die(prog, err);
  wg_scaler sc = {0, NULL, NULL};
  if (wg_scaler_fit(&sc, &train, err, sizeof err) || wg_scaler_apply(&sc, &train, err, sizeof err) ||
      wg_scaler_apply(&sc, &test, err, sizeof err))
    die(prog, err);
  printf("%s: %d samples, %d features, %d classes; train %d, test %d\n", o.data, all.rows,
         all.cols, classes, train.rows, test.rows);

  net n = {wg_model_new(o.seed + 1), NULL, NULL, NULL, NULL};
  if (!n.m) die(prog, "out of memory");
  wg_init zeros = {WG_INIT_ZEROS, 0, 0};
  if (wg_model_add(n.m, "W1", train.cols, HIDDEN, (wg_init){WG_INIT_HE_NORMAL, 0, 0}, &n.W1) ||
      wg_model_add(n.m, "b1", 1, HIDDEN, zeros, &n.b1) ||
      wg_model_add(n.m, "W2", HIDDEN, classes, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &n.W2) ||
      wg_model_add(n.m, "b2", 1, classes, zeros, &n.b2))
    die(prog, wg_model_error(n.m));
  if (o.load && wg_model_load(n.m, o.load)) die(prog, wg_model_error(n.m));
  wg_optim *opt = wg_optim_new(n.m, wg_adam_config(0.002), err, sizeof err);
  wg_tape *t = wg_tape_new();
  if (!opt || !t) die(prog, opt ? "out of memory" : err);

  training tr; /* training.h: the shuffled batches, --stop-after, --resume, the progress bar */
  training_begin(&tr, prog, &o, &so, n.m, opt, &train, BATCH);
  for (long epoch = (long)tr.epoch_at; epoch <= o.epochs; epoch++) {
    wg_batches b = training_epoch(&tr, &train, epoch);
    wg_mat x, y;
    while (training_batch(&tr, &b, &x, &y)) {
      wg_tape_reset(t);
      wg_var X = wg_input(t, x.rows, x.cols, x.data), Y = wg_input(t, y.rows, 1, y.data);
      wg_var L = wg_softmax_ce(t, logits(t, &n, X), Y);
      wg_model_zero_grad(n.m);
      wg_backward(t, L);
      check_tape(prog, t);
      wg_optim_step(opt);
      wg_progress_update(&tr.bar, wg_optim_steps(opt));
    }
    if (tr.stopped) goto stopped; /* the checkpoint is written */
    double loss, acc;
    evaluate(prog, t, &n, &train, &loss, &acc);
    wg_progress_clear(&tr.bar);
    printf("epoch %3ld  loss %.4f  train accuracy %5.1f%%\n", epoch, loss, 100 * acc);
    fflush(stdout);
  }
  wg_progress_end(&tr.bar);
  report(prog, t, &n, &test, classes);
  if (o.save && wg_model_save(n.m, o.save)) die(prog, wg_model_error(n.m));
  if (o.save) printf("saved %s\n", o.save);
stopped:
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(n.m);
  wg_scaler_free(&sc);
  wg_dataset_free(&all), wg_dataset_free(&train), wg_dataset_free(&test);
  return 0;
}

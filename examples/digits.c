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
 * stderr (wg_progress: a bar on a terminal, otherwise a line every 10 s and one at the end). */
#include "common.h"

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

/* --stop-after, --checkpoint, --resume: taken out of argv before parse_options sees it */
typedef struct {
  long stop_after;
  const char *checkpoint, *resume;
} stop_options;

static int take_stop_options(int argc, char **argv, stop_options *so) {
  int k = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int ours = strcmp(a, "--stop-after") == 0 || strcmp(a, "--checkpoint") == 0 ||
               strcmp(a, "--resume") == 0;
    if (!ours) {
      argv[k++] = argv[i];
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s: %s needs a value\nusage: %s %s\n", argv[0], a, argv[0], USAGE);
      exit(2);
    }
    const char *v = argv[++i];
    if (strcmp(a, "--stop-after") == 0) so->stop_after = parse_long(argv[0], a, v, 1, 1000000000);
    else if (strcmp(a, "--checkpoint") == 0) so->checkpoint = v;
    else so->resume = v;
  }
  if (!so->stop_after != !so->checkpoint) {
    fprintf(stderr, "%s: --stop-after and --checkpoint go together\n", argv[0]);
    exit(2);
  }
  return k;
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  options o = {"examples/data/digits.csv", NULL, NULL, NULL, 20, 42};
  stop_options so = {0, NULL, NULL};
  argc = take_stop_options(argc, argv, &so);
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

  /* The training state a checkpoint holds besides the model and the optimizer: the shuffling
   * generator, the epoch under way (1-based), the batches of it done, and the seed. */
  wg_rng shuffle;
  wg_rng_seed(&shuffle, o.seed + 2);
  double epoch_at = 1, batch_at = 0, seed = (double)o.seed;
  wg_checkpoint_rng ck_rngs[1] = {{"shuffle", &shuffle}};
  wg_checkpoint_value ck_values[3] = {{"epoch", &epoch_at}, {"batch", &batch_at}, {"seed", &seed}};
  wg_checkpoint ck = {opt, ck_rngs, 1, ck_values, 3};
  if (so.resume) {
    if (wg_checkpoint_load(n.m, &ck, so.resume)) die(prog, wg_model_error(n.m));
    if (seed != (double)o.seed) {
      snprintf(err, sizeof err, "%s was saved with --seed %.0f, not %llu", so.resume, seed,
               o.seed);
      die(prog, err);
    }
    /* the rows' order at the stop: the seeded split shuffled once per epoch 1..epoch_at */
    wg_rng replay;
    wg_rng_seed(&replay, o.seed + 2);
    for (long e = 1; e <= (long)epoch_at; e++) wg_dataset_shuffle(&train, &replay);
    if (memcmp(&replay, &shuffle, sizeof replay) != 0) die(prog, "the checkpoint's shuffling "
                                                           "generator does not match its epoch");
    printf("resumed from %s: epoch %.0f, batch %.0f, step %ld\n", so.resume, epoch_at, batch_at,
           wg_optim_steps(opt));
  }
  long per_epoch = (train.rows + BATCH - 1) / BATCH, steps = wg_optim_steps(opt);
  wg_progress bar;
  wg_progress_begin(&bar, stderr, "training", o.epochs * per_epoch);
  for (long epoch = (long)epoch_at; epoch <= o.epochs; epoch++) {
    int resuming = so.resume && epoch == (long)epoch_at;
    if (!resuming) wg_dataset_shuffle(&train, &shuffle);
    wg_batches b = wg_batches_begin(&train, BATCH);
    wg_mat x, y;
    for (long k = 0; wg_batches_next(&b, &x, &y); k++) {
      if (resuming && k < (long)batch_at) continue; /* done before the stop */
      if (so.stop_after && steps == so.stop_after) {
        epoch_at = (double)epoch, batch_at = (double)k;
        if (wg_checkpoint_save(n.m, &ck, so.checkpoint)) die(prog, wg_model_error(n.m));
        wg_progress_clear(&bar);
        printf("stopped after %ld steps (epoch %ld, batch %ld of %ld): checkpoint %s\n", steps,
               epoch, k, per_epoch, so.checkpoint);
        goto stopped;
      }
      wg_tape_reset(t);
      wg_var X = wg_input(t, x.rows, x.cols, x.data), Y = wg_input(t, y.rows, 1, y.data);
      wg_var L = wg_softmax_ce(t, logits(t, &n, X), Y);
      wg_model_zero_grad(n.m);
      wg_backward(t, L);
      check_tape(prog, t);
      wg_optim_step(opt);
      wg_progress_update(&bar, ++steps);
    }
    double loss, acc;
    evaluate(prog, t, &n, &train, &loss, &acc);
    wg_progress_clear(&bar);
    printf("epoch %3ld  loss %.4f  train accuracy %5.1f%%\n", epoch, loss, 100 * acc);
    fflush(stdout);
  }
  wg_progress_end(&bar);
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

/* cnn_digits.c - a small convolutional network on the UCI handwritten digits (1797 images of
 * 8x8 pixels, 0..16, label 0..9), beside the dense MLP of examples/digits.c on the same split.
 *
 *   X (m x 64)  one image per row, pixels / 16
 *   H1 = relu(conv2d(X, K1) + c1)   K1 (1*3*3 x 16): 3x3 kernels, 1 -> 16 channels, stride 1,
 *                                   padding 1: H1 (m x 16*8*8); c1 (1 x 1024) is a bias per
 *                                   output pixel (the row layout has no per-channel broadcast)
 *   H2 = relu(conv2d(H1, K2) + c2)  K2 (16*3*3 x 32): 16 -> 32 channels, the same 3x3 windows:
 *                                   H2 (m x 32*8*8), c2 (1 x 2048)
 *   P = maxpool2d(H2, 2x2, stride 2) (m x 32*4*4)
 *   z = P W + b                     W (512 x 10), b (1 x 10): one logit per class
 *   L = softmax_ce(z, labels)
 * (One convolution, 16 channels, then pool and dense reached 97.2% on the default split with
 * 15 epochs, 96.9% with 40; the second convolution brings it to 98.3%.)
 * Seeded 80/20 split (the split of examples/digits.c for the same --seed), mini-batches of 32
 * shuffled every epoch, Adam (0.002); the tape is reset and re-recorded per batch. At the end
 * the same split trains examples/digits.c's MLP (standardised pixels, 64 hidden relu units,
 * its seeds and schedule, so its number is the one digits prints) for the comparison line.
 *
 *   build/examples/cnn_digits [--data PATH] [--epochs N] [--seed S] [--save PATH.npz]
 *                             [--load PATH.npz] [--stop-after STEPS --checkpoint PATH.npz]
 *                             [--resume PATH.npz]
 *
 * Stop and resume work as in examples/digits.c: --stop-after N --checkpoint F trains N
 * optimizer steps and writes the whole training state (wg_checkpoint_save: weights, Adam's
 * state, the shuffling generator, epoch, batch, seed); --resume F loads it and trains on, and
 * ends with bitwise the weights of a run without a stop (make models-check compares them). */
#include "training.h"

#define USAGE "[--data PATH] [--epochs N] [--seed S] [--save PATH.npz] [--load PATH.npz] " \
              "[--stop-after STEPS --checkpoint PATH.npz] [--resume PATH.npz]"
#define BATCH 32
#define CH1 16 /* channels of the first convolution */
#define CH2 32 /* and of the second */

static const wg_conv2d_shape conv1 = {1, 8, 8, 3, 3, 1, 1}, conv2 = {CH1, 8, 8, 3, 3, 1, 1};
static const wg_pool2d_shape pool = {CH2, 8, 8, 2, 2};

typedef struct {
  wg_model *m;
  wg_param *K1, *c1, *K2, *c2, *W, *b;
} cnn;

static wg_var cnn_logits(wg_tape *t, const cnn *n, wg_var X) {
  wg_var h1 = wg_relu(t, wg_add(t, wg_conv2d(t, X, wg_use(t, n->K1), conv1), wg_use(t, n->c1)));
  wg_var h2 = wg_relu(t, wg_add(t, wg_conv2d(t, h1, wg_use(t, n->K2), conv2), wg_use(t, n->c2)));
  wg_var p = wg_maxpool2d(t, h2, pool);
  return wg_add(t, wg_matmul(t, p, wg_use(t, n->W)), wg_use(t, n->b));
}

/* accuracy (and mean loss) of the network on a whole data set */
static void evaluate(const char *prog, wg_tape *t, const cnn *n, const wg_dataset *d,
                     double *loss, double *acc) {
  wg_tape_reset(t);
  wg_var X = wg_input(t, d->rows, d->cols, d->x), Y = wg_input(t, d->rows, 1, d->y);
  wg_var z = cnn_logits(t, n, X), L = wg_softmax_ce(t, z, Y);
  check_tape(prog, t);
  *loss = wg_value(t, L).data[0];
  *acc = wg_accuracy(wg_value(t, z), (wg_mat){d->rows, 1, d->y}, 0);
}

/* examples/digits.c's MLP with its seeds and schedule: z = relu(X W1 + b1) W2 + b2, 20
 * epochs; returns its held-out accuracy */
static double dense_baseline(const char *prog, const wg_dataset *all, unsigned long long seed) {
  wg_dataset train, test;
  char err[512];
  wg_rng rng;
  wg_rng_seed(&rng, seed);
  if (wg_dataset_split(all, 0.2, &rng, &train, &test, err, sizeof err)) die(prog, err);
  wg_scaler sc = {0, NULL, NULL};
  if (wg_scaler_fit(&sc, &train, err, sizeof err) || wg_scaler_apply(&sc, &train, err, sizeof err) ||
      wg_scaler_apply(&sc, &test, err, sizeof err))
    die(prog, err);
  wg_model *m = wg_model_new(seed + 1);
  wg_param *W1, *b1, *W2, *b2;
  wg_init zeros = {WG_INIT_ZEROS, 0, 0};
  if (!m || wg_model_add(m, "W1", 64, 64, (wg_init){WG_INIT_HE_NORMAL, 0, 0}, &W1) ||
      wg_model_add(m, "b1", 1, 64, zeros, &b1) ||
      wg_model_add(m, "W2", 64, 10, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &W2) ||
      wg_model_add(m, "b2", 1, 10, zeros, &b2))
    die(prog, m ? wg_model_error(m) : "out of memory");
  wg_optim *opt = wg_optim_new(m, wg_adam_config(0.002), err, sizeof err);
  wg_tape *t = wg_tape_new();
  if (!opt || !t) die(prog, opt ? "out of memory" : err);
  wg_rng shuffle;
  wg_rng_seed(&shuffle, seed + 2);
  for (int epoch = 1; epoch <= 20; epoch++) {
    wg_dataset_shuffle(&train, &shuffle);
    wg_batches bt = wg_batches_begin(&train, BATCH);
    wg_mat x, y;
    while (wg_batches_next(&bt, &x, &y)) {
      wg_tape_reset(t);
      wg_var X = wg_input(t, x.rows, x.cols, x.data), Y = wg_input(t, y.rows, 1, y.data);
      wg_var h = wg_relu(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
      wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, W2)), wg_use(t, b2));
      wg_model_zero_grad(m);
      wg_backward(t, wg_softmax_ce(t, z, Y));
      check_tape(prog, t);
      wg_optim_step(opt);
    }
  }
  wg_tape_reset(t);
  wg_var X = wg_input(t, test.rows, test.cols, test.x);
  wg_var h = wg_relu(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
  wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, W2)), wg_use(t, b2));
  check_tape(prog, t);
  double acc = wg_accuracy(wg_value(t, z), (wg_mat){test.rows, 1, test.y}, 0);
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(m);
  wg_scaler_free(&sc);
  wg_dataset_free(&train), wg_dataset_free(&test);
  return acc;
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
  if (all.cols != 64) {
    snprintf(err, sizeof err, "%s has %d feature columns, not the 64 pixels of an 8x8 image",
             o.data, all.cols);
    die(prog, err);
  }
  for (int i = 0; i < all.rows; i++) {
    wg_real c = all.y[i];
    if (!(c >= 0 && c < 10 && c == (int)c)) {
      snprintf(err, sizeof err, "%s: line %d: label %s = %g: expected a digit 0..9", o.data,
               i + 2, all.label_name, c);
      die(prog, err);
    }
  }
  wg_rng rng;
  wg_rng_seed(&rng, o.seed);
  if (wg_dataset_split(&all, 0.2, &rng, &train, &test, err, sizeof err)) die(prog, err);
  for (size_t i = 0; i < (size_t)train.rows * 64; i++) train.x[i] /= 16;
  for (size_t i = 0; i < (size_t)test.rows * 64; i++) test.x[i] /= 16;
  printf("%s: %d images of 8x8, 10 classes; train %d, test %d\n", o.data, all.rows, train.rows,
         test.rows);

  cnn n = {wg_model_new(o.seed + 1), NULL, NULL, NULL, NULL, NULL, NULL};
  if (!n.m) die(prog, "out of memory");
  wg_init zeros = {WG_INIT_ZEROS, 0, 0}, he = {WG_INIT_HE_NORMAL, 0, 0};
  if (wg_model_add(n.m, "K1", 9, CH1, he, &n.K1) ||
      wg_model_add(n.m, "c1", 1, CH1 * 64, zeros, &n.c1) ||
      wg_model_add(n.m, "K2", CH1 * 9, CH2, he, &n.K2) ||
      wg_model_add(n.m, "c2", 1, CH2 * 64, zeros, &n.c2) ||
      wg_model_add(n.m, "W", CH2 * 16, 10, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &n.W) ||
      wg_model_add(n.m, "b", 1, 10, zeros, &n.b))
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
      wg_var L = wg_softmax_ce(t, cnn_logits(t, &n, X), Y);
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
  double loss, acc;
  evaluate(prog, t, &n, &test, &loss, &acc);
  printf("test accuracy: %.1f%% (%d of %d held-out images), test loss %.4f\n", 100 * acc,
         (int)(acc * test.rows + 0.5), test.rows, loss);
  printf("dense MLP of examples/digits.c on the same split: test accuracy %.1f%%\n",
         100 * dense_baseline(prog, &all, o.seed));
  if (o.save && wg_model_save(n.m, o.save)) die(prog, wg_model_error(n.m));
  if (o.save) printf("saved %s\n", o.save);
stopped:
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(n.m);
  wg_dataset_free(&all), wg_dataset_free(&train), wg_dataset_free(&test);
  return 0;
}

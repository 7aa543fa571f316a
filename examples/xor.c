/* xor.c - the smallest network that needs a hidden layer: XOR with 2 inputs, 2 tanh hidden
 * units and 1 output.
 *
 * No line w1 x1 + w2 x2 + b separates {(0,1), (1,0)} from {(0,0), (1,1)}, so logistic
 * regression cannot exceed 3 of 4; two hidden units can (roughly: one detects "x1 or x2",
 * the other "x1 and x2", the output takes "or and not and").
 *   z = tanh(X W1 + b1) W2 + b2     W1 (2x2), b1 (1x2), W2 (2x1), b2 (1x1)
 *   L = bce_logits(z, t)       t: the labels
 * The four points are the whole batch, so the tape is recorded once and replayed with
 * wg_forward after each Adam step.
 *
 * 2-2-1 is small enough to have real local minima: from about half of the random starts the
 * two tanh units both saturate on x1 and the net is stuck at loss log(2)/2 = 0.347 with two
 * points at p = 0.5 (the gradient there is ~1e-5). So when a run ends below 100% the example
 * restarts: fresh weights from the same seeded generator and wg_optim_reset (at most 10
 * attempts; none with --load). There is nothing to hold out: "test accuracy" is measured
 * on the four points again (or on --data, a CSV of x1,x2,label rows, if given).
 *
 *   build/examples/xor [--data PATH] [--epochs N] [--seed S] [--save PATH.npz] [--load PATH.npz] */
#include <math.h>

#include "common.h"

#define USAGE "[--data PATH] [--epochs N] [--seed S] [--save PATH.npz] [--load PATH.npz]"

int main(int argc, char **argv) {
  const char *prog = argv[0];
  options o = {NULL, NULL, NULL, NULL, 300, 42};
  o = parse_options(argc, argv, o, USAGE);

  wg_real table_x[8] = {0, 0, 0, 1, 1, 0, 1, 1}, table_y[4] = {0, 1, 1, 0};
  wg_dataset d = {4, 2, table_x, table_y, NULL, NULL, 1, NULL},
             file = {0, 0, NULL, NULL, NULL, NULL, 0, NULL};
  char err[512];
  if (o.data) {
    if (wg_csv_load(&file, o.data, NULL, -1, err, sizeof err)) die(prog, err);
    if (file.cols != 2) die(prog, "--data: expected 2 feature columns and a label");
    for (int i = 0; i < file.rows; i++)
      if (file.y[i] != 0 && file.y[i] != 1) die(prog, "--data: labels must be 0 or 1");
    d = file;
  }

  wg_model *m = wg_model_new(o.seed);
  wg_param *W1 = NULL, *b1 = NULL, *W2 = NULL, *b2 = NULL;
  wg_init zeros = {WG_INIT_ZEROS, 0, 0}, xavier = {WG_INIT_XAVIER_NORMAL, 0, 0};
  if (!m) die(prog, "out of memory");
  if (wg_model_add(m, "W1", 2, 2, xavier, &W1) || wg_model_add(m, "b1", 1, 2, zeros, &b1) ||
      wg_model_add(m, "W2", 2, 1, xavier, &W2) || wg_model_add(m, "b2", 1, 1, zeros, &b2))
    die(prog, wg_model_error(m));
  if (o.load && wg_model_load(m, o.load)) die(prog, wg_model_error(m));
  wg_optim *opt = wg_optim_new(m, wg_adam_config(0.05), err, sizeof err);
  wg_tape *t = wg_tape_new();
  if (!opt || !t) die(prog, opt ? "out of memory" : err);

  /* record once */
  wg_var X = wg_input(t, d.rows, 2, d.x), Y = wg_input(t, d.rows, 1, d.y);
  wg_var h = wg_tanh(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
  wg_var z = wg_add(t, wg_matmul(t, h, wg_use(t, W2)), wg_use(t, b2));
  wg_var L = wg_bce_logits(t, z, Y);
  check_tape(prog, t);
  wg_mat labels = {d.rows, 1, d.y};
  for (int attempt = 1;; attempt++) {
    for (long epoch = 1; epoch <= o.epochs; epoch++) {
      wg_model_zero_grad(m);
      wg_backward(t, L);
      wg_optim_step(opt);
      wg_forward(t); /* replay on the updated weights */
      check_tape(prog, t);
      printf("epoch %3ld  loss %.4f  train accuracy %5.1f%%\n", epoch, wg_value(t, L).data[0],
             100 * wg_accuracy(wg_value(t, z), labels, 0));
    }
    if (o.load || attempt == 10 || wg_accuracy(wg_value(t, z), labels, 0) == 1) break;
    printf("stuck in a local minimum (loss %.4f): restart %d with fresh weights\n",
           wg_value(t, L).data[0], attempt + 1);
    for (int k = 0; k < wg_model_count(m); k++) {
      wg_param *p = wg_model_get(m, k);
      wg_init_fill(wg_param_value(p), k % 2 ? zeros : xavier, wg_model_rng(m));
    }
    wg_optim_reset(opt);
    wg_forward(t);
  }
  wg_mat zv = wg_value(t, z);
  for (int i = 0; i < d.rows; i++)
    printf("  x = (%g, %g)  y = %g  p = %.3f\n", d.x[2 * i], d.x[2 * i + 1], d.y[i],
           1 / (1 + exp(-zv.data[i])));
  printf("test accuracy: %.1f%%\n", 100 * wg_accuracy(zv, labels, 0));
  if (o.save && wg_model_save(m, o.save)) die(prog, wg_model_error(m));
  if (o.save) printf("saved %s\n", o.save);
  wg_tape_free(t);
  wg_optim_free(opt);
  wg_model_free(m);
  wg_dataset_free(&file);
  return 0;
}

/* linnerud.c - multi-output regression on the Linnerud data (20 men; 3 exercises: Chins,
 * Situps, Jumps; 3 physiological targets: Weight, Waist, Pulse), loaded with
 * wg_csv_load_targets.
 *
 *   Z = X W + b                    W (3x3), b (1x3): the three targets at once
 *   L = mse(Z, T) = mean_ij (Z_ij - T_ij)^2,  T the standardised targets
 * Twenty rows are too few for a held-out split, so the score is leave-one-out: for each row,
 * standardise features and targets with the other 19 rows' statistics, fit the model on those
 * 19 (Adam, full batch, --epochs steps), and predict the row left out. The 20 predictions (in
 * the targets' units) are scored per target with MSE, MAE and R^2 (wg_regression_report),
 * beside the baseline that predicts the 19 rows' mean. A last fit on all 20 rows gives the
 * in-sample scores, for comparison.
 *
 *   build/examples/linnerud [--data PATH] [--epochs N] [--seed S] */
#include <math.h>

#include "common.h"

#define USAGE "[--data PATH] [--epochs N] [--seed S]"
#define MAXROWS 1000

/* column means and population standard deviations (0 -> 1) of the rows != skip of v (m x n);
 * skip -1 keeps every row */
static void stats(const wg_real *v, int m, int n, int skip, double *mean, double *sd) {
  int used = skip >= 0 ? m - 1 : m;
  for (int j = 0; j < n; j++) {
    double s = 0, ss = 0;
    for (int i = 0; i < m; i++)
      if (i != skip) s += v[i * n + j];
    mean[j] = s / used;
    for (int i = 0; i < m; i++)
      if (i != skip) ss += (v[i * n + j] - mean[j]) * (v[i * n + j] - mean[j]);
    sd[j] = sqrt(ss / used);
    if (sd[j] == 0) sd[j] = 1;
  }
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  options o = {"examples/data/linnerud.csv", NULL, NULL, NULL, 300, 42};
  o = parse_options(argc, argv, o, USAGE);
  if (o.save || o.load) die(prog, "--save and --load are not used here");
  const char *targets[3] = {"Weight", "Waist", "Pulse"};
  wg_dataset d;
  char err[512];
  if (wg_csv_load_targets(&d, o.data, targets, 3, err, sizeof err)) die(prog, err);
  int m = d.rows, f = d.cols, k = d.targets;
  if (m < 3 || m > MAXROWS || f > 16 || k != 3)
    die(prog, "expected 3 to 1000 rows, at most 16 features and 3 targets");
  printf("%s: %d samples, %d features (%s, %s, %s), %d targets (%s, %s, %s)\n", o.data, m, f,
         d.names[0], f > 1 ? d.names[1] : "", f > 2 ? d.names[2] : "", k, d.target_names[0],
         d.target_names[1], d.target_names[2]);

  static wg_real xs[MAXROWS * 16], ts[MAXROWS * 3], pred[MAXROWS * 3], base[MAXROWS * 3],
      fit[MAXROWS * 3];
  wg_tape *t = wg_tape_new();
  if (!t) die(prog, "out of memory");
  wg_progress bar;
  wg_progress_begin(&bar, stderr, "fits", m + 1);
  for (int out = 0; out <= m; out++) { /* out = m: the in-sample fit on every row */
    int skip = out < m ? out : -1, rows = out < m ? m - 1 : m;
    double xm[16], xsd[16], tm[3], tsd[3];
    stats(d.x, m, f, skip, xm, xsd);
    stats(d.y, m, k, skip, tm, tsd);
    for (int i = 0, r = 0; i < m; i++) { /* the training rows, standardised */
      if (i == skip) continue;
      for (int j = 0; j < f; j++) xs[r * f + j] = (d.x[i * f + j] - xm[j]) / xsd[j];
      for (int j = 0; j < k; j++) ts[r * k + j] = (d.y[i * k + j] - tm[j]) / tsd[j];
      r++;
    }
    wg_model *model = wg_model_new(o.seed);
    wg_param *W, *b;
    if (!model || wg_model_add(model, "W", f, k, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &W) ||
        wg_model_add(model, "b", 1, k, (wg_init){WG_INIT_ZEROS, 0, 0}, &b))
      die(prog, model ? wg_model_error(model) : "out of memory");
    wg_optim *opt = wg_optim_new(model, wg_adam_config(0.05), err, sizeof err);
    if (!opt) die(prog, err);
    wg_tape_reset(t);
    wg_var X = wg_input(t, rows, f, xs), T = wg_input(t, rows, k, ts);
    wg_var L = wg_mse(t, wg_add(t, wg_matmul(t, X, wg_use(t, W)), wg_use(t, b)), T);
    for (long step = 0; step < o.epochs; step++) {
      if (step > 0) wg_forward(t); /* same shapes every step: replay */
      wg_model_zero_grad(model);
      wg_backward(t, L);
      wg_optim_step(opt);
    }
    check_tape(prog, t);
    /* z = ((x - mean) / sd) W + b, back in the targets' units: the row left out, or (the
     * in-sample fit) every row */
    wg_mat w = wg_param_value(W), bb = wg_param_value(b);
    for (int i = out < m ? out : 0; i < (out < m ? out + 1 : m); i++)
      for (int j = 0; j < k; j++) {
        double z = bb.data[j];
        for (int q = 0; q < f; q++) z += (d.x[i * f + q] - xm[q]) / xsd[q] * w.data[q * k + j];
        (out < m ? pred : fit)[i * k + j] = (wg_real)(tm[j] + tsd[j] * z);
        if (out < m) base[i * k + j] = (wg_real)tm[j];
      }
    wg_optim_free(opt);
    wg_model_free(model);
    wg_progress_update(&bar, out + 1);
  }
  wg_progress_end(&bar);
  wg_regression_metrics per[3], mean, bper[3], bmean, fper[3], fmean;
  wg_mat truth = {m, k, d.y};
  if (wg_regression_report((wg_mat){m, k, pred}, truth, per, &mean) ||
      wg_regression_report((wg_mat){m, k, base}, truth, bper, &bmean) ||
      wg_regression_report((wg_mat){m, k, fit}, truth, fper, &fmean))
    die(prog, wg_last_error());
  printf("leave-one-out, %d fits of %ld Adam steps; linear model vs. the training mean:\n", m,
         o.epochs);
  printf("  target    MSE (mean)          MAE (mean)       R^2 (mean)\n");
  for (int j = 0; j < k; j++)
    printf("  %-7s %8.2f (%8.2f)  %7.2f (%7.2f)  %6.3f (%6.3f)\n", d.target_names[j], per[j].mse,
           bper[j].mse, per[j].mae, bper[j].mae, per[j].r2, bper[j].r2);
  printf("  average %8.2f (%8.2f)  %7.2f (%7.2f)  %6.3f (%6.3f)\n", mean.mse, bmean.mse,
         mean.mae, bmean.mae, mean.r2, bmean.r2);
  printf("in-sample (fitted on all %d rows): R^2 %s %.3f, %s %.3f, %s %.3f; average %.3f\n", m,
         d.target_names[0], fper[0].r2, d.target_names[1], fper[1].r2, d.target_names[2],
         fper[2].r2, fmean.r2);
  wg_tape_free(t);
  wg_dataset_free(&d);
  return 0;
}

/* metrics.c - classification and regression metrics on plain matrices: argmax, accuracy,
 * confusion matrix, precision / recall / F1, log loss, MSE / MAE / R^2. */
#include <math.h>

#include "wengert.h"
#include "tape/error.h"

/* idx_i = the first j with x_ij = max_k x_ik */
wg_status wg_argmax_rows(wg_mat x, int *idx) {
  if (!x.data || !idx || x.rows <= 0 || x.cols <= 0) {
    wg_set_last_error("wg_argmax_rows: %s", !x.data ? "x.data is NULL" : !idx ? "idx is NULL"
                      : "x has a non-positive dimension");
    return WG_ERR_ARG;
  }
  for (int i = 0; i < x.rows; i++) {
    const wg_real *xi = x.data + (size_t)i * x.cols;
    int best = 0;
    for (int j = 1; j < x.cols; j++)
      if (xi[j] > xi[best]) best = j;
    idx[i] = best;
  }
  return WG_OK;
}

/* (1/m) #{i : prediction_i == label_i}; prediction = argmax (k > 1) or [score > threshold] */
double wg_accuracy(wg_mat scores, wg_mat labels, double threshold) {
  if (!scores.data || !labels.data || scores.rows <= 0 || scores.cols <= 0 ||
      labels.rows != scores.rows || labels.cols != 1) {
    wg_set_last_error("wg_accuracy: scores (%dx%d)%s and labels (%dx%d)%s: expected scores "
                      "(m x k) and labels (m x 1), m, k >= 1", scores.rows, scores.cols,
                      scores.data ? "" : " without data", labels.rows, labels.cols,
                      labels.data ? "" : " without data");
    return -1;
  }
  long right = 0;
  for (int i = 0; i < scores.rows; i++) {
    const wg_real *si = scores.data + (size_t)i * scores.cols;
    int pred = 0;
    if (scores.cols == 1) pred = si[0] > threshold;
    else
      for (int j = 1; j < scores.cols; j++)
        if (si[j] > si[pred]) pred = j;
    right += (double)pred == (double)labels.data[i];
  }
  return (double)right / scores.rows;
}

/* ---- confusion matrix, precision / recall / F1, log loss, regression --------------------- */

/* the class predicted for row i: argmax (k > 1) or [score > threshold] (k = 1) */
static int predicted(wg_mat scores, int i, double threshold) {
  const wg_real *si = scores.data + (size_t)i * scores.cols;
  if (scores.cols == 1) return si[0] > threshold;
  int pred = 0;
  for (int j = 1; j < scores.cols; j++)
    if (si[j] > si[pred]) pred = j;
  return pred;
}

/* the label of row i as a class index in 0..classes-1, or -1 */
static int label_of(wg_mat labels, int i, int classes) {
  double c = labels.data[i];
  return c >= 0 && c < classes && c == (double)(int)c ? (int)c : -1;
}

static int shapes_ok(const char *who, wg_mat scores, wg_mat labels) {
  if (scores.data && labels.data && scores.rows > 0 && scores.cols > 0 &&
      labels.rows == scores.rows && labels.cols == 1)
    return 1;
  wg_set_last_error("%s: scores (%dx%d)%s and labels (%dx%d)%s: expected scores (m x k) and "
                    "labels (m x 1), m, k >= 1", who, scores.rows, scores.cols,
                    scores.data ? "" : " without data", labels.rows, labels.cols,
                    labels.data ? "" : " without data");
  return 0;
}

/* cm[t][p] = #{i : label_i = t, prediction_i = p} */
wg_status wg_confusion_matrix(wg_mat scores, wg_mat labels, double threshold, int classes,
                              long *cm) {
  if (!shapes_ok("wg_confusion_matrix", scores, labels)) return WG_ERR_SHAPE;
  if (!cm || classes < 2 || (scores.cols > 1 && scores.cols > classes)) {
    wg_set_last_error("wg_confusion_matrix: %s", !cm ? "cm is NULL" : classes < 2 ?
                      "classes must be >= 2" : "scores has more columns than classes");
    return WG_ERR_ARG;
  }
  for (int i = 0; i < labels.rows; i++)
    if (label_of(labels, i, classes) < 0) {
      wg_set_last_error("wg_confusion_matrix: label %g in row %d is not a class index 0..%d",
                        (double)labels.data[i], i, classes - 1);
      return WG_ERR_ARG;
    }
  for (size_t k = 0; k < (size_t)classes * (size_t)classes; k++) cm[k] = 0;
  for (int i = 0; i < scores.rows; i++)
    cm[(size_t)label_of(labels, i, classes) * classes + predicted(scores, i, threshold)]++;
  return WG_OK;
}

/* precision_c = tp / predicted c, recall_c = tp / truly c, f1 their harmonic mean; 0 / 0 = 0 */
wg_status wg_precision_recall_f1(const long *cm, int classes, double *precision, double *recall,
                                 double *f1, double *macro) {
  if (!cm || classes < 1) {
    wg_set_last_error("wg_precision_recall_f1: %s", !cm ? "cm is NULL" : "classes must be >= 1");
    return WG_ERR_ARG;
  }
  double sp = 0, sr = 0, sf = 0;
  for (int c = 0; c < classes; c++) {
    long tp = cm[(size_t)c * classes + c], pred = 0, truth = 0;
    for (int k = 0; k < classes; k++)
      pred += cm[(size_t)k * classes + c], truth += cm[(size_t)c * classes + k];
    double p = pred ? (double)tp / (double)pred : 0, r = truth ? (double)tp / (double)truth : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (precision) precision[c] = p;
    if (recall) recall[c] = r;
    if (f1) f1[c] = f;
    sp += p, sr += r, sf += f;
  }
  if (macro) macro[0] = sp / classes, macro[1] = sr / classes, macro[2] = sf / classes;
  return WG_OK;
}

/* -(1/m) sum_i log clip(p_i,label_i, eps, 1 - eps) */
double wg_log_loss(wg_mat probs, wg_mat labels, double eps) {
  if (!shapes_ok("wg_log_loss", probs, labels)) return -1;
  if (!(eps > 0 && eps < 0.5)) eps = 1e-15;
  int classes = probs.cols == 1 ? 2 : probs.cols;
  double sum = 0;
  for (int i = 0; i < probs.rows; i++) {
    int c = label_of(labels, i, classes);
    if (c < 0) {
      wg_set_last_error("wg_log_loss: label %g in row %d is not a class index 0..%d",
                        (double)labels.data[i], i, classes - 1);
      return -1;
    }
    const wg_real *pi = probs.data + (size_t)i * probs.cols;
    double p = probs.cols == 1 ? (c ? pi[0] : 1 - pi[0]) : pi[c];
    if (!(p >= 0 && p <= 1)) {
      wg_set_last_error("wg_log_loss: probability %g in row %d is not in [0, 1]", p, i);
      return -1;
    }
    sum -= log(p < eps ? eps : p > 1 - eps ? 1 - eps : p);
  }
  return sum / probs.rows;
}

wg_status wg_regression_report(wg_mat pred, wg_mat target, wg_regression_metrics *per,
                               wg_regression_metrics *mean) {
  if (!pred.data || !target.data || pred.rows <= 0 || pred.cols <= 0 ||
      pred.rows != target.rows || pred.cols != target.cols) {
    wg_set_last_error("wg_regression_report: pred (%dx%d)%s and target (%dx%d)%s: expected two "
                      "(m x n) matrices, m, n >= 1", pred.rows, pred.cols,
                      pred.data ? "" : " without data", target.rows, target.cols,
                      target.data ? "" : " without data");
    return WG_ERR_SHAPE;
  }
  int m = pred.rows, n = pred.cols;
  wg_regression_metrics avg = {0, 0, 0};
  for (int j = 0; j < n; j++) {
    double tmean = 0, se = 0, ae = 0, ss = 0;
    for (int i = 0; i < m; i++) tmean += target.data[(size_t)i * n + j];
    tmean /= m;
    for (int i = 0; i < m; i++) {
      double t = target.data[(size_t)i * n + j], d = pred.data[(size_t)i * n + j] - t;
      se += d * d, ae += fabs(d), ss += (t - tmean) * (t - tmean);
    }
    wg_regression_metrics r = {se / m, ae / m, ss > 0 ? 1 - se / ss : se == 0 ? 1 : 0};
    if (per) per[j] = r;
    avg.mse += r.mse / n, avg.mae += r.mae / n, avg.r2 += r.r2 / n;
  }
  if (mean) *mean = avg;
  return WG_OK;
}

/* metrics.c - row-wise argmax and classification accuracy on plain matrices. */
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

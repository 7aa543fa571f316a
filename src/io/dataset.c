/* dataset.c - a wg_dataset in memory: its buffers, shuffling, the train/test split, the
 * standardising scaler and mini-batches. Reading one from a file is csv.c's job.
 *
 * Rows are samples: x is (rows x cols) row-major, y (rows x targets). The split and the scaler
 * report errors as every call with no object does (wengert.h, "Error model"): the returned
 * status and the caller's err buffer, through wg_errf, which also sets wg_last_error(). */
#include <math.h>
#include <string.h>

#include "io/dataset.h"
#include "io/file.h"
#include "model/model.h"
#include "tape/alloc.h"

/* ---- the dataset's memory ------------------------------------------------------------------ */

void wg_dataset_free(wg_dataset *d) {
  if (!d) return;
  if (d->names)
    for (int j = 0; j < d->cols; j++)
      if (d->names[j]) wg_free(d->names[j], strlen(d->names[j]) + 1);
  wg_free(d->names, (size_t)d->cols * sizeof *d->names);
  if (d->label_name) wg_free(d->label_name, strlen(d->label_name) + 1);
  if (d->target_names)
    for (int k = 0; k < d->targets; k++)
      if (d->target_names[k]) wg_free(d->target_names[k], strlen(d->target_names[k]) + 1);
  wg_free(d->target_names, (size_t)(d->targets > 0 ? d->targets : 0) * sizeof *d->target_names);
  wg_free(d->x, (size_t)d->rows * (size_t)d->cols * sizeof *d->x);
  wg_free(d->y, (size_t)d->rows * (size_t)wg_dataset_targets(d) * sizeof *d->y);
  memset(d, 0, sizeof *d);
}

/* targets 0 (a data set built by hand before the field existed) means one */
int wg_dataset_targets(const wg_dataset *d) {
  return d && d->targets > 1 ? d->targets : 1;
}

/* x (rows x cols), y (rows x targets), a names array of NULLs for the cols features and one of
 * the targets; 0 on OOM or when a size does not fit size_t (d then freed and empty) */
int wg_dataset_alloc(wg_dataset *d, int rows, int cols, int targets) {
  memset(d, 0, sizeof *d);
  size_t n, x_bytes, ny, y_bytes, name_bytes;
  if (rows <= 0 || cols <= 0 || targets <= 0 || !wg_mul_size((size_t)rows, (size_t)cols, &n) ||
      !wg_mul_size(n, sizeof *d->x, &x_bytes) || !wg_mul_size((size_t)rows, (size_t)targets, &ny) ||
      !wg_mul_size(ny, sizeof *d->y, &y_bytes) || !wg_mul_size((size_t)cols, sizeof *d->names, &name_bytes))
    return 0;
  d->rows = rows, d->cols = cols, d->targets = targets;
  d->x = wg_alloc(x_bytes);
  d->y = wg_alloc(y_bytes);
  d->names = wg_alloc_zero(name_bytes);
  d->target_names = wg_alloc_zero((size_t)targets * sizeof *d->target_names);
  if (d->x && d->y && d->names && d->target_names) return 1;
  wg_dataset_free(d);
  return 0;
}

/* copy the column names of src into d (same cols); 0 on OOM */
static int copy_names(wg_dataset *d, const wg_dataset *src) {
  for (int j = 0; j < d->cols; j++)
    if (src->names && src->names[j] && !(d->names[j] = wg_strdup(src->names[j]))) return 0;
  for (int k = 0; src->target_names && k < d->targets; k++)
    if (src->target_names[k] && !(d->target_names[k] = wg_strdup(src->target_names[k]))) return 0;
  return !src->label_name || (d->label_name = wg_strdup(src->label_name)) != NULL;
}

/* ---- shuffling, splitting, standardising, batching ------------------------------------------ */

static void swap_rows(wg_dataset *d, int a, int b) {
  wg_real *xa = d->x + (size_t)a * d->cols, *xb = d->x + (size_t)b * d->cols, t;
  for (int j = 0; j < d->cols; j++) t = xa[j], xa[j] = xb[j], xb[j] = t;
  int nt = wg_dataset_targets(d);
  wg_real *ya = d->y + (size_t)a * nt, *yb = d->y + (size_t)b * nt;
  for (int k = 0; k < nt; k++) t = ya[k], ya[k] = yb[k], yb[k] = t;
}

/* Fisher-Yates: for i = n-1 .. 1 swap row i with a uniform row in 0..i */
void wg_dataset_shuffle(wg_dataset *d, wg_rng *r) {
  if (!d || !r) return;
  for (int i = d->rows - 1; i > 0; i--) swap_rows(d, i, (int)wg_rng_below(r, (uint64_t)i + 1));
}

static int copy_part(wg_dataset *dst, const wg_dataset *src, int from, int rows) {
  int nt = wg_dataset_targets(src);
  if (!wg_dataset_alloc(dst, rows, src->cols, nt)) return 0;
  memcpy(dst->x, src->x + (size_t)from * src->cols, (size_t)rows * src->cols * sizeof *dst->x);
  memcpy(dst->y, src->y + (size_t)from * nt, (size_t)rows * nt * sizeof *dst->y);
  if (copy_names(dst, src)) return 1;
  wg_dataset_free(dst);
  return 0;
}

wg_status wg_dataset_split(const wg_dataset *all, double test_fraction, wg_rng *r,
                           wg_dataset *train, wg_dataset *test, char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!all || !r || !train || !test || !all->x)
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_dataset_split: NULL argument");
  memset(train, 0, sizeof *train), memset(test, 0, sizeof *test);
  if (!(test_fraction > 0 && test_fraction < 1))
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_dataset_split: test fraction %g is not in (0, 1)",
                   test_fraction);
  int n_test = (int)floor(test_fraction * all->rows + 0.5);
  if (n_test < 1 || n_test >= all->rows)
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_dataset_split: %d rows cannot be split %g test "
                   "(each part needs a row)", all->rows, test_fraction);
  wg_dataset mix;
  if (!copy_part(&mix, all, 0, all->rows))
    return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_dataset_split: out of memory");
  wg_dataset_shuffle(&mix, r);
  int ok = copy_part(test, &mix, 0, n_test) && copy_part(train, &mix, n_test, all->rows - n_test);
  wg_dataset_free(&mix);
  if (ok) return WG_OK;
  wg_dataset_free(test), wg_dataset_free(train);
  return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_dataset_split: out of memory");
}

void wg_scaler_free(wg_scaler *s) {
  if (!s) return;
  wg_free(s->mean, (size_t)s->cols * sizeof *s->mean);
  wg_free(s->std, (size_t)s->cols * sizeof *s->std);
  memset(s, 0, sizeof *s);
}

/* mean_j = (1/m) sum_i x_ij;  std_j = sqrt((1/m) sum_i (x_ij - mean_j)^2), 0 -> 1 */
wg_status wg_scaler_fit(wg_scaler *s, const wg_dataset *d, char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!s || !d || !d->x || d->rows <= 0)
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_scaler_fit: NULL or empty argument");
  s->cols = d->cols;
  s->mean = wg_alloc_zero((size_t)d->cols * sizeof *s->mean);
  s->std = wg_alloc_zero((size_t)d->cols * sizeof *s->std);
  if (!s->mean || !s->std) {
    wg_scaler_free(s);
    return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_scaler_fit: out of memory");
  }
  for (int i = 0; i < d->rows; i++)
    for (int j = 0; j < d->cols; j++) s->mean[j] += d->x[(size_t)i * d->cols + j];
  for (int j = 0; j < d->cols; j++) s->mean[j] /= d->rows;
  for (int i = 0; i < d->rows; i++)
    for (int j = 0; j < d->cols; j++) {
      wg_real c = d->x[(size_t)i * d->cols + j] - s->mean[j];
      s->std[j] += c * c;
    }
  for (int j = 0; j < d->cols; j++) {
    s->std[j] = sqrt(s->std[j] / d->rows);
    if (s->std[j] == 0) s->std[j] = 1;
  }
  return WG_OK;
}

/* x_ij = (x_ij - mean_j) / std_j */
wg_status wg_scaler_apply(const wg_scaler *s, wg_dataset *d, char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!s || !d || !s->mean || !d->x)
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_scaler_apply: NULL or unfitted argument");
  if (s->cols != d->cols)
    return wg_errf(err, errlen, WG_ERR_SHAPE, "wg_scaler_apply: fitted on %d columns, the data "
                   "has %d", s->cols, d->cols);
  for (int i = 0; i < d->rows; i++)
    for (int j = 0; j < d->cols; j++) {
      wg_real *v = &d->x[(size_t)i * d->cols + j];
      *v = (*v - s->mean[j]) / s->std[j];
    }
  return WG_OK;
}

wg_batches wg_batches_begin(const wg_dataset *d, int batch_size) {
  wg_batches b = {d, batch_size > 0 ? batch_size : 1, 0};
  return b;
}

int wg_batches_next(wg_batches *b, wg_mat *x, wg_mat *y) {
  if (!b || !b->d || b->pos >= b->d->rows) return 0;
  int n = b->d->rows - b->pos < b->size ? b->d->rows - b->pos : b->size;
  if (x) *x = (wg_mat){n, b->d->cols, b->d->x + (size_t)b->pos * b->d->cols};
  int nt = wg_dataset_targets(b->d);
  if (y) *y = (wg_mat){n, nt, b->d->y + (size_t)b->pos * nt};
  b->pos += n;
  return 1;
}

/* fuzz_csv.c - libFuzzer target: the CSV loader (wg_csv_load) and what follows it in a
 * training program (wg_dataset_split, wg_scaler_fit / apply, wg_batches).
 *
 * Input: a control byte (fuzz_io.h: allocation failure injection below 192; its low 2 bits
 * choose the label: the last column, a column named "label", column 0, column 5) and the bytes
 * of the file. On success every feature, label and name is read, and the contract checked:
 * rows and cols positive, every value finite; then the set is split, standardised and walked
 * in batches. On failure the status must be a documented one, with a message, and the dataset
 * empty. Nothing may crash, leak or hit undefined behaviour. */
#include <math.h>

#include "fuzz_io.h"

static void check_set(const wg_dataset *d) {
  if (d->rows <= 0 || d->cols <= 0 || !d->x || !d->y || !d->names || !d->label_name) abort();
  size_t n = (size_t)d->rows * (size_t)d->cols;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(d->x[i])) abort();
  for (int i = 0; i < d->rows; i++)
    if (!isfinite(d->y[i])) abort();
  size_t len = strlen(d->label_name);
  for (int j = 0; j < d->cols; j++) len += strlen(d->names[j]);
  fz_sink = (double)len;
}

static void use(wg_dataset *d) {
  wg_rng r;
  wg_rng_seed(&r, 1);
  wg_dataset train = {0}, test = {0};
  wg_scaler sc = {0};
  char err[256];
  if (d->rows >= 2 && wg_dataset_split(d, 0.5, &r, &train, &test, err, sizeof err) == WG_OK) {
    if (train.rows + test.rows != d->rows) abort();
    if (wg_scaler_fit(&sc, &train, err, sizeof err) == WG_OK) {
      if (wg_scaler_apply(&sc, &test, err, sizeof err) != WG_OK) abort();
      fz_touch(test.x, (size_t)test.rows * (size_t)test.cols);
    }
  }
  wg_batches b = wg_batches_begin(d, 3);
  wg_mat x, y;
  int seen = 0;
  while (wg_batches_next(&b, &x, &y)) {
    fz_touch(x.data, (size_t)x.rows * (size_t)x.cols);
    fz_touch(y.data, (size_t)y.rows);
    seen += x.rows;
  }
  if (seen != d->rows) abort();
  wg_scaler_free(&sc);
  wg_dataset_free(&train);
  wg_dataset_free(&test);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static ca_state st;
  fz_alloc_begin(&st, data[0]);
  const char *label_name = (data[0] & 3) == 1 ? "label" : NULL;
  int label_index = (data[0] & 3) == 2 ? 0 : (data[0] & 3) == 3 ? 5 : -1;
  const char *in = fz_path("csv");
  fz_write(in, data + 1, size - 1);
  char err[256] = "";
  wg_dataset d;
  memset(&d, 0x5a, sizeof d); /* garbage: the loader must set every field */
  wg_status s = wg_csv_load(&d, in, label_name, label_index, err, sizeof err);
  remove(in);
  if (s == WG_OK) {
    check_set(&d);
    use(&d);
  } else {
    if (s != WG_ERR_FORMAT && s != WG_ERR_NOMEM && s != WG_ERR_IO) abort();
    if (d.x || d.y || d.names || d.label_name || d.rows || d.cols) abort();
    fz_message(err, sizeof err);
  }
  wg_dataset_free(&d);
  fz_alloc_end(&st);
  return 0;
}

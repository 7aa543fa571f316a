/* fuzz_npy.c - libFuzzer target: the .npy reader (wg_npy_load) and writer (wg_npy_save).
 *
 * Input: a control byte (fuzz_io.h: allocation failure injection) and the bytes of a .npy
 * file. The file is loaded; on success every element is read, the matrix is saved again (as
 * 2-D, and as 1-D when it is a row or a column) and loaded back, and the second load must give
 * the same shape and the same bits. On failure the status must be one of the documented ones,
 * with a message, and the matrix empty. Nothing may crash, leak or hit undefined behaviour. */
#include "fuzz_io.h"

static void round_trip(wg_mat m, int ndim) {
  const char *out = fz_path("npy_out");
  char err[256] = "";
  wg_mat back = {0, 0, NULL};
  wg_status s = wg_npy_save(out, m, ndim, err, sizeof err);
  if (s == WG_OK) s = wg_npy_load(out, &back, err, sizeof err);
  remove(out);
  if (s == WG_ERR_NOMEM) return; /* an injected failure */
  if (s != WG_OK) abort();        /* what was read must be writable and readable again */
  if (back.rows != (ndim == 1 ? 1 : m.rows) || back.cols * back.rows != m.rows * m.cols ||
      memcmp(back.data, m.data, (size_t)m.rows * (size_t)m.cols * sizeof *m.data) != 0)
    abort();
  wg_npy_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static ca_state st;
  fz_alloc_begin(&st, data[0]);
  const char *in = fz_path("npy_in");
  fz_write(in, data + 1, size - 1);
  char err[256] = "";
  wg_mat m = {7, 7, (wg_real *)&st}; /* garbage: the loader must clear it on failure */
  wg_status s = wg_npy_load(in, &m, err, sizeof err);
  remove(in);
  if (s == WG_OK) {
    if (m.rows <= 0 || m.cols <= 0 || !m.data) abort();
    fz_touch(m.data, (size_t)m.rows * (size_t)m.cols);
    round_trip(m, 2);
    if (m.rows == 1 || m.cols == 1) round_trip(m, 1);
    wg_npy_free(&m);
    if (m.data || m.rows || m.cols) abort();
  } else {
    if (s != WG_ERR_FORMAT && s != WG_ERR_NOMEM && s != WG_ERR_IO) abort();
    if (m.data || m.rows || m.cols) abort();
    fz_message(err, sizeof err);
  }
  fz_alloc_end(&st);
  return 0;
}

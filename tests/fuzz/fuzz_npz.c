/* fuzz_npz.c - libFuzzer target: the model loader (wg_model_load, an .npz zip of .npy files)
 * and, on what it accepts, the writer (wg_model_save).
 *
 * Input: a control byte (fuzz_io.h: allocation failure injection) and the bytes of the file.
 * The model has two parameters, W (2x3) and b (1x3), as the seeds in seeds/fuzz_npz/ (made by
 * numpy.savez and by our own writer). On success every value is read, the model is saved and
 * loaded into a second model, which must then hold the same bits. On failure the status must
 * be a documented one, the model must say why (wg_model_error) and its values must be
 * unchanged. Nothing may crash, leak or hit undefined behaviour. */
#include "fuzz_io.h"

static wg_model *make_model(uint64_t seed) {
  wg_model *m = wg_model_new(seed);
  wg_init u = {WG_INIT_UNIFORM, -1, 1};
  if (m && (wg_model_add(m, "W", 2, 3, u, NULL) || wg_model_add(m, "b", 1, 3, u, NULL))) {
    wg_model_free(m);
    m = NULL;
  }
  return m;
}

/* the values of m's parameters, in order, into v (6 + 3) */
static void values(const wg_model *m, wg_real *v) {
  for (int k = 0, off = 0; k < wg_model_count(m); k++) {
    wg_mat w = wg_param_value(wg_model_get(m, k));
    memcpy(v + off, w.data, (size_t)w.rows * (size_t)w.cols * sizeof *v);
    off += w.rows * w.cols;
  }
}

static void round_trip(wg_model *m) {
  const char *out = fz_path("npz_out");
  wg_model *m2 = make_model(99);
  if (!m2) return; /* an injected failure */
  wg_status s = wg_model_save(m, out);
  if (s == WG_OK) s = wg_model_load(m2, out);
  remove(out);
  if (s != WG_OK && s != WG_ERR_NOMEM) abort(); /* what was read must save and load again */
  if (s == WG_OK) {
    wg_real a[9], b[9];
    values(m, a), values(m2, b);
    if (memcmp(a, b, sizeof a) != 0) abort();
  }
  wg_model_free(m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static ca_state st;
  fz_alloc_begin(&st, data[0]);
  wg_model *m = make_model(1);
  if (m) {
    const char *in = fz_path("npz_in");
    fz_write(in, data + 1, size - 1);
    wg_real before[9], after[9];
    values(m, before);
    wg_status s = wg_model_load(m, in);
    remove(in);
    values(m, after);
    fz_touch(after, 9);
    if (s == WG_OK) {
      if (wg_model_error(m)[0]) abort();
      round_trip(m);
    } else {
      if (s != WG_ERR_FORMAT && s != WG_ERR_SHAPE && s != WG_ERR_NOMEM && s != WG_ERR_IO) abort();
      fz_message(wg_model_error(m), 256);
      if (memcmp(before, after, sizeof before) != 0) abort(); /* "the model is unchanged" */
    }
    wg_model_free(m);
  }
  fz_alloc_end(&st);
  return 0;
}

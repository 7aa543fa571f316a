/* check_io.c - CSV datasets, splitting, standardisation, batches, .npy and .npz.
 *
 * References come from outside the code under test: values written into the CSV text, hand
 * computed means and standard deviations, NumPy (files it wrote: tests/data/, or written at
 * test time by /usr/bin/python3 when it has numpy; and NumPy reading files written here), the
 * CRC-32 check value of "123456789" (0xCBF43926, the catalogue value of CRC-32/ISO-HDLC). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "countalloc.h"
#include "io/file.h"
#include "io/npy.h"
#include "io/npz.h"
#include "tape/alloc.h"
#include "testutil.h"

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/wg_io_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static const char *path_of(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static const char *write_text(const char *name, const char *text) {
  const char *p = path_of(name);
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return p;
}

static void write_bytes(const char *p, const unsigned char *b, size_t n) {
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(b, 1, n, f), n);
  fclose(f);
}

static int have_numpy(void) {
  return system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* ---- CSV --------------------------------------------------------------------------------------- */

START_TEST(csv_loads_values_names_and_label) {
  const char *p = write_text("a.csv", "a, b ,label,c\n1,2,0,3\r\n-4.5,5e-1,1,6\n\n\n");
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_OK); /* label: last, c */
  ck_assert_int_eq(d.rows, 2);
  ck_assert_int_eq(d.cols, 3);
  ck_assert_str_eq(d.names[1], "b");
  ck_assert_str_eq(d.label_name, "c");
  const wg_real x[6] = {1, 2, 0, -4.5, 0.5, 1}, y[2] = {3, 6};
  ck_assert(memcmp(d.x, x, sizeof x) == 0 && memcmp(d.y, y, sizeof y) == 0);
  wg_dataset_free(&d);
  ck_assert_int_eq(wg_csv_load(&d, p, "label", -1, err, sizeof err), WG_OK);
  const wg_real x2[6] = {1, 2, 3, -4.5, 0.5, 6}, y2[2] = {0, 1};
  ck_assert(memcmp(d.x, x2, sizeof x2) == 0 && memcmp(d.y, y2, sizeof y2) == 0);
  ck_assert_str_eq(d.names[2], "c");
  wg_dataset_free(&d);
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, 0, err, sizeof err), WG_OK); /* by index */
  ck_assert_str_eq(d.label_name, "a");
  ck_assert(d.y[1] == -4.5 && d.x[0] == 2);
  wg_dataset_free(&d);
}
END_TEST

typedef struct {
  const char *text, *label;
  int index;
  const char *expect[3]; /* substrings of the message */
} csv_bad;

static const csv_bad bad_csv[] = {
    {"", NULL, -1, {"line 1", "empty file", NULL}},
    {"\n1,2\n", NULL, -1, {"line 1", "header", NULL}},
    {"a,b\n", NULL, -1, {"line 2", "no", NULL}},
    {"a,b,c\n1,2,3\n4,5\n", NULL, -1, {"line 3", "expected 3", "found 2"}},
    {"a,b,c\n1,2,3\n4,5,6,7\n", NULL, -1, {"line 3", "found 4", NULL}},
    {"a,b,c\n1,2,3\n4,x5,6\n", NULL, -1, {"line 3, column 2 (b)", "expected a finite number", "'x5'"}},
    {"a,b,c\n1,,3\n", NULL, -1, {"line 2, column 2 (b)", "empty field", NULL}},
    {"a,b,c\n1,2,nan\n", NULL, -1, {"line 2, column 3 (c)", "finite", NULL}},
    {"a,b,c\n1,2,1e999\n", NULL, -1, {"line 2, column 3", NULL, NULL}},
    {"a,b,c\n1,-1e999,3\n", NULL, -1, {"line 2, column 2 (b)", "finite", NULL}},
    {"a,b,c\n1,2,3\n\n4,5,6\n", NULL, -1, {"line 3", "empty line", NULL}},
    {"a,b,c\n1,2,3\n", "label", -1, {"line 1", "'label'", NULL}},
    {"a,b,c\n1,2,3\n", NULL, 3, {"line 1", "label column 3", NULL}},
    {"a,,c\n1,2,3\n", NULL, -1, {"line 1, column 2", "column name", NULL}},
    {"a\n1\n", NULL, -1, {"at least 2 columns", NULL, NULL}},
};

START_TEST(csv_errors_name_line_and_column) {
  const csv_bad *c = &bad_csv[_i];
  const char *p = write_text("bad.csv", c->text);
  wg_dataset d;
  memset(&d, 0xab, sizeof d);
  char err[256] = "";
  ck_assert_int_ne(wg_csv_load(&d, p, c->label, c->index, err, sizeof err), WG_OK);
  ck_assert_msg(strncmp(err, p, strlen(p)) == 0, "message does not start with the file: %s", err);
  for (int k = 0; k < 3 && c->expect[k]; k++)
    ck_assert_msg(strstr(err, c->expect[k]), "case %d: '%s' not in: %s", _i, c->expect[k], err);
  /* nothing partial */
  ck_assert(d.rows == 0 && d.cols == 0 && !d.x && !d.y && !d.names && !d.label_name);
}
END_TEST

START_TEST(csv_refuses_binary_files) {
  const char *p = path_of("bin.csv");
  write_bytes(p, (const unsigned char *)"a,b\n1,2\nx\0y,3\n", 14);
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "line 3: expected text, found a NUL byte"));
  ck_assert_ptr_null(d.x);
}
END_TEST

START_TEST(csv_missing_file) {
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, path_of("none.csv"), NULL, -1, err, sizeof err), WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(err, "none.csv: cannot open"));
  ck_assert_ptr_null(d.x);
}
END_TEST

START_TEST(csv_loads_the_real_data) {
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, "examples/data/iris.csv", "species", -1, err, sizeof err),
                   WG_OK);
  /* examples/data/README.md: 150 rows, 4 features; first row 5.1,3.5,1.4,0.2,0 */
  ck_assert_int_eq(d.rows, 150);
  ck_assert_int_eq(d.cols, 4);
  ck_assert(d.x[0] == (wg_real)5.1 && d.x[3] == (wg_real)0.2 && d.y[0] == 0 && d.y[149] == 2);
  wg_dataset_free(&d);
}
END_TEST

/* ---- split, shuffle, scaler, batches ----------------------------------------------------------- */

static wg_dataset numbered(int rows) {
  const char *p;
  char text[4096] = "i,twice,label\n";
  for (int i = 0; i < rows; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d,%d\n", i, 2 * i, i % 2);
  p = write_text("n.csv", text);
  wg_dataset d;
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, NULL, 0), WG_OK);
  return d;
}

START_TEST(split_is_a_seeded_permutation) {
  wg_dataset all = numbered(50), tr, te, tr2, te2;
  wg_rng r, r2;
  wg_rng_seed(&r, 3), wg_rng_seed(&r2, 3);
  char err[128];
  ck_assert_int_eq(wg_dataset_split(&all, 0.2, &r, &tr, &te, err, sizeof err), WG_OK);
  ck_assert_int_eq(te.rows, 10);
  ck_assert_int_eq(tr.rows, 40);
  ck_assert_str_eq(tr.names[1], "twice");
  int seen[50] = {0}, moved = 0;
  for (int i = 0; i < 50; i++) {
    const wg_dataset *d = i < 10 ? &te : &tr;
    int k = i < 10 ? i : i - 10, v = (int)d->x[2 * k];
    ck_assert(d->x[2 * k + 1] == 2 * v && d->y[k] == v % 2); /* rows stay whole */
    seen[v]++;
    moved += v != i;
  }
  for (int v = 0; v < 50; v++) ck_assert_int_eq(seen[v], 1);
  ck_assert_int_gt(moved, 40);
  ck_assert_int_eq(wg_dataset_split(&all, 0.2, &r2, &tr2, &te2, err, sizeof err), WG_OK);
  ck_assert(memcmp(te.x, te2.x, 20 * sizeof(wg_real)) == 0); /* same seed, same split */
  wg_dataset_free(&tr2), wg_dataset_free(&te2);
  ck_assert_int_eq(wg_dataset_split(&all, 1.0, &r2, &tr2, &te2, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_null(tr2.x);
  wg_dataset_free(&all), wg_dataset_free(&tr), wg_dataset_free(&te);
}
END_TEST

START_TEST(scaler_fits_train_applies_to_test) {
  const char *p = write_text("s.csv", "a,b,k,y\n1,10,7,0\n2,10,7,1\n3,10,7,0\n4,10,7,1\n");
  const char *q = write_text("t.csv", "a,b,k,y\n5,12,7,0\n");
  wg_dataset tr, te;
  ck_assert_int_eq(wg_csv_load(&tr, p, NULL, -1, NULL, 0), WG_OK);
  ck_assert_int_eq(wg_csv_load(&te, q, NULL, -1, NULL, 0), WG_OK);
  wg_scaler s;
  char err[128];
  ck_assert_int_eq(wg_scaler_fit(&s, &tr, err, sizeof err), WG_OK);
  /* a: mean 2.5, population std sqrt(1.25); b, k: std 0 -> 1 */
  ck_assert(fabs(s.mean[0] - 2.5) < TU_TOL(1e-15) && fabs(s.std[0] - sqrt(1.25)) < TU_TOL(1e-15));
  ck_assert(s.mean[1] == 10 && s.std[1] == 1 && s.std[2] == 1);
  ck_assert_int_eq(wg_scaler_apply(&s, &tr, err, sizeof err), WG_OK);
  ck_assert_int_eq(wg_scaler_apply(&s, &te, err, sizeof err), WG_OK);
  ck_assert(fabs(tr.x[0] - (1 - 2.5) / sqrt(1.25)) < TU_TOL(1e-15));
  ck_assert(fabs(te.x[0] - (5 - 2.5) / sqrt(1.25)) < TU_TOL(1e-15)); /* the training statistics */
  ck_assert(te.x[1] == 2 && te.x[2] == 0);
  wg_dataset other = numbered(4); /* 2 columns: refused */
  ck_assert_int_eq(wg_scaler_apply(&s, &other, err, sizeof err), WG_ERR_SHAPE);
  wg_scaler_free(&s);
  wg_dataset_free(&tr), wg_dataset_free(&te), wg_dataset_free(&other);
}
END_TEST

START_TEST(batches_cover_all_rows) {
  wg_dataset d = numbered(10);
  wg_batches b = wg_batches_begin(&d, 4);
  wg_mat x, y;
  int sizes[3], n = 0, next = 0;
  while (wg_batches_next(&b, &x, &y)) {
    ck_assert_int_lt(n, 3);
    sizes[n++] = x.rows;
    ck_assert(x.cols == 2 && y.rows == x.rows && y.cols == 1);
    for (int i = 0; i < x.rows; i++) ck_assert(x.data[2 * i] == next++);
  }
  ck_assert(n == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
  wg_rng r;
  wg_rng_seed(&r, 1);
  wg_dataset_shuffle(&d, &r);
  double sum = 0;
  for (int i = 0; i < 10; i++) sum += d.x[2 * i], ck_assert(d.x[2 * i + 1] == 2 * d.x[2 * i]);
  ck_assert(sum == 45);
  wg_dataset_free(&d);
}
END_TEST

/* ---- .npy -------------------------------------------------------------------------------------- */

static void fill_specials(wg_real *v, int n) {
  unsigned long long seed = 77;
  for (int i = 0; i < n; i++) v[i] = tu_uniform(&seed, -1e3, 1e3);
  /* -0, the smallest subnormal, the largest finite number of wg_real, 1/3 */
#ifdef WG_REAL_FLOAT
  v[0] = -0.0f, v[1] = FLT_TRUE_MIN, v[2] = FLT_MAX, v[3] = 1.0f / 3;
#else
  v[0] = -0.0, v[1] = 4.9e-324, v[2] = 1.7976931348623157e308, v[3] = 1.0 / 3;
#endif
}

START_TEST(npy_round_trip_bit_exact) {
  wg_real v[15];
  fill_specials(v, 15);
  char err[256];
  for (int ndim = 1; ndim <= 2; ndim++) {
    wg_mat m = {ndim == 1 ? 1 : 3, ndim == 1 ? 15 : 5, v}, back;
    const char *p = path_of("m.npy");
    ck_assert_int_eq(wg_npy_save(p, m, ndim, err, sizeof err), WG_OK);
    ck_assert_int_eq(wg_npy_load(p, &back, err, sizeof err), WG_OK);
    ck_assert(back.rows == m.rows && back.cols == m.cols);
    ck_assert(memcmp(back.data, v, sizeof v) == 0);
    wg_npy_free(&back);
  }
  /* both versions, and the 64-byte alignment of the data */
  for (int version = 1; version <= 2; version++) {
    unsigned char *buf;
    size_t len;
    wg_mat m = {3, 5, v}, back;
    ck_assert_int_eq(wg_npy_encode(m, 2, version, &buf, &len, err, sizeof err), WG_OK);
    ck_assert_int_eq(buf[6], version);
    size_t prefix = version == 1 ? 10 : 12;
    size_t hlen = version == 1 ? wg_le16(buf + 8) : wg_le32(buf + 8);
    ck_assert_uint_eq((prefix + hlen) % 64, 0);
    ck_assert_uint_eq(len, prefix + hlen + sizeof v);
    ck_assert_int_eq(buf[prefix + hlen - 1], '\n');
    ck_assert_int_eq(wg_npy_decode(buf, len, "mem", &back, err, sizeof err), WG_OK);
    ck_assert(memcmp(back.data, v, sizeof v) == 0);
    wg_npy_free(&back);
    wg_free(buf, len);
  }
}
END_TEST

/* A valid image with the given header dict (padded), followed by `data` bytes of zeros. */
static size_t image(unsigned char *b, const char *dict, size_t data) {
  size_t dl = strlen(dict), hlen = (10 + dl + 1 + 63) / 64 * 64 - 10;
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  wg_put16(b + 8, (uint32_t)hlen);
  memcpy(b + 10, dict, dl);
  memset(b + 10 + dl, ' ', hlen - dl - 1);
  b[10 + hlen - 1] = '\n';
  memset(b + 10 + hlen, 0, data);
  return 10 + hlen + data;
}

typedef struct {
  const char *dict;
  size_t data;
  const char *expect;
} npy_bad;

static const npy_bad bad_npy[] = {
    {"{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", 8, "dtype '<f2'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 32, "needs 16 data bytes, the file has 32"},
    {"{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", 32, "dtype '>f8'"},
    {"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", 32, "dtype '<i8'"},
    {"{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32, "fortran_order is True"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", 64, "3 dimensions"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8, "0 dimensions"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", 0, "dimensions must be"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 24, "needs 32 data bytes, the file has 24"},
    /* (2^31 - 1)^2 elements of 8 bytes: about 2^65 bytes, more than a 64-bit size_t holds */
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", 8, "shape 2147483647 x 2147483647 is too large"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1, 1, 1, 1), }", 24, "5 dimensions"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 40, "needs 32 data bytes, the file has 40"},
    {"{'descr': '<f8', 'fortran_order': False, }", 32, "header is not a dict"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", 32, "unexpected header key 'x'"},
    {"['<f8', False, (2, 2)]", 32, "header is not a dict"},
    {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 2), }", 32, "header is not a dict"},
};

START_TEST(npy_rejects_bad_headers) {
  unsigned char b[512];
  size_t n = image(b, bad_npy[_i].dict, bad_npy[_i].data);
  wg_mat m;
  char err[256] = "";
  ck_assert_int_eq(wg_npy_decode(b, n, "f.npy", &m, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_msg(strstr(err, bad_npy[_i].expect), "case %d: %s", _i, err);
  ck_assert_ptr_null(m.data);
}
END_TEST

START_TEST(npy_rejects_magic_version_and_every_truncation) {
  wg_real v[6] = {1, 2, 3, 4, 5, 6};
  unsigned char *buf;
  size_t len;
  char err[256];
  wg_mat m;
  ck_assert_int_eq(wg_npy_encode((wg_mat){2, 3, v}, 2, 0, &buf, &len, err, sizeof err), WG_OK);
  for (size_t n = 0; n < len; n++) {
    err[0] = 0;
    ck_assert_msg(wg_npy_decode(buf, n, "t.npy", &m, err, sizeof err) == WG_ERR_FORMAT,
                  "accepted %zu of %zu bytes", n, len);
    ck_assert(err[0] && m.data == NULL);
  }
  buf[1] = 'X';
  ck_assert_int_eq(wg_npy_decode(buf, len, "t.npy", &m, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "bad magic"));
  buf[1] = 'N', buf[6] = 3;
  ck_assert_int_eq(wg_npy_decode(buf, len, "t.npy", &m, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "version 3.0"));
  buf[6] = 1, buf[8] = 0xff; /* header length past the end */
  ck_assert_int_eq(wg_npy_decode(buf, len, "t.npy", &m, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "runs past the end"));
  wg_free(buf, len);
  ck_assert_int_eq(wg_npy_load(path_of("missing.npy"), &m, err, sizeof err), WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(err, "missing.npy: cannot open"));
}
END_TEST

START_TEST(npy_reads_numpy_fixtures) {
  /* written by NumPy 1.24.2: tests/data/README.md */
  wg_mat m;
  char err[256];
  ck_assert_int_eq(wg_npy_load("tests/data/numpy_3x4.npy", &m, err, sizeof err), WG_OK);
  ck_assert(m.rows == 3 && m.cols == 4);
  for (int i = 0; i < 12; i++) ck_assert(m.data[i] == (wg_real)(i * 0.5 + 0.1)); /* float: rounded */
  wg_npy_free(&m);
  ck_assert_int_eq(wg_npy_load("tests/data/numpy_1d.npy", &m, err, sizeof err), WG_OK);
  ck_assert(m.rows == 1 && m.cols == 4);
  /* in float 1e-300 underflows to +0 (npy.c) */
  ck_assert(m.data[0] == 1.5 && m.data[1] == -2.25 && m.data[2] == (wg_real)1e-300 &&
            m.data[3] == (wg_real)6.02e23);
  ck_assert(!TU_F32 || (m.data[2] == 0 && !signbit(m.data[2])));
  wg_npy_free(&m);
}
END_TEST

/* ---- CRC and .npz ------------------------------------------------------------------------------- */

START_TEST(crc32_check_value) {
  ck_assert_uint_eq(wg_crc32((const unsigned char *)"123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(wg_crc32((const unsigned char *)"", 0), 0);
}
END_TEST

/* a model with W1 (3x4), b1 (1x4), W2 (4x1) from seed */
static wg_model *small_model(uint64_t seed, int w2_rows) {
  wg_model *m = wg_model_new(seed);
  wg_init n = {WG_INIT_NORMAL, 0, 1};
  ck_assert_int_eq(wg_model_add(m, "W1", 3, 4, n, NULL), WG_OK);
  ck_assert_int_eq(wg_model_add(m, "b1", 1, 4, n, NULL), WG_OK);
  ck_assert_int_eq(wg_model_add(m, "W2", w2_rows, 1, n, NULL), WG_OK);
  return m;
}

static int same_values(wg_model *a, wg_model *b) {
  for (int k = 0; k < wg_model_count(a); k++) {
    wg_mat x = wg_param_value(wg_model_get(a, k)), y = wg_param_value(wg_model_get(b, k));
    if (x.rows != y.rows || x.cols != y.cols ||
        memcmp(x.data, y.data, (size_t)x.rows * x.cols * sizeof *x.data) != 0)
      return 0;
  }
  return 1;
}

START_TEST(npz_round_trip_bit_exact) {
  wg_model *a = small_model(1, 4), *b = small_model(2, 4);
  wg_param_value(wg_model_get(a, 0)).data[0] = -0.0;
  const char *p = path_of("m.npz");
  ck_assert_int_eq(wg_model_save(a, p), WG_OK);
  ck_assert(!same_values(a, b));
  ck_assert_int_eq(wg_model_load(b, p), WG_OK);
  ck_assert(same_values(a, b));
  wg_model_free(a), wg_model_free(b);
}
END_TEST

START_TEST(npz_rejects_mismatched_models) {
  wg_model *a = small_model(1, 4), *other = small_model(2, 5), *keep = small_model(2, 5);
  const char *p = path_of("m.npz");
  ck_assert_int_eq(wg_model_save(a, p), WG_OK);
  ck_assert_int_eq(wg_model_load(other, p), WG_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(wg_model_error(other), "W2.npy is (4x1), the model's W2 is (5x1)"));
  ck_assert(same_values(other, keep)); /* unchanged */
  /* a model with a parameter the file lacks, and one lacking a parameter of the file */
  wg_model *more = small_model(1, 4), *less = wg_model_new(1);
  wg_model_add(more, "b2", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  ck_assert_int_eq(wg_model_load(more, p), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(wg_model_error(more), "no b2.npy"));
  wg_model_add(less, "W1", 3, 4, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  ck_assert_int_eq(wg_model_load(less, p), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(wg_model_error(less), "no parameter b1"));
  ck_assert_int_eq(wg_model_load(less, path_of("none.npz")), WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(wg_model_error(less), "none.npz: cannot open"));
  wg_model_free(a), wg_model_free(other), wg_model_free(keep), wg_model_free(more);
  wg_model_free(less);
}
END_TEST

/* the saved archive's bytes (wg_file_read: free with wg_free(buf, *len + 1)) */
static unsigned char *saved_npz(wg_model *a, size_t *len) {
  const char *p = path_of("m.npz");
  ck_assert_int_eq(wg_model_save(a, p), WG_OK);
  unsigned char *buf;
  ck_assert_int_eq(wg_file_read(p, &buf, len, NULL, 0), WG_OK);
  return buf;
}

START_TEST(npz_rejects_every_truncation) {
  wg_model *a = small_model(1, 4), *b = small_model(2, 4), *keep = small_model(2, 4);
  size_t len;
  unsigned char *buf = saved_npz(a, &len);
  const char *q = path_of("t.npz");
  for (size_t n = 0; n < len; n++) {
    write_bytes(q, buf, n);
    ck_assert_msg(wg_model_load(b, q) != WG_OK, "accepted %zu of %zu bytes", n, len);
    ck_assert(strstr(wg_model_error(b), "t.npz"));
  }
  ck_assert(same_values(b, keep));
  write_bytes(q, buf, len);
  ck_assert_int_eq(wg_model_load(b, q), WG_OK);
  wg_free(buf, len + 1);
  wg_model_free(a), wg_model_free(b), wg_model_free(keep);
}
END_TEST

START_TEST(npz_rejects_corruption) {
  wg_model *a = small_model(1, 4), *b = small_model(2, 4);
  size_t len;
  unsigned char *buf = saved_npz(a, &len);
  const char *q = path_of("c.npz");
  /* the first entry's .npy data starts after the 30-byte local header and "W1.npy" */
  size_t data0 = 30 + 6;
  struct {
    size_t at;
    unsigned char value;
    const char *expect;
  } cases[] = {
      {data0 + 140, 0x55, "CRC-32 mismatch"},     /* a data byte of W1 (its data from 128) */
      {0, 'Q', "no local header"},                /* local signature */
      {8, 8, "method 8"},                         /* local method: deflate */
      {len - 22, 'Q', "not a zip file"},          /* end record signature */
      {data0 + 1, 'X', "CRC-32 mismatch"},        /* .npy magic: CRC first */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    unsigned char keep = buf[cases[k].at];
    buf[cases[k].at] = cases[k].value;
    write_bytes(q, buf, len);
    ck_assert_int_eq(wg_model_load(b, q), WG_ERR_FORMAT);
    ck_assert_msg(strstr(wg_model_error(b), cases[k].expect), "case %zu: %s", k,
                  wg_model_error(b));
    buf[cases[k].at] = keep;
  }
  /* central directory method 8 (a compressed archive) */
  size_t cd = wg_le32(buf + len - 22 + 16);
  buf[cd + 10] = 8;
  write_bytes(q, buf, len);
  ck_assert_int_eq(wg_model_load(b, q), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(wg_model_error(b), "compression method 8"));
  wg_free(buf, len + 1);
  wg_model_free(a), wg_model_free(b);
}
END_TEST

/* Zip fields one at a time (PKWARE APPNOTE.TXT offsets; the saved model's entries are W1.npy,
 * b1.npy, W2.npy, each name 6 bytes). e: the end record, c: the first central directory entry.
 * Each edit is refused with its message, or (expect NULL) accepted as NumPy's writer does. */
typedef struct {
  const char *what;
  void (*edit)(unsigned char *b, size_t len);
  const char *expect;
} npz_edit;

static size_t end_of(size_t len) { return len - 22; }
static size_t cd_of(const unsigned char *b, size_t len) { return wg_le32(b + end_of(len) + 16); }

static void ed_encrypted(unsigned char *b, size_t n) { b[cd_of(b, n) + 8] |= 1; }
static void ed_zip64_size(unsigned char *b, size_t n) {
  wg_put32(b + cd_of(b, n) + 20, 0xFFFFFFFFu);
  wg_put32(b + cd_of(b, n) + 24, 0xFFFFFFFFu);
}
static void ed_sizes_differ(unsigned char *b, size_t n) { b[cd_of(b, n) + 24] ^= 1; }
static void ed_empty_name(unsigned char *b, size_t n) { wg_put16(b + cd_of(b, n) + 28, 0); }
static void ed_extra_past_dir(unsigned char *b, size_t n) { wg_put16(b + cd_of(b, n) + 30, 0xFFFF); }
static void ed_central_sig(unsigned char *b, size_t n) { b[cd_of(b, n)] = 'Q'; }
static void ed_local_name(unsigned char *b, size_t n) { (void)n, b[30] = 'X'; } /* "X1.npy" */
static void ed_local_sizes(unsigned char *b, size_t n) { (void)n, b[18] ^= 1, b[22] ^= 1; }
static void ed_local_offset(unsigned char *b, size_t n) { wg_put32(b + cd_of(b, n) + 42, 0x7FFFFFF0u); }
static void ed_local_extra(unsigned char *b, size_t n) { (void)n, wg_put16(b + 28, 0xFFFF); }
static void ed_multi_disk(unsigned char *b, size_t n) { wg_put16(b + end_of(n) + 4, 1); }
static void ed_dir_outside(unsigned char *b, size_t n) { wg_put32(b + end_of(n) + 16, 0x7FFFFFF0u); }
static void ed_count(unsigned char *b, size_t n) { /* 2 entries said, 3 in the directory */
  wg_put16(b + end_of(n) + 8, 2);
  wg_put16(b + end_of(n) + 10, 2);
}
/* rename entry 1 (b1.npy) in its local header and the directory entry */
static void rename_second(unsigned char *b, size_t n, const char *to) {
  size_t c = cd_of(b, n), c2 = c + 46 + wg_le16(b + c + 28), off = wg_le32(b + c2 + 42);
  memcpy(b + c2 + 46, to, 6);
  memcpy(b + off + 30, to, 6);
}
static void ed_not_npy(unsigned char *b, size_t n) { rename_second(b, n, "b1.npz"); }
static void ed_twice(unsigned char *b, size_t n) { rename_second(b, n, "W1.npy"); }
/* NumPy's savez: sizes 0xFFFFFFFF in the local header (a zip64 extra follows in its files) */
static void ed_local_zip64(unsigned char *b, size_t n) {
  (void)n;
  wg_put32(b + 18, 0xFFFFFFFFu);
  wg_put32(b + 22, 0xFFFFFFFFu);
}
/* a streamed entry: flag bit 3, CRC and sizes zero in the local header (a data descriptor) */
static void ed_deferred(unsigned char *b, size_t n) {
  (void)n;
  wg_put16(b + 6, 8);
  memset(b + 14, 0, 12);
}

static const npz_edit npz_edits[] = {
    {"encrypted", ed_encrypted, "is encrypted"},
    {"zip64 sizes in the directory", ed_zip64_size, "needs zip64"},
    {"sizes differ", ed_sizes_differ, "stored sizes differ"},
    {"empty name", ed_empty_name, "entry name of 0 bytes"},
    {"extra field past the directory", ed_extra_past_dir, "runs past the directory"},
    {"central signature", ed_central_sig, "bad central directory entry"},
    {"local name", ed_local_name, "local header names another file"},
    {"local sizes", ed_local_sizes, "local header sizes"},
    {"local offset", ed_local_offset, "no local header"},
    {"local extra", ed_local_extra, "run past the data area"},
    {"multi-disk", ed_multi_disk, "multi-disk"},
    {"directory outside", ed_dir_outside, "lies outside the file"},
    {"entry count", ed_count, "does not match its 2 entries"},
    {"not .npy", ed_not_npy, "entry b1.npz is not a .npy file"},
    {"twice", ed_twice, "W1.npy appears twice"},
    {"local zip64 sizes", ed_local_zip64, NULL},
    {"deferred sizes", ed_deferred, NULL},
};

START_TEST(npz_checks_every_zip_field) {
  wg_model *a = small_model(1, 4), *b = small_model(2, 4), *keep = small_model(2, 4);
  size_t len;
  unsigned char *buf = saved_npz(a, &len);
  npz_edits[_i].edit(buf, len);
  const char *q = path_of("e.npz");
  write_bytes(q, buf, len);
  wg_status s = wg_model_load(b, q);
  if (npz_edits[_i].expect) {
    ck_assert_msg(s == WG_ERR_FORMAT, "%s: %s", npz_edits[_i].what, wg_status_string(s));
    ck_assert_msg(strstr(wg_model_error(b), npz_edits[_i].expect), "%s: %s",
                  npz_edits[_i].what, wg_model_error(b));
    ck_assert(same_values(b, keep));
  } else {
    ck_assert_msg(s == WG_OK, "%s: %s", npz_edits[_i].what, wg_model_error(b));
    ck_assert(same_values(b, a));
    ck_assert_str_eq(wg_model_error(b), "");
  }
  wg_free(buf, len + 1);
  wg_model_free(a), wg_model_free(b), wg_model_free(keep);
}
END_TEST

/* Arguments the API refuses, each with its status and message. */
START_TEST(io_refuses_bad_arguments) {
  wg_real v[4] = {1, 2, 3, 4};
  char err[256];
  wg_mat m;
  ck_assert_int_eq(wg_npy_save(NULL, (wg_mat){2, 2, v}, 2, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "path is NULL"));
  const char *p = path_of("a.npy");
  ck_assert_int_eq(wg_npy_save(p, (wg_mat){2, 2, NULL}, 2, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "(2x2) is empty or NULL"));
  ck_assert_int_eq(wg_npy_save(p, (wg_mat){0, 2, v}, 2, err, sizeof err), WG_ERR_ARG);
  ck_assert_int_eq(wg_npy_save(p, (wg_mat){2, 2, v}, 3, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "ndim 3"));
  ck_assert_int_eq(wg_npy_save(p, (wg_mat){2, 2, v}, 1, err, sizeof err), WG_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(err, "(2x2) matrix is not 1-D"));
  unsigned char *buf;
  size_t len;
  ck_assert_int_eq(wg_npy_encode((wg_mat){2, 2, v}, 2, 3, &buf, &len, err, sizeof err),
                   WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "version 3"));
  ck_assert_int_eq(wg_npy_save("/nonexistent-dir/a.npy", (wg_mat){2, 2, v}, 2, err, sizeof err),
                   WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/a.npy: cannot create"));
  ck_assert_int_eq(wg_npy_load(p, NULL, err, sizeof err), WG_ERR_ARG);
  ck_assert_int_eq(wg_npy_load(NULL, &m, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "path is NULL"));
  ck_assert_ptr_null(m.data);
  wg_npy_free(NULL); /* harmless */
  /* the model API: NULL model, NULL path, an empty model, an unwritable path */
  ck_assert_int_eq(wg_model_save(NULL, p), WG_ERR_ARG);
  ck_assert_int_eq(wg_model_load(NULL, p), WG_ERR_ARG);
  wg_model *e = wg_model_new(1);
  ck_assert_int_eq(wg_model_save(e, p), WG_ERR_STATE);
  ck_assert_ptr_nonnull(strstr(wg_model_error(e), "the model is empty"));
  ck_assert_int_eq(wg_model_load(e, p), WG_ERR_STATE);
  wg_model *a = small_model(1, 4);
  ck_assert_int_eq(wg_model_save(a, NULL), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(a), "path is NULL"));
  ck_assert_int_eq(wg_model_load(a, NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_model_save(a, "/nonexistent-dir/m.npz"), WG_ERR_IO);
  ck_assert_ptr_nonnull(strstr(wg_model_error(a), "/nonexistent-dir/m.npz: cannot create"));
  wg_model_free(a), wg_model_free(e);
  /* the CSV API */
  wg_dataset d;
  ck_assert_int_eq(wg_csv_load(NULL, p, NULL, -1, err, sizeof err), WG_ERR_ARG);
  ck_assert_int_eq(wg_csv_load(&d, NULL, NULL, -1, err, sizeof err), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(err, "path is NULL"));
  ck_assert_ptr_null(d.x);
  wg_dataset_free(NULL);
}
END_TEST

/* A file larger than the first read buffer (4 KB for .npy): the buffer grows and the values
 * come back exactly. */
START_TEST(npy_reads_large_files) {
  enum { N = 3000 }; /* 24 KB of data */
  static wg_real v[N];
  for (int i = 0; i < N; i++) v[i] = i * 0.5 - 7;
  char err[256];
  wg_mat m;
  const char *p = path_of("big.npy");
  ck_assert_int_eq(wg_npy_save(p, (wg_mat){N, 1, v}, 2, err, sizeof err), WG_OK);
  ck_assert_int_eq(wg_npy_load(p, &m, err, sizeof err), WG_OK);
  ck_assert(m.rows == N && m.cols == 1);
  ck_assert(memcmp(m.data, v, sizeof v) == 0);
  wg_npy_free(&m);
}
END_TEST

/* ---- NumPy interoperability (skipped without /usr/bin/python3 + numpy) ------------------------- */

static FILE *python(const char *script) {
  const char *p = write_text("s.py", script);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 '%s' 2>&1", dir, p);
  return popen(cmd, "r");
}

START_TEST(numpy_reads_our_files) {
  if (!have_numpy()) {
    fprintf(stderr, "numpy_reads_our_files: /usr/bin/python3 with numpy not found, skipped\n");
    return;
  }
  wg_real v[15];
  fill_specials(v, 15);
  char err[256];
  ck_assert_int_eq(wg_npy_save(path_of("a.npy"), (wg_mat){3, 5, v}, 2, err, sizeof err), WG_OK);
  ck_assert_int_eq(wg_npy_save(path_of("b.npy"), (wg_mat){15, 1, v}, 1, err, sizeof err), WG_OK);
  wg_model *m = small_model(4, 4);
  ck_assert_int_eq(wg_model_save(m, path_of("m.npz")), WG_OK);
  /* NumPy prints the shapes and every value with repr (shortest round trip) */
  FILE *f = python("import numpy as np\n"
                   "a = np.load('a.npy'); b = np.load('b.npy'); z = np.load('m.npz')\n"
                   "print(a.shape, b.shape, a.dtype, sorted(z.files))\n"
                   "for x in list(a.ravel()) + list(b) : print(repr(float(x)))\n"
                   "for k in ('W1', 'b1', 'W2'):\n"
                   "  print(z[k].shape)\n"
                   "  for x in z[k].ravel(): print(repr(float(x)))\n");
  char line[256];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, TU_F32 ? "(3, 5) (15,) float32 ['W1', 'W2', 'b1']\n"
                                 : "(3, 5) (15,) float64 ['W1', 'W2', 'b1']\n");
  for (int k = 0; k < 30; k++) {
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    wg_real x = (wg_real)strtod(line, NULL); /* exact: repr of a float32 is a double */
    ck_assert_msg(memcmp(&x, &v[k % 15], sizeof x) == 0, "value %d: %s", k, line);
  }
  const char *shapes[3] = {"(3, 4)\n", "(1, 4)\n", "(4, 1)\n"};
  for (int p = 0; p < 3; p++) {
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, shapes[p]);
    wg_mat w = wg_param_value(wg_model_get(m, p));
    for (int i = 0; i < w.rows * w.cols; i++) {
      ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
      wg_real x = (wg_real)strtod(line, NULL);
      ck_assert(memcmp(&x, &w.data[i], sizeof x) == 0);
    }
  }
  ck_assert_int_eq(pclose(f), 0);
  wg_model_free(m);
}
END_TEST

START_TEST(we_read_numpy_files) {
  if (!have_numpy()) {
    fprintf(stderr, "we_read_numpy_files: /usr/bin/python3 with numpy not found, skipped\n");
    return;
  }
  FILE *f = python("import numpy as np\n"
                   "a = np.arange(6, dtype=np.float64).reshape(2, 3) / 7\n"
                   "np.save('n.npy', a)\n"
                   "with open('v2.npy', 'wb') as fh: np.lib.format.write_array(fh, a, version=(2, 0))\n"
                   "np.save('f.npy', np.asfortranarray(a))\n"
                   "np.save('s.npy', a.astype(np.float32))\n"
                   "np.savez('w.npz', W1=np.full((3, 4), 0.25), b1=np.ones((1, 4)), W2=np.arange(4.0).reshape(4, 1))\n"
                   "np.savez_compressed('c.npz', W1=np.zeros((3, 4)), b1=np.ones((1, 4)), W2=np.zeros((4, 1)))\n"
                   "print('ok')\n");
  char line[64];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  ck_assert_str_eq(line, "ok\n");
  ck_assert_int_eq(pclose(f), 0);
  char err[256];
  wg_mat m;
  const char *good[2] = {"n.npy", "v2.npy"};
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(wg_npy_load(path_of(good[k]), &m, err, sizeof err), WG_OK);
    ck_assert(m.rows == 2 && m.cols == 3);
    for (int i = 0; i < 6; i++) ck_assert(m.data[i] == (wg_real)(i / 7.0)); /* float: rounded */
    wg_npy_free(&m);
  }
  ck_assert_int_eq(wg_npy_load(path_of("f.npy"), &m, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(err, "fortran_order"));
  /* NumPy's float32 (round to nearest, as C's (float) conversion): read exactly by both builds */
  ck_assert_int_eq(wg_npy_load(path_of("s.npy"), &m, err, sizeof err), WG_OK);
  ck_assert(m.rows == 2 && m.cols == 3);
  for (int i = 0; i < 6; i++) ck_assert(m.data[i] == (float)(i / 7.0));
  wg_npy_free(&m);
  /* numpy.savez: stored entries with zip64 local headers */
  wg_model *mo = small_model(1, 4);
  ck_assert_int_eq(wg_model_load(mo, path_of("w.npz")), WG_OK);
  ck_assert(wg_param_value(wg_model_get(mo, 0)).data[11] == 0.25);
  ck_assert(wg_param_value(wg_model_get(mo, 1)).data[3] == 1);
  ck_assert(wg_param_value(wg_model_get(mo, 2)).data[3] == 3);
  ck_assert_int_eq(wg_model_load(mo, path_of("c.npz")), WG_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(wg_model_error(mo), "compression method 8"));
  wg_model_free(mo);
}
END_TEST

/* ---- dtypes: '<f8' and '<f4' in both builds (npy.c) --------------------------------------------- */

/* a 1.0 image of n little-endian numbers of esize bytes (8: '<f8' from f64, 4: '<f4' from f32),
 * shape (rows, cols) */
static size_t typed_image(unsigned char *b, int rows, int cols, size_t esize, const double *f64,
                          const float *f32) {
  char dict[128];
  snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }",
           esize == 8 ? "<f8" : "<f4", rows, cols);
  size_t n = (size_t)rows * (size_t)cols, off = image(b, dict, n * esize) - n * esize;
  for (size_t i = 0; i < n; i++) {
    uint64_t u = 0;
    if (esize == 8) memcpy(&u, &f64[i], 8);
    else {
      uint32_t w;
      memcpy(&w, &f32[i], 4);
      u = w;
    }
    for (size_t k = 0; k < esize; k++) b[off + esize * i + k] = (unsigned char)(u >> (8 * k));
  }
  return off + n * esize;
}

START_TEST(npy_writes_the_dtype_of_wg_real) {
  wg_real v[6] = {0.1f, -2, 3.5, 1e-3f, 7, -0.0f};
  unsigned char *buf;
  size_t len;
  char err[256];
  ck_assert_int_eq(wg_npy_encode((wg_mat){2, 3, v}, 2, 0, &buf, &len, err, sizeof err), WG_OK);
  size_t hlen = wg_le16(buf + 8);
  ck_assert_ptr_nonnull(strstr((const char *)buf + 10, TU_F32 ? "'descr': '<f4'" : "'descr': '<f8'"));
  ck_assert_uint_eq(len, 10 + hlen + 6 * sizeof(wg_real));
  for (int i = 0; i < 6; i++) { /* the bytes, little-endian, of each number */
    uint64_t u = 0, w = 0;
    memcpy(&u, &v[i], sizeof v[i]);
    for (size_t k = 0; k < sizeof(wg_real); k++)
      w |= (uint64_t)buf[10 + hlen + sizeof(wg_real) * i + k] << (8 * k);
    ck_assert_msg(u == w, "element %d", i);
  }
  wg_free(buf, len);
}
END_TEST

/* '<f4' data: the float values exactly, in both builds (float -> double is exact) */
START_TEST(npy_reads_f4_exactly) {
  const float f[6] = {0.1f, FLT_MAX, FLT_TRUE_MIN, -0.0f, INFINITY, -3.25f};
  unsigned char b[512];
  size_t n = typed_image(b, 2, 3, 4, NULL, f);
  wg_mat m;
  char err[256];
  ck_assert_int_eq(wg_npy_decode(b, n, "f.npy", &m, err, sizeof err), WG_OK);
  ck_assert(m.rows == 2 && m.cols == 3);
  for (int i = 0; i < 6; i++) ck_assert_msg(m.data[i] == (wg_real)f[i], "element %d", i);
  ck_assert(signbit(m.data[3]));
  ck_assert(TU_F32 || m.data[0] != 0.1); /* float64: the float's value, not 0.1 */
  wg_npy_free(&m);
}
END_TEST

/* '<f8' data into the build: float64 exactly; float rounded to nearest, underflow to subnormals
 * or signed zeros, NaN and infinities kept */
START_TEST(npy_reads_f8_rounding_in_float) {
  const double d[8] = {0.1, -(double)FLT_MAX, 1e-40, 1e-50, -1e-50, INFINITY, NAN, 1e38};
  unsigned char b[512];
  size_t n = typed_image(b, 2, 4, 8, d, NULL);
  wg_mat m;
  char err[256];
  ck_assert_int_eq(wg_npy_decode(b, n, "f.npy", &m, err, sizeof err), WG_OK);
  for (int i = 0; i < 6; i++) ck_assert_msg(m.data[i] == (wg_real)d[i], "element %d", i);
  ck_assert(isnan(m.data[6]) && m.data[7] == (wg_real)1e38);
  if (TU_F32) { /* 1e-40 is a float subnormal (not 0); 1e-50 is below half of 2^-149 */
    ck_assert(m.data[2] > 0 && m.data[2] < FLT_MIN && fabs(m.data[2] - 1e-40) <= ldexp(1, -150));
    ck_assert(m.data[3] == 0 && !signbit(m.data[3]) && m.data[4] == 0 && signbit(m.data[4]));
  } else {
    ck_assert(m.data[2] == 1e-40 && m.data[3] == 1e-50 && m.data[4] == -1e-50);
  }
  wg_npy_free(&m);
}
END_TEST

/* a finite '<f8' beyond FLT_MAX has no float: the float build refuses the file, naming the
 * element; the float64 build reads it */
START_TEST(npy_f8_beyond_float_range) {
  const double big[3] = {1e39, -3.5e38, 1.7976931348623157e308};
  for (int c = 0; c < 3; c++) {
    double d[6] = {1, 2, 3, 4, big[c], 6};
    unsigned char b[512];
    size_t n = typed_image(b, 2, 3, 8, d, NULL);
    wg_mat m;
    char err[256] = "";
    wg_status st = wg_npy_decode(b, n, "f.npy", &m, err, sizeof err);
    if (TU_F32) {
      ck_assert_int_eq(st, WG_ERR_FORMAT);
      ck_assert_msg(strstr(err, "f.npy: ") == err && strstr(err, "beyond float32's range"), "%s", err);
      const char *at = strstr(err, "element 4 ([1, 1]) is ");
      ck_assert_msg(at && strtod(at + 22, NULL) == big[c], "%s", err); /* the number, exactly */
      ck_assert_ptr_null(m.data);
    } else {
      ck_assert_int_eq(st, WG_OK);
      ck_assert(m.data[4] == big[c]);
      wg_npy_free(&m);
    }
  }
}
END_TEST

/* A model archive with W1 (3x4), b1 (1x4), W2 (4x1) as the given dtype, values 0.1 (i + 1) per
 * parameter; bad >= 0 puts `big` at that element of W2. */
static void typed_archive(const char *path, size_t esize, int bad, double big) {
  const char *names[3] = {"W1", "b1", "W2"};
  const int shape[3][2] = {{3, 4}, {1, 4}, {4, 1}};
  wg_npz_entry *e = wg_alloc_zero(3 * sizeof *e); /* wg_npz_free_entries frees it */
  ck_assert_ptr_nonnull(e);
  for (int k = 0; k < 3; k++) {
    int n = shape[k][0] * shape[k][1];
    double d[12];
    float f[12];
    for (int i = 0; i < n; i++) d[i] = 0.1 * (i + 1), f[i] = (float)d[i];
    if (k == 2 && bad >= 0) d[bad] = big;
    unsigned char b[512];
    e[k].len = typed_image(b, shape[k][0], shape[k][1], esize, d, f);
    e[k].npy = wg_alloc(e[k].len);
    memcpy(e[k].npy, b, e[k].len);
    snprintf(e[k].name, sizeof e[k].name, "%s.npy", names[k]);
  }
  wg_model *m = wg_model_new(1);
  ck_assert_int_eq(wg_npz_write(m, path, e, 3), WG_OK);
  wg_npz_free_entries(e, 3);
  wg_model_free(m);
}

/* A user of one build opens the other's model files: '<f8' and '<f4' archives load in both;
 * in float a '<f8' number beyond FLT_MAX is refused naming file, entry and element, and the
 * model stays as it was. */
START_TEST(model_load_reads_both_dtypes) {
  wg_model *m = small_model(1, 4), *keep = small_model(1, 4);
  for (int esize = 4; esize <= 8; esize += 4) {
    const char *p = path_of(esize == 8 ? "f8.npz" : "f4.npz");
    typed_archive(p, (size_t)esize, -1, 0);
    ck_assert_msg(wg_model_load(m, p) == WG_OK, "%s", wg_model_error(m));
    for (int k = 0; k < 3; k++) {
      wg_mat v = wg_param_value(wg_model_get(m, k));
      for (int i = 0; i < v.rows * v.cols; i++) {
        double want = esize == 8 ? (wg_real)(0.1 * (i + 1)) : (wg_real)(float)(0.1 * (i + 1));
        ck_assert_msg(v.data[i] == want, "%d-byte archive, parameter %d, element %d", esize, k, i);
      }
    }
  }
  const char *p = path_of("big.npz");
  typed_archive(p, 8, 2, 5e38);
  wg_model *fresh = small_model(1, 4);
  wg_status st = wg_model_load(fresh, p);
  if (TU_F32) {
    ck_assert_int_eq(st, WG_ERR_FORMAT);
    const char *e = wg_model_error(fresh);
    ck_assert_msg(strstr(e, p) && strstr(e, "W2.npy: element 2 ([2, 0]) is 4.9999999999999997e+38"),
                  "%s", e);
    ck_assert(same_values(fresh, keep)); /* unchanged */
  } else {
    ck_assert_int_eq(st, WG_OK);
    ck_assert(wg_param_value(wg_model_get(fresh, 2)).data[2] == 5e38);
  }
  wg_model_free(m), wg_model_free(keep), wg_model_free(fresh);
}
END_TEST

/* npz_visit for checkpoint_metadata_stays_float64: the descr of every entry */
typedef struct {
  char names[16][48], descr[16][8];
  int n;
} dtype_list;

static wg_status note_dtype(void *ctx, const char *name, const unsigned char *npy, size_t size) {
  dtype_list *l = ctx;
  const char *d = memchr(npy, '<', size);
  ck_assert(l->n < 16 && d != NULL);
  snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
  snprintf(l->descr[l->n], sizeof l->descr[0], "%.3s", d);
  l->n++;
  return WG_OK;
}

/* A checkpoint keeps the parameters and Adam's moments in wg_real's dtype, and the generator
 * words, step count, rate and values in float64 in both builds: a generator half (up to 2^32)
 * or a step count above 2^24 has no exact float. */
START_TEST(checkpoint_metadata_stays_float64) {
  wg_model *m = small_model(3, 4);
  wg_optim *o = wg_optim_new(m, wg_adam_config(0.01), NULL, 0);
  ck_assert_ptr_nonnull(o);
  wg_rng r;
  wg_rng_seed(&r, 42);
  double epoch = 16777217; /* 2^24 + 1: not a float */
  wg_checkpoint_rng rs = {"data", &r};
  wg_checkpoint_value vs = {"epoch", &epoch};
  wg_checkpoint c = {o, &rs, 1, &vs, 1};
  const char *p = path_of("ck.npz");
  ck_assert_msg(wg_checkpoint_save(m, &c, p) == WG_OK, "%s", wg_model_error(m));
  unsigned char *buf;
  size_t len;
  char err[256];
  ck_assert_int_eq(wg_file_read(p, &buf, &len, err, sizeof err), WG_OK);
  dtype_list l = {.n = 0};
  ck_assert_int_eq(wg_npz_walk(m, p, buf, len, note_dtype, &l), WG_OK);
  wg_free(buf, len + 1);
  int meta = 0;
  for (int i = 0; i < l.n; i++) {
    int is_meta = strstr(l.names[i], "rng") || !strcmp(l.names[i], "optim.step") ||
                  !strcmp(l.names[i], "optim.lr") || !strncmp(l.names[i], "value.", 6);
    meta += is_meta;
    ck_assert_msg(!strcmp(l.descr[i], is_meta || !TU_F32 ? "<f8" : "<f4"), "%s: %s", l.names[i],
                  l.descr[i]);
  }
  ck_assert_int_eq(meta, 5); /* model.rng, optim.step, optim.lr, rng.data, value.epoch */
  /* and they come back exactly */
  wg_rng r0 = r;
  double e0 = epoch;
  for (int k = 0; k < 8; k++) wg_rng_next(&r);
  epoch = 0;
  ck_assert_msg(wg_checkpoint_load(m, &c, p) == WG_OK, "%s", wg_model_error(m));
  ck_assert(memcmp(&r, &r0, sizeof r) == 0 && epoch == e0);
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* ---- allocation failures ----------------------------------------------------------------------- */

static long budget = -1, live = 0;
static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud;
  if (new_size == 0) {
    if (ptr) live -= (long)old_size;
    free(ptr);
    return NULL;
  }
  if (budget == 0) return NULL;
  if (budget > 0) budget--;
  void *p = realloc(ptr, new_size);
  if (p) live += (long)new_size - (long)(ptr ? old_size : 0);
  return p;
}

START_TEST(io_survives_allocation_failures) {
  char csv[256], npz[256], out[256];
  snprintf(csv, sizeof csv, "%s", write_text("f.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n"));
  snprintf(npz, sizeof npz, "%s", path_of("f.npz"));
  snprintf(out, sizeof out, "%s", path_of("g.npz"));
  wg_model *src = small_model(1, 4);
  ck_assert_int_eq(wg_model_save(src, npz), WG_OK);
  wg_model_free(src);
  wg_set_allocator(failing_alloc, NULL);
  int succeeded = 0;
  for (long n = 0; n < 60; n++) { /* enough for every step to succeed at last */
    budget = n, live = 0;
    wg_dataset d, tr, te;
    char err[256];
    if (wg_csv_load(&d, csv, NULL, -1, err, sizeof err) == WG_OK) {
      wg_rng r;
      wg_rng_seed(&r, 1);
      if (wg_dataset_split(&d, 0.34, &r, &tr, &te, err, sizeof err) == WG_OK)
        wg_dataset_free(&tr), wg_dataset_free(&te);
      wg_dataset_free(&d);
    } else {
      ck_assert_ptr_null(d.x);
    }
    wg_model *m = wg_model_new(1);
    if (m && !wg_model_add(m, "W1", 3, 4, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL) &&
        !wg_model_add(m, "b1", 1, 4, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL) &&
        !wg_model_add(m, "W2", 4, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL)) {
      succeeded += wg_model_load(m, npz) == WG_OK;
      wg_model_save(m, out);
    }
    wg_model_free(m);
    ck_assert_msg(live == 0, "allocation %ld failing: %ld bytes leaked", n, live);
  }
  wg_set_allocator(NULL, NULL);
  ck_assert_int_gt(succeeded, 0);
}
END_TEST

/* ---- special files, limits, stale messages (issue 12) ----------------------------------------- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The loaders on path, each within 2 s: status IO and a message naming the path and `kind`.
 * Requests above 64 MB are refused, so a loader that reads on (a regression) stops with
 * WG_ERR_NOMEM instead of filling memory; nothing may stay allocated. */
static void loaders_refuse(const char *path, const char *kind) {
  ca_state st = {0};
  st.limit = (size_t)64 << 20;
  wg_set_allocator(ca_alloc, &st);
  char err[256];
  wg_mat m;
  wg_dataset d;
  wg_model *mo = wg_model_new(1);
  wg_model_add(mo, "W", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  for (int k = 0; k < 3; k++) {
    double t0 = now();
    wg_status s = k == 0   ? wg_npy_load(path, &m, err, sizeof err)
                  : k == 1 ? wg_csv_load(&d, path, NULL, -1, err, sizeof err)
                           : wg_model_load(mo, path);
    const char *msg = k == 2 ? wg_model_error(mo) : err;
    ck_assert_msg(s == WG_ERR_IO, "loader %d on %s: %s: %s", k, path, wg_status_string(s), msg);
    ck_assert_msg(strncmp(msg, path, strlen(path)) == 0 && strstr(msg, kind) &&
                      strstr(msg, "not a regular file"), "loader %d: %s", k, msg);
    ck_assert_msg(now() - t0 < 2, "loader %d on %s took %.1f s", k, path, now() - t0);
  }
  wg_model_free(mo);
  wg_set_allocator(NULL, NULL);
  ck_assert_uint_eq(st.live, 0);
}

START_TEST(loaders_refuse_directories_fifos_and_devices) {
  alarm(20); /* a loader blocking on the FIFO fails the test instead of hanging the suite */
  const char *fifo = path_of("fifo");
  ck_assert_int_eq(mkfifo(fifo, 0600), 0); /* no writer: fopen("r") would wait forever */
  loaders_refuse(fifo, "is a FIFO");
  loaders_refuse(dir, "is a directory");
  loaders_refuse("/dev/zero", "is a character device"); /* endless zeros */
  alarm(0);
}
END_TEST

START_TEST(savers_refuse_fifos_and_devices) {
  alarm(20); /* fopen("w") on a FIFO without a reader would wait forever */
  const char *fifo = path_of("fifo");
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  wg_real v[4] = {1, 2, 3, 4};
  char err[256];
  wg_model *mo = wg_model_new(1);
  wg_model_add(mo, "W", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  const char *paths[2] = {fifo, "/dev/null"}, *kinds[2] = {"is a FIFO", "is a character device"};
  for (int k = 0; k < 2; k++) {
    double t0 = now();
    ck_assert_int_eq(wg_npy_save(paths[k], (wg_mat){2, 2, v}, 2, err, sizeof err), WG_ERR_IO);
    ck_assert_msg(strstr(err, paths[k]) && strstr(err, kinds[k]), "%s", err);
    ck_assert_int_eq(wg_model_save(mo, paths[k]), WG_ERR_IO);
    ck_assert_msg(strstr(wg_model_error(mo), kinds[k]), "%s", wg_model_error(mo));
    ck_assert(now() - t0 < 2);
  }
  ck_assert_int_eq(wg_npy_save(dir, (wg_mat){2, 2, v}, 2, err, sizeof err), WG_ERR_IO);
  ck_assert_msg(strstr(err, "cannot create: Is a directory"), "%s", err);
  wg_model_free(mo);
  alarm(0);
}
END_TEST

/* A regular file holding more than its size: /proc/self/status has st_size 0 and some text,
 * as a file that grows between fstat and the read. Refused rather than read past the size. */
START_TEST(loaders_refuse_a_file_larger_than_its_size) {
  const char *p = "/proc/self/status";
  struct stat sb;
  if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != 0) {
    fprintf(stderr, "loaders_refuse_a_file_larger_than_its_size: no %s, skipped\n", p);
    return;
  }
  char err[256];
  wg_mat m;
  wg_dataset d;
  ck_assert_int_eq(wg_npy_load(p, &m, err, sizeof err), WG_ERR_IO);
  ck_assert_msg(strstr(err, "more than the 0 bytes of its size: it grew"), "%s", err);
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_ERR_IO);
  ck_assert_msg(strstr(err, "it grew while it was read"), "%s", err);
  ck_assert_ptr_null(d.x);
  wg_model *mo = small_model(1, 4);
  ck_assert_int_eq(wg_model_load(mo, p), WG_ERR_IO);
  ck_assert_msg(strstr(wg_model_error(mo), "it grew while it was read"), "%s",
                wg_model_error(mo));
  wg_model_free(mo);
}
END_TEST

/* n copies of unit into a new file */
static const char *write_repeated(const char *name, const char *head, const char *unit, size_t n,
                                  const char *tail) {
  const char *p = path_of(name);
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs(head, f);
  for (size_t i = 0; i < n; i++) fputs(unit, f);
  fputs(tail, f);
  ck_assert_int_eq(fclose(f), 0);
  return p;
}

/* One field more than WG_CSV_MAX_COLS, and one byte more than WG_CSV_MAX_LINE in the header and
 * in a data line: WG_ERR_FORMAT naming the line and the limit. */
START_TEST(csv_refuses_lines_and_headers_over_the_limits) {
  char err[256];
  wg_dataset d;
  const char *p = write_repeated("cols.csv", "", "a,", WG_CSV_MAX_COLS, "y\n0\n");
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_msg(strstr(err, "line 1: expected at most 1048576 columns (WG_CSV_MAX_COLS), found "
                            "1048577"), "%s", err);
  p = write_repeated("head.csv", "", ",", (size_t)WG_CSV_MAX_LINE + 1, "\n1,2\n");
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_msg(strstr(err, "line 1: expected at most 16777216 bytes in a line (WG_CSV_MAX_LINE)"
                            ", found 16777217"), "%s", err);
  p = write_repeated("line.csv", "a,b\n1,2\n1,", "0", (size_t)WG_CSV_MAX_LINE - 1, "\n");
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_ERR_FORMAT);
  ck_assert_msg(strstr(err, "line 3: expected at most 16777216 bytes"), "%s", err);
  ck_assert_ptr_null(d.x);
  /* exactly at the line limit (spaces around a field are allowed): read */
  p = write_repeated("max.csv", "a,b\n1,", " ", (size_t)WG_CSV_MAX_LINE - 3, "0\n");
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_OK);
  ck_assert(d.rows == 1 && d.x[0] == 1 && d.y[0] == 0);
  wg_dataset_free(&d);
}
END_TEST

/* 65537 columns, 65535 blank lines, then one full row: 8 x 65537 x 65536 bytes (32 GB, and
 * 2^32 + 65536 values, which wraps a 32-bit size_t) if the blank lines counted as rows before
 * the row check. The values allocated stay bounded by the file (at most 64 MB allowed). */
START_TEST(csv_blank_lines_do_not_inflate_the_allocation) {
  const char *p = path_of("wide.csv");
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  for (int j = 0; j < 65536; j++) fputs("a,", f);
  fputs("y\n", f);
  for (int i = 0; i < 65535; i++) fputc('\n', f);
  for (int j = 0; j < 65536; j++) fputs("0,", f);
  fputs("1\n", f);
  ck_assert_int_eq(fclose(f), 0);
  ca_state st = {0};
  st.limit = (size_t)64 << 20;
  wg_set_allocator(ca_alloc, &st);
  char err[256];
  wg_dataset d;
  wg_status s = wg_csv_load(&d, p, NULL, -1, err, sizeof err);
  wg_set_allocator(NULL, NULL);
  ck_assert_msg(s == WG_ERR_FORMAT, "%s: %s", wg_status_string(s), err);
  ck_assert_msg(strstr(err, "line 2: expected 65537 comma-separated fields (as in the header), "
                            "found 0 (an empty line)"), "%s", err);
  ck_assert_uint_eq(st.live, 0);
}
END_TEST

/* A UTF-8 byte-order mark (as Excel writes) is not part of the first column's name. */
START_TEST(csv_skips_a_byte_order_mark) {
  const char *p = write_text("bom.csv", "\xEF\xBB\xBFid,x,label\n7,1.5,0\n8,2.5,1\n");
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, p, "id", -1, err, sizeof err), WG_OK);
  ck_assert_str_eq(d.label_name, "id");
  ck_assert(d.y[0] == 7 && d.y[1] == 8 && d.x[0] == 1.5 && d.x[3] == 1);
  wg_dataset_free(&d);
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, 0, err, sizeof err), WG_OK);
  ck_assert_str_eq(d.label_name, "id");
  wg_dataset_free(&d);
}
END_TEST

/* Subnormal numbers are finite (strtod flags them with ERANGE): 1e-310 as NumPy's savetxt
 * writes it, the smallest subnormal 2^-1074, and 1e-400, which rounds to 0. */
START_TEST(csv_accepts_subnormal_numbers) {
#ifdef WG_REAL_FLOAT /* float's subnormals: 1e-40, -2^-149; 1e-50 underflows to 0 */
  const char *p = write_text("sub.csv", "a,b\n1e-40,0\n-1.40129846e-45,1\n1e-50,0\n");
  const double sub = 1e-40, tiny = -ldexp(1, -149), least_normal = FLT_MIN;
#else
  const char *p = write_text("sub.csv", "a,b\n1e-310,0\n-4.9406564584124654e-324,1\n1e-400,0\n");
  const double sub = 1e-310, tiny = -ldexp(1, -1074), least_normal = 2.2250738585072014e-308;
#endif
  wg_dataset d;
  char err[256];
  ck_assert_int_eq(wg_csv_load(&d, p, NULL, -1, err, sizeof err), WG_OK);
  ck_assert_int_eq(d.rows, 3);
  ck_assert(d.x[0] == (wg_real)sub && d.x[0] > 0 && d.x[0] < least_normal);
  ck_assert(d.x[1] == tiny);
  ck_assert(d.x[2] == 0);
  wg_dataset_free(&d);
}
END_TEST

/* Success leaves "" in err, whatever an earlier failure wrote there. */
START_TEST(success_clears_the_message) {
  const char *p = write_text("ok.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
  char err[256];
  wg_dataset d, tr, te;
  wg_scaler sc;
  wg_rng r;
  wg_rng_seed(&r, 1);
  wg_real v[2] = {1, 2};
  wg_mat m;
  const char *q = path_of("ok.npy");
  for (int k = 0; k < 6; k++) {
    strcpy(err, "stale message");
    wg_status s = k == 0   ? wg_csv_load(&d, p, NULL, -1, err, sizeof err)
                  : k == 1 ? wg_dataset_split(&d, 0.5, &r, &tr, &te, err, sizeof err)
                  : k == 2 ? wg_scaler_fit(&sc, &tr, err, sizeof err)
                  : k == 3 ? wg_scaler_apply(&sc, &te, err, sizeof err)
                  : k == 4 ? wg_npy_save(q, (wg_mat){1, 2, v}, 2, err, sizeof err)
                           : wg_npy_load(q, &m, err, sizeof err);
    ck_assert_int_eq(s, WG_OK);
    ck_assert_msg(err[0] == 0, "call %d left '%s'", k, err);
  }
  wg_npy_free(&m), wg_scaler_free(&sc);
  wg_dataset_free(&d), wg_dataset_free(&tr), wg_dataset_free(&te);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("io");
  TCase *tc = tcase_create("csv");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, csv_loads_values_names_and_label);
  tcase_add_loop_test(tc, csv_errors_name_line_and_column, 0,
                      (int)(sizeof bad_csv / sizeof bad_csv[0]));
  tcase_add_test(tc, csv_missing_file);
  tcase_add_test(tc, csv_refuses_binary_files);
  tcase_add_test(tc, csv_loads_the_real_data);
  tcase_add_test(tc, split_is_a_seeded_permutation);
  tcase_add_test(tc, scaler_fits_train_applies_to_test);
  tcase_add_test(tc, batches_cover_all_rows);
  suite_add_tcase(s, tc);
  tc = tcase_create("npy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, npy_round_trip_bit_exact);
  tcase_add_loop_test(tc, npy_rejects_bad_headers, 0, (int)(sizeof bad_npy / sizeof bad_npy[0]));
  tcase_add_test(tc, npy_rejects_magic_version_and_every_truncation);
  tcase_add_test(tc, npy_reads_numpy_fixtures);
  suite_add_tcase(s, tc);
  tc = tcase_create("npz");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, crc32_check_value);
  tcase_add_test(tc, npz_round_trip_bit_exact);
  tcase_add_test(tc, npz_rejects_mismatched_models);
  tcase_add_test(tc, npz_rejects_every_truncation);
  tcase_add_test(tc, npz_rejects_corruption);
  tcase_add_loop_test(tc, npz_checks_every_zip_field, 0,
                      (int)(sizeof npz_edits / sizeof npz_edits[0]));
  tcase_add_test(tc, io_refuses_bad_arguments);
  tcase_add_test(tc, npy_reads_large_files);
  tcase_add_test(tc, io_survives_allocation_failures);
  suite_add_tcase(s, tc);
  tc = tcase_create("dtypes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, npy_writes_the_dtype_of_wg_real);
  tcase_add_test(tc, npy_reads_f4_exactly);
  tcase_add_test(tc, npy_reads_f8_rounding_in_float);
  tcase_add_test(tc, npy_f8_beyond_float_range);
  tcase_add_test(tc, model_load_reads_both_dtypes);
  tcase_add_test(tc, checkpoint_metadata_stays_float64);
  suite_add_tcase(s, tc);

  tc = tcase_create("hostile files");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, loaders_refuse_directories_fifos_and_devices);
  tcase_add_test(tc, savers_refuse_fifos_and_devices);
  tcase_add_test(tc, loaders_refuse_a_file_larger_than_its_size);
  tcase_add_test(tc, csv_refuses_lines_and_headers_over_the_limits);
  tcase_add_test(tc, csv_blank_lines_do_not_inflate_the_allocation);
  tcase_add_test(tc, csv_skips_a_byte_order_mark);
  tcase_add_test(tc, csv_accepts_subnormal_numbers);
  tcase_add_test(tc, success_clears_the_message);
  suite_add_tcase(s, tc);
  tc = tcase_create("numpy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, numpy_reads_our_files);
  tcase_add_test(tc, we_read_numpy_files);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

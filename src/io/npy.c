/* npy.c - NumPy's .npy format for one float64 or float32 matrix.
 *
 * Layout (NumPy's format spec, numpy.lib.format):
 *   "\x93NUMPY"  magic, 6 bytes
 *   major, minor version bytes: 1.0 or 2.0 here (3.0, a UTF-8 header, is refused)
 *   HEADER_LEN   little-endian uint16 (1.0) or uint32 (2.0)
 *   header       ASCII Python dict literal, e.g.
 *                {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 *                padded with spaces and ended by '\n' so magic + version + length + header is
 *                a multiple of 64 bytes (the data starts aligned)
 *   data         rows * cols little-endian IEEE numbers in C (row-major) order
 * A 1-D array of n elements reads as a 1 x n matrix. Anything else (another dtype, Fortran
 * order, more dimensions, a zero dimension, a short or long data part) is refused.
 *
 * dtypes: a matrix is written in wg_real's own type: '<f8' (float64) by the default build,
 * '<f4' (float32) by the float build (WG_REAL_FLOAT). Both builds read both: '<f4' into double
 * is exact; '<f8' into float rounds to nearest, and a value finite in float64 but beyond
 * FLT_MAX in magnitude is refused (WG_ERR_FORMAT, naming the file and the element) instead of
 * turning into an infinity. Underflow is not an error: a value below float's smallest normal
 * (1.2e-38) rounds to the nearest float32 subnormal, or to a zero of the same sign below half
 * of the smallest subnormal (7.0e-46), as NumPy's astype(np.float32) does. NaN and +-Inf stay.
 * Numbers that must stay exact in either build (a checkpoint's step count, generator words) use
 * the float64 pair wg_npy_encode_f64 / wg_npy_decode_f64. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/file.h"
#include "io/npy.h"
#include "model/model.h"
#include "tape/alloc.h"

static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- encoding -------------------------------------------------------------------------------- */

static void put_f64(unsigned char *p, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (8 * i));
}

static void put_f32(unsigned char *p, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  wg_put32(p, u);
}

static double get_f64(const unsigned char *p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= (uint64_t)p[i] << (8 * i);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

static float get_f32(const unsigned char *p) {
  uint32_t u = wg_le32(p);
  float v;
  memcpy(&v, &u, 4);
  return v;
}

/* element i of a matrix handed to encode: wg_real (f64 == 0) or double (f64 == 1) */
typedef struct {
  const void *data;
  int f64;
} source;

static double source_get(source src, size_t i) {
  return src.f64 ? ((const double *)src.data)[i] : (double)((const wg_real *)src.data)[i];
}

/* The .npy image of a rows x cols matrix: '<f8' when esize is 8, '<f4' when it is 4 (a float
 * source only: a double is never narrowed here). */
static wg_status encode(source src, int rows, int cols, size_t esize, int ndim, int version,
                        unsigned char **buf, size_t *len, char *err, size_t errlen) {
  struct {
    int rows, cols;
    const void *data;
  } m = {rows, cols, src.data};
  *buf = NULL, *len = 0;
  io_clear(err, errlen);
  if (!m.data || m.rows <= 0 || m.cols <= 0)
    return wg_errf(err, errlen, WG_ERR_ARG, "npy: matrix (%dx%d) is empty or NULL", m.rows,
                   m.cols);
  if (ndim != 1 && ndim != 2)
    return wg_errf(err, errlen, WG_ERR_ARG, "npy: ndim %d: only 1 or 2", ndim);
  if (ndim == 1 && m.rows != 1 && m.cols != 1)
    return wg_errf(err, errlen, WG_ERR_SHAPE, "npy: a (%dx%d) matrix is not 1-D", m.rows, m.cols);
  if (version < 0 || version > 2)
    return wg_errf(err, errlen, WG_ERR_ARG, "npy: version %d: only 1 or 2 (0 = automatic)",
                   version);
  char dict[128];
  size_t n, bytes, total;
  if (!wg_mul_size((size_t)m.rows, (size_t)m.cols, &n) || !wg_mul_size(n, esize, &bytes))
    return wg_errf(err, errlen, WG_ERR_NOMEM, "npy: (%dx%d) is too large: its size "
                   "in bytes exceeds SIZE_MAX", m.rows, m.cols);
  const char *descr = esize == 8 ? "<f8" : "<f4";
  int dl = ndim == 1 ? snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                                "'shape': (%zu,), }", descr, n)
                     : snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                                "'shape': (%d, %d), }", descr, m.rows, m.cols);
  /* the header: dict, spaces, '\n'; prefix + header a multiple of 64 */
  size_t prefix = 10, need = (size_t)dl + 1;
  if (version == 0) version = ((prefix + need + 63) / 64 * 64 - prefix) > 65535 ? 2 : 1;
  if (version == 2) prefix = 12;
  size_t hlen = (prefix + need + 63) / 64 * 64 - prefix;
  if (!wg_add_size(prefix + hlen, bytes, &total))
    return wg_errf(err, errlen, WG_ERR_NOMEM, "npy: (%dx%d) is too large: its size "
                   "in bytes exceeds SIZE_MAX", m.rows, m.cols);
  unsigned char *b = wg_alloc(total);
  if (!b) return wg_errf(err, errlen, WG_ERR_NOMEM, "npy: out of memory (%zu bytes)", total);
  memcpy(b, magic, 6);
  b[6] = (unsigned char)version, b[7] = 0;
  if (version == 1) wg_put16(b + 8, (uint32_t)hlen);
  else wg_put32(b + 8, (uint32_t)hlen);
  memcpy(b + prefix, dict, (size_t)dl);
  memset(b + prefix + dl, ' ', hlen - (size_t)dl - 1);
  b[prefix + hlen - 1] = '\n';
  for (size_t i = 0; i < n; i++)
    if (esize == 8) put_f64(b + prefix + hlen + 8 * i, source_get(src, i));
    else put_f32(b + prefix + hlen + 4 * i, (float)((const wg_real *)src.data)[i]);
  *buf = b, *len = total;
  return WG_OK;
}

wg_status wg_npy_encode(wg_mat m, int ndim, int version, unsigned char **buf, size_t *len,
                        char *err, size_t errlen) {
  return encode((source){m.data, 0}, m.rows, m.cols, sizeof(wg_real), ndim, version, buf, len,
                err, errlen);
}

wg_status wg_npy_encode_f64(const double *data, int rows, int cols, unsigned char **buf,
                            size_t *len, char *err, size_t errlen) {
  return encode((source){data, 1}, rows, cols, 8, 2, 0, buf, len, err, errlen);
}

/* ---- decoding: a tiny parser for the header's dict literal ------------------------------------ */

typedef struct {
  const char *s, *e;
} cursor;

static void skip_ws(cursor *c) {
  while (c->s < c->e && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) c->s++;
}

static int eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->s < c->e && *c->s == ch) return c->s++, 1;
  return 0;
}

/* a '...' or "..." string without escapes into out */
static int read_str(cursor *c, char *out, size_t n) {
  skip_ws(c);
  if (c->s >= c->e || (*c->s != '\'' && *c->s != '"')) return 0;
  char q = *c->s++;
  size_t k = 0;
  while (c->s < c->e && *c->s != q) {
    if (*c->s == '\\' || k + 1 >= n) return 0;
    out[k++] = *c->s++;
  }
  if (c->s >= c->e) return 0;
  c->s++;
  out[k] = 0;
  return 1;
}

static int read_word(cursor *c, const char *w) {
  skip_ws(c);
  size_t n = strlen(w);
  if ((size_t)(c->e - c->s) >= n && memcmp(c->s, w, n) == 0) return c->s += n, 1;
  return 0;
}

/* (d0, d1, ...) with up to 3 dims recorded; *nd = the count (-1 on syntax errors) */
static int read_shape(cursor *c, long long *dims, int *nd) {
  *nd = 0;
  if (!eat(c, '(')) return 0;
  for (;;) {
    if (eat(c, ')')) return 1;
    skip_ws(c);
    long long v = 0;
    int digits = 0;
    while (c->s < c->e && *c->s >= '0' && *c->s <= '9') {
      if (v > (LLONG_MAX - 9) / 10) return 0;
      v = 10 * v + (*c->s++ - '0'), digits++;
    }
    if (!digits) return 0;
    if (*nd < 3) dims[*nd] = v;
    if (*nd < INT_MAX) (*nd)++; /* a header of 4 GB could list 2^31 dimensions */
    if (eat(c, ')')) return 1;
    if (!eat(c, ',')) return 0;
  }
}

/* what a parsed header says: rows x cols numbers of esize bytes (8: '<f8', 4: '<f4') from
 * byte data on */
typedef struct {
  int rows, cols;
  size_t n, esize, data;
} layout;

static wg_status parse(const unsigned char *buf, size_t len, const char *what, layout *lay,
                       char *err, size_t errlen) {
  if (len < 10)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: truncated: %zu bytes, a .npy file has at "
                   "least 10", what, len);
  if (memcmp(buf, magic, 6) != 0)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: bad magic: expected \\x93NUMPY at byte 0",
                   what);
  int major = buf[6], minor = buf[7];
  if ((major != 1 && major != 2) || minor != 0)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: format version %d.%d: expected 1.0 or 2.0",
                   what, major, minor);
  size_t prefix = major == 1 ? 10 : 12;
  if (len < prefix)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: truncated in the header length (%zu bytes)",
                   what, len);
  size_t hlen = major == 1 ? wg_le16(buf + 8) : wg_le32(buf + 8);
  if (hlen > len - prefix)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: header length %zu runs past the end of the "
                   "file (%zu bytes): truncated?", what, hlen, len);
  for (size_t i = 0; i < hlen; i++)
    if (buf[prefix + i] >= 0x80 || buf[prefix + i] == 0)
      return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: header byte %zu is not ASCII", what,
                     prefix + i);
  cursor c = {(const char *)buf + prefix, (const char *)buf + prefix + hlen};
  char key[32], descr[32] = "";
  int fortran = -1, nd = -1, seen = 0;
  long long dims[3] = {0, 0, 0};
  if (!eat(&c, '{')) goto syntax;
  while (!eat(&c, '}')) {
    if (!read_str(&c, key, sizeof key) || !eat(&c, ':')) goto syntax;
    if (strcmp(key, "descr") == 0) {
      if (!read_str(&c, descr, sizeof descr)) goto syntax;
      seen |= 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (read_word(&c, "True")) fortran = 1;
      else if (read_word(&c, "False")) fortran = 0;
      else goto syntax;
      seen |= 2;
    } else if (strcmp(key, "shape") == 0) {
      if (!read_shape(&c, dims, &nd)) goto syntax;
      seen |= 4;
    } else {
      return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: unexpected header key '%s'", what, key);
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}')) goto syntax;
      break;
    }
  }
  skip_ws(&c);
  if (c.s != c.e || seen != 7) goto syntax;
  size_t esize = strcmp(descr, "<f8") == 0 ? 8 : strcmp(descr, "<f4") == 0 ? 4 : 0;
  if (!esize)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: dtype '%s': expected '<f8' or '<f4' "
                   "(little-endian float64 or float32)", what, descr);
  if (fortran)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: fortran_order is True: expected C order",
                   what);
  if (nd != 1 && nd != 2)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: %d dimensions: expected 1 or 2", what, nd);
  long long rows = nd == 1 ? 1 : dims[0], cols = nd == 1 ? dims[0] : dims[1];
  if (rows <= 0 || cols <= 0 || rows > INT_MAX || cols > INT_MAX)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: shape %lld x %lld: dimensions must be 1 .. "
                   "%d", what, rows, cols, INT_MAX);
  size_t n, bytes, data = len - prefix - hlen;
  if (!wg_mul_size((size_t)rows, (size_t)cols, &n) || !wg_mul_size(n, esize, &bytes))
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: shape %lld x %lld is too large: its data "
                   "would exceed SIZE_MAX (%zu) bytes", what, rows, cols, (size_t)SIZE_MAX);
  if (data != bytes)
    return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: shape %lld x %lld needs %zu data bytes, the "
                   "file has %zu", what, rows, cols, bytes, data);
  *lay = (layout){(int)rows, (int)cols, n, esize, prefix + hlen};
  return WG_OK;
syntax:
  return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: header is not a dict with 'descr', "
                 "'fortran_order' and 'shape': %.*s", what, (int)(hlen > 80 ? 80 : hlen),
                 (const char *)buf + prefix);
}

/* element i of the data as a double ('<f4' widens exactly) */
static double element(const unsigned char *buf, const layout *lay, size_t i) {
  const unsigned char *p = buf + lay->data + lay->esize * i;
  return lay->esize == 8 ? get_f64(p) : (double)get_f32(p);
}

wg_status wg_npy_decode(const unsigned char *buf, size_t len, const char *what, wg_mat *m,
                        char *err, size_t errlen) {
  *m = (wg_mat){0, 0, NULL};
  io_clear(err, errlen);
  layout lay;
  wg_status st = parse(buf, len, what, &lay, err, errlen);
  if (st) return st;
  wg_real *v = wg_alloc(lay.n * sizeof *v); /* sizeof *v <= esize: at most the data's bytes */
  if (!v) return wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory", what);
  for (size_t i = 0; i < lay.n; i++) {
    double x = element(buf, &lay, i);
    /* float build, '<f8' data: a finite number beyond float's range has no float32 value */
    if (sizeof(wg_real) < sizeof(double) && isfinite(x) && fabs(x) > FLT_MAX) {
      wg_free(v, lay.n * sizeof *v);
      return wg_errf(err, errlen, WG_ERR_FORMAT, "%s: element %zu ([%zu, %zu]) is %.17g: beyond "
                     "float32's range (+-%.9g), this library's wg_real is float", what, i,
                     i / (size_t)lay.cols, i % (size_t)lay.cols, x, (double)FLT_MAX);
    }
    v[i] = (wg_real)x;
  }
  *m = (wg_mat){lay.rows, lay.cols, v};
  return WG_OK;
}

wg_status wg_npy_decode_f64(const unsigned char *buf, size_t len, const char *what, double *out,
                            size_t cap, int *rows, int *cols, char *err, size_t errlen) {
  *rows = *cols = 0;
  io_clear(err, errlen);
  layout lay;
  wg_status st = parse(buf, len, what, &lay, err, errlen);
  if (st) return st;
  *rows = lay.rows, *cols = lay.cols;
  if (lay.n > cap) return WG_OK; /* the caller compares the shape: no numbers read */
  for (size_t i = 0; i < lay.n; i++) out[i] = element(buf, &lay, i);
  return WG_OK;
}

/* ---- files ----------------------------------------------------------------------------------- */

wg_status wg_npy_save(const char *path, wg_mat m, int ndim, char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!path) return wg_errf(err, errlen, WG_ERR_ARG, "wg_npy_save: path is NULL");
  unsigned char *buf;
  size_t len;
  wg_status st = wg_npy_encode(m, ndim, 0, &buf, &len, err, errlen);
  if (st) return st;
  st = wg_file_write(path, buf, len, err, errlen);
  wg_free(buf, len);
  return st;
}

wg_status wg_npy_load(const char *path, wg_mat *m, char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!m) return wg_errf(err, errlen, WG_ERR_ARG, "wg_npy_load: matrix is NULL");
  *m = (wg_mat){0, 0, NULL};
  if (!path) return wg_errf(err, errlen, WG_ERR_ARG, "wg_npy_load: path is NULL");
  unsigned char *buf;
  size_t len;
  wg_status st = wg_file_read(path, &buf, &len, err, errlen);
  if (st) return st;
  st = wg_npy_decode(buf, len, path, m, err, errlen);
  wg_free(buf, len + 1);
  return st;
}

void wg_npy_free(wg_mat *m) {
  if (!m) return;
  wg_free(m->data, (size_t)m->rows * (size_t)m->cols * sizeof *m->data);
  *m = (wg_mat){0, 0, NULL};
}

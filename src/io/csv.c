/* csv.c - numeric CSV files into a wg_dataset.
 *
 * Format: line 1 holds the column names, separated by commas; every following line holds the
 * same number of numeric fields (strtod syntax, finite, spaces around a field allowed). Lines
 * may end in \n or \r\n; blank lines are allowed only at the end of the file; a UTF-8
 * byte-order mark before the header is skipped. Limits (wengert.h): WG_CSV_MAX_LINE bytes per
 * line, WG_CSV_MAX_COLS columns, INT_MAX lines. One column is the label, the others are the
 * features in file order. Any deviation fails with
 * "FILE: line L, column C (NAME): expected ..., found '...'" and leaves the dataset empty.
 *
 * Two passes over the text: the first checks every line's length and field count and counts
 * the rows, so the values allocated (rows x cols) are bounded by the file's own size; the second
 * parses the numbers. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dataset.h"
#include "io/file.h"
#include "model/model.h"
#include "tape/alloc.h"

/* ---- reading ------------------------------------------------------------------------------- */

typedef struct {
  const char *path;
  char *err;
  size_t errlen;
} where;

/* one line [s, e) without its \r\n; returns the start of the next line or NULL at the end */
static const char *next_line(const char *s, const char *end, const char **e) {
  if (s >= end) return NULL;
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  const char *stop = nl ? nl : end;
  *e = stop > s && stop[-1] == '\r' ? stop - 1 : stop;
  return nl ? nl + 1 : end;
}

static int blank(const char *s, const char *e) {
  for (; s < e; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

/* fields of a line of at most WG_CSV_MAX_LINE bytes (so the count fits an int) */
static int count_fields(const char *s, const char *e) {
  int n = 1;
  for (; s < e; s++) n += *s == ',';
  return n;
}

static wg_status line_too_long(const where *w, int line, const char *s, const char *e) {
  return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line %d: expected at most %d bytes in a "
                 "line (WG_CSV_MAX_LINE), found %zu", w->path, line, WG_CSV_MAX_LINE,
                 (size_t)(e - s));
}

/* field [s, e) trimmed of spaces, and of surrounding double quotes when unquote */
static void trim(const char **s, const char **e, int unquote) {
  while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
  if (unquote && *e - *s >= 2 && **s == '"' && (*e)[-1] == '"') (*s)++, (*e)--;
}

/* "'text'" shortened to fit a message */
static void shown(char *out, size_t n, const char *s, const char *e) {
  int len = (int)(e - s) > 40 ? 40 : (int)(e - s);
  snprintf(out, n, "'%.*s%s'", len, s, (int)(e - s) > 40 ? "..." : "");
}

/* Parse a number filling the whole field, finite as a wg_real. strtod's ERANGE is not looked
 * at: it flags underflow too (1e-310 is a subnormal, 1e-400 rounds to 0, both finite, as NumPy
 * reads them), while an overflow returns +-HUGE_VAL, which isfinite refuses. */
static int parse_number(const char *s, const char *e, wg_real *v) {
  char tmp[128];
  if (e - s <= 0 || e - s >= (long)sizeof tmp) return 0;
  memcpy(tmp, s, (size_t)(e - s));
  tmp[e - s] = 0;
  char *stop;
  double d = strtod(tmp, &stop);
  *v = (wg_real)d;
  return stop == tmp + (e - s) && isfinite(d) && isfinite(*v);
}

/* Split the header into names[cols]; 0 and an error on an empty name or OOM. */
static wg_status read_header(const where *w, const char *s, const char *e, int ncols,
                             char **names) {
  for (int j = 0; j < ncols; j++) {
    const char *f = s, *fe = memchr(s, ',', (size_t)(e - s));
    if (!fe) fe = e;
    s = fe + 1;
    trim(&f, &fe, 1);
    if (f == fe)
      return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1, column %d: expected a "
                     "column name, found an empty field", w->path, j + 1);
    names[j] = wg_alloc((size_t)(fe - f) + 1);
    if (!names[j]) return wg_errf(w->err, w->errlen, WG_ERR_NOMEM, "%s: out of memory", w->path);
    memcpy(names[j], f, (size_t)(fe - f));
    names[j][fe - f] = 0;
  }
  return WG_OK;
}

static void free_names(char **names, int n) {
  for (int j = 0; names && j < n; j++)
    if (names[j]) wg_free(names[j], strlen(names[j]) + 1);
  wg_free(names, (size_t)n * sizeof *names);
}

/* role[j] = k when column j is target k (names[k]), -1 when a feature; an error naming the
 * missing or repeated target otherwise */
static wg_status pick_targets(const where *w, char **names, int ncols, const char *const *want,
                              int n, int *role) {
  for (int j = 0; j < ncols; j++) role[j] = -1;
  for (int k = 0; k < n; k++) {
    int j = 0;
    while (j < ncols && strcmp(names[j], want[k]) != 0) j++;
    if (j == ncols)
      return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1: expected a target column "
                     "named '%s' in the header, found none among its %d columns", w->path,
                     want[k], ncols);
    if (role[j] >= 0)
      return wg_errf(w->err, w->errlen, WG_ERR_ARG, "%s: target column '%s' is listed twice",
                     w->path, want[k]);
    role[j] = k;
  }
  if (n >= ncols)
    return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1: the %d target columns leave "
                   "no feature among the header's %d columns", w->path, n, ncols);
  return WG_OK;
}

/* the label column from the name / index / default; -1 and an error when absent */
static int pick_label(const where *w, char **names, int ncols, const char *label_name,
                      int label_index, wg_status *st) {
  if (label_name) {
    for (int j = 0; j < ncols; j++)
      if (strcmp(names[j], label_name) == 0) return j;
    *st = wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1: expected a label column named "
                  "'%s' in the header, found none among its %d columns", w->path, label_name,
                  ncols);
    return -1;
  }
  if (label_index < 0) return ncols - 1;
  if (label_index < ncols) return label_index;
  *st = wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1: expected a label column %d "
                "(0-based), but the header has only %d columns", w->path, label_index, ncols);
  return -1;
}

/* Check the data lines after the header (at p): each fits WG_CSV_MAX_LINE and has ncols
 * fields; blank lines only at the end. *rows = the lines up to the last non-blank one. */
static wg_status count_rows(const where *w, const char *p, const char *end, int ncols, int *rows) {
  const char *e;
  int line = 1, first_blank = 0; /* the line that opened the current run of blank lines */
  *rows = 0;
  for (const char *s = p, *q; (q = next_line(s, end, &e)) != NULL; s = q) {
    if (line == INT_MAX)
      return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line %d: expected at most %d lines, "
                     "found more", w->path, line, INT_MAX);
    line++;
    if (e - s > WG_CSV_MAX_LINE) return line_too_long(w, line, s, e);
    if (blank(s, e)) {
      if (!first_blank) first_blank = line;
      continue;
    }
    int nf = first_blank ? 0 : count_fields(s, e), at = first_blank ? first_blank : line;
    if (nf != ncols)
      return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line %d: expected %d comma-separated"
                     " fields (as in the header), found %d%s", w->path, at, ncols, nf,
                     nf ? "" : " (an empty line)");
    *rows = line - 1;
  }
  if (*rows == 0)
    return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 2: expected data rows after the "
                   "header, found none", w->path);
  return WG_OK;
}

/* Parse the data lines (checked by count_rows) into d (x: the features, y: the targets). */
static wg_status read_rows(const where *w, const char *p, const char *end, int ncols,
                           const int *role, char **names, wg_dataset *d) {
  const char *e = NULL;
  for (int i = 0; i < d->rows; i++) {
    const char *s = p;
    p = next_line(p, end, &e);
    for (int j = 0, k = 0; j < ncols; j++) {
      const char *f = s, *fe = memchr(s, ',', (size_t)(e - s));
      if (!fe) fe = e;
      s = fe + 1;
      trim(&f, &fe, 0);
      wg_real v;
      if (!parse_number(f, fe, &v)) {
        char txt[64];
        shown(txt, sizeof txt, f, fe);
        return wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line %d, column %d (%s): expected "
                       "a finite number, found %s", w->path, i + 2, j + 1, names[j],
                       f == fe ? "an empty field" : txt);
      }
      if (role[j] >= 0) d->y[(size_t)i * (size_t)d->targets + (size_t)role[j]] = v;
      else d->x[(size_t)i * (size_t)d->cols + (size_t)k++] = v;
    }
  }
  return WG_OK;
}

/* The header line [h, e): its field count, at most WG_CSV_MAX_COLS; 0 and an error if not. */
static int header_columns(const where *w, const char *h, const char *e, wg_status *st) {
  if (e - h > WG_CSV_MAX_LINE) {
    *st = line_too_long(w, 1, h, e);
    return 0;
  }
  int ncols = count_fields(h, e);
  if (ncols > WG_CSV_MAX_COLS) {
    *st = wg_errf(w->err, w->errlen, WG_ERR_FORMAT, "%s: line 1: expected at most %d columns "
                  "(WG_CSV_MAX_COLS), found %d", w->path, WG_CSV_MAX_COLS, ncols);
    return 0;
  }
  return ncols;
}

/* The loader of both calls: targets named by want[0..n) when want is not NULL, else the one
 * label column of wg_csv_load (label_name, label_index or the last). */
static wg_status load(wg_dataset *d, const char *path, const char *label_name, int label_index,
                      const char *const *want, int n, char *err, size_t errlen) {
  where w = {path, err, errlen};
  wg_status st;
  size_t size;
  unsigned char *bytes;
  if ((st = wg_file_read(path, &bytes, &size, err, errlen))) return st;
  const char *buf = (const char *)bytes, *end = buf + size, *e, *p = buf, *h = buf;
  char **names = NULL;
  int ncols = 0, rows = 0, *role = NULL;
  const char *nul = memchr(buf, 0, size); /* a binary file: names would be cut short */
  if (nul) {
    int line = 1;
    for (const char *q = buf; q < nul; q++) line += *q == '\n';
    st = wg_errf(err, errlen, WG_ERR_FORMAT, "%s: line %d: expected text, found a NUL byte (byte "
                 "%zu): not a CSV file?", path, line, (size_t)(nul - buf));
    goto done;
  }
  if (size >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) p = h = buf + 3; /* UTF-8 BOM */
  /* header */
  p = next_line(p, end, &e);
  if (!p || blank(h, e)) {
    st = wg_errf(err, errlen, WG_ERR_FORMAT, "%s: line 1: expected a header row of column names,"
                 " found %s", path, p ? "an empty line" : "an empty file");
    goto done;
  }
  if (!(ncols = header_columns(&w, h, e, &st))) goto done;
  if (!(names = wg_alloc_zero((size_t)ncols * sizeof *names))) { /* ncols <= 2^20: no wrap */
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory", path);
    goto done;
  }
  if ((st = read_header(&w, h, e, ncols, names))) goto done;
  if (ncols < 2) {
    st = wg_errf(err, errlen, WG_ERR_FORMAT, "%s: line 1: expected at least 2 columns (features"
                 " and a label), found 1", path);
    goto done;
  }
  if (!(role = wg_alloc((size_t)ncols * sizeof *role))) {
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory", path);
    goto done;
  }
  if (want) {
    if ((st = pick_targets(&w, names, ncols, want, n, role))) goto done;
  } else {
    int label = pick_label(&w, names, ncols, label_name, label_index, &st);
    if (label < 0) goto done;
    for (int j = 0; j < ncols; j++) role[j] = j == label ? 0 : -1;
    n = 1;
  }
  if ((st = count_rows(&w, p, end, ncols, &rows))) goto done;
  if (!wg_dataset_alloc(d, rows, ncols - n, n)) {
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory for %d x %d values", path, rows,
                 ncols);
    goto done;
  }
  if ((st = read_rows(&w, p, end, ncols, role, names, d))) goto done;
  /* hand the names over: features in file order, the targets in the order asked */
  for (int j = 0, k = 0; j < ncols; j++) {
    if (role[j] >= 0) d->target_names[role[j]] = names[j];
    else d->names[k++] = names[j];
    names[j] = NULL;
  }
  if (!(d->label_name = wg_strdup(d->target_names[0])))
    st = wg_errf(err, errlen, WG_ERR_NOMEM, "%s: out of memory", path);
done:
  wg_free(role, (size_t)ncols * sizeof *role);
  free_names(names, ncols);
  wg_free(bytes, size + 1);
  if (st) wg_dataset_free(d);
  return st;
}

wg_status wg_csv_load(wg_dataset *d, const char *path, const char *label_name, int label_index,
                      char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!d) return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load: dataset is NULL");
  memset(d, 0, sizeof *d);
  if (!path) return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load: path is NULL");
  return load(d, path, label_name, label_index, NULL, 1, err, errlen);
}

wg_status wg_csv_load_targets(wg_dataset *d, const char *path, const char *const *names, int n,
                              char *err, size_t errlen) {
  io_clear(err, errlen);
  if (!d) return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load_targets: dataset is NULL");
  memset(d, 0, sizeof *d);
  if (!path) return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load_targets: path is NULL");
  if (!names || n < 1 || n >= WG_CSV_MAX_COLS)
    return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load_targets: %s: %d target names at %p: "
                   "1 or more names are needed", path, n, (const void *)names);
  for (int k = 0; k < n; k++)
    if (!names[k] || !*names[k])
      return wg_errf(err, errlen, WG_ERR_ARG, "wg_csv_load_targets: %s: target name %d is %s",
                     path, k, names[k] ? "empty" : "NULL");
  return load(d, path, NULL, -1, names, n, err, errlen);
}

/* teach_page.c - a tape as a web page that steps through the reverse sweep (wg_tape_html).
 *
 *   build/examples/teach_page [FILE.html]            the seed's network (seed_tiny.h);
 *                                                    `make teach-page` writes docs/seed.html
 *   build/examples/teach_page --digits [FILE.html]   the MLP of examples/digits.c (64-64-10,
 *                                                    relu, softmax cross-entropy) on the
 *                                                    first 32 samples of examples/data/digits.csv
 * The page goes to stdout without a FILE. Open it in any browser: it needs no network. */
#include <stdio.h>
#include <string.h>

#include "seed_tiny.h"
#include "wengert.h"

enum { DIGITS_BATCH = 32, DIGITS_HIDDEN = 64, DIGITS_CLASSES = 10 };

/* The digits MLP, recorded one op per statement so that every row has a name. */
static int record_digits(wg_tape *t, wg_model *m, wg_dataset *d, char *err, size_t errlen) {
  if (wg_csv_load(d, "examples/data/digits.csv", NULL, -1, err, errlen)) return 0;
  int n = d->rows < DIGITS_BATCH ? d->rows : DIGITS_BATCH;
  for (int i = 0; i < n * d->cols; i++) d->x[i] /= 16; /* pixels 0..16 to 0..1 */
  wg_param *W1, *b1, *W2, *b2;
  wg_init zeros = {WG_INIT_ZEROS, 0, 0};
  if (wg_model_add(m, "W1", d->cols, DIGITS_HIDDEN, (wg_init){WG_INIT_HE_NORMAL, 0, 0}, &W1) ||
      wg_model_add(m, "b1", 1, DIGITS_HIDDEN, zeros, &b1) ||
      wg_model_add(m, "W2", DIGITS_HIDDEN, DIGITS_CLASSES, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0},
                   &W2) ||
      wg_model_add(m, "b2", 1, DIGITS_CLASSES, zeros, &b2)) {
    snprintf(err, errlen, "%s", wg_model_error(m));
    return 0;
  }
  wg_var X = wg_input(t, n, d->cols, d->x), T = wg_input(t, n, 1, d->y);
  wg_var XW1 = wg_matmul(t, X, wg_use(t, W1));
  wg_var Z1 = wg_add(t, XW1, wg_use(t, b1));
  wg_var H = wg_relu(t, Z1);
  wg_var HW2 = wg_matmul(t, H, wg_use(t, W2));
  wg_var Z = wg_add(t, HW2, wg_use(t, b2));
  wg_var L = wg_softmax_ce(t, Z, T);
  const char *names[] = {"X", "t", "XW1", "Z1", "H", "HW2", "Z", "L"};
  wg_var rows[] = {X, T, XW1, Z1, H, HW2, Z, L};
  for (int k = 0; k < 8; k++) wg_name(t, rows[k], names[k]);
  return 1;
}

int main(int argc, char **argv) {
  int digits = argc > 1 && strcmp(argv[1], "--digits") == 0;
  const char *path = argc > 1 + digits ? argv[1 + digits] : NULL;
  if (argc > 2 + digits || (path && path[0] == '-')) {
    fprintf(stderr, "usage: %s [--digits] [FILE.html]\n", argv[0]);
    return 2;
  }
  wg_tape *t = wg_tape_new();
  wg_model *m = wg_model_new(7);
  wg_dataset d = {0, 0, NULL, NULL, NULL, NULL, 0, NULL};
  seed_net s = {NULL, NULL, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}};
  char err[512] = "out of memory";
  int ok = t && m && (digits ? record_digits(t, m, &d, err, sizeof err) : (seed_record(t, &s), 1));
  FILE *f = NULL;
  if (ok && wg_tape_status(t) == WG_OK) {
    f = path ? fopen(path, "w") : stdout;
    if (!f) perror(path);
    else wg_tape_html(t, f);
  }
  int rc = 0;
  if (!ok || wg_tape_status(t)) {
    fprintf(stderr, "teach_page: %s\n", ok ? wg_tape_error(t) : err);
    rc = 1;
  }
  if (!f || (f != stdout && fclose(f) != 0)) rc = 1;
  wg_tape_free(t);
  wg_model_free(m);
  wg_dataset_free(&d);
  wg_param_free(s.W);
  wg_param_free(s.b);
  return rc;
}

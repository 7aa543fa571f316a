/* model.h - wg_model internals shared by model.c, optim.c and npz.c. */
#ifndef WG_MODEL_H
#define WG_MODEL_H
#include <stdarg.h>

#include "tape/tape.h"

struct wg_model {
  wg_param **params; /* in order of creation */
  int n, cap;
  wg_rng rng;
  char error[256];
};

/* An optimizer (optim.c; its state is saved by checkpoint.c). */
struct wg_optim {
  wg_model *model;
  wg_optim_config cfg;
  int n;             /* parameters at creation */
  size_t total;      /* their elements in all */
  long t;            /* steps taken */
  wg_real *wd;       /* weight decay of each parameter (n), cfg.weight_decay until
                        wg_optim_set_weight_decay; saved by checkpoints */
  wg_real *buf;      /* SGD: b (total); Adam: m (total) then v (total); NULL for plain SGD */
  size_t buf_len;
  char error[256];
};

/* Record a printf-style message in m and return s (s may be WG_OK only to clear it). */
wg_status wg_model_fail(wg_model *m, wg_status s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Write a printf-style message into err (errlen bytes; err may be NULL) and return s. */
wg_status wg_errf(char *err, size_t errlen, wg_status s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif

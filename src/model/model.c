/* model.c - a named parameter set, its seeded generator, and the initialisers.
 *
 * The model owns its parameters (wg_param_new / wg_param_free) in creation order; names are
 * unique so save/load can match them. Initialisers draw from the model's wg_rng, so the same
 * seed and the same sequence of wg_model_add calls give the same weights everywhere. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "tape/alloc.h"
#include "tape/error.h"
#include "tape/size.h"

wg_status wg_errf(char *err, size_t errlen, wg_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen) {
    va_list again;
    va_copy(again, ap);
    vsnprintf(err, errlen, fmt, again);
    va_end(again);
  }
  if (s != WG_OK) wg_set_last_error_v(fmt, ap);
  va_end(ap);
  return s;
}

wg_status wg_model_fail(wg_model *m, wg_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->error, sizeof m->error, fmt, ap);
  va_end(ap);
  if (s != WG_OK) wg_set_last_error("%s", m->error);
  return s;
}

wg_model *wg_model_new(uint64_t seed) {
  wg_model *m = wg_alloc_zero(sizeof *m);
  if (!m) {
    wg_set_last_error("wg_model_new: out of memory (%zu bytes for the model)", sizeof *m);
    return NULL;
  }
  wg_rng_seed(&m->rng, seed);
  return m;
}

void wg_model_free(wg_model *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) wg_param_free(m->params[i]);
  wg_free(m->params, (size_t)m->cap * sizeof *m->params);
  wg_free(m, sizeof *m);
}

/* Fill w (fan_in = rows, fan_out = cols) following the table in wengert.h. */
void wg_init_fill(wg_mat w, wg_init init, wg_rng *r) {
  if (!w.data || w.rows <= 0 || w.cols <= 0) return;
  if (!r && init.kind != WG_INIT_ZEROS && init.kind != WG_INIT_CONSTANT) return;
  size_t n, bytes; /* a shape no buffer can have (its bytes overflow) is left alone */
  if (!wg_shape_bytes(w.rows, w.cols, sizeof *w.data, &bytes)) return;
  n = bytes / sizeof *w.data;
  double fan_in = w.rows, fan_out = w.cols, lo = 0, hi = 0, mean = 0, std = 0;
  int uniform = 0;
  switch (init.kind) {
  case WG_INIT_ZEROS: /* fall through: a constant 0 */
  case WG_INIT_CONSTANT:
    for (size_t i = 0; i < n; i++) w.data[i] = init.kind == WG_INIT_ZEROS ? 0 : init.a;
    return;
  case WG_INIT_UNIFORM: uniform = 1, lo = init.a, hi = init.b; break;
  case WG_INIT_NORMAL: mean = init.a, std = init.b; break;
  case WG_INIT_XAVIER_UNIFORM: uniform = 1, hi = sqrt(6.0 / (fan_in + fan_out)), lo = -hi; break;
  case WG_INIT_XAVIER_NORMAL: std = sqrt(2.0 / (fan_in + fan_out)); break;
  case WG_INIT_HE_UNIFORM: uniform = 1, hi = sqrt(6.0 / fan_in), lo = -hi; break;
  case WG_INIT_HE_NORMAL: std = sqrt(2.0 / fan_in); break;
  }
  for (size_t i = 0; i < n; i++)
    w.data[i] = uniform ? lo + (hi - lo) * wg_rng_uniform(r) : mean + std * wg_rng_normal(r);
}

static int init_ok(wg_init init) {
  if ((unsigned)init.kind > WG_INIT_HE_NORMAL) return 0;
  if (init.kind == WG_INIT_UNIFORM) return isfinite(init.a) && isfinite(init.b) && init.a <= init.b;
  if (init.kind == WG_INIT_NORMAL) return isfinite(init.a) && isfinite(init.b) && init.b >= 0;
  if (init.kind == WG_INIT_CONSTANT) return isfinite(init.a);
  return 1;
}

wg_status wg_model_add(wg_model *m, const char *name, int rows, int cols, wg_init init,
                       wg_param **out) {
  if (out) *out = NULL;
  if (!m) {
    wg_set_last_error("wg_model_add: the model is NULL (wg_model_new failed?); parameter %.*s "
                      "not added", WG_NAME_MAX - 1, name ? name : "(NULL)");
    return WG_ERR_ARG;
  }
  if (!name || !*name || strlen(name) >= WG_NAME_MAX)
    return wg_model_fail(m, WG_ERR_ARG, "wg_model_add: a name of 1 to %d characters is needed",
                         WG_NAME_MAX - 1);
  if (rows <= 0 || cols <= 0)
    return wg_model_fail(m, WG_ERR_ARG, "wg_model_add: %s: dimensions (%dx%d) must be positive",
                         name, rows, cols);
  size_t bytes;
  if (!wg_shape_bytes(rows, cols, 2 * sizeof(wg_real), &bytes))
    return wg_model_fail(m, WG_ERR_SHAPE, "wg_model_add: %s: a (%dx%d) parameter (value and "
                         "gradient, %zu bytes per element) is more than a %d-bit size_t counts",
                         name, rows, cols, 2 * sizeof(wg_real), (int)(sizeof(size_t) * CHAR_BIT));
  if (wg_model_find(m, name))
    return wg_model_fail(m, WG_ERR_ARG, "wg_model_add: the model already has a parameter %s",
                         name);
  if (!init_ok(init))
    return wg_model_fail(m, WG_ERR_ARG, "wg_model_add: %s: bad initialiser (kind %d, a %g, "
                         "b %g)", name, (int)init.kind, init.a, init.b);
  if (m->n == m->cap) {
    int cap = m->cap ? 2 * m->cap : 8;
    wg_param **p = wg_realloc(m->params, (size_t)m->cap * sizeof *p, (size_t)cap * sizeof *p);
    if (!p) return wg_model_fail(m, WG_ERR_NOMEM, "wg_model_add: %s: out of memory", name);
    m->params = p, m->cap = cap;
  }
  wg_param *p = wg_param_new(name, rows, cols);
  if (!p)
    return wg_model_fail(m, WG_ERR_NOMEM, "wg_model_add: %s (%dx%d): out of memory", name, rows,
                         cols);
  wg_init_fill(wg_param_value(p), init, &m->rng);
  m->params[m->n++] = p;
  if (out) *out = p;
  m->error[0] = 0;
  return WG_OK;
}

int wg_model_count(const wg_model *m) {
  return m ? m->n : 0;
}

wg_param *wg_model_get(const wg_model *m, int i) {
  return m && i >= 0 && i < m->n ? m->params[i] : NULL;
}

wg_param *wg_model_find(const wg_model *m, const char *name) {
  if (!m || !name) return NULL;
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->params[i]->name, name) == 0) return m->params[i];
  return NULL;
}

void wg_model_zero_grad(wg_model *m) {
  for (int i = 0; m && i < m->n; i++) wg_param_zero_grad(m->params[i]);
}

wg_rng *wg_model_rng(wg_model *m) {
  return m ? &m->rng : NULL;
}

const char *wg_model_error(const wg_model *m) {
  return m ? m->error : "model is NULL";
}

/* PyTorch clip_grad_norm_ (norm_type 2): total = ||all grads||_2,
 * coef = max_norm / (total + 1e-6), grads *= min(coef, 1). */
double wg_clip_grad_norm(wg_model *m, double max_norm) {
  if (!m) {
    wg_set_last_error("wg_clip_grad_norm: the model is NULL (wg_model_new failed?)");
    return 0;
  }
  if (!(max_norm >= 0)) { /* a negative factor would flip the gradients, NaN would poison them */
    wg_model_fail(m, WG_ERR_ARG, "wg_clip_grad_norm: max_norm %g: a norm >= 0 is needed "
                  "(the gradients are left as they are)", max_norm);
    return -1;
  }
  double ss = 0;
  for (int k = 0; k < m->n; k++) {
    const wg_param *p = m->params[k];
    for (size_t i = 0, n = (size_t)p->rows * (size_t)p->cols; i < n; i++)
      ss += (double)p->grad[i] * (double)p->grad[i];
  }
  double total = sqrt(ss), coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (int k = 0; k < m->n; k++) {
      wg_param *p = m->params[k];
      for (size_t i = 0, n = (size_t)p->rows * (size_t)p->cols; i < n; i++) p->grad[i] *= coef;
    }
  return total;
}

/* optim.c - SGD (momentum, Nesterov), Adam and AdamW over a model's parameters.
 *
 * The updates follow PyTorch's torch.optim (2.x, single-tensor path) term by term, so a
 * reference can be worked out by hand. p: a parameter element, g: its gradient, t: the step
 * count (1 on the first step), wd: weight_decay, lr: learning rate.
 *
 * SGD (torch.optim.SGD):
 *   g  = g + wd p                                  (L2 weight decay, when wd != 0)
 *   if momentum != 0:
 *     b = g                                        (t = 1: the buffer starts as g)
 *     b = momentum b + (1 - dampening) g           (t > 1)
 *     g = g + momentum b   if nesterov,  else  g = b
 *   p  = p - lr g
 *
 * Adam (torch.optim.Adam, amsgrad off):
 *   g  = g + wd p                                  (L2 weight decay, when wd != 0)
 *   m  = beta1 m + (1 - beta1) g                   (first moment, starts at 0)
 *   v  = beta2 v + (1 - beta2) g^2                 (second moment, starts at 0)
 *   bc1 = 1 - beta1^t,  bc2 = 1 - beta2^t          (bias corrections)
 *   p  = p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
 *
 * AdamW (torch.optim.AdamW): decoupled decay first, then Adam without the L2 term:
 *   p  = p (1 - lr wd);  m, v, p as in Adam with g unchanged.
 *
 * wd is per parameter: cfg.weight_decay for each at first, changed for one parameter by
 * wg_optim_set_weight_decay (e.g. 0 for biases and layer-norm gains, as parameter groups do in
 * PyTorch); a parameter with wd = 0 takes exactly the update without the decay term.
 *
 * State: one buffer per parameter for SGD with momentum (b), two for Adam/AdamW (m, v), and
 * the step count; wg_optim_reset zeroes all of it (the per-parameter decays stay). */
#include <math.h>
#include <string.h>

#include "model/model.h"
#include "par/pool.h"
#include "tape/alloc.h"
#include "tape/error.h"
#include "tape/size.h"

wg_optim_config wg_sgd_config(double lr, double momentum, int nesterov) {
  wg_optim_config c = {WG_SGD, lr, momentum, 0, nesterov, 0.9, 0.999, 1e-8, 0};
  return c;
}

wg_optim_config wg_adam_config(double lr) {
  wg_optim_config c = {WG_ADAM, lr, 0, 0, 0, 0.9, 0.999, 1e-8, 0};
  return c;
}

wg_optim_config wg_adamw_config(double lr, double weight_decay) {
  wg_optim_config c = {WG_ADAMW, lr, 0, 0, 0, 0.9, 0.999, 1e-8, weight_decay};
  return c;
}

static const char *check_config(const wg_optim_config *c) {
  if ((unsigned)c->kind > WG_ADAMW) return "unknown optimizer kind";
  if (!(c->lr >= 0) || !isfinite(c->lr)) return "lr must be finite and >= 0";
  if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay)) return "weight_decay must be >= 0";
  if (c->kind == WG_SGD) {
    if (!(c->momentum >= 0) || !isfinite(c->momentum)) return "momentum must be >= 0";
    if (!isfinite(c->dampening)) return "dampening must be finite";
    if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
      return "nesterov needs momentum > 0 and dampening 0";
  } else {
    if (!(c->beta1 >= 0 && c->beta1 < 1)) return "beta1 must be in [0, 1)";
    if (!(c->beta2 >= 0 && c->beta2 < 1)) return "beta2 must be in [0, 1)";
    if (!(c->eps >= 0) || !isfinite(c->eps)) return "eps must be finite and >= 0";
  }
  return NULL;
}

wg_optim *wg_optim_new(wg_model *m, wg_optim_config cfg, char *err, size_t errlen) {
  if (!m) return wg_errf(err, errlen, WG_ERR_ARG, "wg_optim_new: model is NULL"), NULL;
  const char *bad = check_config(&cfg);
  if (bad) return wg_errf(err, errlen, WG_ERR_ARG, "wg_optim_new: %s", bad), NULL;
  if (m->n == 0)
    return wg_errf(err, errlen, WG_ERR_STATE, "wg_optim_new: the model has no parameters yet"),
           NULL;
  wg_optim *o = wg_alloc_zero(sizeof *o);
  if (!o) return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_optim_new: out of memory"), NULL;
  o->model = m, o->cfg = cfg, o->n = m->n;
  /* Neither count wraps: every parameter's block holds its value and gradient (16 bytes per
   * element) in memory at once, so total and 2 total fit in size_t; the bytes are checked. */
  for (int k = 0; k < m->n; k++)
    o->total += (size_t)m->params[k]->rows * (size_t)m->params[k]->cols;
  size_t per = cfg.kind == WG_SGD ? (cfg.momentum != 0 ? 1 : 0) : 2, bytes;
  o->buf_len = per * o->total;
  o->wd = wg_alloc_zero((size_t)m->n * sizeof *o->wd);
  if (!o->wd) {
    wg_free(o, sizeof *o);
    return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_optim_new: out of memory"), NULL;
  }
  for (int k = 0; k < m->n; k++) o->wd[k] = (wg_real)cfg.weight_decay;
  if (o->buf_len) {
    o->buf = wg_mul_size(o->buf_len, sizeof *o->buf, &bytes) ? wg_alloc_zero(bytes) : NULL;
    if (!o->buf) {
      size_t want = o->buf_len;
      wg_free(o->wd, (size_t)o->n * sizeof *o->wd);
      wg_free(o, sizeof *o);
      return wg_errf(err, errlen, WG_ERR_NOMEM, "wg_optim_new: out of memory for %zu state "
                     "values", want), NULL;
    }
  }
  return o;
}

void wg_optim_free(wg_optim *o) {
  if (!o) return;
  wg_free(o->buf, o->buf_len * sizeof *o->buf);
  wg_free(o->wd, (size_t)o->n * sizeof *o->wd);
  wg_free(o, sizeof *o);
}

/* index of p among the parameters o was made for, or -1 */
static int param_index(const wg_optim *o, const wg_param *p) {
  for (int k = 0; k < o->n && k < o->model->n; k++)
    if (o->model->params[k] == p) return k;
  return -1;
}

wg_status wg_optim_set_weight_decay(wg_optim *o, const wg_param *p, double wd) {
  if (!o) {
    wg_set_last_error("wg_optim_set_weight_decay: the optimizer is NULL (wg_optim_new failed?)");
    return WG_ERR_ARG;
  }
  int k = p ? param_index(o, p) : -1;
  if (k < 0) {
    snprintf(o->error, sizeof o->error, "wg_optim_set_weight_decay: %s%s%s is not one of the "
             "%d parameters this optimizer updates", p ? "parameter '" : "the parameter is NULL",
             p ? p->name : "", p ? "'" : "", o->n);
    wg_set_last_error("%s", o->error);
    return WG_ERR_ARG;
  }
  if (!(wd >= 0) || !isfinite(wd)) {
    snprintf(o->error, sizeof o->error, "wg_optim_set_weight_decay: weight decay %g for "
             "parameter '%s' refused (it must be finite and >= 0); it stays %g", wd, p->name,
             (double)o->wd[k]);
    wg_set_last_error("%s", o->error);
    return WG_ERR_ARG;
  }
  o->wd[k] = (wg_real)wd;
  return WG_OK;
}

double wg_optim_weight_decay(const wg_optim *o, const wg_param *p) {
  int k = o && p ? param_index(o, p) : -1;
  return k < 0 ? -1 : (double)o->wd[k];
}

void wg_optim_reset(wg_optim *o) {
  if (!o) return;
  if (o->buf) memset(o->buf, 0, o->buf_len * sizeof *o->buf);
  o->t = 0;
}

long wg_optim_steps(const wg_optim *o) {
  return o ? o->t : 0;
}

void wg_optim_set_lr(wg_optim *o, double lr) {
  if (!o) {
    wg_set_last_error("wg_optim_set_lr: the optimizer is NULL (wg_optim_new failed?)");
    return;
  }
  if (lr >= 0 && isfinite(lr)) {
    o->cfg.lr = lr;
    return;
  }
  snprintf(o->error, sizeof o->error, "wg_optim_set_lr: learning rate %g refused (it must be "
           "finite and >= 0); it stays %g", lr, o->cfg.lr);
  wg_set_last_error("%s", o->error);
}

const char *wg_optim_error(const wg_optim *o) {
  return o ? o->error : "optimizer is NULL";
}

/* One parameter's update over elements [lo, hi): each element by itself, so the pool can
 * split a large parameter (wg_par_for) and the results are the same for any thread count. */
typedef struct {
  const wg_optim_config *c;
  long t;
  double wd; /* this parameter's weight decay */
  wg_real *p;
  const wg_real *grad;
  wg_real *b, *m, *v; /* SGD momentum buffer (NULL without momentum); Adam moments */
} update;

static void sgd_range(void *arg, size_t lo, size_t hi) {
  const update *u = arg;
  const wg_optim_config *c = u->c;
  wg_real *p = u->p, *b = u->b;
  for (size_t i = lo; i < hi; i++) {
    double g = u->grad[i] + u->wd * p[i];
    if (b) {
      b[i] = u->t == 1 ? g : c->momentum * b[i] + (1 - c->dampening) * g;
      g = c->nesterov ? g + c->momentum * b[i] : b[i];
    }
    p[i] -= c->lr * g;
  }
}

static void adam_range(void *arg, size_t lo, size_t hi) {
  const update *u = arg;
  const wg_optim_config *c = u->c;
  double bc1 = 1 - pow(c->beta1, (double)u->t), bc2 = 1 - pow(c->beta2, (double)u->t);
  double step_size = c->lr / bc1, bc2_sqrt = sqrt(bc2);
  int decoupled = c->kind == WG_ADAMW;
  wg_real *p = u->p, *m = u->m, *v = u->v;
  for (size_t i = lo; i < hi; i++) {
    double g = u->grad[i];
    if (decoupled) p[i] *= 1 - c->lr * u->wd;
    else g += u->wd * p[i];
    m[i] = c->beta1 * m[i] + (1 - c->beta1) * g;
    v[i] = c->beta2 * v[i] + (1 - c->beta2) * g * g;
    p[i] -= step_size * m[i] / (sqrt(v[i]) / bc2_sqrt + c->eps);
  }
}

wg_status wg_optim_step(wg_optim *o) {
  if (!o) {
    wg_set_last_error("wg_optim_step: the optimizer is NULL (wg_optim_new failed?)");
    return WG_ERR_ARG;
  }
  wg_model *m = o->model;
  if (m->n != o->n) {
    snprintf(o->error, sizeof o->error, "wg_optim_step: the model has %d parameters, the "
             "optimizer was made for %d: create the optimizer after the last wg_model_add",
             m->n, o->n);
    wg_set_last_error("%s", o->error);
    return WG_ERR_STATE;
  }
  o->t++;
  size_t off = 0;
  for (int k = 0; k < m->n; k++) {
    wg_param *p = m->params[k];
    size_t n = (size_t)p->rows * (size_t)p->cols;
    update u = {&o->cfg, o->t, (double)o->wd[k], p->value, p->grad, NULL, NULL, NULL};
    if (o->cfg.kind == WG_SGD) {
      u.b = o->buf ? o->buf + off : NULL;
      wg_par_for(n, WG_PAR_GRAIN, sgd_range, &u);
    } else {
      u.m = o->buf + off, u.v = o->buf + o->total + off;
      wg_par_for(n, WG_PAR_GRAIN, adam_range, &u);
    }
    off += n;
  }
  return WG_OK;
}

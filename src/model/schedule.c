/* schedule.c - learning-rate schedules and ReduceLROnPlateau, with PyTorch's formulas
 * (torch.optim.lr_scheduler, 2.x). The closed forms, e the step from 0, base the initial rate:
 *
 *   StepLR             lr = base gamma^floor(e / step_size)
 *   ExponentialLR      lr = base gamma^e
 *   CosineAnnealingLR  lr = eta_min + (base - eta_min) (1 + cos(pi e / T_max)) / 2
 *   LinearLR           lr = base (start + (end - start) min(e, total_iters) / total_iters)
 *   SequentialLR       steps e >= milestone run the next schedule at e - milestone
 *
 * These are PyTorch's _get_closed_form_lr; its step() computes the same rates recursively
 * (lr_e from lr_{e-1}), which agrees with them to rounding. ReduceLROnPlateau is stateful: see
 * wg_plateau_step. */
#include <math.h>

#include "model/model.h"
#include "tape/error.h"

#define MAX_CHAIN 64 /* schedules in one chain of next pointers */

double wg_optim_lr(const wg_optim *o) {
  return o ? o->cfg.lr : -1;
}

wg_lr_schedule wg_lr_step(long step_size, double gamma) {
  wg_lr_schedule s = {WG_LR_STEP, step_size, gamma, 0, 1, 1, 0, NULL};
  return s;
}

wg_lr_schedule wg_lr_exponential(double gamma) {
  wg_lr_schedule s = {WG_LR_EXPONENTIAL, 1, gamma, 0, 1, 1, 0, NULL};
  return s;
}

wg_lr_schedule wg_lr_cosine(long t_max, double eta_min) {
  wg_lr_schedule s = {WG_LR_COSINE, t_max, 1, eta_min, 1, 1, 0, NULL};
  return s;
}

wg_lr_schedule wg_lr_linear(double start_factor, double end_factor, long total_iters) {
  wg_lr_schedule s = {WG_LR_LINEAR, total_iters, 1, 0, start_factor, end_factor, 0, NULL};
  return s;
}

/* the reason s cannot be evaluated, or NULL */
static const char *bad_schedule(const wg_lr_schedule *s) {
  switch (s->kind) {
  case WG_LR_CONSTANT: return NULL;
  case WG_LR_STEP:
    if (s->period <= 0) return "STEP: period (step_size) must be > 0";
    return s->gamma > 0 && isfinite(s->gamma) ? NULL : "STEP: gamma must be finite and > 0";
  case WG_LR_EXPONENTIAL:
    return s->gamma > 0 && isfinite(s->gamma) ? NULL : "EXPONENTIAL: gamma must be finite and > 0";
  case WG_LR_COSINE:
    if (s->period <= 0) return "COSINE: period (T_max) must be > 0";
    return s->eta_min >= 0 && isfinite(s->eta_min) ? NULL : "COSINE: eta_min must be >= 0";
  case WG_LR_LINEAR:
    if (s->period <= 0) return "LINEAR: period (total_iters) must be > 0";
    if (!(s->start > 0 && s->start <= 1)) return "LINEAR: start factor must be in (0, 1]";
    return s->end >= 0 && s->end <= 1 ? NULL : "LINEAR: end factor must be in [0, 1]";
  }
  return "unknown kind";
}

double wg_lr_at(const wg_lr_schedule *s, double base, long e) {
  if (!s || !(base >= 0 && isfinite(base)) || e < 0) {
    wg_set_last_error("wg_lr_at: %s", !s ? "the schedule is NULL" : e < 0 ? "the step is < 0"
                      : "the base rate must be finite and >= 0");
    return -1;
  }
  for (int depth = 0;; depth++) {
    const char *bad = depth == MAX_CHAIN ? "more than 64 schedules chained by next (a loop?)"
                                         : bad_schedule(s);
    if (bad) {
      wg_set_last_error("wg_lr_at: schedule %d of the chain: %s", depth, bad);
      return -1;
    }
    if (!s->next || e < s->until) break;
    if (s->until <= 0) {
      wg_set_last_error("wg_lr_at: schedule %d of the chain: until must be > 0 with next", depth);
      return -1;
    }
    e -= s->until, s = s->next;
  }
  double x = (double)e;
  switch (s->kind) {
  case WG_LR_STEP: return base * pow(s->gamma, floor(x / (double)s->period));
  case WG_LR_EXPONENTIAL: return base * pow(s->gamma, x);
  case WG_LR_COSINE:
    return s->eta_min + (base - s->eta_min) * (1 + cos(3.141592653589793 * x / (double)s->period)) / 2;
  case WG_LR_LINEAR: {
    double f = x < (double)s->period ? x / (double)s->period : 1;
    return base * (s->start + (s->end - s->start) * f);
  }
  default: return base;
  }
}

wg_status wg_lr_apply(wg_optim *o, const wg_lr_schedule *s, double base, long e) {
  if (!o) {
    wg_set_last_error("wg_lr_apply: the optimizer is NULL");
    return WG_ERR_ARG;
  }
  double lr = wg_lr_at(s, base, e);
  if (lr < 0) {
    snprintf(o->error, sizeof o->error, "%s", wg_last_error());
    return WG_ERR_ARG;
  }
  o->cfg.lr = lr;
  return WG_OK;
}

wg_plateau wg_plateau_config(int mode_max, double factor, double patience) {
  wg_plateau p = {mode_max != 0, 0, factor, patience, 1e-4, 0, 0, 1e-8,
                  mode_max ? -INFINITY : INFINITY, 0, 0};
  return p;
}

/* PyTorch's is_better for the four (mode, threshold_mode) pairs */
static int better(const wg_plateau *p, double a) {
  if (!p->mode_max) return p->threshold_abs ? a < p->best - p->threshold
                                            : a < p->best * (1 - p->threshold);
  return p->threshold_abs ? a > p->best + p->threshold : a > p->best * (1 + p->threshold);
}

int wg_plateau_step(wg_plateau *p, wg_optim *o, double metric) {
  const char *bad = !p ? "the plateau state is NULL" : !o ? "the optimizer is NULL"
                    : isnan(metric) ? "the metric is NaN"
                    : !(p->factor > 0 && p->factor < 1) ? "factor must be in (0, 1)"
                    : !(p->patience >= 0) ? "patience must be >= 0"
                    : !(p->threshold >= 0) ? "threshold must be >= 0"
                    : !(p->cooldown >= 0) ? "cooldown must be >= 0"
                    : !(p->min_lr >= 0) ? "min_lr must be >= 0" : NULL;
  if (bad) {
    wg_set_last_error("wg_plateau_step: %s", bad);
    if (o) snprintf(o->error, sizeof o->error, "wg_plateau_step: %s", bad);
    return -1;
  }
  if (better(p, metric)) p->best = metric, p->bad = 0;
  else p->bad += 1;
  if (p->cooldown_left > 0) p->cooldown_left -= 1, p->bad = 0; /* in cooldown */
  if (p->bad <= p->patience) return 0;
  double old = o->cfg.lr, lr = fmax(old * p->factor, p->min_lr);
  p->cooldown_left = p->cooldown, p->bad = 0;
  if (old - lr <= p->eps) return 0;
  o->cfg.lr = lr;
  return 1;
}

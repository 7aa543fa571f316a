/* check_model.c - random numbers, initialisers, models, optimizers, gradient clipping, the
 * softmax and softmax_ce ops, argmax / accuracy.
 *
 * Reference numbers come from outside the code under test:
 *  - PRNG: an independent Python implementation of SplitMix64 + xoshiro256** (the published
 *    algorithms), run as `/usr/bin/python3 rngref.py`; SplitMix64(0)'s first output
 *    0xe220a8397b1dcdaf is the widely quoted test value.
 *  - optimizers: PyTorch 1.13 (float64), computed with
 *      /usr/bin/python3 -c '...torch.optim.Adam(ps, lr=0.01)... p.grad = g; opt.step()...'
 *    (tests/ref/optim_ref.py), and step 1 of each worked by hand.
 *  - ops: closed forms (softmax, log-sum-exp, (softmax - onehot)/m) written out in the test and
 *    central finite differences through wg_forward replays. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"

#include "testutil.h"

/* ---- PRNG ------------------------------------------------------------------------------------ */

START_TEST(rng_known_answers) {
  /* /usr/bin/python3 tests/ref/rngref.py: xoshiro256** seeded by SplitMix64 */
  const uint64_t seed0[4] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
                             0x6aa594f1262d2d2cULL};
  const uint64_t seed42[4] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                              0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
  wg_rng r;
  wg_rng_seed(&r, 0);
  ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafULL); /* SplitMix64(0), first output */
  for (int i = 0; i < 4; i++) ck_assert_uint_eq(wg_rng_next(&r), seed0[i]);
  wg_rng_seed(&r, 42);
  for (int i = 0; i < 4; i++) ck_assert_uint_eq(wg_rng_next(&r), seed42[i]);
}
END_TEST

START_TEST(rng_reproducible) {
  wg_rng a, b, c;
  wg_rng_seed(&a, 7), wg_rng_seed(&b, 7), wg_rng_seed(&c, 8);
  int differ = 0;
  for (int i = 0; i < 1000; i++) {
    double x = wg_rng_normal(&a), y = wg_rng_normal(&b), z = wg_rng_normal(&c);
    ck_assert(memcmp(&x, &y, sizeof x) == 0);
    differ += x != z;
  }
  ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(rng_uniform_normal_statistics) {
  wg_rng r;
  wg_rng_seed(&r, 123);
  const int n = 200000;
  double s = 0, ss = 0, lo = 1, hi = 0, ns = 0, nss = 0, n4 = 0;
  for (int i = 0; i < n; i++) {
    double u = wg_rng_uniform(&r);
    s += u, ss += u * u, lo = u < lo ? u : lo, hi = u > hi ? u : hi;
    double z = wg_rng_normal(&r);
    ns += z, nss += z * z, n4 += z * z * z * z;
  }
  double mean = s / n, var = ss / n - mean * mean;
  /* U(0,1): mean 1/2, variance 1/12; tolerances ~6 standard errors */
  ck_assert(lo >= 0 && hi < 1);
  ck_assert(fabs(mean - 0.5) < 6 * sqrt(1.0 / 12 / n));
  ck_assert(fabs(var - 1.0 / 12) < 0.002);
  /* N(0,1): mean 0, variance 1, fourth moment 3 */
  double nm = ns / n, nv = nss / n - nm * nm;
  ck_assert(fabs(nm) < 6 / sqrt(n));
  ck_assert(fabs(nv - 1) < 6 * sqrt(2.0 / n));
  ck_assert(fabs(n4 / n - 3) < 0.1);
}
END_TEST

START_TEST(rng_below_is_uniform) {
  wg_rng r;
  wg_rng_seed(&r, 5);
  int count[7] = {0};
  const int n = 70000;
  for (int i = 0; i < n; i++) {
    uint64_t k = wg_rng_below(&r, 7);
    ck_assert_uint_lt(k, 7);
    count[k]++;
  }
  for (int k = 0; k < 7; k++) ck_assert(abs(count[k] - n / 7) < 6 * sqrt(n / 7.0));
  ck_assert_uint_eq(wg_rng_below(&r, 0), 0);
  ck_assert_uint_eq(wg_rng_below(&r, 1), 0);
}
END_TEST

/* ---- initialisers ------------------------------------------------------------------------------ */

typedef struct {
  wg_init init;
  double mean, std, lo, hi; /* expected: closed forms; lo/hi bounds (or +-inf) */
} init_case;

static void stats(const wg_real *x, size_t n, double *mean, double *std, double *lo, double *hi) {
  double s = 0, ss = 0;
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    s += x[i], ss += x[i] * x[i];
    *lo = x[i] < *lo ? x[i] : *lo, *hi = x[i] > *hi ? x[i] : *hi;
  }
  *mean = s / n, *std = sqrt(ss / n - *mean * *mean);
}

START_TEST(initialisers_statistics) {
  /* a 400 x 600 weight: fan_in 400, fan_out 600 */
  const double xu = sqrt(6.0 / 1000), xn = sqrt(2.0 / 1000), hu = sqrt(6.0 / 400),
               hn = sqrt(2.0 / 400);
  init_case cases[] = {
      {{WG_INIT_ZEROS, 0, 0}, 0, 0, 0, 0},
      {{WG_INIT_CONSTANT, 0.25, 0}, 0.25, 0, 0.25, 0.25},
      {{WG_INIT_UNIFORM, -2, 3}, 0.5, 5 / sqrt(12.0), -2, 3},
      {{WG_INIT_NORMAL, 1.5, 0.2}, 1.5, 0.2, -INFINITY, INFINITY},
      {{WG_INIT_XAVIER_UNIFORM, 0, 0}, 0, xu / sqrt(3.0), -xu, xu},
      {{WG_INIT_XAVIER_NORMAL, 0, 0}, 0, xn, -INFINITY, INFINITY},
      {{WG_INIT_HE_UNIFORM, 0, 0}, 0, hu / sqrt(3.0), -hu, hu},
      {{WG_INIT_HE_NORMAL, 0, 0}, 0, hn, -INFINITY, INFINITY},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    wg_model *m = wg_model_new(99);
    wg_param *p;
    ck_assert_int_eq(wg_model_add(m, "W", 400, 600, cases[k].init, &p), WG_OK);
    wg_mat v = wg_param_value(p);
    size_t n = 240000;
    double mean, std, lo, hi;
    stats(v.data, n, &mean, &std, &lo, &hi);
    double se = cases[k].std / sqrt((double)n);
    ck_assert_msg(fabs(mean - cases[k].mean) <= 6 * se + 1e-15, "case %zu: mean %g", k, mean);
    ck_assert_msg(fabs(std - cases[k].std) <= 0.01 * cases[k].std + 1e-15, "case %zu: std %g vs %g",
                  k, std, cases[k].std);
    ck_assert_msg(lo >= cases[k].lo && hi <= cases[k].hi, "case %zu: range [%g, %g]", k, lo, hi);
    if (isfinite(cases[k].lo) && cases[k].hi > cases[k].lo) /* the draws fill the range */
      ck_assert(lo < cases[k].lo + 0.001 * (cases[k].hi - cases[k].lo) &&
                hi > cases[k].hi - 0.001 * (cases[k].hi - cases[k].lo));
    wg_model_free(m);
  }
}
END_TEST

/* ---- models ------------------------------------------------------------------------------------ */

START_TEST(model_params_by_name_and_index) {
  wg_model *m = wg_model_new(1);
  wg_param *a, *b;
  wg_init he = {WG_INIT_HE_NORMAL, 0, 0};
  ck_assert_int_eq(wg_model_add(m, "W1", 3, 4, he, &a), WG_OK);
  ck_assert_int_eq(wg_model_add(m, "b1", 1, 4, (wg_init){WG_INIT_ZEROS, 0, 0}, &b), WG_OK);
  ck_assert_int_eq(wg_model_count(m), 2);
  ck_assert_ptr_eq(wg_model_get(m, 0), a);
  ck_assert_ptr_eq(wg_model_get(m, 1), b);
  ck_assert_ptr_null(wg_model_get(m, 2));
  ck_assert_ptr_null(wg_model_get(m, -1));
  ck_assert_ptr_eq(wg_model_find(m, "b1"), b);
  ck_assert_ptr_null(wg_model_find(m, "W2"));
  ck_assert_str_eq(wg_param_name(a), "W1");
  /* errors keep a message and change nothing */
  wg_param *c = a;
  ck_assert_int_eq(wg_model_add(m, "W1", 2, 2, he, &c), WG_ERR_ARG);
  ck_assert_ptr_null(c);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "already has a parameter W1"));
  ck_assert_int_eq(wg_model_add(m, "W3", 0, 2, he, NULL), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "(0x2)"));
  ck_assert_int_eq(wg_model_add(m, "", 1, 2, he, NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_model_add(m, "U", 1, 2, (wg_init){WG_INIT_UNIFORM, 1, 0}, NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_model_add(m, "N", 1, 2, (wg_init){WG_INIT_NORMAL, 0, -1}, NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_model_count(m), 2);
  /* zero_grad clears every gradient */
  wg_param_grad(a).data[5] = 3, wg_param_grad(b).data[1] = -2;
  wg_model_zero_grad(m);
  ck_assert(wg_param_grad(a).data[5] == 0 && wg_param_grad(b).data[1] == 0);
  wg_model_free(m);
  wg_model_free(NULL);
}
END_TEST

START_TEST(model_same_seed_same_weights) {
  wg_model *m1 = wg_model_new(2024), *m2 = wg_model_new(2024), *m3 = wg_model_new(2025);
  wg_init xn = {WG_INIT_XAVIER_NORMAL, 0, 0};
  wg_param *p1, *p2, *p3;
  wg_model_add(m1, "W", 5, 7, xn, &p1);
  wg_model_add(m2, "W", 5, 7, xn, &p2);
  wg_model_add(m3, "W", 5, 7, xn, &p3);
  ck_assert(memcmp(wg_param_value(p1).data, wg_param_value(p2).data, 35 * sizeof(wg_real)) == 0);
  ck_assert(memcmp(wg_param_value(p1).data, wg_param_value(p3).data, 35 * sizeof(wg_real)) != 0);
  wg_model_free(m1), wg_model_free(m2), wg_model_free(m3);
}
END_TEST

/* ---- optimizers -------------------------------------------------------------------------------- *
 * p0 = [0.5, -1, 2]; gradients of steps 1..3: g1 = [0.1, -0.2, 0.3], g2 = [-0.4, 0.5, 0.05],
 * g3 = [0.2, 0.2, -0.1]. Expected parameters after each step from PyTorch 1.13, float64:
 *   import torch; torch.set_default_dtype(torch.float64)
 *   p = torch.nn.Parameter(torch.tensor(p0)); opt = torch.optim.Adam([p], lr=0.01)
 *   for g in gs: p.grad = torch.tensor(g); opt.step(); print([repr(float(x)) for x in p])
 * (and likewise for each config below). Step 1 by hand:
 *   Adam: m = 0.1 g, v = 0.001 g^2, bias-corrected m^ = g, v^ = g^2, so
 *         p1 = p0 - lr g / (|g| + eps): 0.5 - 0.01 * 0.1 / (0.1 + 1e-8) = 0.4900000001
 *   Adam L2 (lr 0.1, wd 0.1): g' = g + 0.1 p0 = 0.15, p1 = 0.5 - 0.1 * 0.15/(0.15 + 1e-8)
 *         = 0.40000000667
 *   AdamW (lr 0.1, wd 0.1): p0 (1 - 0.01) = 0.495, then - 0.1 * 0.1/(0.1 + 1e-8): 0.39500001
 *   SGD lr 0.1: 0.5 - 0.01 = 0.49;  momentum 0.9, dampening 0.1, wd 0.01: b = g + 0.01 p0
 *         = 0.105 on step 1 (no dampening on the first step), p1 = 0.5 - 0.0105 = 0.4895
 *   Nesterov (lr 0.1, momentum 0.9): b = g, g' = g + 0.9 b = 0.19, p1 = 0.5 - 0.019 = 0.481 */
static const double G[3][3] = {{0.1, -0.2, 0.3}, {-0.4, 0.5, 0.05}, {0.2, 0.2, -0.1}};

typedef struct {
  const char *name;
  wg_optim_config cfg;
  double want[3][3];
} optim_case;

static optim_case optim_cases(int i) {
  wg_optim_config sgdm = wg_sgd_config(0.1, 0.9, 0), adam_l2 = wg_adam_config(0.1);
  sgdm.dampening = 0.1, sgdm.weight_decay = 0.01, adam_l2.weight_decay = 0.1;
  optim_case cases[] = {
      {"adam", wg_adam_config(0.01),
       {{0.4900000009999999, -0.9900000005, 1.9900000003333334},
        {0.4955950357485128, -0.9944221530217233, 1.9821667272150607},
        {0.49669677234642673, -0.9998515828128192, 1.9784121864182729}}},
      {"adam_l2", adam_l2,
       {{0.40000000666666624, -0.9000000033333332, 1.900000002},
        {0.4429341513610014, -0.9205098564205757, 1.8073841626213918},
        {0.4371302589336939, -0.9493032297697915, 1.7273292228914696}}},
      {"adamw", wg_adamw_config(0.1, 0.1),
       {{0.395000009999999, -0.8900000049999998, 1.8800000033333333},
        {0.4470003573851284, -0.9253215301672328, 1.7828672721172727},
        {0.45354771979041636, -0.9703626127765195, 1.727493191428221}}},
      {"sgd", wg_sgd_config(0.1, 0, 0), {{0.49, -0.98, 1.97}, {0.53, -1.03, 1.965}, {0.51, -1.05, 1.975}}},
      {"sgd_momentum", sgdm,
       {{0.4895, -0.979, 1.968},
        {0.51560945, -1.0042189, 1.9329288},
        {0.520643906495, -1.04401211299, 1.90862508408}}},
      {"nesterov", wg_sgd_config(0.1, 0.9, 1),
       {{0.481, -0.962, 1.943}, {0.5488999999999999, -1.0408, 1.9092}, {0.53601, -1.10472, 1.90228}}},
  };
  return cases[i];
}

START_TEST(optimizer_matches_pytorch) {
  optim_case c = optim_cases(_i);
  wg_model *m = wg_model_new(0);
  wg_param *p;
  /* two parameters, so the optimizer's per-parameter offsets are exercised: q mirrors p */
  wg_param *q;
  wg_model_add(m, "p", 1, 3, (wg_init){WG_INIT_ZEROS, 0, 0}, &p);
  wg_model_add(m, "q", 3, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, &q);
  char err[128];
  wg_optim *o = wg_optim_new(m, c.cfg, err, sizeof err);
  ck_assert_ptr_nonnull(o);
  for (int round = 0; round < 2; round++) { /* round 2 after wg_optim_reset: same numbers */
    const double p0[3] = {0.5, -1, 2};
    for (int k = 0; k < 3; k++) wg_param_value(p).data[k] = wg_param_value(q).data[k] = p0[k];
    for (int s = 0; s < 3; s++) {
      for (int k = 0; k < 3; k++) wg_param_grad(p).data[k] = wg_param_grad(q).data[k] = G[s][k];
      ck_assert_int_eq(wg_optim_step(o), WG_OK);
      ck_assert_int_eq(wg_optim_steps(o), s + 1);
      for (int k = 0; k < 3; k++) {
        double want = c.want[s][k];
        ck_assert_msg(fabs(wg_param_value(p).data[k] - want) <= TU_TOL(1e-14) * (1 + fabs(want)),
                      "%s step %d [%d]: %.17g vs %.17g", c.name, s + 1, k,
                      wg_param_value(p).data[k], want);
        ck_assert(wg_param_value(q).data[k] == wg_param_value(p).data[k]);
      }
    }
    wg_optim_reset(o);
    ck_assert_int_eq(wg_optim_steps(o), 0);
  }
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* Per-parameter weight decay: a decayed parameter p (wd 0.1) and an undecayed q (wd 0, set
 * with wg_optim_set_weight_decay) side by side, both starting at 2 with gradient 0.5, lr 0.1,
 * one step worked by hand from PyTorch's rules (optim.c):
 *   SGD:   p = 2 - 0.1 (0.5 + 0.1 * 2) = 1.93                 q = 2 - 0.1 * 0.5 = 1.95
 *   Adam:  g_p = 0.7: m = 0.07, v = 0.00049, p = 2 - (0.1 / 0.1) 0.07 / (sqrt(0.00049 / 0.001)
 *          + 1e-8) = 2 - 0.07 / (0.7 + 1e-8)                  q = 2 - 0.05 / (0.5 + 1e-8)
 *   AdamW: p = 2 (1 - 0.1 * 0.1) = 1.98, then - 0.05 / (0.5 + 1e-8)
 *                                                              q = 2 - 0.05 / (0.5 + 1e-8)
 * and a second SGD step (grad 0.5 again): p = 1.93 - 0.1 (0.5 + 0.193) = 1.8607,
 * q = 1.95 - 0.05 = 1.9. */
START_TEST(optimizer_weight_decay_per_parameter) {
  const wg_optim_config cfg[3] = {wg_sgd_config(0.1, 0, 0), wg_adam_config(0.1),
                                  wg_adamw_config(0.1, 0.1)};
  const double want_p[3] = {1.93, 2 - 0.07 / (0.7 + 1e-8), 1.98 - 0.05 / (0.5 + 1e-8)};
  const double want_q[3] = {1.95, 2 - 0.05 / (0.5 + 1e-8), 2 - 0.05 / (0.5 + 1e-8)};
  for (int k = 0; k < 3; k++) {
    wg_optim_config c = cfg[k];
    c.weight_decay = 0.1;
    wg_model *m = wg_model_new(0);
    wg_param *p, *q;
    wg_model_add(m, "W", 1, 2, (wg_init){WG_INIT_CONSTANT, 2, 0}, &p);
    wg_model_add(m, "b", 1, 2, (wg_init){WG_INIT_CONSTANT, 2, 0}, &q);
    wg_optim *o = wg_optim_new(m, c, NULL, 0);
    ck_assert_double_eq(wg_optim_weight_decay(o, q), (wg_real)0.1); /* kept as wg_real */
    ck_assert_int_eq(wg_optim_set_weight_decay(o, q, 0), WG_OK);
    ck_assert_double_eq(wg_optim_weight_decay(o, q), 0);
    ck_assert_double_eq(wg_optim_weight_decay(o, p), (wg_real)0.1);
    for (int e = 0; e < 2; e++) wg_param_grad(p).data[e] = wg_param_grad(q).data[e] = 0.5;
    ck_assert_int_eq(wg_optim_step(o), WG_OK);
    for (int e = 0; e < 2; e++) {
      ck_assert_double_eq_tol(wg_param_value(p).data[e], want_p[k], TU_TOL(1e-15));
      ck_assert_double_eq_tol(wg_param_value(q).data[e], want_q[k], TU_TOL(1e-15));
    }
    if (k == 0) {
      ck_assert_int_eq(wg_optim_step(o), WG_OK);
      ck_assert_double_eq_tol(wg_param_value(p).data[0], 1.8607, TU_TOL(1e-15));
      ck_assert_double_eq_tol(wg_param_value(q).data[0], 1.9, TU_TOL(1e-15));
    }
    wg_optim_reset(o); /* the decays are configuration: reset keeps them */
    ck_assert_double_eq(wg_optim_weight_decay(o, q), 0);
    wg_optim_free(o);
    wg_model_free(m);
  }
}
END_TEST

/* Bad arguments leave the decay as it was, with a message naming the parameter. */
START_TEST(optimizer_weight_decay_bad_arguments) {
  wg_model *m = wg_model_new(0), *other = wg_model_new(1);
  wg_param *p, *x;
  wg_model_add(m, "W", 1, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, &p);
  wg_model_add(other, "X", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, &x);
  wg_optim *o = wg_optim_new(m, wg_adamw_config(0.1, 0.01), NULL, 0);
  ck_assert_int_eq(wg_optim_set_weight_decay(o, x, 0), WG_ERR_ARG);
  ck_assert_str_eq(wg_optim_error(o), "wg_optim_set_weight_decay: parameter 'X' is not one of "
                   "the 1 parameters this optimizer updates");
  ck_assert_int_eq(wg_optim_set_weight_decay(o, NULL, 0), WG_ERR_ARG);
  ck_assert_str_eq(wg_optim_error(o), "wg_optim_set_weight_decay: the parameter is NULL is not "
                   "one of the 1 parameters this optimizer updates");
  ck_assert_int_eq(wg_optim_set_weight_decay(o, p, -1), WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), "wg_optim_set_weight_decay: weight decay -1 for parameter "
                   "'W' refused (it must be finite and >= 0); it stays 0.01");
  ck_assert_int_eq(wg_optim_set_weight_decay(o, p, NAN), WG_ERR_ARG);
  ck_assert_double_eq(wg_optim_weight_decay(o, p), (wg_real)0.01);
  ck_assert_double_eq(wg_optim_weight_decay(o, x), -1);
  ck_assert_double_eq(wg_optim_weight_decay(NULL, p), -1);
  ck_assert_int_eq(wg_optim_set_weight_decay(NULL, p, 0), WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), "wg_optim_set_weight_decay: the optimizer is NULL "
                   "(wg_optim_new failed?)");
  wg_optim_free(o);
  wg_model_free(m);
  wg_model_free(other);
}
END_TEST

/* Checkpoints keep the decays exact: saved, they come back into a fresh optimizer (whose
 * decays were the config's), and a bad value in the file is refused naming the parameter. */
START_TEST(checkpoint_keeps_weight_decay) {
  char path[] = "/tmp/wg_wd_ckpt_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  wg_model *m = wg_model_new(0);
  wg_param *p, *q;
  wg_model_add(m, "W", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, &p);
  wg_model_add(m, "b", 1, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, &q);
  wg_optim *o = wg_optim_new(m, wg_sgd_config(0.1, 0.9, 0), NULL, 0);
  wg_optim_set_weight_decay(o, p, 0.25);
  wg_checkpoint c = {o, NULL, 0, NULL, 0};
  ck_assert_int_eq(wg_checkpoint_save(m, &c, path), WG_OK);
  wg_optim *fresh = wg_optim_new(m, wg_sgd_config(0.1, 0.9, 0), NULL, 0);
  wg_optim_set_weight_decay(fresh, q, 0.5);
  c.optim = fresh;
  ck_assert_int_eq(wg_checkpoint_load(m, &c, path), WG_OK);
  ck_assert_double_eq(wg_optim_weight_decay(fresh, p), 0.25);
  ck_assert_double_eq(wg_optim_weight_decay(fresh, q), 0);
  /* a negative decay in the file: refused, nothing changed */
  wg_optim_set_weight_decay(o, q, 0.125);
  o->wd[1] = -2; /* as a foreign writer could leave it */
  c.optim = o;
  ck_assert_int_eq(wg_checkpoint_save(m, &c, path), WG_OK);
  c.optim = fresh;
  ck_assert_int_eq(wg_checkpoint_load(m, &c, path), WG_ERR_FORMAT);
  ck_assert_msg(strstr(wg_model_error(m), "optim.weight_decay.npy: [1, 0] = -2 (parameter b): "
                       "expected a finite weight decay >= 0"), "%s", wg_model_error(m));
  ck_assert_double_eq(wg_optim_weight_decay(fresh, q), 0);
  close(fd);
  unlink(path);
  wg_optim_free(o);
  wg_optim_free(fresh);
  wg_model_free(m);
}
END_TEST

START_TEST(optimizer_bad_configs) {
  wg_model *m = wg_model_new(0);
  char err[128] = "";
  ck_assert_ptr_null(wg_optim_new(m, wg_adam_config(0.1), err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "no parameters"));
  wg_model_add(m, "w", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  wg_optim_config c = wg_sgd_config(0.1, 0, 1);
  ck_assert_ptr_null(wg_optim_new(m, c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "nesterov"));
  c = wg_adam_config(0.1), c.beta1 = 1;
  ck_assert_ptr_null(wg_optim_new(m, c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "beta1"));
  c = wg_adam_config(-1);
  ck_assert_ptr_null(wg_optim_new(m, c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "lr"));
  /* a parameter added after the optimizer: step refuses */
  wg_optim *o = wg_optim_new(m, wg_adam_config(0.1), err, sizeof err);
  wg_model_add(m, "v", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  ck_assert_int_eq(wg_optim_step(o), WG_ERR_STATE);
  ck_assert_ptr_nonnull(strstr(wg_optim_error(o), "2 parameters"));
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* Every rule of the config check (src/model/optim.c), one field wrong at a time: each is
 * refused with a message naming the field. */
static const struct {
  wg_optim_kind kind;
  const char *field;
  double value;
  const char *expect;
} bad_cfg[] = {
    {WG_SGD, "lr", NAN, "lr"},
    {WG_SGD, "lr", INFINITY, "lr"},
    {WG_ADAM, "weight_decay", -1, "weight_decay"},
    {WG_ADAMW, "weight_decay", INFINITY, "weight_decay"},
    {WG_SGD, "momentum", -0.5, "momentum"},
    {WG_SGD, "momentum", INFINITY, "momentum"},
    {WG_SGD, "dampening", NAN, "dampening"},
    {WG_SGD, "nesterov dampening", 0.5, "nesterov"},
    {WG_ADAM, "beta1", -0.1, "beta1"},
    {WG_ADAM, "beta2", 1, "beta2"},
    {WG_ADAMW, "beta2", NAN, "beta2"},
    {WG_ADAM, "eps", -1e-8, "eps"},
    {WG_ADAM, "eps", INFINITY, "eps"},
    {(wg_optim_kind)7, "kind", 0, "unknown optimizer kind"},
};

START_TEST(optimizer_config_rules) {
  wg_model *m = wg_model_new(0);
  ck_assert_int_eq(wg_model_add(m, "w", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL), WG_OK);
  wg_optim_config c = bad_cfg[_i].kind == WG_SGD ? wg_sgd_config(0.1, 0.9, 0)
                                                 : wg_adam_config(0.1);
  c.kind = bad_cfg[_i].kind;
  const char *f = bad_cfg[_i].field;
  double v = bad_cfg[_i].value;
  if (!strcmp(f, "lr")) c.lr = v;
  else if (!strcmp(f, "weight_decay")) c.weight_decay = v;
  else if (!strcmp(f, "momentum")) c.momentum = v;
  else if (!strcmp(f, "dampening")) c.dampening = v;
  else if (!strcmp(f, "nesterov dampening")) c.nesterov = 1, c.dampening = v;
  else if (!strcmp(f, "beta1")) c.beta1 = v;
  else if (!strcmp(f, "beta2")) c.beta2 = v;
  else if (!strcmp(f, "eps")) c.eps = v;
  char err[128] = "";
  ck_assert_ptr_null(wg_optim_new(m, c, err, sizeof err));
  ck_assert_msg(strstr(err, bad_cfg[_i].expect), "%s = %g: %s", f, v, err);
  wg_model_free(m);
}
END_TEST

/* NULL and out-of-range arguments: a status, 0 or NULL, never a crash. */
START_TEST(model_api_null_arguments) {
  char err[64] = "";
  ck_assert_ptr_null(wg_optim_new(NULL, wg_adam_config(0.1), err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "model is NULL"));
  ck_assert_int_eq(wg_optim_step(NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_optim_steps(NULL), 0);
  ck_assert_str_eq(wg_optim_error(NULL), "optimizer is NULL");
  wg_optim_free(NULL), wg_optim_reset(NULL), wg_optim_set_lr(NULL, 1);
  ck_assert_int_eq(wg_model_add(NULL, "w", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL),
                   WG_ERR_ARG);
  ck_assert_int_eq(wg_model_count(NULL), 0);
  ck_assert_ptr_null(wg_model_get(NULL, 0));
  ck_assert_ptr_null(wg_model_find(NULL, "w"));
  ck_assert_ptr_null(wg_model_rng(NULL));
  ck_assert_str_eq(wg_model_error(NULL), "model is NULL");
  wg_model_zero_grad(NULL);
  ck_assert_double_eq(wg_clip_grad_norm(NULL, 1), 0);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "wg_clip_grad_norm: the model is NULL"));
  ck_assert_int_eq(wg_model_save(NULL, "/nonexistent/m.npz"), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "wg_model_save: the model is NULL"));
  ck_assert_int_eq(wg_model_load(NULL, "/nonexistent/m.npz"), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "wg_model_load: the model is NULL"));
  wg_optim_set_lr(NULL, 1);
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "wg_optim_set_lr: the optimizer is NULL"));
  wg_model *m = wg_model_new(0);
  ck_assert_int_eq(wg_model_add(m, NULL, 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL),
                   WG_ERR_ARG);
  char longname[80];
  memset(longname, 'a', sizeof longname - 1), longname[sizeof longname - 1] = 0;
  ck_assert_int_eq(wg_model_add(m, longname, 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL),
                   WG_ERR_ARG);
  ck_assert_int_eq(wg_model_add(m, "k", 1, 1, (wg_init){(wg_init_kind)42, 0, 0}, NULL),
                   WG_ERR_ARG);
  ck_assert_int_eq(wg_model_add(m, "c", 1, 1, (wg_init){WG_INIT_CONSTANT, INFINITY, 0}, NULL),
                   WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_model_error(m), "bad initialiser"));
  ck_assert_int_eq(wg_model_add(m, "w", 1, 2, (wg_init){WG_INIT_CONSTANT, 2.5, 0}, NULL), WG_OK);
  ck_assert_ptr_null(wg_model_find(m, NULL));
  ck_assert_ptr_nonnull(wg_model_rng(m));
  /* set_lr ignores a negative or non-finite rate: one SGD step with the first lr 0.5 on
   * w = 2.5, g = 1 gives 2.5 - 0.5 = 2 */
  wg_optim *o = wg_optim_new(m, wg_sgd_config(0.5, 0, 0), err, sizeof err);
  wg_optim_set_lr(o, -1), wg_optim_set_lr(o, NAN);
  ck_assert_ptr_nonnull(strstr(wg_optim_error(o), "learning rate nan refused"));
  ck_assert_str_eq(wg_last_error(), wg_optim_error(o));
  wg_param *w = wg_model_find(m, "w");
  wg_param_grad(w).data[0] = 1;
  ck_assert_int_eq(wg_optim_step(o), WG_OK);
  ck_assert_double_eq(wg_param_value(w).data[0], 2);
  ck_assert_double_eq(wg_param_value(w).data[1], 2.5);
  wg_optim_free(o);
  wg_model_free(m);
  /* the generator and the initialisers with NULL */
  wg_rng_seed(NULL, 1);
  ck_assert_uint_eq(wg_rng_next(NULL), 0);
  ck_assert_uint_eq(wg_rng_below(NULL, 5), 0);
  wg_rng r;
  wg_rng_seed(&r, 1);
  ck_assert_uint_eq(wg_rng_below(&r, 0), 0);
  wg_real v[2] = {7, 7};
  wg_init_fill((wg_mat){1, 2, v}, (wg_init){WG_INIT_NORMAL, 0, 1}, NULL); /* needs r: no-op */
  ck_assert(v[0] == 7 && v[1] == 7);
  wg_init_fill((wg_mat){1, 2, v}, (wg_init){WG_INIT_CONSTANT, 3, 0}, NULL); /* needs none */
  ck_assert(v[0] == 3 && v[1] == 3);
  wg_init_fill((wg_mat){0, 2, v}, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL);
  ck_assert(v[0] == 3);
  /* metrics: bad shapes */
  int idx[2];
  ck_assert_int_eq(wg_argmax_rows((wg_mat){2, 1, NULL}, idx), WG_ERR_ARG);
  ck_assert_int_eq(wg_argmax_rows((wg_mat){1, 2, v}, NULL), WG_ERR_ARG);
  ck_assert_int_eq(wg_argmax_rows((wg_mat){0, 2, v}, idx), WG_ERR_ARG);
  ck_assert_int_eq(wg_argmax_rows((wg_mat){1, 0, v}, idx), WG_ERR_ARG);
  wg_real lab[2] = {0, 1};
  ck_assert_double_eq(wg_accuracy((wg_mat){2, 1, NULL}, (wg_mat){2, 1, lab}, 0.5), -1);
  ck_assert_double_eq(wg_accuracy((wg_mat){2, 1, v}, (wg_mat){2, 1, NULL}, 0.5), -1);
  ck_assert_double_eq(wg_accuracy((wg_mat){2, 1, v}, (wg_mat){1, 1, lab}, 0.5), -1);
  ck_assert_double_eq(wg_accuracy((wg_mat){2, 1, v}, (wg_mat){1, 2, lab}, 0.5), -1);
  ck_assert_double_eq(wg_accuracy((wg_mat){0, 1, v}, (wg_mat){0, 1, lab}, 0.5), -1);
  ck_assert_double_eq(wg_accuracy((wg_mat){2, 0, v}, (wg_mat){2, 1, lab}, 0.5), -1);
}
END_TEST

START_TEST(clip_grad_norm) {
  wg_model *m = wg_model_new(0);
  wg_param *a, *b;
  wg_model_add(m, "a", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, &a);
  wg_model_add(m, "b", 1, 1, (wg_init){WG_INIT_ZEROS, 0, 0}, &b);
  wg_param_grad(a).data[0] = 3, wg_param_grad(b).data[0] = 4;
  /* norm 5 <= 10: unchanged */
  ck_assert_double_eq(wg_clip_grad_norm(m, 10), 5);
  ck_assert_double_eq(wg_param_grad(a).data[0], 3);
  /* to 1: scaled by 1 / (5 + 1e-6); torch.nn.utils.clip_grad_norm_ gives 0.599999880000024,
   * 0.799999840000032 and returns 5.0 */
  ck_assert_double_eq(wg_clip_grad_norm(m, 1), 5);
  ck_assert(fabs(wg_param_grad(a).data[0] - 0.599999880000024) < TU_TOL(1e-15));
  ck_assert(fabs(wg_param_grad(b).data[0] - 0.799999840000032) < TU_TOL(1e-15));
  /* a negative or NaN bound is refused and leaves the gradients alone (it would flip their
   * signs or make them NaN) */
  const double bad[2] = {-1, NAN};
  for (int k = 0; k < 2; k++) {
    wg_param_grad(a).data[0] = 3, wg_param_grad(b).data[0] = 4;
    ck_assert_double_eq(wg_clip_grad_norm(m, bad[k]), -1);
    ck_assert(wg_param_grad(a).data[0] == 3 && wg_param_grad(b).data[0] == 4);
    ck_assert_ptr_nonnull(strstr(wg_model_error(m), "wg_clip_grad_norm: max_norm"));
    ck_assert_ptr_nonnull(strstr(wg_last_error(), "a norm >= 0 is needed"));
  }
  wg_model_free(m);
}
END_TEST

/* ---- softmax and softmax_ce -------------------------------------------------------------------- */

/* central differences of the 1x1 `loss` with respect to every element of p, by replay */
static void finite_diff(wg_tape *t, wg_var loss, wg_param *p, double h, double *out) {
  wg_mat v = wg_param_value(p);
  for (int i = 0; i < v.rows * v.cols; i++) {
    double keep = v.data[i];
    v.data[i] = keep + h;
    wg_forward(t);
    double up = wg_value(t, loss).data[0];
    v.data[i] = keep - h;
    wg_forward(t);
    double down = wg_value(t, loss).data[0];
    v.data[i] = keep;
    out[i] = (up - down) / (2 * h);
  }
  wg_forward(t);
}

static void fill(wg_param *p, unsigned long long seed, double lo, double hi) {
  wg_mat v = wg_param_value(p);
  for (int i = 0; i < v.rows * v.cols; i++) v.data[i] = tu_uniform(&seed, lo, hi);
}

START_TEST(softmax_values_closed_form) {
  wg_tape *t = wg_tape_new();
  const wg_real x[6] = {1, 2, 3, 1000, 1000, -1000};
  wg_var y = wg_softmax(t, wg_input(t, 2, 3, x));
  wg_mat v = wg_value(t, y);
  double s = exp(-2) + exp(-1) + 1; /* row 1 divided by e^3 */
  double want[6] = {exp(-2) / s, exp(-1) / s, 1 / s, 0.5, 0.5, 0};
  ck_assert_double_le(tu_max_rel_diff(v.data, want, 6, 1e-300), TU_TOL(1e-15));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  wg_tape_free(t);
}
END_TEST

START_TEST(softmax_vjp_jvp_finite_differences) {
  wg_tape *t = wg_tape_new();
  wg_param *X = wg_param_new("X", 3, 4);
  fill(X, 11, -2, 2);
  wg_real w[12];
  unsigned long long seed = 5;
  for (int i = 0; i < 12; i++) w[i] = tu_uniform(&seed, -1, 1);
  /* L = sum(softmax(X) * W): dL/dX exercises every Jacobian entry */
  wg_var xv = wg_use(t, X);
  wg_var L = wg_sum(t, wg_mul(t, wg_softmax(t, xv), wg_input(t, 3, 4, w)));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  double fd[12];
  finite_diff(t, L, X, 1e-6, fd);
  ck_assert_double_le(tu_max_rel_diff(wg_param_grad(X).data, fd, 12, 1e-3), TU_TOL(1e-7));
  /* JVP: tL = sum_ij dL/dX_ij tX_ij, checked against the directional difference */
  wg_mat tx = wg_tangent(t, xv);
  double dir = 0;
  for (int i = 0; i < 12; i++) tx.data[i] = tu_uniform(&seed, -1, 1), dir += fd[i] * tx.data[i];
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  ck_assert(fabs(wg_tangent(t, L).data[0] - dir) < TU_TOL(1e-7));
  wg_tape_free(t);
  wg_param_free(X);
}
END_TEST

START_TEST(softmax_ce_value_and_gradient) {
  enum { M = 4, N = 3 };
  wg_tape *t = wg_tape_new();
  wg_param *Z = wg_param_new("Z", M, N);
  fill(Z, 21, -3, 3);
  const wg_real labels[M] = {2, 0, 1, 2};
  wg_var zv = wg_use(t, Z);
  wg_var L = wg_softmax_ce(t, zv, wg_input(t, M, 1, labels));
  ck_assert_int_eq(wg_backward(t, L), WG_OK);
  /* closed form: L = (1/M) sum_i [log sum_j exp z_ij - z_i,c_i], dZ = (softmax - onehot)/M */
  const wg_real *z = wg_param_value(Z).data;
  double loss = 0, want[M * N];
  for (int i = 0; i < M; i++) {
    double s = 0;
    for (int j = 0; j < N; j++) s += exp(z[i * N + j]);
    loss += (log(s) - z[i * N + (int)labels[i]]) / M;
    for (int j = 0; j < N; j++) want[i * N + j] = (exp(z[i * N + j]) / s - (j == labels[i])) / M;
  }
  ck_assert(fabs(wg_value(t, L).data[0] - loss) < TU_TOL(1e-14));
  ck_assert_double_le(tu_max_rel_diff(wg_param_grad(Z).data, want, M * N, 1e-12), TU_TOL(1e-12));
  double fd[M * N];
  finite_diff(t, L, Z, 1e-6, fd);
  ck_assert_double_le(tu_max_rel_diff(wg_param_grad(Z).data, fd, M * N, 1e-3), TU_TOL(1e-7));
  /* JVP against the directional difference */
  unsigned long long seed = 3;
  wg_mat tz = wg_tangent(t, zv);
  double dir = 0;
  for (int i = 0; i < M * N; i++) tz.data[i] = tu_uniform(&seed, -1, 1), dir += fd[i] * tz.data[i];
  ck_assert_int_eq(wg_jvp(t), WG_OK);
  ck_assert(fabs(wg_tangent(t, L).data[0] - dir) < TU_TOL(1e-7));
  wg_tape_free(t);
  wg_param_free(Z);
}
END_TEST

START_TEST(softmax_ce_hand_value_and_stability) {
  /* row [1, 2, 3], label 2: log(e + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2) = 0.40760596444438
   * (by hand: 1 + 0.36787944117144 + 0.13533528323661 = 1.50321472440805, log of it);
   * row [1000, 0, -1000], label 0: log(1 + e^-1000 + e^-2000) = 0 in doubles, no overflow */
  wg_tape *t = wg_tape_new();
  const wg_real z[6] = {1, 2, 3, 1000, 0, -1000}, c[2] = {2, 0};
  wg_var L = wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_input(t, 2, 1, c));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert(fabs(wg_value(t, L).data[0] - 0.40760596444438 / 2) < TU_TOL(1e-13));
  wg_tape_free(t);
}
END_TEST

START_TEST(softmax_ce_rejects_bad_labels) {
  wg_tape *t = wg_tape_new();
  const wg_real z[6] = {0}, bad_range[2] = {0, 3}, bad_frac[2] = {0.5, 1};
  wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_input(t, 2, 1, bad_range));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "label 3 in row 1"));
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "0..2"));
  wg_tape_reset(t);
  wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_input(t, 2, 1, bad_frac));
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "label 0.5 in row 0"));
  wg_tape_reset(t);
  wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_input(t, 3, 1, z));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "(2x1)"));
  /* labels that need a gradient */
  wg_tape_reset(t);
  wg_param *P = wg_param_new("P", 2, 1);
  wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_use(t, P));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "need a gradient"));
  /* a label changed between replays is caught by wg_forward */
  wg_tape_reset(t);
  wg_real ok[2] = {0, 1};
  wg_softmax_ce(t, wg_input(t, 2, 3, z), wg_input(t, 2, 1, ok));
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ok[1] = -1;
  ck_assert_int_eq(wg_forward(t), WG_ERR_ARG);
  ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "row 1"));
  wg_param_free(P);
  wg_tape_free(t);
}
END_TEST

START_TEST(argmax_and_accuracy) {
  wg_real s[8] = {0.1, 0.7, 0.2, 0.0, 5, 5, -1, -2};
  int idx[4];
  ck_assert_int_eq(wg_argmax_rows((wg_mat){4, 2, s}, idx), WG_OK);
  ck_assert(idx[0] == 1 && idx[1] == 0 && idx[2] == 0 && idx[3] == 0); /* ties: the first */
  wg_real y[4] = {1, 0, 1, 0};
  ck_assert_double_eq(wg_accuracy((wg_mat){4, 2, s}, (wg_mat){4, 1, y}, 0), 0.75);
  /* one column: threshold */
  wg_real p[4] = {0.9, 0.2, 0.5, 0.51};
  ck_assert_double_eq(wg_accuracy((wg_mat){4, 1, p}, (wg_mat){4, 1, y}, 0.5), 0.5);
  ck_assert_double_eq(wg_accuracy((wg_mat){4, 1, p}, (wg_mat){3, 1, y}, 0.5), -1);
  ck_assert_int_eq(wg_argmax_rows((wg_mat){0, 2, NULL}, idx), WG_ERR_ARG);
}
END_TEST

/* A small end-to-end check: Adam on a linearly separable 3-class problem reaches 100%. */
START_TEST(adam_trains_softmax_regression) {
  enum { M = 60 };
  wg_real x[M * 2], y[M];
  unsigned long long seed = 9;
  for (int i = 0; i < M; i++) {
    int c = i % 3;
    x[2 * i] = (c == 1 ? 3 : 0) + tu_uniform(&seed, -0.5, 0.5);
    x[2 * i + 1] = (c == 2 ? 3 : 0) + tu_uniform(&seed, -0.5, 0.5);
    y[i] = c;
  }
  wg_model *m = wg_model_new(1);
  wg_param *W, *b;
  wg_model_add(m, "W", 2, 3, (wg_init){WG_INIT_XAVIER_UNIFORM, 0, 0}, &W);
  wg_model_add(m, "b", 1, 3, (wg_init){WG_INIT_ZEROS, 0, 0}, &b);
  wg_optim *o = wg_optim_new(m, wg_adam_config(0.1), NULL, 0);
  wg_tape *t = wg_tape_new();
  wg_var z = wg_add(t, wg_matmul(t, wg_input(t, M, 2, x), wg_use(t, W)), wg_use(t, b));
  wg_var L = wg_softmax_ce(t, z, wg_input(t, M, 1, y));
  double first = wg_value(t, L).data[0];
  for (int s = 0; s < 100; s++) {
    wg_model_zero_grad(m);
    wg_backward(t, L);
    wg_optim_step(o);
    wg_forward(t);
  }
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_double_lt(wg_value(t, L).data[0], first / 10);
  ck_assert_double_eq(wg_accuracy(wg_value(t, z), (wg_mat){M, 1, y}, 0), 1);
  wg_tape_free(t);
  wg_optim_free(o);
  wg_model_free(m);
}
END_TEST

/* ---- allocation failures ------------------------------------------------------------------------ */

static long alloc_budget = -1, alloc_live = 0;
static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud;
  if (new_size == 0) {
    if (ptr) alloc_live -= (long)old_size;
    free(ptr);
    return NULL;
  }
  if (alloc_budget == 0) return NULL;
  if (alloc_budget > 0) alloc_budget--;
  void *p = realloc(ptr, new_size);
  if (p) alloc_live += (long)new_size - (long)(ptr ? old_size : 0);
  return p;
}

START_TEST(model_and_optimizer_survive_allocation_failures) {
  wg_set_allocator(failing_alloc, NULL);
  for (long n = 0; n < 20; n++) {
    alloc_budget = n, alloc_live = 0;
    wg_model *m = wg_model_new(1);
    wg_optim *o = NULL;
    if (m && !wg_model_add(m, "W", 3, 4, (wg_init){WG_INIT_HE_NORMAL, 0, 0}, NULL) &&
        !wg_model_add(m, "b", 1, 4, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL))
      o = wg_optim_new(m, wg_adam_config(0.1), NULL, 0);
    if (o) ck_assert_int_eq(wg_optim_step(o), WG_OK);
    wg_optim_free(o);
    wg_model_free(m);
    ck_assert_int_eq(alloc_live, 0); /* nothing leaks, whichever allocation failed */
  }
  wg_set_allocator(NULL, NULL);
}
END_TEST

/* Every failure leaves a message: the calls with no object to hold one (a NULL model or
 * optimizer, wg_param_new's NULL) put it in wg_last_error(), and so do the ones that do have
 * one (the model's error), so the latest message is always in one place. */
static void assert_last_error_has(const char *part) {
  ck_assert_msg(strstr(wg_last_error(), part) != NULL, "wg_last_error() \"%s\" lacks \"%s\"",
                wg_last_error(), part);
}

/* In a new thread: nothing has failed there yet, then a failure there is its last error. */
static void *fresh_thread_messages(void *arg) {
  (void)arg;
  int empty_at_start = wg_last_error()[0] == '\0';
  wg_param *p = wg_param_new("x", -1, 2);
  int has = p == NULL && strstr(wg_last_error(), "wg_param_new: x (-1x2)") != NULL;
  return (void *)(intptr_t)(empty_at_start && has);
}

/* wg_last_error is per thread: a thread starts with "", its failures do not reach another. */
START_TEST(last_error_is_per_thread) {
  ck_assert_ptr_null(wg_param_new("main_thread", 0, 1));
  pthread_t th;
  void *ok = NULL;
  ck_assert_int_eq(pthread_create(&th, NULL, fresh_thread_messages, NULL), 0);
  ck_assert_int_eq(pthread_join(th, &ok), 0);
  ck_assert_msg(ok == (void *)1, "a new thread's wg_last_error did not start empty or did not "
                "get its own failure");
  ck_assert_ptr_nonnull(strstr(wg_last_error(), "wg_param_new: main_thread (0x1)"));
}
END_TEST

START_TEST(every_failure_without_an_object_leaves_a_message) {
  wg_param *out = (wg_param *)&out;
  ck_assert_int_eq(wg_model_add(NULL, "W1", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, &out),
                   WG_ERR_ARG);
  ck_assert_ptr_null(out);
  assert_last_error_has("wg_model_add: the model is NULL");
  assert_last_error_has("W1");
  ck_assert_ptr_null(wg_param_new(NULL, 2, 2));
  assert_last_error_has("wg_param_new: (NULL) (2x2): the name is NULL");
  ck_assert_ptr_null(wg_param_new("b", 0, 3));
  assert_last_error_has("wg_param_new: b (0x3): dimensions must be positive");
  ck_assert_int_eq(wg_optim_step(NULL), WG_ERR_ARG);
  assert_last_error_has("wg_optim_step: the optimizer is NULL");
  ck_assert_ptr_null(wg_optim_new(NULL, wg_adam_config(0.1), NULL, 0)); /* no err buffer */
  assert_last_error_has("wg_optim_new: model is NULL");
  int idx[1];
  ck_assert_int_eq(wg_argmax_rows((wg_mat){1, 1, NULL}, idx), WG_ERR_ARG);
  assert_last_error_has("wg_argmax_rows: x.data is NULL");
  wg_real s[2] = {1, 2};
  ck_assert(wg_accuracy((wg_mat){2, 1, s}, (wg_mat){1, 1, s}, 0.5) < 0);
  assert_last_error_has("wg_accuracy: scores (2x1) and labels (1x1)");
}
END_TEST

static const wg_real one_value = 1;

START_TEST(model_and_tape_errors_are_also_the_last_error) {
  wg_model *m = wg_model_new(1);
  ck_assert_int_eq(wg_model_add(m, "W", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL), WG_OK);
  ck_assert_int_eq(wg_model_add(m, "W", 2, 2, (wg_init){WG_INIT_ZEROS, 0, 0}, NULL), WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), wg_model_error(m));
  assert_last_error_has("already has a parameter W");
  wg_tape *t = wg_tape_new();
  wg_exp(t, wg_input(t, 0, 1, &one_value));
  ck_assert_int_eq(wg_tape_status(t), WG_ERR_ARG);
  ck_assert_str_eq(wg_last_error(), wg_tape_error(t)); /* the latest failure: the tape's */
  wg_tape_free(t);
  wg_model_free(m);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("rng");
  tcase_add_test(tc, rng_known_answers);
  tcase_add_test(tc, rng_reproducible);
  tcase_add_test(tc, rng_uniform_normal_statistics);
  tcase_add_test(tc, rng_below_is_uniform);
  suite_add_tcase(s, tc);
  tc = tcase_create("model");
  tcase_add_test(tc, initialisers_statistics);
  tcase_add_test(tc, model_params_by_name_and_index);
  tcase_add_test(tc, model_same_seed_same_weights);
  tcase_add_test(tc, model_and_optimizer_survive_allocation_failures);
  suite_add_tcase(s, tc);
  tc = tcase_create("optim");
  tcase_add_loop_test(tc, optimizer_matches_pytorch, 0, 6);
  tcase_add_test(tc, optimizer_bad_configs);
  tcase_add_test(tc, optimizer_weight_decay_per_parameter);
  tcase_add_test(tc, optimizer_weight_decay_bad_arguments);
  tcase_add_test(tc, checkpoint_keeps_weight_decay);
  tcase_add_loop_test(tc, optimizer_config_rules, 0, (int)(sizeof bad_cfg / sizeof bad_cfg[0]));
  tcase_add_test(tc, model_api_null_arguments);
  tcase_add_test(tc, every_failure_without_an_object_leaves_a_message);
  tcase_add_test(tc, last_error_is_per_thread);
  tcase_add_test(tc, model_and_tape_errors_are_also_the_last_error);
  tcase_add_test(tc, clip_grad_norm);
  tcase_add_test(tc, adam_trains_softmax_regression);
  suite_add_tcase(s, tc);
  tc = tcase_create("softmax");
  tcase_add_test(tc, softmax_values_closed_form);
  tcase_add_test(tc, softmax_vjp_jvp_finite_differences);
  tcase_add_test(tc, softmax_ce_value_and_gradient);
  tcase_add_test(tc, softmax_ce_hand_value_and_stability);
  tcase_add_test(tc, softmax_ce_rejects_bad_labels);
  tcase_add_test(tc, argmax_and_accuracy);
  suite_add_tcase(s, tc);
  return s;
}

WG_TEST_MAIN()

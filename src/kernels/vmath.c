/* vmath.c - see vmath.h. Each function is a vector kernel on VL lanes; the array loop feeds it
 * whole vectors and a padded copy of the tail.
 *
 *   exp(x)   n = round(x / ln2), r = x - n ln2 (ln2 split in hi + lo: r exact to ~2^-60),
 *            |r| <= 0.35; expm1(r) = r + r^2 q(r), q the Taylor series of (e^r - 1 - r)/r^2
 *            to degree 11 (truncation < 1e-17 relative); exp(x) = (1 + expm1(r)) 2^n1 2^n2,
 *            n = n1 + n2 so both factors are normal numbers: the first product is exact, the
 *            second rounds once, which also gives correctly rounded gradual underflow.
 *   log(x)   x = 2^e (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)) (subnormals scaled by 2^54 first);
 *            fdlibm's e_log.c: s = f / (2 + f), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)),
 *            R its degree-7 minimax polynomial; result e ln2_hi - ((hfsq - (s (hfsq + R) +
 *            e ln2_lo)) - f).
 *   tanh(x)  |x| >= 22: +-1. Otherwise t = expm1(2|x|) (as above: 2^n (1 + expm1(r)) - 1),
 *            tanh(|x|) = t / (t + 2) (no cancellation for small x), sign copied from x.
 *   sigmoid  e = exp(-|x|) <= 1: x >= 0 gives 1 / (1 + e), x < 0 gives e / (1 + e).
 *
 * The float build runs the same double kernels: VL floats (half a register) are widened to
 * doubles, which is exact (float subnormals become normal doubles, so log needs no scaling),
 * and the double result, within a few double ulp (2^-29 float ulp each), is rounded to float
 * once: within 0.5 + 2^-26 float ulp of the exact value, and float overflow (exp(x > 88.72))
 * and gradual underflow come out of that one rounding as IEEE defines them. It costs about
 * twice a float-native kernel's arithmetic per element, and needs no second set of
 * polynomials to prove. */
#include <math.h>
#include <string.h>

#include "kernels/simd.h"
#include "kernels/vmath.h"
#include "par/pool.h"

#if defined(WG_SIMD)
#define VL WG_VLD /* the kernels run on doubles, VL lanes, whatever wg_real is */
typedef wg_vd vd;
typedef long long vi __attribute__((vector_size(VL * 8)));
typedef unsigned long long vu __attribute__((vector_size(VL * 8))); /* bit arithmetic that may wrap */
/* VL wg_reals: the array's side of a kernel call (vd itself in the double build; in the float
 * build half a register of floats, widened to doubles exactly and rounded back once) */
typedef wg_real vr __attribute__((vector_size(VL * sizeof(wg_real))));

static inline vd splat(double c) {
#if VL == 8
  return (vd){c, c, c, c, c, c, c, c};
#elif VL == 4
  return (vd){c, c, c, c};
#else
  return (vd){c, c};
#endif
}

/* lanes of a where m is all ones, of b elsewhere */
static inline vd select(vi m, vd a, vd b) {
  return (vd)(((vi)a & m) | ((vi)b & ~m));
}

#define SHIFT 0x1.8p52 /* x + SHIFT - SHIFT rounds x to an integer; its low bits hold it */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define LOG2E 1.44269504088896338700e+00

/* n = round(x / ln2) as a double and as an integer, and r = x - n ln2; |x| < 2^50. */
static inline vd reduce(vd x, vd *n, vi *ni) {
  vd kd = x * LOG2E + SHIFT;
  *n = kd - SHIFT;
  *ni = (vi)kd - (vi)splat(SHIFT);
  vd r = x - *n * LN2_HI;
  return r - *n * LN2_LO;
}

/* expm1(r) for |r| <= 0.36: r + r^2 (1/2! + r/3! + ... + r^11/13!) */
static inline vd expm1_poly(vd r) {
  vd q = splat(1.0 / 6227020800.0); /* 1/13! */
  q = q * r + 1.0 / 479001600.0;    /* 1/12! */
  q = q * r + 1.0 / 39916800.0;
  q = q * r + 1.0 / 3628800.0;
  q = q * r + 1.0 / 362880.0;
  q = q * r + 1.0 / 40320.0;
  q = q * r + 1.0 / 5040.0;
  q = q * r + 1.0 / 720.0;
  q = q * r + 1.0 / 120.0;
  q = q * r + 1.0 / 24.0;
  q = q * r + 1.0 / 6.0;
  q = q * r + 0.5;
  return r + (r * r) * q;
}

/* 2^n for integer lanes |n| <= 1022 */
static inline vd pow2(vi n) {
  return (vd)((n + 1023) << 52);
}

static inline vd vexp1(vd x) {
  /* clamp (NaN stays NaN: comparisons with it are false) */
  x = select(x > 710.0, splat(710.0), x);
  x = select(x < -746.0, splat(-746.0), x);
  vd n;
  vi ni;
  vd r = reduce(x, &n, &ni);
  vd p = 1.0 + expm1_poly(r);
  vi n1 = ni >> 1, n2 = ni - n1;
  return p * pow2(n1) * pow2(n2);
}

static inline vd vlog1(vd x) {
  /* subnormals: scale into the normal range, remember the 54 */
  vi sub = x < 0x1p-1022;
  vd xs = select(sub, x * 0x1p54, x);
  vd ebias = select(sub, splat(-54.0), splat(0.0));
  /* x = 2^e m, m in [sqrt(2)/2, sqrt(2)): offset the bits by those of sqrt(2)/2 */
  vi ix = (vi)((vu)xs - (vu)splat(0x1.6a09e667f3bcdp-1)); /* wraps for x < 0 (NaN later) */
  vi e = ix >> 52;
  vd m = (vd)((vu)xs - ((vu)e << 52));
  vd dk = (vd)(e + (vi)splat(SHIFT)) - SHIFT + ebias;
  vd f = m - 1.0;
  vd hfsq = 0.5 * f * f;
  vd s = f / (2.0 + f);
  vd z = s * s, w = z * z;
  vd t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  vd t2 = z * (6.666666666666735130e-01 +
               w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  vd R = t2 + t1;
  vd y = dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  /* special values: x < 0 (and -Inf) NaN, +-0 -Inf, +Inf +Inf, NaN NaN */
  y = select(x < 0.0, splat(NAN), y);
  y = select(x == 0.0, splat(-INFINITY), y);
  y = select(x == INFINITY, x, y);
  return select(x != x, x, y);
}

static inline vd vtanh1(vd x) {
  vi sign = (vi)x & (vi)splat(-0.0);
  vd a = (vd)((vi)x & ~(vi)splat(-0.0)); /* |x| */
  vd a2 = 2.0 * select(a > 22.0, splat(22.0), a);
  vd n;
  vi ni;
  vd r = reduce(a2, &n, &ni);
  vd em = expm1_poly(r);
  vd s = pow2(ni);
  vd t = select(ni == 0, em, s * em + (s - 1.0)); /* expm1(2|x|) = 2^n (1 + em) - 1 */
  vd y = t / (t + 2.0);
  y = select(a > 22.0, splat(1.0), y);
  y = select(x != x, x, y);
  return (vd)((vi)y | sign);
}

static inline vd vsigmoid1(vd x) {
  vd a = (vd)((vi)x & ~(vi)splat(-0.0));
  vd e = vexp1(-a);
  vd d = 1.0 + e;
  return select(x >= 0.0, 1.0 / d, e / d);
}

/* The array loop over [lo, hi): whole vectors, then the tail through a padded vector. Each
 * vector of VL wg_reals is widened to doubles (exact), computed, and narrowed once (the float
 * build's only rounding beyond the double kernel's few double ulp). */
#define ARRAY_LOOP(kernel, x, y, lo, hi)                                     \
  do {                                                                       \
    size_t i = (lo);                                                         \
    for (; i + VL <= (hi); i += VL) {                                        \
      vr v;                                                                  \
      memcpy(&v, (x) + i, sizeof v);                                         \
      v = __builtin_convertvector(kernel(__builtin_convertvector(v, vd)), vr); \
      memcpy((y) + i, &v, sizeof v);                                         \
    }                                                                        \
    if (i < (hi)) {                                                          \
      vr v = __builtin_convertvector(splat(1.0), vr);                        \
      memcpy(&v, (x) + i, ((hi) - i) * sizeof(wg_real));                     \
      v = __builtin_convertvector(kernel(__builtin_convertvector(v, vd)), vr); \
      memcpy((y) + i, &v, ((hi) - i) * sizeof(wg_real));                     \
    }                                                                        \
  } while (0)

static void exp_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  ARRAY_LOOP(vexp1, x, y, lo, hi);
}
static void log_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  ARRAY_LOOP(vlog1, x, y, lo, hi);
}
static void tanh_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  ARRAY_LOOP(vtanh1, x, y, lo, hi);
}
static void sigmoid_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  ARRAY_LOOP(vsigmoid1, x, y, lo, hi);
}

#else /* no vector extensions or x87 math: libm per element */

static wg_real sigmoid_scalar(wg_real x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  wg_real e = exp(x);
  return e / (1 + e);
}
static void exp_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) y[i] = exp(x[i]);
}
static void log_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) y[i] = log(x[i]);
}
static void tanh_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) y[i] = tanh(x[i]);
}
static void sigmoid_range(const wg_real *x, wg_real *y, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) y[i] = sigmoid_scalar(x[i]);
}
#endif

/* ---- large arrays over the thread pool -------------------------------------------------- */

typedef struct {
  void (*range)(const wg_real *, wg_real *, size_t, size_t);
  const wg_real *x;
  wg_real *y;
} vjob;

static void vjob_range(void *arg, size_t lo, size_t hi) {
  const vjob *j = arg;
  j->range(j->x, j->y, lo, hi);
}

/* Each element by itself (the tail through the same padded vector), so any split gives the
 * same bits. */
static void run(void (*range)(const wg_real *, wg_real *, size_t, size_t), const wg_real *x,
                wg_real *y, size_t n) {
  vjob j = {range, x, y};
  wg_par_for(n, WG_PAR_GRAIN, vjob_range, &j);
}

void wg_vexp(const wg_real *x, wg_real *y, size_t n) {
  run(exp_range, x, y, n);
}
void wg_vlog(const wg_real *x, wg_real *y, size_t n) {
  run(log_range, x, y, n);
}
void wg_vtanh(const wg_real *x, wg_real *y, size_t n) {
  run(tanh_range, x, y, n);
}
void wg_vsigmoid(const wg_real *x, wg_real *y, size_t n) {
  run(sigmoid_range, x, y, n);
}

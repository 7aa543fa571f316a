/* testutil.h - shared helpers for the Check suites. Each tests/check_<area>.c defines
 * `Suite *make_suite(void)` and ends with WG_TEST_MAIN(). Reference numbers in the tests
 * come from outside the code under test: closed forms, finite differences, hand computation,
 * or NumPy/PyTorch numbers written down with how they were computed. */
#ifndef WG_TESTUTIL_H
#define WG_TESTUTIL_H
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "tol.h"
#include "wengert.h"

/* max_i |a_i - b_i| / max(|b_i|, floor): relative difference with a floor for tiny values;
 * a: the library's numbers (wg_real), b: the reference (double) */
static inline double tu_max_rel_diff(const wg_real *a, const double *b, size_t n, double floor) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    double scale = fabs((double)b[i]) > floor ? fabs((double)b[i]) : floor;
    double d = fabs((double)a[i] - (double)b[i]) / scale;
    if (d > worst || d != d) worst = d != d ? INFINITY : d;
  }
  return worst;
}

/* n numbers from the tests' doubles into the library's wg_real (rounded in the float build),
 * and back (exact) */
static inline void tu_to_real(wg_real *dst, const double *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = (wg_real)src[i];
}
static inline void tu_to_double(double *dst, const wg_real *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

/* Deterministic uniform numbers in [lo, hi) for test data (xorshift64*, not the library's). */
static inline double tu_uniform(unsigned long long *state, double lo, double hi) {
  unsigned long long x = *state;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  *state = x;
  return lo + (hi - lo) * (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

#define WG_TEST_MAIN()                                   \
  int main(void) {                                       \
    SRunner *sr = srunner_create(make_suite());          \
    srunner_run_all(sr, CK_NORMAL);                      \
    int failed = srunner_ntests_failed(sr);              \
    srunner_free(sr);                                    \
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;         \
  }

#endif

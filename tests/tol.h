/* tol.h - the tolerances of the Check suites, in units of wg_real's machine epsilon.
 *
 * Every suite is built twice: against the float64 library (build/tests/) and, with
 * -DWG_REAL_FLOAT, against the float32 one (build/tests-f32/). A float64 bound stays exactly as
 * written (the float64 suites are unchanged); in float it is carried over by the error model
 * that produced it, not guessed:
 *   - rounding: a result that went through k roundings errs by about k eps_mach / 2 relative,
 *     so a bound written as d in double (d / DBL_EPSILON roundings' worth) allows the same
 *     number of float roundings: TU_TOL(d) = d * FLT_EPSILON / DBL_EPSILON (x 5.4e8; 1e-15,
 *     4.5 double ulps, becomes 6.0e-7, 4.5 float ulps);
 *   - central differences: their error is h^2 |f'''| / 6 (truncation) plus about eps_mach |f| / h
 *     (round-off), least near h = cbrt(eps_mach), where it is about eps_mach^(2/3) times the
 *     scale of f (docs/gradcheck.md, the epsilon study). A float64 test keeps its step and bound;
 *     in float the step is TU_FD_H = cbrt(FLT_EPSILON) = 4.9e-3 and the bound TU_FD_TOL =
 *     100 FLT_EPSILON^(2/3) = 2.4e-3: 100 units of the error for functions and third
 *     derivatives of size up to ~10, which the tests' inputs keep;
 *   - reference numbers computed in float64 (by hand, NumPy, PyTorch): the float result is
 *     compared with the derived float bound, never with the float64 digits. */
#ifndef WG_TOL_H
#define WG_TOL_H
#include <float.h>
#include <math.h>

#include "wengert.h"

#define TU_F32 (sizeof(wg_real) == sizeof(float)) /* 1 in the float build */
#define TU_EPS (TU_F32 ? (double)FLT_EPSILON : DBL_EPSILON) /* wg_real's eps_mach */
#define TU_RATIO (TU_EPS / DBL_EPSILON)                     /* 1, or 2^29 = 5.4e8 in float */
#define TU_TOL(d) ((d) * TU_RATIO)                          /* a rounding bound */
/* a central-difference step h and bound d of a float64 test, or float's */
#define TU_FD_H(h) (TU_F32 ? cbrt((double)FLT_EPSILON) : (h))
#define TU_FD_TOL(d) (TU_F32 ? 100 * cbrt((double)FLT_EPSILON * FLT_EPSILON) : (d))

/* the extremes of wg_real: its largest finite number, a big value near it, a subnormal */
/* sizeof(wg_real) and a parameter's bytes per element (value and gradient) as the library's
 * messages write them */
#ifdef WG_REAL_FLOAT
#define TU_REAL_BYTES "4"
#define TU_PARAM_BYTES "8"
#else
#define TU_REAL_BYTES "8"
#define TU_PARAM_BYTES "16"
#endif
#ifdef WG_REAL_FLOAT
#define TU_MAX FLT_MAX
#define TU_BIG 1e38
#define TU_SUB 1e-40
#else
#define TU_MAX DBL_MAX
#define TU_BIG 1e308
#define TU_SUB 1e-310
#endif

#endif

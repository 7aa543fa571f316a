/* vmath.h - elementwise math over arrays, vectorised (GCC/Clang vector extensions), with the
 * special values of libm. y may equal x (in place); otherwise the arrays must not overlap.
 *
 *   wg_vexp      y = exp(x)                      within 2 ulp of the correctly rounded result
 *   wg_vlog      y = log(x)                      within 2 ulp
 *   wg_vtanh     y = tanh(x)                     within 3 ulp
 *   wg_vsigmoid  y = 1 / (1 + exp(-x))           within 4 ulp
 *
 * (ulp of double.) The float build computes each element with the same double kernels and
 * rounds the result to float once: all four within 1 float ulp of the exact value (0.5 ulp
 * and the double kernel's 2^-27 float ulp; libm's expf, logf, tanhf are within 1 ulp too).
 *
 * (tests/check_kernels.c checks these bounds against libm over wide ranges.) Special values
 * as libm: exp(+-0) = 1, exp(-Inf) = 0, exp(+Inf) = +Inf, overflow to +Inf above 709.78,
 * gradual underflow to subnormals and 0 below -708.4; log(+-0) = -Inf, log(x < 0) = NaN,
 * log(+Inf) = +Inf, subnormal x exact; tanh(+-0) = +-0, tanh(+-Inf) = +-1; sigmoid(-Inf) = 0,
 * sigmoid(+Inf) = 1; NaN in, NaN out (the float build: the same, at float's limits:
 * exp overflows above 88.72 and underflows gradually below -87.3). Compilers without vector
 * extensions and x87 math (32-bit x86 without -mfpmath=sse) call libm per element. Large arrays are
 * split over the thread pool (src/par/). */
#ifndef WG_VMATH_H
#define WG_VMATH_H
#include <stddef.h>

#include "wengert.h"

void wg_vexp(const wg_real *x, wg_real *y, size_t n);
void wg_vlog(const wg_real *x, wg_real *y, size_t n);
void wg_vtanh(const wg_real *x, wg_real *y, size_t n);
void wg_vsigmoid(const wg_real *x, wg_real *y, size_t n);

#endif

/* simd.h - the vector width the kernels of this build use (gemm.c and vmath.c read it).
 *
 * The kernels are written with GCC/Clang vector extensions: a vector of WG_VL doubles is a
 * wg_vd, and the compiler maps it to the widest registers -march allows. WG_SIMD is defined
 * when they are used, which needs
 *   - GCC or Clang (the vector extensions),
 *   - wg_real double (the float build takes the plain paths),
 *   - double arithmetic done in double (FLT_EVAL_METHOD 0): x87 math (32-bit x86 without
 *     -mfpmath=sse) evaluates in long double, which a vector type cannot hold.
 * Otherwise the kernels run plain C loops and libm. The width:
 *   AVX-512F  WG_VL 8  (64-byte vectors, 32 registers)
 *   AVX       WG_VL 4  (32-byte vectors, 16 registers)
 *   else      WG_VL 2  (16 bytes: SSE2, which every x86-64 has, or another 128-bit SIMD;
 *                      wider vectors there would be split by the compiler and change the ABI
 *                      of the helpers that pass them) */
#ifndef WG_SIMD_H
#define WG_SIMD_H
#include <float.h>

#if defined(__GNUC__) && !defined(WG_REAL_FLOAT) && FLT_EVAL_METHOD == 0
#define WG_SIMD 1
#if defined(__AVX512F__)
#define WG_VL 8
#elif defined(__AVX__)
#define WG_VL 4
#else
#define WG_VL 2
#endif
typedef double wg_vd __attribute__((vector_size(WG_VL * 8)));
#endif

#endif

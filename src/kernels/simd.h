/* simd.h - the vector width the kernels of this build use (gemm.c and vmath.c read it).
 *
 * The kernels are written with GCC/Clang vector extensions: a vector of WG_VL wg_real is a
 * wg_vr (WG_VL = WG_VBYTES / sizeof(wg_real): 8 doubles or 16 floats in a 64-byte AVX-512
 * register), and the compiler maps it to the widest registers -march allows. wg_vd is the
 * vector of doubles of the same byte width (WG_VLD lanes), which vmath computes in for either
 * precision. WG_SIMD is defined when they are used, which needs
 *   - GCC or Clang (the vector extensions),
 *   - arithmetic done in the type's own precision (FLT_EVAL_METHOD 0): x87 math (32-bit x86
 *     without -mfpmath=sse) evaluates in long double, which a vector type cannot hold.
 * Otherwise the kernels run plain C loops and libm. The width:
 *   AVX-512F  WG_VBYTES 64  (32 registers)
 *   AVX       WG_VBYTES 32  (16 registers)
 *   else      WG_VBYTES 16  (SSE2, which every x86-64 has, or another 128-bit SIMD; wider
 *                           vectors there would be split by the compiler and change the ABI
 *                           of the helpers that pass them) */
#ifndef WG_SIMD_H
#define WG_SIMD_H
#include <float.h>

#include "wengert.h"

#if defined(__GNUC__) && FLT_EVAL_METHOD == 0
#define WG_SIMD 1
#if defined(__AVX512F__)
#define WG_VBYTES 64
#elif defined(__AVX__)
#define WG_VBYTES 32
#else
#define WG_VBYTES 16
#endif
#ifdef WG_REAL_FLOAT
#define WG_VL (WG_VBYTES / 4) /* lanes of wg_real (a literal expression: usable in #if) */
#else
#define WG_VL (WG_VBYTES / 8)
#endif
#define WG_VLD (WG_VBYTES / 8) /* lanes of double */
typedef wg_real wg_vr __attribute__((vector_size(WG_VBYTES)));
typedef double wg_vd __attribute__((vector_size(WG_VBYTES)));

/* WG_VFMA(b, a, c): c + b a for a vector b and c and a scalar a, in one fused multiply-add
 * (one rounding) where the build's instruction set has one. GCC in ISO C mode (-std=c11)
 * never contracts `c += b * a` by itself (-ffp-contract=off), so the matrix kernel would run
 * a multiply and an add: twice the instructions, a longer dependency chain, and on CPUs whose
 * adds share the FMA ports (Intel) half the throughput. Without FMA: the multiply and add. */
#if WG_VBYTES == 64
#include <immintrin.h>
#ifdef WG_REAL_FLOAT
#define WG_VFMA(b, a, c) _mm512_fmadd_ps((b), _mm512_set1_ps(a), (c))
#else
#define WG_VFMA(b, a, c) _mm512_fmadd_pd((b), _mm512_set1_pd(a), (c))
#endif
#elif WG_VBYTES == 32 && defined(__FMA__)
#include <immintrin.h>
#ifdef WG_REAL_FLOAT
#define WG_VFMA(b, a, c) _mm256_fmadd_ps((b), _mm256_set1_ps(a), (c))
#else
#define WG_VFMA(b, a, c) _mm256_fmadd_pd((b), _mm256_set1_pd(a), (c))
#endif
#else
#define WG_VFMA(b, a, c) ((c) + (b) * (a))
#endif
#endif

#endif

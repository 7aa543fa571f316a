/* rng.c - the library's random numbers: xoshiro256** seeded with SplitMix64.
 *
 * xoshiro256** (D. Blackman, S. Vigna, "Scrambled linear pseudorandom number generators",
 * 2018) keeps 256 bits of state; SplitMix64 (G. Steele, D. Lea, F. Flood, 2014) expands a
 * 64-bit seed into that state, so no seed leaves it all zero. Only 64-bit unsigned integer
 * arithmetic is used: the same seed gives the same numbers on every platform. */
#include <math.h>

#include "wengert.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void wg_rng_seed(wg_rng *r, uint64_t seed) {
  if (!r) return;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t wg_rng_next(wg_rng *r) {
  if (!r) return 0;
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* the top 53 bits as a multiple of 2^-53: uniform on [0, 1) */
double wg_rng_uniform(wg_rng *r) {
  return (double)(wg_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Box-Muller: u1 in (0, 1], u2 in [0, 1): z = sqrt(-2 log u1) cos(2 pi u2) ~ N(0, 1).
 * One draw per call (the sine partner is dropped) so the state is just the four words. */
double wg_rng_normal(wg_rng *r) {
  double u1 = 1.0 - wg_rng_uniform(r), u2 = wg_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Rejection: draws below 2^64 mod n are dropped, so every residue is equally likely. */
uint64_t wg_rng_below(wg_rng *r, uint64_t n) {
  if (!r || n == 0) return 0;
  uint64_t floor = (0 - n) % n; /* 2^64 mod n */
  for (;;) {
    uint64_t x = wg_rng_next(r);
    if (x >= floor) return x % n;
  }
}

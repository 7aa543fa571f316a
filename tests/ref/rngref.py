# Reference values for tests/check_model.c: /usr/bin/python3 tests/ref/rngref.py
# Independent SplitMix64 + xoshiro256** in Python (from the published algorithms), for the
# known-answer test of wg_rng.
M = (1 << 64) - 1
def splitmix(state):
    state = (state + 0x9e3779b97f4a7c15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return state, z ^ (z >> 31)
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
def xoshiro(seed, n):
    st = seed; s = []
    for _ in range(4):
        st, z = splitmix(st); s.append(z)
    out = []
    for _ in range(n):
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        out.append(r)
    return out
print("splitmix64(0) first:", hex(splitmix(0)[1]))
for seed in (0, 42):
    print(seed, [hex(x) for x in xoshiro(seed, 4)])

/* test_rng.h - the quant tests' random numbers: xorshift64 (a fixed
 * sequence on every machine, so a failure reproduces), uniform [0, 1) and
 * Box-Muller gaussians. Define TEST_RNG_SEED before including for another
 * sequence. */
#ifndef GQ_TEST_RNG_H
#define GQ_TEST_RNG_H

#include <math.h>
#include <stdint.h>

#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t rng = TEST_RNG_SEED;
static uint64_t rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static double unif(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static double gauss(void)
{
    double u = unif(), v = unif();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

#endif

/* krand.h - the kernel tests' pseudo-random numbers: xorshift64 from a seed
 * the test fixes (define KRAND_SEED before including), so a failure
 * reproduces run after run. One per test program (static state). */
#ifndef KRAND_H
#define KRAND_H
#include <stdint.h>

static uint64_t rng = KRAND_SEED;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
/* uniform in [-1, 1) */
static float frand(void) { return (float)((double)rnd() / 4294967296.0 * 2.0 - 1.0); }
#endif

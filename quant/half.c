/* half.c - exact conversions from f32 to the two 16-bit float formats (the
 * decodes, f16/bf16 -> f32, are inline in quant.h).
 *
 * Pure integer bit arithmetic: no dependence on the FPU rounding mode, on
 * F16C or on compiler _Float16 support, so results are identical on every
 * machine (the converter's output must be byte-identical everywhere).
 */
#include <string.h>

#include "quant.h"

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

uint16_t gq_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)        /* NaN: keep sign and top payload, force quiet */
        return (uint16_t)((x >> 16) | 0x0040u);
    /* Round to nearest even on the 16 dropped bits; a carry out of the
     * mantissa bumps the exponent, and past the largest finite value it
     * lands exactly on infinity, which is the IEEE result. */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

uint16_t gq_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u)                         /* NaN: quiet, top payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    /* 65520 is the midpoint between 65504 (odd mantissa) and 2^16: ties go
     * to the even neighbour, which is infinity. */
    if (ax >= 0x477ff000u)
        return (uint16_t)(sign | 0x7c00u);
    if (ax >= 0x38800000u) {                      /* result is a normal half */
        uint32_t r = (ax + 0xfffu + ((ax >> 13) & 1u)) >> 13;
        return (uint16_t)(sign | (r - (112u << 10)));
    }
    /* Result is subnormal (or zero): count units of 2^-24. The f32 value is
     * m * 2^(e-150), i.e. m * 2^(e-126) units; shift right by 126-e with
     * round-to-nearest-even. A round-up to 0x400 is the smallest normal,
     * which is again the right encoding. */
    uint32_t e = ax >> 23;
    if (e < 102)                                  /* below 2^-25: rounds to zero */
        return sign;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;                    /* 14 .. 24 */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u)))
        q++;
    return (uint16_t)(sign | q);
}

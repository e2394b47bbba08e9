/* test_quant_scalar.c - f16 and bf16 conversions against independent
 * references: the compiler's _Float16 (x86-64 gcc/clang: libgcc's soft-float
 * routines, IEEE round-to-nearest-even) for f16, and exact arithmetic in
 * double for bf16 (a double holds every float and every bf16 exactly, so
 * "nearest, ties to even" can be decided by comparing distances).
 *
 * f16 -> f32 and bf16 -> f32 are exhaustive. f32 -> 16-bit covers every
 * combination of sign, exponent and the kept mantissa bits with the dropped
 * bits set to the patterns that decide rounding (0, 1, just below half,
 * half, just above half, all ones) plus random tails; GQ_EXHAUSTIVE=1 runs
 * all 2^32 inputs instead (minutes, not for CI).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "quant.h"

static float fb(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t bf(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* the value a 16-bit half encodes, from the IEEE definition */
static double half_value(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexp(m, -24);
    else
        v = ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd32(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* bf16 reference: nearest of the two bf16 neighbours of x by exact distance */
static uint16_t ref_bf16(uint32_t x)
{
    float f = fb(x);
    if (isnan(f))
        return 0;                                 /* checked separately */
    uint16_t lo = (uint16_t)(x >> 16);            /* truncation (toward zero) */
    if ((x & 0xffff) == 0)
        return lo;
    uint16_t hi = (uint16_t)(lo + 1);             /* next magnitude up */
    double vl = fabs((double)fb((uint32_t)lo << 16));
    double vh = (hi & 0x7fff) == 0x7f80 ? ldexp(1.0, 128) : fabs((double)fb((uint32_t)hi << 16));
    double a = fabs((double)f);
    if (a - vl < vh - a) return lo;
    if (a - vl > vh - a) return hi;
    return (lo & 1) ? hi : lo;
}

static long f16_bad, bf16_bad;

static void check_f16(uint32_t x)
{
    float f = fb(x);
    uint16_t got = gq_f32_to_f16(f);
#if defined(__FLT16_MAX__)
    _Float16 r = (_Float16)f;
    uint16_t want;
    memcpy(&want, &r, 2);
#else
    uint16_t want = got;                          /* no reference compiler type */
#endif
    if (isnan(f)) {
        if (!((got & 0x7c00) == 0x7c00 && (got & 0x3ff) && (got >> 15) == (x >> 31)))
            f16_bad++;
        return;
    }
    if (got != want && f16_bad++ < 5)
        fprintf(stderr, "f32->f16 %08x: got %04x want %04x\n", x, got, want);
}

static void check_bf16(uint32_t x)
{
    float f = fb(x);
    uint16_t got = gq_f32_to_bf16(f);
    if (isnan(f)) {
        if (!((got & 0x7f80) == 0x7f80 && (got & 0x7f) && (got >> 15) == (x >> 31)))
            bf16_bad++;
        return;
    }
    uint16_t want = ref_bf16(x);
    if (got != want && bf16_bad++ < 5)
        fprintf(stderr, "f32->bf16 %08x: got %04x want %04x\n", x, got, want);
}

int main(void)
{
    /* f16 -> f32: all 65536 against the IEEE definition and _Float16 */
    long bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float got = gq_f16_to_f32((uint16_t)h);
        double want = half_value((uint16_t)h);
        int ok = isnan(want) ? isnan(got) : (double)got == want && !!signbit(got) == !!signbit(want);
#if defined(__FLT16_MAX__)
        _Float16 hv;
        uint16_t hb = (uint16_t)h;
        memcpy(&hv, &hb, 2);
        float viaf = (float)hv;
        ok = ok && (isnan(want) ? isnan(viaf) : bf(viaf) == bf(got));
#endif
        bad += !ok;
    }
    CHECK_MSG(bad == 0, "f16->f32: %ld of 65536 wrong", bad);

    /* bf16 -> f32: the bits move up 16 places, for all 65536 */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++)
        bad += bf(gq_bf16_to_f32((uint16_t)h)) != h << 16;
    CHECK_MSG(bad == 0, "bf16->f32: %ld wrong", bad);

    /* f16 and bf16 -> f32 -> back is the identity for every non-NaN code */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) != 0x7c00 || !(h & 0x3ff))
            bad += gq_f32_to_f16(gq_f16_to_f32((uint16_t)h)) != h;
        if ((h & 0x7f80) != 0x7f80 || !(h & 0x7f))
            bad += gq_f32_to_bf16(gq_bf16_to_f32((uint16_t)h)) != h;
    }
    CHECK_MSG(bad == 0, "16-bit round trips: %ld wrong", bad);

    const char *ex = getenv("GQ_EXHAUSTIVE");
    if (ex && *ex == '1') {
        uint32_t x = 0;
        do {
            check_f16(x);
            check_bf16(x);
        } while (++x != 0);
    } else {
        /* f16: the kept bits are the top 19 (sign, exponent, 10 mantissa
         * bits); for subnormal results the rounding point moves up into
         * those, which the enumeration covers. The 13 dropped bits: */
        static const uint32_t tails13[] = {0, 1, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x0800, 0x17ff};
        for (uint32_t top = 0; top < (1u << 19); top++)
            for (size_t t = 0; t < sizeof tails13 / sizeof tails13[0] + 2; t++) {
                uint32_t tail = t < 8 ? tails13[t] : rnd32() & 0x1fff;
                check_f16(top << 13 | tail);
            }
        static const uint32_t tails16[] = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4000, 0xc000};
        for (uint32_t top = 0; top < (1u << 16); top++)
            for (size_t t = 0; t < sizeof tails16 / sizeof tails16[0] + 4; t++) {
                uint32_t tail = t < 8 ? tails16[t] : rnd32() & 0xffff;
                check_bf16(top << 16 | tail);
            }
        for (int i = 0; i < 4000000; i++) {
            uint32_t x = rnd32();
            check_f16(x);
            check_bf16(x);
        }
    }
    CHECK_MSG(f16_bad == 0, "f32->f16: %ld wrong", f16_bad);
    CHECK_MSG(bf16_bad == 0, "f32->bf16: %ld wrong", bf16_bad);

    /* named edge cases, so a failure says which rule broke */
    CHECK(gq_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(gq_f32_to_f16(65519.99f) == 0x7bff);
    CHECK(gq_f32_to_f16(65520.0f) == 0x7c00);                 /* tie goes to even: inf */
    CHECK(gq_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK(gq_f32_to_f16(ldexpf(1, -24)) == 0x0001);           /* smallest subnormal */
    CHECK(gq_f32_to_f16(ldexpf(1, -25)) == 0x0000);           /* tie to even: zero */
    CHECK(gq_f32_to_f16(ldexpf(3, -26)) == 0x0001);           /* 0.75 ulp: up */
    CHECK(gq_f32_to_f16(ldexpf(3, -25)) == 0x0002);           /* 1.5 ulp: tie to even 2 */
    CHECK(gq_f32_to_f16(-0.0f) == 0x8000);
    CHECK(gq_f32_to_f16(1.0f + ldexpf(1, -11)) == 0x3c00);    /* halfway: stays even */
    CHECK(gq_f32_to_f16(1.0f + ldexpf(3, -11)) == 0x3c02);    /* halfway: rounds to even */
    CHECK(gq_f32_to_bf16(fb(0x3f808000)) == 0x3f80);          /* tie, even below */
    CHECK(gq_f32_to_bf16(fb(0x3f818000)) == 0x3f82);          /* tie, even above */
    CHECK(gq_f32_to_bf16(fb(0x7f7fffff)) == 0x7f80);          /* FLT_MAX rounds to inf */
    CHECK(gq_f32_to_bf16(fb(0x00000001)) == 0x0000);          /* tiny subnormal */
    CHECK((gq_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0);
    CHECK((gq_f32_to_bf16(fb(0x7f800001)) & 0x7f) != 0);      /* sNaN with low payload stays NaN */
    CHECK(isnan(gq_f16_to_f32(gq_f32_to_f16(fb(0x7f800001)))));
    return check_done("test_quant_scalar");
}

/* q8.c - Q8_32 blocks (ggml's Q8_0: f16 d, 32 x int8, value = q * d).
 *
 * The encoder is lossless whenever it can be: if every value of a block is
 * an integer multiple of one power of two 2^p with |x| / 2^p <= 127 and 2^p
 * is an f16 (2^-24 .. 2^15, subnormals included), d = 2^p reproduces the
 * block exactly. An MXFP4 block (K * 2^(e-128), K integer, |K| <= 12) is such
 * a block for every scale byte 104 <= e <= 146, and for more when its K share
 * factors of two. Other blocks get the usual d = amax / 127.
 */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

enum { Q8_BYTES = GQ_Q8_32_BLOCK_BYTES, Q8_VALUES = GQ_BLOCK_VALUES, Q8_QS = GQ_Q8_32_QS_OFFSET };

void gq__q8_decode(const void *blocks, float *out, size_t n)
{
    const uint8_t *p = blocks;
    for (size_t b = 0; b < n / Q8_VALUES; b++, p += Q8_BYTES, out += Q8_VALUES) {
        float d = gq_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
        const int8_t *q = (const int8_t *)(p + Q8_QS);
        for (int j = 0; j < Q8_VALUES; j++)
            out[j] = (float)q[j] * d;
    }
}

/* Exponent of the lowest set bit of a finite nonzero float: x = odd * 2^r.
 * Returns r (between -149 and 104). */
static int low_bit_exponent(uint32_t ax)
{
    uint32_t e = ax >> 23, m = ax & 0x7fffffu;
    int base;
    if (e == 0) {
        base = -149;                  /* subnormal: m * 2^-149 */
    } else {
        m |= 0x800000u;
        base = (int)e - 150;
    }
#if defined(__GNUC__) || defined(__clang__)
    return base + __builtin_ctz(m);
#else
    int tz = 0;
    while (!(m & 1u)) {
        m >>= 1;
        tz++;
    }
    return base + tz;
#endif
}

/* Try the exact power-of-two scale. Returns 1 and fills d/q if it exists. */
static int encode_exact(const float *x, uint16_t *d, int8_t *q)
{
    int pmax = 15;                    /* largest power of two an f16 holds */
    uint32_t amax_bits = 0;
    for (int j = 0; j < Q8_VALUES; j++) {
        uint32_t u;
        memcpy(&u, &x[j], sizeof u);
        uint32_t ax = u & 0x7fffffffu;
        if (ax >= 0x7f800000u)
            return 0;                 /* inf / NaN cannot be a multiple */
        if (ax == 0)
            continue;
        int r = low_bit_exponent(ax);
        if (r < pmax)
            pmax = r;
        if (ax > amax_bits)
            amax_bits = ax;
    }
    if (amax_bits == 0) {             /* all zero: d = 0 is exact */
        *d = 0;
        memset(q, 0, Q8_VALUES);
        return 1;
    }
    /* The largest usable p gives the smallest integers; if even that makes
     * |x| / 2^p exceed 127, no smaller p can work either. */
    int p = pmax;
    if (p < -24)
        return 0;
    float amax;
    memcpy(&amax, &amax_bits, sizeof amax);
    if (ldexp((double)amax, -p) > 127.0)
        return 0;
    *d = gq_f32_to_f16((float)ldexp(1.0, p));
    for (int j = 0; j < Q8_VALUES; j++)
        q[j] = (int8_t)ldexp((double)x[j], -p);   /* an integer, exactly */
    return 1;
}

static void encode_rounded(const float *x, uint16_t *d, int8_t *q)
{
    float amax = 0.0f;
    for (int j = 0; j < Q8_VALUES; j++) {
        float a = fabsf(x[j]);
        if (a > amax)                 /* NaN never compares greater */
            amax = a;
    }
    uint16_t dh = gq_f32_to_f16(amax / 127.0f);
    if ((dh & 0x7fffu) >= 0x7c00u)
        dh = 0x7bffu;                 /* saturate: keep the block finite */
    float df = gq_f16_to_f32(dh);
    *d = dh;
    for (int j = 0; j < Q8_VALUES; j++) {
        /* divide by the stored (rounded) d so each q is the nearest for the
         * scale the decoder will actually use */
        float v = df > 0.0f ? x[j] / df : 0.0f;
        v = v != v ? 0.0f : v;
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        q[j] = (int8_t)lrintf(v);
    }
}

void gq__q8_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    uint8_t *p = blocks;
    float dec[Q8_VALUES];
    for (size_t b = 0; b < n / Q8_VALUES; b++, p += Q8_BYTES, in += Q8_VALUES) {
        uint16_t d;
        int8_t q[Q8_VALUES];
        if (!encode_exact(in, &d, q))
            encode_rounded(in, &d, q);
        p[0] = (uint8_t)d;
        p[1] = (uint8_t)(d >> 8);
        memcpy(p + Q8_QS, q, Q8_VALUES);
        if (stats) {
            gq__q8_decode(p, dec, Q8_VALUES);
            gq__stats_add(stats, in, dec, Q8_VALUES, 1);
        }
    }
}

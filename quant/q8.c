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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if !defined(__SSE2__)
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
#endif

/* Whether 2^p, p the exponent of the lowest set bit over the block, can
 * scale it: the largest usable p gives the smallest integers, so if even
 * that makes |x| / 2^p exceed 127 (or 2^p is below the f16 subnormals), no
 * smaller p can work either. */
static int pow2_scale_fits(uint32_t amax_bits, int p)
{
    if (p < -24)
        return 0;
    float amax;
    memcpy(&amax, &amax_bits, sizeof amax);
    return ldexp((double)amax, -p) <= 127.0;
}

#if defined(__SSE2__)
/* 32 int32 (each within -127..127) as int8. */
static inline void store_q(int8_t *q, const __m128i r[8])
{
    for (int i = 0; i < 8; i += 4) {
        __m128i a = _mm_packs_epi32(r[i], r[i + 1]), b = _mm_packs_epi32(r[i + 2], r[i + 3]);
        _mm_storeu_si128((__m128i *)(q + 4 * i), _mm_packs_epi16(a, b));
    }
}

/* Signed 32-bit min/max in SSE2 (pminsd/pmaxsd are SSE4.1). */
static inline __m128i min_epi32(__m128i a, __m128i b)
{
    __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, b), _mm_andnot_si128(gt, a));
}
static inline __m128i max_epi32(__m128i a, __m128i b)
{
    __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}
static inline int hmin_epi32(__m128i v)
{
    v = min_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = min_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}
static inline int hmax_epi32(__m128i v)
{
    v = max_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = max_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}

/* encode_exact below, four values at a time and without a branch per
 * value. The exponent of a value's lowest set bit: with m its significand
 * (implicit bit included for normal numbers) and lsb = m & -m (a power of
 * two, so exact as a float), r = max(e, 1) - 150 + log2(lsb), log2 read off
 * the float's exponent field. Then q = x * 2^-p, exact because x is an
 * integer of at most 7 bits times 2^p and 2^-p (2^-15 .. 2^24) is a float. */
static int encode_exact_sse2(const float *x, uint16_t *d, int8_t *q)
{
    const __m128i absm = _mm_set1_epi32(0x7fffffff), inf = _mm_set1_epi32(0x7f800000);
    const __m128i mant = _mm_set1_epi32(0x7fffff), impl = _mm_set1_epi32(0x800000), one = _mm_set1_epi32(1);
    __m128i bad = _mm_setzero_si128(), amax = _mm_setzero_si128(), rmin = _mm_set1_epi32(15);
    for (int i = 0; i < Q8_VALUES; i += 4) {
        __m128i ax = _mm_and_si128(_mm_loadu_si128((const __m128i *)(x + i)), absm);
        bad = _mm_or_si128(bad, _mm_cmpgt_epi32(ax, _mm_sub_epi32(inf, one))); /* inf / NaN */
        amax = max_epi32(amax, ax);
        __m128i e = _mm_srli_epi32(ax, 23);
        __m128i normal = _mm_cmpgt_epi32(e, _mm_setzero_si128());
        __m128i m = _mm_or_si128(_mm_and_si128(ax, mant), _mm_and_si128(normal, impl));
        __m128i lsb = _mm_and_si128(m, _mm_sub_epi32(_mm_setzero_si128(), m));
        __m128i lg = _mm_sub_epi32(_mm_srli_epi32(_mm_castps_si128(_mm_cvtepi32_ps(lsb)), 23), _mm_set1_epi32(127));
        __m128i r = _mm_add_epi32(_mm_sub_epi32(max_epi32(e, one), _mm_set1_epi32(150)), lg);
        __m128i zero = _mm_cmpeq_epi32(ax, _mm_setzero_si128()); /* zeros say nothing */
        rmin = min_epi32(rmin, _mm_or_si128(_mm_and_si128(zero, _mm_set1_epi32(15)), _mm_andnot_si128(zero, r)));
    }
    if (_mm_movemask_epi8(bad))
        return 0;
    int amax_bits = hmax_epi32(amax);
    if (amax_bits == 0) {             /* all zero: d = 0 is exact */
        *d = 0;
        memset(q, 0, Q8_VALUES);
        return 1;
    }
    int p = hmin_epi32(rmin);
    if (!pow2_scale_fits((uint32_t)amax_bits, p))
        return 0;
    *d = p >= -14 ? (uint16_t)((p + 15) << 10) : (uint16_t)(1u << (p + 24)); /* the f16 2^p */
    const __m128 k = _mm_castsi128_ps(_mm_set1_epi32((127 - p) << 23));  /* 2^-p */
    __m128i r[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + 4 * i), k));
    store_q(q, r);
    return 1;
}
#endif

/* Try the exact power-of-two scale. Returns 1 and fills d/q if it exists. */
static int encode_exact(const float *x, uint16_t *d, int8_t *q)
{
#if defined(__SSE2__)
    return encode_exact_sse2(x, d, q);
#else
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
    int p = pmax;
    if (!pow2_scale_fits(amax_bits, p))
        return 0;
    *d = gq_f32_to_f16((float)ldexp(1.0, p));
    for (int j = 0; j < Q8_VALUES; j++)
        q[j] = (int8_t)ldexp((double)x[j], -p);   /* an integer, exactly */
    return 1;
#endif
}

#if defined(__SSE2__)
/* encode_rounded below, four values at a time: the same IEEE operations on
 * each value (division by the stored d, the NaN and clamp rules, rounding
 * to nearest even: cvtps2dq in the default rounding mode is lrintf), so the
 * same bytes; only the maximum is taken in another order, which cannot
 * change it. The scalar form called lrintf through the PLT 32 times a block
 * and divided one value at a time (q8 took 144 CPU seconds of a 20b
 * conversion, issue 16). */
static void encode_rounded_sse2(const float *x, uint16_t *d, int8_t *q)
{
    const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    __m128 v[8], m = _mm_setzero_ps();
    for (int i = 0; i < 8; i++) {
        v[i] = _mm_loadu_ps(x + 4 * i);
        m = _mm_max_ps(_mm_and_ps(v[i], absmask), m); /* a NaN lane keeps m (max_ps returns its 2nd operand) */
    }
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    float amax = _mm_cvtss_f32(m);
    uint16_t dh = gq_f32_to_f16(amax / 127.0f);
    if ((dh & 0x7fffu) >= 0x7c00u)
        dh = 0x7bffu;
    float df = gq_f16_to_f32(dh);
    *d = dh;
    if (!(df > 0.0f)) {
        memset(q, 0, Q8_VALUES);
        return;
    }
    const __m128 vd = _mm_set1_ps(df), hi = _mm_set1_ps(127.0f), lo = _mm_set1_ps(-127.0f);
    __m128i r[8];
    for (int i = 0; i < 8; i++) {
        __m128 t = _mm_div_ps(v[i], vd);
        t = _mm_and_ps(t, _mm_cmpord_ps(t, t)); /* NaN -> 0 */
        t = _mm_min_ps(_mm_max_ps(t, lo), hi);
        r[i] = _mm_cvtps_epi32(t);
    }
    store_q(q, r);
}
#endif

static void encode_rounded(const float *x, uint16_t *d, int8_t *q)
{
#if defined(__SSE2__)
    encode_rounded_sse2(x, d, q);
#else
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
#endif
}

void gq__q8_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    gq__q8_encode_isa(gq__isa(), in, blocks, n, stats);
}

/* one block, the portable rule */
static void encode_block(const float *in, uint8_t *p)
{
    uint16_t d;
    int8_t q[Q8_VALUES];
    if (!encode_exact(in, &d, q))
        encode_rounded(in, &d, q);
    p[0] = (uint8_t)d;
    p[1] = (uint8_t)(d >> 8);
    memcpy(p + Q8_QS, q, Q8_VALUES);
}

void gq__q8_encode_isa(int isa, const float *in, void *blocks, size_t n, gq_stats *stats)
{
    gq__encode_blocks(isa, in, blocks, n / Q8_VALUES, Q8_BYTES, gq__q8_encode16_avx512, gq__q8_encode8_avx2,
                      encode_block, gq__q8_decode, stats);
}

/* mxfp4.c - MXFP4 blocks: decode, encode from floats, and the re-layout of
 * Hugging Face / OpenAI MXFP4 storage into our (= ggml's) block.
 *
 * Value j of a block is K[code_j] * 2^(e-128) with K the FP4 values doubled
 * (integers, |K| <= 12). Multiplying an integer of at most 4 bits by a power
 * of two is exact in f32 for every e (2^-128 * K is a representable
 * subnormal), so the decode below is bit-exact; only e = 255 with |K| >= 2
 * overflows, to +-inf, which is what exact arithmetic rounded to f32 gives.
 */
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MX_AVX512 1
#endif

#include "quant_internal.h"

const float gq_fp4_values[16] = {
    0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
    -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
};

/* doubled FP4 values; code 8 (-0) decodes to +0 as in ggml */
const float gq_mxfp4_kvalues[16] = {GQ_MXFP4_KVALUES};

enum { MX_BYTES = GQ_MXFP4_BLOCK_BYTES, MX_VALUES = GQ_BLOCK_VALUES, MX_QS = GQ_MXFP4_QS_OFFSET };

void gq__mxfp4_decode(const void *blocks, float *out, size_t n)
{
    const uint8_t *p = blocks;
    for (size_t b = 0; b < n / MX_VALUES; b++, p += MX_BYTES, out += MX_VALUES) {
        float s = gq_e8m0_half(p[GQ_MXFP4_SCALE_OFFSET]);
        for (int j = 0; j < 16; j++) {
            out[j] = gq_mxfp4_kvalues[p[MX_QS + j] & 15] * s;
            out[j + 16] = gq_mxfp4_kvalues[p[MX_QS + j] >> 4] * s;
        }
    }
}

/* Nearest FP4 code for a magnitude v given in units of the block scale
 * (so v is compared with the doubled grid 0,1,2,3,4,6,8,12). Midpoints go
 * to the neighbour with the even code; beyond 12 saturates. */
static int fp4_code(double v)
{
    static const double mid[7] = {0.5, 1.5, 2.5, 3.5, 5.0, 7.0, 10.0};
    int c = 0;
    for (int i = 0; i < 7; i++)
        /* above midpoint i the upper neighbour is code i+1, taken on a tie
         * only when i+1 is even */
        c += v > mid[i] || (v == mid[i] && (i & 1));
    return c;
}

void gq__mxfp4_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    uint8_t *p = blocks;
    float dec[MX_VALUES];
    for (size_t b = 0; b < n / MX_VALUES; b++, p += MX_BYTES, in += MX_VALUES) {
        /* The smallest scale byte whose range (12 * 2^(e-128)) holds the
         * largest finite magnitude; infinities saturate at e = 254 and NaN
         * encodes as 0 (MXFP4 has no NaN code that ggml decodes). */
        double amax = 0.0;
        for (int j = 0; j < MX_VALUES; j++) {
            double a = fabs((double)in[j]);
            if (a > amax && !isnan(a))
                amax = a;
        }
        int e = 0;
        if (amax > 0.0) {
            /* estimate from the exponent, then settle exactly */
            int ex;
            frexp(amax / 12.0, &ex);
            e = ex + 128;
            e = e < 0 ? 0 : e > 254 ? 254 : e;
            while (e > 0 && amax <= ldexp(12.0, e - 1 - 128))
                e--;
            while (e < 254 && amax > ldexp(12.0, e - 128))
                e++;
        }
        double inv = ldexp(1.0, 128 - e);     /* exact in double */
        uint8_t codes[MX_VALUES];
        for (int j = 0; j < MX_VALUES; j++) {
            float x = in[j];
            int c = isnan(x) ? 0 : fp4_code(fabs((double)x) * inv);
            if (c && signbit(x))
                c |= 8;
            codes[j] = (uint8_t)c;
        }
        p[GQ_MXFP4_SCALE_OFFSET] = (uint8_t)e;
        for (int j = 0; j < 16; j++)
            p[MX_QS + j] = (uint8_t)(codes[j] | (codes[j + 16] << 4));
        if (stats) {
            gq__mxfp4_decode(p, dec, MX_VALUES);
            gq__stats_add(stats, in, dec, MX_VALUES, 1);
        }
    }
}

/* HF: byte k = elements 2k (low) and 2k+1 (high). Ours: byte j = elements j
 * (low) and j+16 (high). So our byte 2m takes the low nibbles of HF bytes m
 * and 8+m, our byte 2m+1 their high nibbles. The scale byte carries over
 * unchanged because our K are the doubled FP4 values: K * 2^(e-128) =
 * FP4 * 2^(e-127). This is the whole work of an mxfp4 conversion's experts
 * (12 of its 13.8 GB on 20b), so it is written to be a handful of
 * instructions per block: the nibble-per-element version it replaced took
 * 57 % of such a conversion's CPU time (issue 16). */
static inline void from_hf_block(const uint8_t *c, uint8_t scale, uint8_t *o)
{
    o[GQ_MXFP4_SCALE_OFFSET] = scale;
    for (int m = 0; m < 8; m++) {
        uint8_t a = c[m], b = c[8 + m];
        o[MX_QS + 2 * m] = (uint8_t)((a & 15) | (b << 4));
        o[MX_QS + 2 * m + 1] = (uint8_t)((a >> 4) | (b & 0xF0));
    }
}

void gq_mxfp4_from_hf(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out_blocks)
{
    uint8_t *o = out_blocks;
    size_t b = 0;
#if defined(__SSE2__)
    /* two blocks per step (SSE2 is in every x86-64): A = HF bytes 0..7 of
     * both, B = bytes 8..15; lo = A&15 | B<<4, hi = A>>4 | B&0xF0; then the
     * bytes of lo and hi interleave into our order. */
    const __m128i m4 = _mm_set1_epi8(15);
    for (; b + 2 <= nblocks; b += 2, codes += 32, o += 2 * MX_BYTES) {
        __m128i c0 = _mm_loadu_si128((const __m128i *)codes), c1 = _mm_loadu_si128((const __m128i *)(codes + 16));
        __m128i A = _mm_unpacklo_epi64(c0, c1), B = _mm_unpackhi_epi64(c0, c1);
        __m128i lo = _mm_or_si128(_mm_and_si128(A, m4), _mm_slli_epi16(_mm_and_si128(B, m4), 4));
        __m128i hi = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(A, 4), m4), _mm_andnot_si128(m4, B));
        o[GQ_MXFP4_SCALE_OFFSET] = scales[b];
        o[MX_BYTES + GQ_MXFP4_SCALE_OFFSET] = scales[b + 1];
        _mm_storeu_si128((__m128i *)(o + MX_QS), _mm_unpacklo_epi8(lo, hi));
        _mm_storeu_si128((__m128i *)(o + MX_BYTES + MX_QS), _mm_unpackhi_epi8(lo, hi));
    }
#endif
    for (; b < nblocks; b++, codes += 16, o += MX_BYTES)
        from_hf_block(codes, scales[b], o);
}

#if MX_AVX512
/* One block per step: the 16 code bytes widened to 16 lanes, both nibbles
 * looked up in the 16-entry K table (one permute each), times the scale --
 * the same f32 product as the loop below -- and interleaved into HF order
 * (low nibble first). */
__attribute__((target("avx512f"))) static void hf_decode_avx512(const uint8_t *codes, const uint8_t *scales,
                                                                size_t nblocks, float *out)
{
    const __m512 k = _mm512_loadu_ps(gq_mxfp4_kvalues);
    const __m512i m4 = _mm512_set1_epi32(15);
    const __m512i even = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i odd = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (size_t b = 0; b < nblocks; b++, codes += 16, out += 32) {
        __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)codes));
        __m512 s = _mm512_set1_ps(gq_e8m0_half_table[scales[b]]);
        __m512 lo = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_and_si512(c, m4), k), s);
        __m512 hi = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(c, 4), k), s);
        _mm512_storeu_ps(out, _mm512_permutex2var_ps(lo, even, hi));
        _mm512_storeu_ps(out + 16, _mm512_permutex2var_ps(lo, odd, hi));
    }
}
#endif

void gq_mxfp4_hf_decode(const uint8_t *codes, const uint8_t *scales, size_t nblocks, float *out)
{
    /* The converter's hot path for MXFP4 -> q8/q4 experts: same exact
     * integer-times-power-of-two product as gq__mxfp4_decode, in HF order.
     * The tests check it against ldexp of the E2M1 bit fields. */
#if MX_AVX512
    if (gq__isa() >= GQ_ISA_AVX512) {
        hf_decode_avx512(codes, scales, nblocks, out);
        return;
    }
#endif
    for (size_t b = 0; b < nblocks; b++, codes += 16, out += 32) {
        float s = gq_e8m0_half(scales[b]);
        for (int k = 0; k < 16; k++) {
            out[2 * k] = gq_mxfp4_kvalues[codes[k] & 15] * s;
            out[2 * k + 1] = gq_mxfp4_kvalues[codes[k] >> 4] * s;
        }
    }
}

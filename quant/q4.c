/* q4.c - Q4_32 blocks (ggml's Q4_0 layout: f16 d, 32 x 4-bit q, value =
 * (q - 8) * d) with a scale chosen to minimize the squared error.
 *
 * llama.cpp's reference rule maps the value of largest magnitude to -8
 * (d = max / -8) and ignores the rest of the block. We instead:
 *   1. try a fixed set of inverse scales id = k / m (m the signed value of
 *      largest magnitude, k near -8: see kgrid), rounding every value to its nearest
 *      level. For each resulting level assignment q the best scale is the
 *      least-squares d = sum(xq) / sum(qq), with error sum(xx) -
 *      sum(xq)^2 / sum(qq): keep the assignment with the smallest error;
 *   2. round that d to f16 (the decoder only sees the f16), re-round every
 *      value to its nearest level for it, and take one more least-squares
 *      step if it helps;
 *   3. compare the actual error (with the f16 d) against the reference
 *      rule's f16 scale with nearest rounding, and keep the better. So the
 *      error is never above the Q4_0 rule's, block by block.
 * The arithmetic is f32 in a fixed order on 4-wide vectors (GCC/Clang
 * vector extensions, so SSE2 and NEON alike), FP contraction off: the bytes
 * are the same on every machine and for every thread count. Where the CPU
 * has AVX2, step 1 (over half of the work) runs on 8 blocks at once,
 * one block per lane, with each lane doing search_block's operations in
 * search_block's order (search8): the same bytes, about 1.5x the speed
 * (tests/quant/test_quant_blocks.c: test_q4_grouping).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define Q4_AVX2 1      /* step 1 across 8 blocks at once, chosen at run time */
#endif
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { Q4_BYTES = GQ_Q4_32_BLOCK_BYTES, Q4_VALUES = GQ_BLOCK_VALUES, Q4_QS = GQ_Q4_32_QS_OFFSET, NV = Q4_VALUES / 4 };

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

void gq__q4_decode(const void *blocks, float *out, size_t n)
{
    const uint8_t *p = blocks;
    for (size_t b = 0; b < n / Q4_VALUES; b++, p += Q4_BYTES, out += Q4_VALUES) {
        float d = gq_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
        for (int j = 0; j < 16; j++) {
            out[j] = (float)((p[Q4_QS + j] & 15) - GQ_Q4_32_ZERO) * d;
            out[j + 16] = (float)((p[Q4_QS + j] >> 4) - GQ_Q4_32_ZERO) * d;
        }
    }
}

static inline v4f splat(float f) { return (v4f){f, f, f, f}; }

/* Per-lane min / max. Only ever called with finite values and a nonzero
 * bound, where SSE's minps, NEON's fmin and the mask form all agree. */
#if defined(__SSE2__)
static inline v4f vmin(v4f a, v4f b) { return (v4f)_mm_min_ps((__m128)a, (__m128)b); }
static inline v4f vmax(v4f a, v4f b) { return (v4f)_mm_max_ps((__m128)a, (__m128)b); }
#elif defined(__ARM_NEON)
static inline v4f vmin(v4f a, v4f b) { return (v4f)vminq_f32((float32x4_t)a, (float32x4_t)b); }
static inline v4f vmax(v4f a, v4f b) { return (v4f)vmaxq_f32((float32x4_t)a, (float32x4_t)b); }
#else
static inline v4f vmin(v4f a, v4f b)
{
    v4i m = a < b;                    /* C has no vector ?: */
    return (v4f)((m & (v4i)a) | (~m & (v4i)b));
}
static inline v4f vmax(v4f a, v4f b)
{
    v4i m = a > b;
    return (v4f)((m & (v4i)a) | (~m & (v4i)b));
}
#endif

/* Nearest level in -8..7 for t (ties to even): clamp, then add and remove
 * 1.5 * 2^23, which leaves exactly the rounded integer. */
static inline v4f level(v4f t)
{
    const v4f magic = splat(12582912.0f);
    t = vmax(vmin(t, splat(7.0f)), splat(-8.0f));
    return (t + magic) - magic;
}

static inline float hsum(v4f v)
{
    return (v[0] + v[1]) + (v[2] + v[3]);
}

/* sum(xq) and sum(qq) for the level assignments of two inverse scales at
 * once (independent chains, so the adds of one hide the latency of the
 * other's). */
static inline void assign2(const v4f *x, float id0, float id1, float out[4])
{
    v4f a0 = splat(0.0f), b0 = splat(0.0f), a1 = splat(0.0f), b1 = splat(0.0f);
    v4f v0 = splat(id0), v1 = splat(id1);
    for (int i = 0; i < NV; i++) {
        v4f q0 = level(x[i] * v0), q1 = level(x[i] * v1);
        a0 += x[i] * q0;
        b0 += q0 * q0;
        a1 += x[i] * q1;
        b1 += q1 * q1;
    }
    out[0] = hsum(a0);
    out[1] = hsum(b0);
    out[2] = hsum(a1);
    out[3] = hsum(b1);
}

/* Squared error of decoding with scale d (nonzero, finite), each value at
 * its nearest level (through the f32 reciprocal: off from the true nearest
 * level only where x/d is within an ulp of a midpoint, where both levels
 * have the same error to within rounding). */
static float error_for(const v4f *x, float d, v4f *q)
{
    v4f err = splat(0.0f), vd = splat(d), vid = splat(1.0f / d);
    for (int i = 0; i < NV; i++) {
        q[i] = level(x[i] * vid);
        v4f e = x[i] - q[i] * vd;
        err += e * e;
    }
    return hsum(err);
}

/* k: the extreme value m goes to k units of d. Measured on gaussian and
 * on MXFP4-derived blocks against a dense brute-force search of f16 scales:
 * the winners sit on the -8 side, from just inside (-6.5: MXFP4 blocks,
 * whose 12:8:6 ratios fit levels 6:4:3) to beyond it (-9: m clamps to -8
 * and the rest of the block gets finer steps). With these six the RMSE is
 * within 0.5% of the brute force at about 5x fewer candidates. */
static const float kgrid[] = {-9.0f, -8.5f, -8.0f, -7.5f, -7.0f, -6.5f};
#define NK ((int)(sizeof kgrid / sizeof kgrid[0]))
_Static_assert(NK % 2 == 0, "assign2 takes candidates in pairs");

static int usable(uint16_t h)
{
    return (h & 0x7fffu) != 0 && (h & 0x7fffu) < 0x7c00u;
}

/* The block's first value of largest magnitude (m) and whether the search
 * applies (finite, not negligible); *finite says whether any inf / NaN is in
 * the block. */
static int block_head(const float *in, const v4f *x, float *m_out, int *finite_out)
{
    /* amax over the block on vectors (|x| by clearing the sign bit; a NaN
     * or inf shows up as an exponent of all ones), then m = the first value
     * of that magnitude, as the reference rule picks it */
    const v4i absmask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    v4i vmaxbits = {0, 0, 0, 0};
    for (int i = 0; i < NV; i++) {
        v4i a = (v4i)x[i] & absmask;
        v4i gt = a > vmaxbits;                    /* as integers: orders |x|, NaN above inf */
        vmaxbits = (gt & a) | (~gt & vmaxbits);
    }
    int32_t mb = vmaxbits[0];
    for (int l = 1; l < 4; l++)
        mb = vmaxbits[l] > mb ? vmaxbits[l] : mb;
    int finite = mb < 0x7f800000;
    float amax, m = 0.0f;
    memcpy(&amax, &mb, sizeof amax);
    if (finite)
        for (int j = 0; j < Q4_VALUES; j++)
            if (fabsf(in[j]) == amax) {
                m = in[j];
                break;
            }
    *m_out = m;
    *finite_out = finite;
    /* Below 2^-60 every value rounds to level 0 for any d an f16 can hold
     * (>= 2^-24), and 1/m could overflow: store the zero block. */
    return amax > 0x1p-60f && finite;
}

/* Step 1: search level assignments. Gains sxq^2/sqq are compared by
 * cross-multiplying (no division in the loop). */
static void search_block(const v4f *x, float m, float *best_xq_out, float *best_qq_out)
{
    float im = 1.0f / m;
    float best_xq = 0.0f, best_qq = 0.0f;
    for (int i = 0; i < NK; i += 2) {
        float r[4];
        assign2(x, kgrid[i] * im, kgrid[i + 1] * im, r);
        for (int c = 0; c < 4; c += 2) {
            float sxq = r[c], sqq = r[c + 1];
            if (sqq > 0.0f && (best_qq == 0.0f || sxq * sxq * best_qq > best_xq * best_xq * sqq)) {
                best_xq = sxq;
                best_qq = sqq;
            }
        }
    }
    *best_xq_out = best_xq;
    *best_qq_out = best_qq;
}

/* Steps 2 and 3 and the packing, given step 1's result when `search` is set
 * (block_head's verdict). */
static void finish_block(const float *in, const v4f *x, int search, float m, int finite, float best_xq,
                         float best_qq, uint8_t *out)
{
    v4f q[NV], qb[NV];
    uint16_t dh = 0;
    memset(q, 0, sizeof q);
    if (search) {
        float best_d = best_qq > 0.0f ? best_xq / best_qq : 0.0f;
        /* 2: f16 scale, nearest levels, one more least-squares step */
        float best = INFINITY;
        int have = 0;                             /* a usable scale is in dh / q */
        uint16_t ha = gq_f32_to_f16(best_d);
        if (usable(ha)) {
            have = 1;
            best = error_for(x, gq_f16_to_f32(ha), q);
            dh = ha;
            v4f a = splat(0.0f), b = splat(0.0f);
            for (int i = 0; i < NV; i++) {
                a += x[i] * q[i];
                b += q[i] * q[i];
            }
            float sqq = hsum(b);
            uint16_t hb = sqq > 0.0f ? gq_f32_to_f16(hsum(a) / sqq) : 0;
            if (hb != ha && usable(hb)) {
                float e = error_for(x, gq_f16_to_f32(hb), qb);
                if (e < best) {
                    best = e;
                    dh = hb;
                    memcpy(q, qb, sizeof q);
                }
            }
        }
        /* 3: never worse than the reference rule's scale */
        uint16_t hr = gq_f32_to_f16(m / -8.0f);
        if ((hr & 0x7fffu) >= 0x7c00u)
            hr = (uint16_t)((hr & 0x8000u) | 0x7bffu);   /* huge block: saturate */
        if (usable(hr)) {
            float e = error_for(x, gq_f16_to_f32(hr), qb);
            if (!have || e < best) {          /* (best may be inf for huge blocks) */
                dh = hr;
                memcpy(q, qb, sizeof q);
            }
        }
        /* else: the whole block is below half the smallest f16 step; all
         * levels 0 (d = 0) is then the best we can store */
    } else if (!finite) {
        /* inf / NaN in the block: keep it finite, largest scale, nearest
         * levels for the finite values (NaN becomes 0) */
        dh = 0x7bffu;
        float d = gq_f16_to_f32(dh);
        float t[Q4_VALUES];
        for (int j = 0; j < Q4_VALUES; j++)
            t[j] = in[j] != in[j] ? 0.0f : in[j] < -8.0f * d ? -8.0f : in[j] > 7.0f * d ? 7.0f : in[j] / d;
        memcpy(qb, t, sizeof qb);
        for (int i = 0; i < NV; i++)
            q[i] = level(qb[i]);
    }
    int32_t lv[Q4_VALUES];
    for (int i = 0; i < NV; i++) {
        v4i li = __builtin_convertvector(q[i], v4i) + 8;
        memcpy(lv + 4 * i, &li, sizeof li);
    }
    out[0] = (uint8_t)dh;
    out[1] = (uint8_t)(dh >> 8);
    for (int j = 0; j < 16; j++)
        out[Q4_QS + j] = (uint8_t)(lv[j] | (lv[j + 16] << 4));
}

static void encode_block(const float *in, uint8_t *out)
{
    v4f x[NV];
    memcpy(x, in, sizeof x);
    float m, best_xq = 0.0f, best_qq = 0.0f;
    int finite;
    int search = block_head(in, x, &m, &finite);
    if (search)
        search_block(x, m, &best_xq, &best_qq);
    finish_block(in, x, search, m, finite, best_xq, best_qq, out);
}

#if Q4_AVX2
/* Step 1 for 8 blocks at once, one block per AVX lane: lane b computes
 * exactly what search_block computes for block b, operation for operation
 * (the four partial sums of search_block's 4-wide vectors become four 8-lane
 * accumulators over the same values in the same order, and are added in the
 * same pairs), so the bytes do not depend on which path ran. VEX-encoded,
 * no FMA (ISO C mode keeps contraction off; see the pragma for clang). */
__attribute__((target("avx2"))) static inline __m256 level8(__m256 t)
{
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    t = _mm256_max_ps(_mm256_min_ps(t, _mm256_set1_ps(7.0f)), _mm256_set1_ps(-8.0f));
    return _mm256_sub_ps(_mm256_add_ps(t, magic), magic);
}

/* rows r[0..7] (8 floats each) -> columns */
__attribute__((target("avx2"))) static inline void transpose8(__m256 r[8])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* in: 8 consecutive blocks; m: their m; lanes whose block does not search
 * compute something harmless (no traps: exceptions are masked) and are
 * ignored by the caller. */
__attribute__((target("avx2"))) static void search8(const float *in, const float *m, float *best_xq_out,
                                                    float *best_qq_out)
{
    __m256 X[Q4_VALUES];                 /* X[j] lane b = value j of block b */
    for (int jb = 0; jb < 4; jb++) {
        __m256 r[8];
        for (int b = 0; b < 8; b++)
            r[b] = _mm256_loadu_ps(in + b * Q4_VALUES + jb * 8);
        transpose8(r);
        for (int k = 0; k < 8; k++)
            X[jb * 8 + k] = r[k];
    }
    const __m256 zero = _mm256_setzero_ps();
    __m256 im = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_loadu_ps(m));
    __m256 best_xq = zero, best_qq = zero;
    for (int c = 0; c < NK; c++) {
        __m256 id = _mm256_mul_ps(_mm256_set1_ps(kgrid[c]), im);
        __m256 a[4] = {zero, zero, zero, zero}, b[4] = {zero, zero, zero, zero};
        for (int i = 0; i < NV; i++)
            for (int l = 0; l < 4; l++) {
                __m256 x = X[4 * i + l];
                __m256 q = level8(_mm256_mul_ps(x, id));
                a[l] = _mm256_add_ps(a[l], _mm256_mul_ps(x, q));
                b[l] = _mm256_add_ps(b[l], _mm256_mul_ps(q, q));
            }
        __m256 sxq = _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]));
        __m256 sqq = _mm256_add_ps(_mm256_add_ps(b[0], b[1]), _mm256_add_ps(b[2], b[3]));
        __m256 gain_new = _mm256_mul_ps(_mm256_mul_ps(sxq, sxq), best_qq);
        __m256 gain_old = _mm256_mul_ps(_mm256_mul_ps(best_xq, best_xq), sqq);
        __m256 take = _mm256_and_ps(_mm256_cmp_ps(sqq, zero, _CMP_GT_OQ),
                                    _mm256_or_ps(_mm256_cmp_ps(best_qq, zero, _CMP_EQ_OQ),
                                                 _mm256_cmp_ps(gain_new, gain_old, _CMP_GT_OQ)));
        best_xq = _mm256_blendv_ps(best_xq, sxq, take);
        best_qq = _mm256_blendv_ps(best_qq, sqq, take);
    }
    _mm256_storeu_ps(best_xq_out, best_xq);
    _mm256_storeu_ps(best_qq_out, best_qq);
}

/* Asked on every call rather than cached in a static (which threads would
 * race on): after the first, __builtin_cpu_init returns at once and the test
 * reads one word, against ~10 us of encoding per 2880-value row. */
static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}

/* 8 blocks: heads and finishes per block, step 1 across them. */
static void encode8(const float *in, uint8_t *out)
{
    v4f x[8][NV];
    float m[8], bxq[8], bqq[8];
    int finite[8], search[8];
    for (int b = 0; b < 8; b++) {
        memcpy(x[b], in + b * Q4_VALUES, sizeof x[b]);
        search[b] = block_head(in + b * Q4_VALUES, x[b], &m[b], &finite[b]);
    }
    search8(in, m, bxq, bqq);
    for (int b = 0; b < 8; b++)
        finish_block(in + b * Q4_VALUES, x[b], search[b], m[b], finite[b], bxq[b], bqq[b],
                     out + b * Q4_BYTES);
}
#endif

void gq__q4_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    uint8_t *p = blocks;
    float dec[Q4_VALUES];
    size_t nb = n / Q4_VALUES, b = 0;
#if Q4_AVX2
    if (nb >= 8 && have_avx2())
        for (; b + 8 <= nb; b += 8, p += 8 * Q4_BYTES, in += 8 * Q4_VALUES) {
            encode8(in, p);
            if (stats)
                for (int k = 0; k < 8; k++) {
                    gq__q4_decode(p + k * Q4_BYTES, dec, Q4_VALUES);
                    gq__stats_add(stats, in + k * Q4_VALUES, dec, Q4_VALUES, 1);
                }
        }
#endif
    for (; b < nb; b++, p += Q4_BYTES, in += Q4_VALUES) {
        encode_block(in, p);
        if (stats) {
            gq__q4_decode(p, dec, Q4_VALUES);
            gq__stats_add(stats, in, dec, Q4_VALUES, 1);
        }
    }
}

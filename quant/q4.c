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
 * are the same on every machine and for every thread count. This file is
 * the rule and the portable path. Where the CPU has AVX-512 or AVX2
 * (gq__isa), lanes_x86.c runs the whole rule on 16 or 8 blocks at once, one
 * block per lane, each lane doing this file's operations in this file's
 * order: the same bytes and statistics (tests/quant/test_quant_blocks.c:
 * test_q4_paths), several times the speed (docs/QUANT.md, Speed).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
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
static const float kgrid[GQ__Q4_NK] = GQ__Q4_KGRID;
#define NK GQ__Q4_NK
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

void gq__q4_encode_isa(int isa, const float *in, void *blocks, size_t n, gq_stats *stats)
{
    gq__encode_blocks(isa, in, blocks, n / Q4_VALUES, Q4_BYTES, gq__q4_encode16_avx512, gq__q4_encode8_avx2,
                      encode_block, gq__q4_decode, stats);
}

void gq__q4_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    gq__q4_encode_isa(gq__isa(), in, blocks, n, stats);
}

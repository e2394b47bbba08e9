/* gk_dot_avx512.c - AVX-512 (F + BW + VL, with F16C/FMA) dot products for
 * x86-64, compiled with target attributes and called only after
 * __builtin_cpu_supports says so (gk_dot.c).
 *
 * Same exact-first arithmetic as the other paths: block values widened to
 * fp32 lanes (MXFP4 codes go straight to their doubled E2M1 value through a
 * 16-entry float permute), fp32 FMA with the activations, one scale multiply
 * per block. Only the fp32 summation order differs. */
#include "gk_dot_impl.h"
#include "gk_prefetch.h"

#ifdef GK_HAVE_X86
#include <immintrin.h>

#define GK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* block geometry from quant_blocks.h, short names for the loops below */
enum {
    BV = GQ_BLOCK_VALUES,
    MXB = GQ_MXFP4_BLOCK_BYTES, MXS = GQ_MXFP4_SCALE_OFFSET, MXQ = GQ_MXFP4_QS_OFFSET,
    Q8B = GQ_Q8_32_BLOCK_BYTES, Q8Q = GQ_Q8_32_QS_OFFSET,
    Q4B = GQ_Q4_32_BLOCK_BYTES, Q4Q = GQ_Q4_32_QS_OFFSET
};

GK_AVX512 static inline float f16c512(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

GK_AVX512 static float gk_dot_f32_avx512(const void *row, const float *x, int64_t n)
{
    const float *w = row;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++)
        s += w[i] * x[i];
    return s;
}

GK_AVX512 static float gk_dotf_avx512(const float *a, const float *b, int64_t n) { return gk_dot_f32_avx512(a, b, n); }

/* 4 rows x 4 tokens: 16 zmm accumulators, 4 row vectors, 1 token vector. */
GK_AVX512 static void gk_tile_avx512(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out,
                              int64_t out_stride, int accumulate)
{
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 4; t++)
            acc[r][t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v0 = _mm512_loadu_ps(w + i), v1 = _mm512_loadu_ps(w + ws + i), v2 = _mm512_loadu_ps(w + 2 * ws + i),
               v3 = _mm512_loadu_ps(w + 3 * ws + i);
        for (int t = 0; t < 4; t++) {
            __m512 xv = _mm512_loadu_ps(x + t * xs + i);
            acc[0][t] = _mm512_fmadd_ps(v0, xv, acc[0][t]);
            acc[1][t] = _mm512_fmadd_ps(v1, xv, acc[1][t]);
            acc[2][t] = _mm512_fmadd_ps(v2, xv, acc[2][t]);
            acc[3][t] = _mm512_fmadd_ps(v3, xv, acc[3][t]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 4; t++) {
            float s = _mm512_reduce_add_ps(acc[r][t]);
            for (int64_t j = i; j < n; j++)
                s += w[r * ws + j] * x[t * xs + j];
            out[t * out_stride + r] = accumulate ? out[t * out_stride + r] + s : s;
        }
}

GK_AVX512 static float gk_dot_bf16_avx512(const void *row, const float *x, int64_t n)
{
    const uint16_t *w = row;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        GK_PREFETCH_AHEAD(w + i);
        __m512i h = _mm512_loadu_si512((const void *)(w + i));
        __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
        __m512 hi = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
        a0 = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + i + 16), a1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++)
        s += gq_bf16_to_f32(w[i]) * x[i];
    return s;
}

/* vpermps reads only the low 4 bits of each index lane, so one byte per
 * dword lane (vpmovzxbd) indexes by its low nibble as is, and by its high
 * nibble after a 4-bit dword shift: 3 shuffles per block instead of 4 (the
 * shuffle port is the bound here), no masks. Two blocks per step, each on
 * its own accumulator. */
GK_AVX512 static float gk_dot_mxfp4_avx512(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    const __m512 lut = _mm512_loadu_ps(gq_mxfp4_kvalues);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 2 * BV <= n; i += 2 * BV, b += 2 * MXB, x += 2 * BV) {
        GK_PREFETCH_AHEAD(b);
        __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + MXQ)));
        __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + MXB + MXQ)));
        __m512 s0 = _mm512_mul_ps(_mm512_permutexvar_ps(v0, lut), _mm512_loadu_ps(x));
        __m512 s1 = _mm512_mul_ps(_mm512_permutexvar_ps(v1, lut), _mm512_loadu_ps(x + BV));
        s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), _mm512_loadu_ps(x + 16), s0);
        s1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), lut), _mm512_loadu_ps(x + BV + 16), s1);
        acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(gq_e8m0_half_table[b[MXS]]), acc0);
        acc1 = _mm512_fmadd_ps(s1, _mm512_set1_ps(gq_e8m0_half_table[b[MXB + MXS]]), acc1);
    }
    if (i < n) {
        __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + MXQ)));
        __m512 s0 = _mm512_mul_ps(_mm512_permutexvar_ps(v0, lut), _mm512_loadu_ps(x));
        s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), lut), _mm512_loadu_ps(x + 16), s0);
        acc0 = _mm512_fmadd_ps(s0, _mm512_set1_ps(gq_e8m0_half_table[b[MXS]]), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* One Q8_32 block: its 32 codes widened to fp32 times the activations, then
 * scaled by d into acc. */
#define GK_Q8_BLOCK(acc, blk, xv, d)                                                                             \
    do {                                                                                                         \
        __m512 w0_ = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)((blk) + Q8Q))));    \
        __m512 w1_ = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)((blk) + Q8Q + 16)))); \
        __m512 bs_ = _mm512_fmadd_ps(w1_, _mm512_loadu_ps((xv) + 16), _mm512_mul_ps(w0_, _mm512_loadu_ps(xv)));  \
        (acc) = _mm512_fmadd_ps(bs_, (d), (acc));                                                                \
    } while (0)

/* Two blocks a step (even ones into acc0, odd ones into acc1: the sums of
 * the one-block loop this replaced, bit for bit), one prefetch per 68 bytes,
 * and the two f16 scales converted by one vcvtph2ps: scalar conversion and
 * broadcast were 4 of the ~11 vector uops a block spent on the two 512-bit
 * ports; this is 23 % less CPU time per byte in L2 (docs/PERFORMANCE.md). */
GK_AVX512 static float gk_dot_q8_32_avx512(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    const __m512i one = _mm512_set1_epi32(1);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 2 * BV <= n; i += 2 * BV, b += 2 * Q8B, x += 2 * BV) {
        GK_PREFETCH_AHEAD(b);
        /* d0 is the low half of the 4 bytes at b, d1 the high half of those at b + Q8B - 2 */
        uint32_t h0, h1;
        memcpy(&h0, b + GQ_Q8_32_D_OFFSET, 4);
        memcpy(&h1, b + Q8B + GQ_Q8_32_D_OFFSET - 2, 4);
        __m512 d = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)((h0 & 0xffffu) | (h1 & 0xffff0000u)))));
        GK_Q8_BLOCK(acc0, b, x, _mm512_broadcastss_ps(_mm512_castps512_ps128(d)));
        GK_Q8_BLOCK(acc1, b + Q8B, x + BV, _mm512_permutexvar_ps(one, d));
    }
    if (i < n)
        GK_Q8_BLOCK(acc0, b, x, _mm512_set1_ps(f16c512(b + GQ_Q8_32_D_OFFSET)));
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

GK_AVX512 static float gk_dot_q4_32_avx512(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    const __m128i m4 = _mm_set1_epi8(15), k8 = _mm_set1_epi8(GQ_Q4_32_ZERO);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += BV, b += Q4B, x += BV) {
        GK_PREFETCH_AHEAD(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + Q4Q));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), k8);
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), k8);
        __m512 bs = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo)), _mm512_loadu_ps(x));
        bs = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi)), _mm512_loadu_ps(x + 16), bs);
        acc = _mm512_fmadd_ps(bs, _mm512_set1_ps(f16c512(b + GQ_Q4_32_D_OFFSET)), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/* Row decoders for prefill (4 rows are decoded once per batch, then tiled). */
GK_AVX512 static void gk_decode_mxfp4_avx512(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    const __m512 lut = _mm512_loadu_ps(gq_mxfp4_kvalues);
    for (int64_t i = 0; i < n; i += BV, b += MXB, out += BV) {
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + MXQ))); /* as in the dot */
        __m512 d = _mm512_set1_ps(gq_e8m0_half_table[b[MXS]]);
        _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_permutexvar_ps(v, lut), d));
        _mm512_storeu_ps(out + 16, _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lut), d));
    }
}

GK_AVX512 static void gk_decode_q8_32_avx512(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    for (int64_t i = 0; i < n; i += BV, b += Q8B, out += BV) {
        __m512 d = _mm512_set1_ps(f16c512(b + GQ_Q8_32_D_OFFSET));
        _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + Q8Q)))), d));
        _mm512_storeu_ps(out + 16,
                         _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + Q8Q + 16)))), d));
    }
}

GK_AVX512 static void gk_decode_q4_32_avx512(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    const __m128i m4 = _mm_set1_epi8(15), k8 = _mm_set1_epi8(GQ_Q4_32_ZERO);
    for (int64_t i = 0; i < n; i += BV, b += Q4B, out += BV) {
        __m128i q = _mm_loadu_si128((const __m128i *)(b + Q4Q));
        __m512 d = _mm512_set1_ps(f16c512(b + GQ_Q4_32_D_OFFSET));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), k8);
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), k8);
        _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo)), d));
        _mm512_storeu_ps(out + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi)), d));
    }
}

GK_AVX512 static void gk_decode_bf16_avx512(const void *row, float *out, int64_t n)
{
    const uint16_t *w = row;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(
                                      _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(w + i))), 16)));
    for (; i < n; i++)
        out[i] = gq_bf16_to_f32(w[i]);
}

const gk_isa_kernels gk_kernels_avx512 = {
    .dot = {[GQ_F32] = gk_dot_f32_avx512, [GQ_BF16] = gk_dot_bf16_avx512, [GQ_MXFP4] = gk_dot_mxfp4_avx512,
            [GQ_Q8_32] = gk_dot_q8_32_avx512, [GQ_Q4_32] = gk_dot_q4_32_avx512},
    .decode = {[GQ_BF16] = gk_decode_bf16_avx512, [GQ_MXFP4] = gk_decode_mxfp4_avx512,
               [GQ_Q8_32] = gk_decode_q8_32_avx512, [GQ_Q4_32] = gk_decode_q4_32_avx512},
    .dotf = gk_dotf_avx512,
    .tile = gk_tile_avx512,
};

#else
typedef int gk_dot_avx512_unused;
#endif

/* gk_dot_avx2.c - AVX2+FMA+F16C dot products for x86-64, compiled with target
 * attributes so the rest of the build stays portable; gk_dot.c only calls
 * them after __builtin_cpu_supports says the CPU has the instructions.
 *
 * Blocks are widened to int32/fp32 lanes in registers (pshufb turns MXFP4
 * codes into the doubled E2M1 integers) and multiplied with fp32
 * activations: exact-first, so the only difference from the scalar path is
 * the order of the fp32 additions. */
#include "gk_dot_impl.h"
#include "gk_prefetch.h"

#ifdef GK_HAVE_X86
#include <immintrin.h>

#define GK_AVX2 __attribute__((target("avx2,fma,f16c")))

enum { BV = GQ_BLOCK_VALUES };

GK_AVX2 static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

GK_AVX2 static inline float f16c(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* 16 int8 values -> two fp32 x 8 lanes each, multiplied into acc. */
GK_AVX2 static inline __m256 fma16(__m128i q, const float *x, __m256 acc)
{
    __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    acc = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x), acc);
    return _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + 8), acc);
}

GK_AVX2 static float gk_dot_f32_avx2(const void *row, const float *x, int64_t n)
{
    const float *w = row;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++)
        s += w[i] * x[i];
    return s;
}

GK_AVX2 static float gk_dotf_avx2(const float *a, const float *b, int64_t n) { return gk_dot_f32_avx2(a, b, n); }

/* 4 rows x 4 tokens as two 2x4 passes (16 ymm registers: 8 accumulators,
 * 2 rows, 1 token vector per step). */
GK_AVX2 static void gk_tile_avx2(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out,
                          int64_t out_stride, int accumulate)
{
    for (int r = 0; r < 4; r += 2) {
        const float *w0 = w + r * ws, *w1 = w0 + ws;
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
        __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 v0 = _mm256_loadu_ps(w0 + i), v1 = _mm256_loadu_ps(w1 + i), xv;
            xv = _mm256_loadu_ps(x + i);
            a00 = _mm256_fmadd_ps(v0, xv, a00);
            a10 = _mm256_fmadd_ps(v1, xv, a10);
            xv = _mm256_loadu_ps(x + xs + i);
            a01 = _mm256_fmadd_ps(v0, xv, a01);
            a11 = _mm256_fmadd_ps(v1, xv, a11);
            xv = _mm256_loadu_ps(x + 2 * xs + i);
            a02 = _mm256_fmadd_ps(v0, xv, a02);
            a12 = _mm256_fmadd_ps(v1, xv, a12);
            xv = _mm256_loadu_ps(x + 3 * xs + i);
            a03 = _mm256_fmadd_ps(v0, xv, a03);
            a13 = _mm256_fmadd_ps(v1, xv, a13);
        }
        float s[8] = {hsum(a00), hsum(a01), hsum(a02), hsum(a03), hsum(a10), hsum(a11), hsum(a12), hsum(a13)};
        for (; i < n; i++)
            for (int t = 0; t < 4; t++) {
                s[t] += w0[i] * x[t * xs + i];
                s[4 + t] += w1[i] * x[t * xs + i];
            }
        for (int t = 0; t < 4; t++) {
            float *o = out + t * out_stride + r;
            o[0] = accumulate ? o[0] + s[t] : s[t];
            o[1] = accumulate ? o[1] + s[4 + t] : s[4 + t];
        }
    }
}

GK_AVX2 static float gk_dot_bf16_avx2(const void *row, const float *x, int64_t n)
{
    const uint16_t *w = row;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        GK_PREFETCH_AHEAD(w + i);
        __m256i h = _mm256_loadu_si256((const __m256i *)(w + i));
        __m256 lo = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(h)), 16));
        __m256 hi = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(h, 1)), 16));
        a0 = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + i + 8), a1);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < n; i++)
        s += gq_bf16_to_f32(w[i]) * x[i];
    return s;
}

GK_AVX2 static float gk_dot_mxfp4_avx2(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    static const int8_t K[16] = {GQ_MXFP4_KVALUES};
    const __m128i lut = _mm_loadu_si128((const __m128i *)K);
    const __m128i m4 = _mm_set1_epi8(15);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += BV, b += GQ_MXFP4_BLOCK_BYTES, x += BV) {
        GK_PREFETCH_AHEAD(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + GQ_MXFP4_QS_OFFSET));
        __m128i lo = _mm_shuffle_epi8(lut, _mm_and_si128(q, m4));
        __m128i hi = _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(q, 4), m4));
        __m256 bs = fma16(lo, x, _mm256_setzero_ps());
        bs = fma16(hi, x + 16, bs);
        acc = _mm256_fmadd_ps(bs, _mm256_set1_ps(gq_e8m0_half_table[b[GQ_MXFP4_SCALE_OFFSET]]), acc);
    }
    return hsum(acc);
}

GK_AVX2 static float gk_dot_q8_32_avx2(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q8_32_BLOCK_BYTES, x += BV) {
        GK_PREFETCH_AHEAD(b);
        __m128i q0 = _mm_loadu_si128((const __m128i *)(b + GQ_Q8_32_QS_OFFSET));
        __m128i q1 = _mm_loadu_si128((const __m128i *)(b + GQ_Q8_32_QS_OFFSET + 16));
        __m256 bs = fma16(q0, x, _mm256_setzero_ps());
        bs = fma16(q1, x + 16, bs);
        acc = _mm256_fmadd_ps(bs, _mm256_set1_ps(f16c(b + GQ_Q8_32_D_OFFSET)), acc);
    }
    return hsum(acc);
}

GK_AVX2 static float gk_dot_q4_32_avx2(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    const __m128i m4 = _mm_set1_epi8(15), k8 = _mm_set1_epi8(GQ_Q4_32_ZERO);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q4_32_BLOCK_BYTES, x += BV) {
        GK_PREFETCH_AHEAD(b);
        __m128i q = _mm_loadu_si128((const __m128i *)(b + GQ_Q4_32_QS_OFFSET));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), k8);
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), k8);
        __m256 bs = fma16(lo, x, _mm256_setzero_ps());
        bs = fma16(hi, x + 16, bs);
        acc = _mm256_fmadd_ps(bs, _mm256_set1_ps(f16c(b + GQ_Q4_32_D_OFFSET)), acc);
    }
    return hsum(acc);
}

const gk_isa_kernels gk_kernels_avx2 = {
    .dot = {[GQ_F32] = gk_dot_f32_avx2, [GQ_BF16] = gk_dot_bf16_avx2, [GQ_MXFP4] = gk_dot_mxfp4_avx2,
            [GQ_Q8_32] = gk_dot_q8_32_avx2, [GQ_Q4_32] = gk_dot_q4_32_avx2},
    .dotf = gk_dotf_avx2,
    .tile = gk_tile_avx2,
};

#else
/* Not x86-64: nothing to compile (ISO C forbids an empty unit). */
typedef int gk_dot_avx2_unused;
#endif

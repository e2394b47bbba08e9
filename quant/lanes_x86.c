/* lanes_x86.c - the Q4_32 and Q8_32 encoders across blocks: AVX-512 (16
 * blocks at once) and AVX2 (8), chosen at run time by q4.c / q8.c (gq__isa).
 * The rules are q4.c's and q8.c's, run in q4_lanes.inc / q8_lanes.inc with
 * one block per lane; this file supplies the vector operations of each
 * instruction set and the steps that move data between the block layout and
 * the lane layout: load (transpose 32-value blocks into 32 vectors), store
 * (pack the levels or int8s and transpose back) and stats (gq__stats_add's
 * per-block double sums, each lane summing its block in the same order, so
 * the numbers are the same too).
 *
 * No FMA: ISO C mode keeps GCC from contracting (and the pragma clang), and
 * neither target below asks for it. Division is the IEEE one (no reciprocal
 * estimates), as in q4.c.
 */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* ---------------- AVX-512: 16 lanes ---------------- */
#define W 16
#define TGT __attribute__((target("avx512f")))
#define FN(name) name##_avx512
#define VF __m512
#define VI __m512i
#define MK __mmask16
#define F_SET1(x) _mm512_set1_ps(x)
#define F_ADD _mm512_add_ps
#define F_SUB _mm512_sub_ps
#define F_MUL _mm512_mul_ps
#define F_DIV _mm512_div_ps
#define F_MIN _mm512_min_ps
#define F_MAX _mm512_max_ps
#define F_CMP_GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define F_CMP_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define F_CMP_EQ(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define F_CMP_LE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define F_TO_I _mm512_cvtps_epi32
#define F_BLEND(m, t, f) _mm512_mask_blend_ps(m, f, t)
#define I_SET1(x) _mm512_set1_epi32(x)
#define I_ADD _mm512_add_epi32
#define I_SUB _mm512_sub_epi32
#define I_AND _mm512_and_si512
#define I_OR _mm512_or_si512
#define I_MAX _mm512_max_epi32
#define I_MIN _mm512_min_epi32
#define I_SRLI(a, n) _mm512_srli_epi32(a, n)
#define I_SLLI(a, n) _mm512_slli_epi32(a, n)
#define I_SRLV _mm512_srlv_epi32
#define I_SLLV _mm512_sllv_epi32
#define I_CMP_GT(a, b) _mm512_cmpgt_epi32_mask(a, b)
#define I_CMP_EQ(a, b) _mm512_cmpeq_epi32_mask(a, b)
#define I_BLEND(m, t, f) _mm512_mask_blend_epi32(m, f, t)
#define AS_I _mm512_castps_si512
#define AS_F _mm512_castsi512_ps
#define I_TO_F _mm512_cvtepi32_ps
#define M_AND(a, b) ((MK)((a) & (b)))
#define M_OR(a, b) ((MK)((a) | (b)))
#define M_ANDNOT(a, b) ((MK)((a) & ~(b)))
#define M_ANY(m) ((m) != 0)
#define M_ALL(m) ((m) == 0xffff)

/* r[i] = 16 floats of row i -> r[j] = element j of the 16 rows */
TGT static inline void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* u[4g + c], 128-bit lane L: element 4L + c of rows 4g .. 4g+3 */
    for (int g = 0; g < 4; g++) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 a = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), b = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 e = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), f = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(a, e, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(a, e, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(b, f, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(b, f, 0xDD);
    }
}

TGT static inline void load_avx512(const float *in, __m512 X[32])
{
    for (int h = 0; h < 2; h++) {
        for (int b = 0; b < 16; b++)
            X[16 * h + b] = _mm512_loadu_ps(in + 32 * b + 16 * h);
        transpose16(X + 16 * h);
    }
}

/* byte j of block b = level j | level j+16 << 4 (levels 0..15) */
TGT static inline void store_avx512(const __m512 Q[32], __m512i dh, uint8_t *out)
{
    const __m512i eight = _mm512_set1_epi32(8);
    __m512 B[16];
    for (int j = 0; j < 16; j++) {
        __m512i lo = _mm512_add_epi32(_mm512_cvtps_epi32(Q[j]), eight);
        __m512i hi = _mm512_add_epi32(_mm512_cvtps_epi32(Q[j + 16]), eight);
        B[j] = _mm512_castsi512_ps(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)));
    }
    transpose16(B);
    int32_t d[16];
    _mm512_storeu_si512(d, dh);
    for (int b = 0; b < 16; b++, out += GQ_Q4_32_BLOCK_BYTES) {
        out[0] = (uint8_t)d[b];
        out[1] = (uint8_t)(d[b] >> 8);
        _mm_storeu_si128((__m128i *)(out + GQ_Q4_32_QS_OFFSET), _mm512_cvtepi32_epi8(_mm512_castps_si512(B[b])));
    }
}

/* Q[j] lane b: int8 j of block b (-127..127) */
TGT static inline void store_q8_avx512(const __m512i Q[32], __m512i dh, uint8_t *out)
{
    __m512 B[32];
    for (int j = 0; j < 32; j++)
        B[j] = _mm512_castsi512_ps(Q[j]);
    transpose16(B);
    transpose16(B + 16);
    int32_t d[16];
    _mm512_storeu_si512(d, dh);
    for (int b = 0; b < 16; b++, out += GQ_Q8_32_BLOCK_BYTES) {
        out[0] = (uint8_t)d[b];
        out[1] = (uint8_t)(d[b] >> 8);
        _mm_storeu_si128((__m128i *)(out + GQ_Q8_32_QS_OFFSET), _mm512_cvtepi32_epi8(_mm512_castps_si512(B[b])));
        _mm_storeu_si128((__m128i *)(out + GQ_Q8_32_QS_OFFSET + 16),
                         _mm512_cvtepi32_epi8(_mm512_castps_si512(B[16 + b])));
    }
}

/* gq__stats_add for each block: dec = level * d in f32, then per lane the
 * double sums over j = 0..31 in order, added to stats block by block */
TGT static inline void stats_avx512(const __m512 X[32], const __m512 Q[32], __m512 D, int nvalid, gq_stats *st)
{
    __m512d se[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()}, sr[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    __mmask16 differs = 0;
    for (int j = 0; j < 32; j++) {
        __m512 dec = _mm512_mul_ps(Q[j], D);
        differs |= _mm512_cmp_ps_mask(dec, X[j], _CMP_NEQ_UQ);
        __m512d x0 = _mm512_cvtps_pd(_mm512_castps512_ps256(X[j]));
        __m512d x1 = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_extracti64x4_epi64(_mm512_castps_si512(X[j]), 1)));
        __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(dec)), x0);
        __m512d d1 = _mm512_sub_pd(
            _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_extracti64x4_epi64(_mm512_castps_si512(dec), 1))), x1);
        se[0] = _mm512_add_pd(se[0], _mm512_mul_pd(d0, d0));
        se[1] = _mm512_add_pd(se[1], _mm512_mul_pd(d1, d1));
        sr[0] = _mm512_add_pd(sr[0], _mm512_mul_pd(x0, x0));
        sr[1] = _mm512_add_pd(sr[1], _mm512_mul_pd(x1, x1));
    }
    double e[16], r[16];
    _mm512_storeu_pd(e, se[0]);
    _mm512_storeu_pd(e + 8, se[1]);
    _mm512_storeu_pd(r, sr[0]);
    _mm512_storeu_pd(r + 8, sr[1]);
    for (int b = 0; b < nvalid; b++) {
        st->blocks++;
        st->inexact_blocks += (differs >> b) & 1u;
        st->sq_err += e[b];
        st->sq_ref += r[b];
        st->values += GQ_BLOCK_VALUES;
    }
}

#include "q4_lanes.inc"
#include "q8_lanes.inc"

/* A call's last nb < W blocks: padded with zero blocks to a full group, of
 * which only the nb real ones are written and counted (the portable path
 * took them before; it is several times slower per block, and rows of
 * 2880 values end in 10 such blocks). */
#define LANES_PADDED(enc, W_, BYTES)                                                                  \
    do {                                                                                           \
        if (nb == (W_))                                                                            \
            return enc(in, out, (W_), stats);                                                      \
        float pad[(W_) * GQ_BLOCK_VALUES];                                                         \
        uint8_t tmp[(W_) * (BYTES)];                                                               \
        memcpy(pad, in, nb * GQ_BLOCK_VALUES * sizeof *pad);                                       \
        memset(pad + nb * GQ_BLOCK_VALUES, 0, ((W_) - nb) * GQ_BLOCK_VALUES * sizeof *pad);        \
        if (!enc(pad, tmp, (int)nb, stats))                                                        \
            return 0;                                                                              \
        memcpy(out, tmp, nb * (BYTES));                                                            \
        return 1;                                                                                  \
    } while (0)

int gq__q4_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    LANES_PADDED(encode_avx512, 16, GQ_Q4_32_BLOCK_BYTES);
}

int gq__q8_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    LANES_PADDED(encode_q8_avx512, 16, GQ_Q8_32_BLOCK_BYTES);
}

#undef W
#undef TGT
#undef FN
#undef VF
#undef VI
#undef MK
#undef F_SET1
#undef F_ADD
#undef F_SUB
#undef F_MUL
#undef F_DIV
#undef F_MIN
#undef F_MAX
#undef F_CMP_GT
#undef F_CMP_LT
#undef F_CMP_EQ
#undef F_CMP_LE
#undef F_TO_I
#undef I_MIN
#undef F_BLEND
#undef I_SET1
#undef I_ADD
#undef I_SUB
#undef I_AND
#undef I_OR
#undef I_MAX
#undef I_SRLI
#undef I_SLLI
#undef I_SRLV
#undef I_SLLV
#undef I_CMP_GT
#undef I_CMP_EQ
#undef I_BLEND
#undef AS_I
#undef AS_F
#undef I_TO_F
#undef M_AND
#undef M_OR
#undef M_ANDNOT
#undef M_ANY
#undef M_ALL

/* ---------------- AVX2: 8 lanes, masks as all-ones lanes ---------------- */
#define W 8
#define TGT __attribute__((target("avx2")))
#define FN(name) name##_avx2
#define VF __m256
#define VI __m256i
#define MK __m256i
#define F_SET1(x) _mm256_set1_ps(x)
#define F_ADD _mm256_add_ps
#define F_SUB _mm256_sub_ps
#define F_MUL _mm256_mul_ps
#define F_DIV _mm256_div_ps
#define F_MIN _mm256_min_ps
#define F_MAX _mm256_max_ps
#define F_CMP_GT(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ))
#define F_CMP_LT(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ))
#define F_CMP_EQ(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_EQ_OQ))
#define F_CMP_LE(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LE_OQ))
#define F_TO_I _mm256_cvtps_epi32
#define F_BLEND(m, t, f) _mm256_blendv_ps(f, t, _mm256_castsi256_ps(m))
#define I_SET1(x) _mm256_set1_epi32(x)
#define I_ADD _mm256_add_epi32
#define I_SUB _mm256_sub_epi32
#define I_AND _mm256_and_si256
#define I_OR _mm256_or_si256
#define I_MAX _mm256_max_epi32
#define I_MIN _mm256_min_epi32
#define I_SRLI(a, n) _mm256_srli_epi32(a, n)
#define I_SLLI(a, n) _mm256_slli_epi32(a, n)
#define I_SRLV _mm256_srlv_epi32
#define I_SLLV _mm256_sllv_epi32
#define I_CMP_GT(a, b) _mm256_cmpgt_epi32(a, b)
#define I_CMP_EQ(a, b) _mm256_cmpeq_epi32(a, b)
#define I_BLEND(m, t, f) _mm256_blendv_epi8(f, t, m)
#define AS_I _mm256_castps_si256
#define AS_F _mm256_castsi256_ps
#define I_TO_F _mm256_cvtepi32_ps
#define M_AND _mm256_and_si256
#define M_OR _mm256_or_si256
#define M_ANDNOT(a, b) _mm256_andnot_si256(b, a)
#define M_ANY(m) (!_mm256_testz_si256(m, m))
#define M_ALL(m) (_mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xff)

/* rows r[0..7] (8 floats each) -> columns */
TGT static inline void transpose8(__m256 r[8])
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

TGT static inline void load_avx2(const float *in, __m256 X[32])
{
    for (int q = 0; q < 4; q++) {
        for (int b = 0; b < 8; b++)
            X[8 * q + b] = _mm256_loadu_ps(in + 32 * b + 8 * q);
        transpose8(X + 8 * q);
    }
}

TGT static inline void store_avx2(const __m256 Q[32], __m256i dh, uint8_t *out)
{
    const __m256i eight = _mm256_set1_epi32(8);
    __m256 B[16];
    for (int j = 0; j < 16; j++) {
        __m256i lo = _mm256_add_epi32(_mm256_cvtps_epi32(Q[j]), eight);
        __m256i hi = _mm256_add_epi32(_mm256_cvtps_epi32(Q[j + 16]), eight);
        B[j] = _mm256_castsi256_ps(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)));
    }
    transpose8(B);
    transpose8(B + 8);
    int32_t d[8];
    _mm256_storeu_si256((__m256i *)d, dh);
    for (int b = 0; b < 8; b++, out += GQ_Q4_32_BLOCK_BYTES) {
        __m256i a = _mm256_castps_si256(B[b]), c = _mm256_castps_si256(B[8 + b]);
        __m128i p = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        __m128i q = _mm_packs_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
        out[0] = (uint8_t)d[b];
        out[1] = (uint8_t)(d[b] >> 8);
        _mm_storeu_si128((__m128i *)(out + GQ_Q4_32_QS_OFFSET), _mm_packus_epi16(p, q));
    }
}

TGT static inline void store_q8_avx2(const __m256i Q[32], __m256i dh, uint8_t *out)
{
    __m256 B[32];
    for (int j = 0; j < 32; j++)
        B[j] = _mm256_castsi256_ps(Q[j]);
    for (int q = 0; q < 4; q++)
        transpose8(B + 8 * q);                    /* B[8q + b]: int8 8q .. 8q+7 of block b */
    int32_t d[8];
    _mm256_storeu_si256((__m256i *)d, dh);
    for (int b = 0; b < 8; b++, out += GQ_Q8_32_BLOCK_BYTES) {
        __m128i w[4];
        for (int q = 0; q < 4; q++) {
            __m256i v = _mm256_castps_si256(B[8 * q + b]);
            w[q] = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        }
        out[0] = (uint8_t)d[b];
        out[1] = (uint8_t)(d[b] >> 8);
        _mm_storeu_si128((__m128i *)(out + GQ_Q8_32_QS_OFFSET), _mm_packs_epi16(w[0], w[1]));
        _mm_storeu_si128((__m128i *)(out + GQ_Q8_32_QS_OFFSET + 16), _mm_packs_epi16(w[2], w[3]));
    }
}

TGT static inline void stats_avx2(const __m256 X[32], const __m256 Q[32], __m256 D, int nvalid, gq_stats *st)
{
    __m256d se[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()}, sr[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    __m256 differs = _mm256_setzero_ps();
    for (int j = 0; j < 32; j++) {
        __m256 dec = _mm256_mul_ps(Q[j], D);
        differs = _mm256_or_ps(differs, _mm256_cmp_ps(dec, X[j], _CMP_NEQ_UQ));
        __m256d x0 = _mm256_cvtps_pd(_mm256_castps256_ps128(X[j])), x1 = _mm256_cvtps_pd(_mm256_extractf128_ps(X[j], 1));
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(dec)), x0);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(dec, 1)), x1);
        se[0] = _mm256_add_pd(se[0], _mm256_mul_pd(d0, d0));
        se[1] = _mm256_add_pd(se[1], _mm256_mul_pd(d1, d1));
        sr[0] = _mm256_add_pd(sr[0], _mm256_mul_pd(x0, x0));
        sr[1] = _mm256_add_pd(sr[1], _mm256_mul_pd(x1, x1));
    }
    double e[8], r[8];
    _mm256_storeu_pd(e, se[0]);
    _mm256_storeu_pd(e + 4, se[1]);
    _mm256_storeu_pd(r, sr[0]);
    _mm256_storeu_pd(r + 4, sr[1]);
    unsigned bits = (unsigned)_mm256_movemask_ps(differs);
    for (int b = 0; b < nvalid; b++) {
        st->blocks++;
        st->inexact_blocks += (bits >> b) & 1u;
        st->sq_err += e[b];
        st->sq_ref += r[b];
        st->values += GQ_BLOCK_VALUES;
    }
}

#include "q4_lanes.inc"
#include "q8_lanes.inc"

int gq__q4_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    LANES_PADDED(encode_avx2, 8, GQ_Q4_32_BLOCK_BYTES);
}

int gq__q8_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    LANES_PADDED(encode_q8_avx2, 8, GQ_Q8_32_BLOCK_BYTES);
}

#else /* not x86-64: q4.c / q8.c never ask (gq__isa_supported says no) */

int gq__q4_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    (void)in, (void)out, (void)nb, (void)stats;
    return 0;
}

int gq__q4_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    (void)in, (void)out, (void)nb, (void)stats;
    return 0;
}

int gq__q8_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    (void)in, (void)out, (void)nb, (void)stats;
    return 0;
}

int gq__q8_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats)
{
    (void)in, (void)out, (void)nb, (void)stats;
    return 0;
}

#endif

/* gk_fast_x86.c - the fast numerics' integer loops for x86-64: AVX512-VNNI
 * (zmm vpdpbusd), AVX512-VBMI (the same, with an MXFP4 decode dot of 4
 * blocks a step on byte permutes), AVX-VNNI (ymm vpdpbusd) and plain AVX2
 * (vpmaddubsw), compiled with target attributes and chosen at run time
 * (gk_fast.c).
 *
 * Per pair of blocks (64 values) of a token row packed by gk_xpack_fill:
 * the weight codes are made unsigned (code + offset: gk_fast_impl.h) in the
 * order the packed values are in, multiplied and summed by 4 into 16 int32
 * lanes that start at the packed correction (so they end at sum w*q),
 * converted to fp32 and added times dw * d by lane. Plain AVX2 has no
 * vpdpbusd: vpmaddubsw (u8 x s8 pairs to s16, saturating) is safe for the
 * nibble formats (codes + offset <= 24) and, for Q8_32, runs on |w| and the
 * values with w's sign instead (ggml's trick), with no correction. */
#include "gk_fast_impl.h"
#include "gk_prefetch.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <string.h>

#include "quant.h"

enum { BV = GQ_BLOCK_VALUES, MXB = GQ_MXFP4_BLOCK_BYTES, Q8B = GQ_Q8_32_BLOCK_BYTES, Q4B = GQ_Q4_32_BLOCK_BYTES };

/* MXFP4 codes + 12, by nibble */
#define MX_U8 12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0

#define GK_INLINE __attribute__((always_inline)) inline
/* f16 at p through F16C (every x86 path here has it) */
#define f16at(p) _cvtsh_ss((unsigned short)((p)[0] | (p)[1] << 8))

/* ---------------- the rounding, AVX-512F ---------------- */

/* per block: amax = max |x| (exact), id = 127 / amax and d = amax / 127
 * (fp32 divisions, as the scalar rule), q = x * id rounded to nearest even
 * (vcvtps2dq under the default MXCSR) */
__attribute__((target("avx512f,avx512bw,avx512vl"))) void gk_fast_round_avx512(const float *x, int64_t cols, int8_t *q,
                                                                              float *d)
{
    for (int64_t b = 0; b < cols / BV; b++, x += BV, q += BV) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        __m512 vid = _mm512_set1_ps(id);
        _mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid))));
        _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid))));
    }
}

/* ---------------- AVX512-VNNI ---------------- */

#define GK_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/* The unsigned codes of pair k (64 bytes in pack order) and dw by lane. */
GK_VNNI512 static GK_INLINE __m512i pair_codes512(gq_type wt, const uint8_t *row, int k, __m512 *dw)
{
    const __m256i m4 = _mm256_set1_epi8(15);
    if (wt == GQ_Q8_32) {
        const uint8_t *b = row + (size_t)(2 * k) * Q8B;
        __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b + 2))),
                                       _mm256_loadu_si256((const __m256i *)(b + Q8B + 2)), 1);
        /* both f16 scales in one vcvtph2ps (d0: the low half of the 4 bytes at b,
         * d1: the high half of those at b + Q8B - 2), then lanes 0-7 <- d0, 8-15 <- d1 */
        uint32_t h0, h1;
        memcpy(&h0, b + GQ_Q8_32_D_OFFSET, 4);
        memcpy(&h1, b + Q8B + GQ_Q8_32_D_OFFSET - 2, 4);
        __m128 d01 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((h0 & 0xffffu) | (h1 & 0xffff0000u))));
        *dw = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                    _mm512_castps128_ps512(d01));
        return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
    }
    int mx = wt == GQ_MXFP4;
    size_t bb = mx ? MXB : Q4B, qo = mx ? GQ_MXFP4_QS_OFFSET : GQ_Q4_32_QS_OFFSET;
    const uint8_t *b = row + (size_t)(2 * k) * bb;
    __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(b + qo))),
                                        _mm_loadu_si128((const __m128i *)(b + bb + qo)), 1);
    __m512i n = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(y, m4)),
                                   _mm256_and_si256(_mm256_srli_epi16(y, 4), m4), 1);
    if (mx) {
        const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(MX_U8));
        *dw = _mm512_mask_blend_ps(0xF0F0, _mm512_set1_ps(gq_e8m0_half_table[b[0]]),
                                   _mm512_set1_ps(gq_e8m0_half_table[b[MXB]]));
        return _mm512_shuffle_epi8(lut, n);
    }
    *dw = _mm512_mask_blend_ps(0xF0F0, _mm512_set1_ps(f16at(b)), _mm512_set1_ps(f16at(b + Q4B)));
    return n;
}

/* pair k's 16 lanes: its integer sum times dw * d by lane, added to acc */
GK_VNNI512 static GK_INLINE __m512 pair_step512(gq_type wt, const uint8_t *row, const gk_xpack *x, int k, __m512 acc)
{
    __m512 d;
    __m512i w = pair_codes512(wt, row, k, &d);
    __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->corr + 16 * k), w, _mm512_loadu_si512(x->q + 64 * k));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, _mm512_loadu_ps(x->dxv + 16 * k)), acc);
}

GK_VNNI512 static GK_INLINE float dot512_t(gq_type wt, const uint8_t *row, const gk_xpack *x)
{
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int np = x->nb / 2, k = 0;
    const size_t bb = wt == GQ_Q8_32 ? Q8B : wt == GQ_MXFP4 ? MXB : Q4B;
    for (; k + 1 < np; k += 2) {
        for (size_t o = 0; o < 4 * bb; o += 64) /* one per cache line of the 4 blocks of a step */
            GK_PREFETCH_AHEAD(row + (size_t)(2 * k) * bb + o);
        acc0 = pair_step512(wt, row, x, k, acc0);
        acc1 = pair_step512(wt, row, x, k + 1, acc1);
    }
    for (; k < np; k++)
        acc0 = pair_step512(wt, row, x, k, acc0);
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + gk_fast_tail(row, x);
}

/* one loop per type: the type is a constant inside, so its branches go */
GK_VNNI512 static float dot512(const uint8_t *row, const gk_xpack *x)
{
    switch (x->wt) {
    case GQ_MXFP4: return dot512_t(GQ_MXFP4, row, x);
    case GQ_Q4_32: return dot512_t(GQ_Q4_32, row, x);
    default: return dot512_t(GQ_Q8_32, row, x);
    }
}

/* ---------------- AVX512-VNNI + VBMI: MXFP4 four blocks a step ---------------- */

#define GK_VBMI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma,f16c")))

/* The pair loop above spends ~10 cycles per 64 MXFP4 values, more than the
 * DRAM stream needs to bring them: per pair two 16-byte loads and two
 * inserts to gather the nibbles, per block a scalar load of the scale byte,
 * a table load and a broadcast, and per 64 values an integer sum, a
 * conversion, a multiply and an FMA. Here, per 4 blocks (68 bytes; loads of
 * 64 bytes at +0 and +4, so nothing outside the 4 blocks is read) on a row
 * packed in quad order (gk_fast_impl.h):
 *   - one vpermt2b gathers the 4 blocks' 64 nibble bytes;
 *   - one vpermb on a 4x repeated 16-entry table turns every byte's low
 *     nibble into its u8 code (vpermb reads 6 index bits: no mask needed),
 *     and after a vpsrlw by 4 every high nibble;
 *   - both halves land in the same 16 lanes (block lane / 4): two vpdpbusd
 *     into one sum that starts at the pre-summed correction;
 *   - one vpermt2b builds by lane the fp32 2^23 + e from the scale bytes (e
 *     in the low mantissa bits), minus 2^23 + 128 = e - 128 exactly, and
 *     vscalefps makes dxv * 2^(e - 128): the same bits as dxv times the
 *     table's gq_e8m0_half_table[e] (an exact power of two, subnormal for
 *     e < 2: both are the correctly rounded exact product);
 *   - one conversion and one FMA per 128 values.
 * The integer sums are exact; the fp32 order is this loop's (quads to two
 * accumulators in turn, then the trailing pair and block): not the pair
 * loop's bits, but a fixed order for a row whatever the threads. */

/* byte i of the gathered nibbles: block i / 16's qs byte i % 16, at p in the
 * 4 blocks: from the load at +0 (p < 64), else from the one at +4 (second
 * source: 64 + p - 4) */
#define MX_GP(i) ((i) / 16 * MXB + GQ_MXFP4_QS_OFFSET + (i) % 16)
#define MX_IX(i) (MX_GP(i) < 64 ? MX_GP(i) : MX_GP(i) + 60)
/* byte i of the scale lanes (lane i / 4, block i / 16): e from the load at
 * +0, then 0, 0, 0x4B from the second source set1_epi32(0x4B000000) (its
 * bytes 0 and 3: indices 64 and 67) */
#define MX_IE(i) ((i) % 4 == 0 ? (i) / 16 * MXB + GQ_MXFP4_SCALE_OFFSET : (i) % 4 == 3 ? 67 : 64)
#define X4(M, i) M(i), M(i + 1), M(i + 2), M(i + 3)
#define X16(M, i) X4(M, i), X4(M, i + 4), X4(M, i + 8), X4(M, i + 12)
#define X64(M) X16(M, 0), X16(M, 16), X16(M, 32), X16(M, 48)
static const uint8_t mx_ix[64] __attribute__((aligned(64))) = {X64(MX_IX)};
static const uint8_t mx_ie[64] __attribute__((aligned(64))) = {X64(MX_IE)};

typedef struct {
    __m512i ix, ie, lut, k4b;
    __m512 bias;
} mx_consts;

/* quad j's 16 lanes: sum of both halves' products times dw * d by lane */
GK_VBMI512 static GK_INLINE __m512 mx_quad(const mx_consts *c, const uint8_t *row, const gk_xpack *x, int j, __m512 acc)
{
    const uint8_t *b = row + (size_t)(4 * j) * MXB;
    GK_PREFETCH_AHEAD(b); /* one per cache line of the 68 bytes */
    GK_PREFETCH_AHEAD(b + 64);
    __m512i l0 = _mm512_loadu_si512(b), l1 = _mm512_loadu_si512(b + 4);
    __m512i g = _mm512_permutex2var_epi8(l0, c->ix, l1);
    __m512i lo = _mm512_permutexvar_epi8(g, c->lut), hi = _mm512_permutexvar_epi8(_mm512_srli_epi16(g, 4), c->lut);
    __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->corr + 32 * j), lo, _mm512_loadu_si512(x->q + 128 * j));
    s = _mm512_dpbusd_epi32(s, hi, _mm512_loadu_si512(x->q + 128 * j + 64));
    __m512 e = _mm512_sub_ps(_mm512_castsi512_ps(_mm512_permutex2var_epi8(l0, c->ie, c->k4b)), c->bias);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_scalef_ps(_mm512_loadu_ps(x->dxv + 32 * j), e), acc);
}

GK_VBMI512 static float dot512_mx(const uint8_t *row, const gk_xpack *x)
{
    const mx_consts c = {_mm512_load_si512(mx_ix), _mm512_load_si512(mx_ie),
                         _mm512_broadcast_i32x4(_mm_setr_epi8(MX_U8)), _mm512_set1_epi32(0x4B000000),
                         _mm512_set1_ps(8388608.0f + 128.0f)};
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int nq = x->nb / 4, j = 0;
    for (; j + 1 < nq; j += 2) {
        acc0 = mx_quad(&c, row, x, j, acc0);
        acc1 = mx_quad(&c, row, x, j + 1, acc1);
    }
    if (j < nq)
        acc0 = mx_quad(&c, row, x, j, acc0);
    if (x->nb % 4 >= 2) /* a last pair, in pair order: the pair loop's step */
        acc1 = pair_step512(GQ_MXFP4, row, x, 2 * nq, acc1);
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + gk_fast_tail(row, x);
}

GK_VBMI512 static float dot512vbmi(const uint8_t *row, const gk_xpack *x)
{
    return x->wt == GQ_MXFP4 ? dot512_mx(row, x) : dot512(row, x);
}

GK_VNNI512 static GK_INLINE void decode512_t(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)
{
    for (int k = 0; k < nb / 2; k++) {
        __m512 d;
        _mm512_storeu_si512((void *)(wu + 64 * k), pair_codes512(wt, row, k, &d));
        _mm512_storeu_ps(dwv + 16 * k, d);
    }
    gk_fast_decode_tail(wt, row, nb, wu, dwv);
}

GK_VNNI512 static void decode512(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)
{
    switch (wt) {
    case GQ_MXFP4: decode512_t(GQ_MXFP4, row, nb, wu, dwv); break;
    case GQ_Q4_32: decode512_t(GQ_Q4_32, row, nb, wu, dwv); break;
    default: decode512_t(GQ_Q8_32, row, nb, wu, dwv); break;
    }
}

GK_VNNI512 static float dot_dec512(const uint8_t *wu, const float *dwv, const gk_xpack *x)
{
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int np = x->nb / 2, k = 0;
    for (; k + 1 < np; k += 2) {
        __m512i s0 = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->corr + 16 * k), _mm512_loadu_si512(wu + 64 * k),
                                         _mm512_loadu_si512(x->q + 64 * k));
        __m512i s1 = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->corr + 16 * k + 16),
                                         _mm512_loadu_si512(wu + 64 * k + 64), _mm512_loadu_si512(x->q + 64 * k + 64));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0),
                               _mm512_mul_ps(_mm512_loadu_ps(dwv + 16 * k), _mm512_loadu_ps(x->dxv + 16 * k)), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1),
                               _mm512_mul_ps(_mm512_loadu_ps(dwv + 16 * k + 16), _mm512_loadu_ps(x->dxv + 16 * k + 16)),
                               acc1);
    }
    for (; k < np; k++) {
        __m512i s0 = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->corr + 16 * k), _mm512_loadu_si512(wu + 64 * k),
                                         _mm512_loadu_si512(x->q + 64 * k));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0),
                               _mm512_mul_ps(_mm512_loadu_ps(dwv + 16 * k), _mm512_loadu_ps(x->dxv + 16 * k)), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + gk_fast_dec_tail(wu, dwv, x);
}

const gk_fast_kernels gk_fast_avx512vnni = {"avx512-vnni", dot512, decode512, dot_dec512, 0, NULL};
const gk_fast_kernels gk_fast_avx512vbmi = {"avx512-vbmi", dot512vbmi, decode512, dot_dec512, 1, NULL};

/* ---------------- AVX2 / AVX-VNNI (ymm) ---------------- */

#define GK_AVX2I __attribute__((target("avx2,fma,f16c")))
#define GK_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

/* The two halves of pair k's unsigned codes (32 bytes each, pack order; for
 * Q8_32 the signed codes when `sign`) and dw by lane of each half. */
#define PAIR_CODES256(ATTR, NAME)                                                                                    \
    ATTR static GK_INLINE void NAME(gq_type wt, const uint8_t *row, int k, int sign, __m256i w[2], __m256 dw[2])  \
    {                                                                                                                \
        const __m256i m4 = _mm256_set1_epi8(15);                                                                     \
        if (wt == GQ_Q8_32) {                                                                                        \
            const uint8_t *b = row + (size_t)(2 * k) * Q8B;                                                          \
            const __m256i flip = _mm256_set1_epi8(sign ? 0 : (char)0x80);                                           \
            w[0] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + 2)), flip);                             \
            w[1] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + Q8B + 2)), flip);                       \
            dw[0] = _mm256_set1_ps(f16at(b));                                                                        \
            dw[1] = _mm256_set1_ps(f16at(b + Q8B));                                                                  \
            return;                                                                                                  \
        }                                                                                                            \
        int mx = wt == GQ_MXFP4;                                                                                     \
        size_t bb = mx ? MXB : Q4B, qo = mx ? GQ_MXFP4_QS_OFFSET : GQ_Q4_32_QS_OFFSET;                              \
        const uint8_t *b = row + (size_t)(2 * k) * bb;                                                               \
        __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(b + qo))),     \
                                            _mm_loadu_si128((const __m128i *)(b + bb + qo)), 1);                     \
        __m256i lo = _mm256_and_si256(y, m4), hi = _mm256_and_si256(_mm256_srli_epi16(y, 4), m4);                    \
        float s0 = mx ? gq_e8m0_half_table[b[0]] : f16at(b), s1 = mx ? gq_e8m0_half_table[b[bb]] : f16at(b + bb);    \
        dw[0] = dw[1] = _mm256_blend_ps(_mm256_set1_ps(s0), _mm256_set1_ps(s1), 0xF0);                              \
        if (mx) {                                                                                                    \
            const __m256i lut = _mm256_broadcastsi128_si256(_mm_setr_epi8(MX_U8));                                   \
            lo = _mm256_shuffle_epi8(lut, lo);                                                                       \
            hi = _mm256_shuffle_epi8(lut, hi);                                                                       \
        }                                                                                                            \
        w[0] = lo;                                                                                                   \
        w[1] = hi;                                                                                                   \
    }
PAIR_CODES256(GK_AVX2I, pair_codes_avx2)
PAIR_CODES256(GK_AVXVNNI, pair_codes_avxvnni)

GK_AVX2I static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* the int32 lanes of 32 codes (u8, or signed for Q8_32 on plain AVX2) times
 * 32 packed values, plus the correction when the codes are offset */
GK_AVX2I static GK_INLINE __m256i isum_avx2(gq_type wt, __m256i w, const int8_t *q, const int32_t *corr)
{
    __m256i xq = _mm256_loadu_si256((const __m256i *)q), one = _mm256_set1_epi16(1);
    if (wt == GQ_Q8_32) /* |w| x (x with w's sign): no saturation, no offset */
        return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xq, w)), one);
    return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(w, xq), one),
                            _mm256_loadu_si256((const __m256i *)corr));
}

GK_AVXVNNI static GK_INLINE __m256i isum_avxvnni(gq_type wt, __m256i w, const int8_t *q, const int32_t *corr)
{
    (void)wt;
    return _mm256_dpbusd_avx_epi32(_mm256_loadu_si256((const __m256i *)corr), w, _mm256_loadu_si256((const __m256i *)q));
}

#define DOT256(ATTR, NAME, CODES, ISUM, SIGNED)                                                                      \
    ATTR static GK_INLINE float NAME##_t(gq_type wt, const uint8_t *row, const gk_xpack *x)                          \
    {                                                                                                                \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                               \
        const size_t bb = wt == GQ_Q8_32 ? Q8B : wt == GQ_MXFP4 ? MXB : Q4B;                                        \
        for (int k = 0; k < x->nb / 2; k++) {                                                                        \
            __m256i w[2];                                                                                            \
            __m256 dw[2];                                                                                            \
            GK_PREFETCH_AHEAD(row + (size_t)(2 * k) * bb);                                                           \
            GK_PREFETCH_AHEAD(row + (size_t)(2 * k + 1) * bb);                                                       \
            CODES(wt, row, k, SIGNED, w, dw);                                                                        \
            __m256i s0 = ISUM(wt, w[0], x->q + 64 * k, x->corr + 16 * k);                                            \
            __m256i s1 = ISUM(wt, w[1], x->q + 64 * k + 32, x->corr + 16 * k + 8);                                   \
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_mul_ps(dw[0], _mm256_loadu_ps(x->dxv + 16 * k)),   \
                                   acc0);                                                                            \
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1),                                                           \
                                   _mm256_mul_ps(dw[1], _mm256_loadu_ps(x->dxv + 16 * k + 8)), acc1);                \
        }                                                                                                            \
        return hsum256(_mm256_add_ps(acc0, acc1)) + gk_fast_tail(row, x);                                            \
    }                                                                                                                \
    ATTR static float NAME(const uint8_t *row, const gk_xpack *x)                                                    \
    {                                                                                                                \
        switch (x->wt) {                                                                                             \
        case GQ_MXFP4: return NAME##_t(GQ_MXFP4, row, x);                                                            \
        case GQ_Q4_32: return NAME##_t(GQ_Q4_32, row, x);                                                            \
        default: return NAME##_t(GQ_Q8_32, row, x);                                                                  \
        }                                                                                                            \
    }

/* decoded rows always hold the offset codes (AVX2's Q8_32 takes them back
 * to signed before its sign trick) */
#define DECODE256(ATTR, NAME, CODES)                                                                                 \
    ATTR static void NAME(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)                          \
    {                                                                                                                \
        for (int k = 0; k < nb / 2; k++) {                                                                           \
            __m256i w[2];                                                                                            \
            __m256 dw[2];                                                                                            \
            CODES(wt, row, k, 0, w, dw);                                                                             \
            _mm256_storeu_si256((__m256i *)(wu + 64 * k), w[0]);                                                     \
            _mm256_storeu_si256((__m256i *)(wu + 64 * k + 32), w[1]);                                                \
            _mm256_storeu_ps(dwv + 16 * k, dw[0]);                                                                   \
            _mm256_storeu_ps(dwv + 16 * k + 8, dw[1]);                                                               \
        }                                                                                                            \
        gk_fast_decode_tail(wt, row, nb, wu, dwv);                                                                   \
    }

#define DOT_DEC256(ATTR, NAME, ISUM, UNFLIP)                                                                         \
    ATTR static float NAME(const uint8_t *wu, const float *dwv, const gk_xpack *x)                                   \
    {                                                                                                                \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                               \
        const __m256i flip = _mm256_set1_epi8(x->wt == GQ_Q8_32 && UNFLIP ? (char)0x80 : 0);                        \
        for (int k = 0; k < x->nb / 2; k++) {                                                                        \
            __m256i w0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wu + 64 * k)), flip);                 \
            __m256i w1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wu + 64 * k + 32)), flip);            \
            __m256i s0 = ISUM(x->wt, w0, x->q + 64 * k, x->corr + 16 * k);                                           \
            __m256i s1 = ISUM(x->wt, w1, x->q + 64 * k + 32, x->corr + 16 * k + 8);                                  \
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0),                                                           \
                                   _mm256_mul_ps(_mm256_loadu_ps(dwv + 16 * k), _mm256_loadu_ps(x->dxv + 16 * k)),   \
                                   acc0);                                                                            \
            acc1 = _mm256_fmadd_ps(                                                                                  \
                _mm256_cvtepi32_ps(s1),                                                                              \
                _mm256_mul_ps(_mm256_loadu_ps(dwv + 16 * k + 8), _mm256_loadu_ps(x->dxv + 16 * k + 8)), acc1);       \
        }                                                                                                            \
        return hsum256(_mm256_add_ps(acc0, acc1)) + gk_fast_dec_tail(wu, dwv, x);                                    \
    }

DOT256(GK_AVX2I, dot_avx2, pair_codes_avx2, isum_avx2, 1)
DECODE256(GK_AVX2I, decode_avx2, pair_codes_avx2)
DOT_DEC256(GK_AVX2I, dot_dec_avx2, isum_avx2, 1)
const gk_fast_kernels gk_fast_avx2 = {"avx2", dot_avx2, decode_avx2, dot_dec_avx2, 0, NULL};

DOT256(GK_AVXVNNI, dot_avxvnni, pair_codes_avxvnni, isum_avxvnni, 0)
DECODE256(GK_AVXVNNI, decode_avxvnni, pair_codes_avxvnni)
DOT_DEC256(GK_AVXVNNI, dot_dec_avxvnni, isum_avxvnni, 0)
const gk_fast_kernels gk_fast_avxvnni = {"avx-vnni", dot_avxvnni, decode_avxvnni, dot_dec_avxvnni, 0, NULL};

#else
typedef int gk_fast_x86_unused;
#endif

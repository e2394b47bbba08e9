/* produce.c - turning source rows into output rows: the unit of work the
 * pipeline's workers run (see pipeline.h and produce.h). */
#include <string.h>

#include "pipeline.h"
#include "produce.h"

/* MXFP4 -> q8_32 without floats. An MXFP4 value is K * 2^(e-128) with K the
 * doubled FP4 magnitude (0,1,2,3,4,6,8,12) and a sign; the q8 encoder
 * (quant/q8.c) stores such a block exactly with d = 2^p, p = (e-128) plus the
 * fewest trailing zero bits of the nonzero K, whenever -24 <= p <= 15 (p an
 * f16 power of two); q = K / 2^(p-(e-128)). Computing that directly is a
 * table lookup per value; blocks outside that range (and all-zero blocks,
 * which are cheap anyway) go through floats and the encoder itself, so the
 * bytes equal the float path's for every block (tests/convert checks all
 * 256 scale bytes). */
static const uint8_t K_MAG[8] = {0, 1, 2, 3, 4, 6, 8, 12};
static const uint8_t K_CTZ[8] = {8, 0, 1, 0, 2, 1, 3, 2}; /* 8: zero, no bit */

/* The f16 bits of 2^p, -24 <= p <= 15. */
static uint16_t f16_pow2(int p)
{
    return p >= -14 ? (uint16_t)((p + 15) << 10) : (uint16_t)(1u << (p + 24));
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* The same, 16 codes at a time (SSSE3's byte shuffle is the table lookup):
 * per block the nibbles' trailing-zero counts and their minimum, then the
 * signed values K >> minctz of all 32 codes from one of four tables, in HF
 * element order (low nibble first). Returns how many leading blocks it did;
 * it stops at the first block the scalar code must take (all zero, or p out
 * of range), which the caller then does. */
__attribute__((target("ssse3"))) static size_t to_q8_ssse3(const uint8_t *codes, const uint8_t *scales,
                                                             size_t nblocks, uint8_t *o, gq_stats *st)
{
    const __m128i m4 = _mm_set1_epi8(15);
    const __m128i ctz = _mm_setr_epi8(8, 0, 1, 0, 2, 1, 3, 2, 8, 0, 1, 0, 2, 1, 3, 2);
    __m128i val[4];
    for (int sh = 0; sh < 4; sh++) {
        int8_t v[16];
        for (int c = 0; c < 16; c++)
            v[c] = (int8_t)(c & 8 ? -(K_MAG[c & 7] >> sh) : (K_MAG[c & 7] >> sh));
        val[sh] = _mm_loadu_si128((const __m128i *)v);
    }
    size_t b = 0;
    for (; b < nblocks; b++, codes += 16, o += GQ_Q8_32_BLOCK_BYTES) {
        __m128i c = _mm_loadu_si128((const __m128i *)codes);
        __m128i lo = _mm_and_si128(c, m4), hi = _mm_and_si128(_mm_srli_epi16(c, 4), m4);
        __m128i m = _mm_min_epu8(_mm_shuffle_epi8(ctz, lo), _mm_shuffle_epi8(ctz, hi));
        m = _mm_min_epu8(m, _mm_srli_si128(m, 8));
        m = _mm_min_epu8(m, _mm_srli_si128(m, 4));
        m = _mm_min_epu8(m, _mm_srli_si128(m, 2));
        m = _mm_min_epu8(m, _mm_srli_si128(m, 1));
        int minctz = _mm_cvtsi128_si32(m) & 0xff;
        int p = (int)scales[b] - 128 + minctz;
        if (minctz == 8 || p < -24 || p > 15)
            break;
        uint16_t d = f16_pow2(p);
        o[0] = (uint8_t)d;
        o[1] = (uint8_t)(d >> 8);
        __m128i ql = _mm_shuffle_epi8(val[minctz], lo), qh = _mm_shuffle_epi8(val[minctz], hi);
        _mm_storeu_si128((__m128i *)(o + 2), _mm_unpacklo_epi8(ql, qh));
        _mm_storeu_si128((__m128i *)(o + 18), _mm_unpackhi_epi8(ql, qh));
    }
    if (st) {
        st->blocks += b;
        st->values += 32 * b;
    }
    return b;
}

/* The same, four blocks per step (one per 128-bit lane): the per-block
 * minimum as above, then one 64-entry byte permute (AVX512-VBMI) looks up
 * K >> minctz for every code at once (index = code + 16 * minctz). Stops
 * before the first group of four that holds a block the scalar code must
 * take, and reports how many blocks it did; the SSSE3 loop finishes that
 * group. Issue 16: the SSSE3 loop was a third of a 20b q8 conversion's CPU. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t to_q8_avx512(const uint8_t *codes,
                                                                                   const uint8_t *scales,
                                                                                   size_t nblocks, uint8_t *o,
                                                                                   gq_stats *st)
{
    int8_t t[64];
    for (int sh = 0; sh < 4; sh++)
        for (int c = 0; c < 16; c++)
            t[16 * sh + c] = (int8_t)(c & 8 ? -(K_MAG[c & 7] >> sh) : (K_MAG[c & 7] >> sh));
    const __m512i tbl = _mm512_loadu_si512(t), m4 = _mm512_set1_epi8(15);
    const __m512i ctz = _mm512_broadcast_i32x4(_mm_setr_epi8(8, 0, 1, 0, 2, 1, 3, 2, 8, 0, 1, 0, 2, 1, 3, 2));
    size_t b = 0;
    for (; b + 4 <= nblocks; b += 4, codes += 64) {
        __m512i c = _mm512_loadu_si512(codes);
        __m512i lo = _mm512_and_si512(c, m4), hi = _mm512_and_si512(_mm512_srli_epi16(c, 4), m4);
        __m512i m = _mm512_min_epu8(_mm512_shuffle_epi8(ctz, lo), _mm512_shuffle_epi8(ctz, hi));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 8));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 4));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 2));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 1));
        m = _mm512_shuffle_epi8(m, _mm512_setzero_si512());   /* each lane's byte 0 across the lane */
        uint8_t mz[64];
        uint16_t d[4];
        _mm512_storeu_si512(mz, m);
        int ok = 1;
        for (int k = 0; k < 4 && ok; k++) {
            int p = (int)scales[b + k] - 128 + mz[16 * k];
            ok = mz[16 * k] != 8 && p >= -24 && p <= 15;
            d[k] = ok ? f16_pow2(p) : 0;
        }
        if (!ok)
            break;
        __m512i sh = _mm512_slli_epi16(m, 4);                 /* 16 * minctz (<= 48: no carry between bytes) */
        __m512i ql = _mm512_permutexvar_epi8(_mm512_add_epi8(lo, sh), tbl);
        __m512i qh = _mm512_permutexvar_epi8(_mm512_add_epi8(hi, sh), tbl);
        __m512i v0 = _mm512_unpacklo_epi8(ql, qh), v1 = _mm512_unpackhi_epi8(ql, qh);
        uint8_t *ob = o + b * GQ_Q8_32_BLOCK_BYTES;
#define Q8_STORE(k)                                                                                          \
    ob[(k)*GQ_Q8_32_BLOCK_BYTES] = (uint8_t)d[k];                                                            \
    ob[(k)*GQ_Q8_32_BLOCK_BYTES + 1] = (uint8_t)(d[k] >> 8);                                                 \
    _mm_storeu_si128((__m128i *)(ob + (k)*GQ_Q8_32_BLOCK_BYTES + 2), _mm512_extracti32x4_epi32(v0, k));      \
    _mm_storeu_si128((__m128i *)(ob + (k)*GQ_Q8_32_BLOCK_BYTES + 18), _mm512_extracti32x4_epi32(v1, k));
        Q8_STORE(0)
        Q8_STORE(1)
        Q8_STORE(2)
        Q8_STORE(3)
#undef Q8_STORE
    }
    if (st) {
        st->blocks += b;
        st->values += 32 * b;
    }
    return b;
}
/* 0: scalar only, 1: SSSE3, 2: AVX512-VBMI then SSSE3; asked once */
static int q8_path(void)
{
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = !__builtin_cpu_supports("ssse3") ? 0
            : __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vbmi")
                  ? 2
                  : 1;
    }
    return v;
}
#else
static size_t to_q8_ssse3(const uint8_t *codes, const uint8_t *scales, size_t nblocks, uint8_t *o, gq_stats *st)
{
    (void)codes, (void)scales, (void)nblocks, (void)o, (void)st;
    return 0;
}
static size_t to_q8_avx512(const uint8_t *codes, const uint8_t *scales, size_t nblocks, uint8_t *o, gq_stats *st)
{
    (void)codes, (void)scales, (void)nblocks, (void)o, (void)st;
    return 0;
}
static int q8_path(void) { return 0; }
#endif

void cv_mxfp4_hf_to_q8(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out, float *scratch,
                       gq_stats *st)
{
    uint8_t *o = out;
    const gq_traits *q8 = gq_traits_of(GQ_Q8_32);
    const int path = q8_path(), simd = path >= 1, wide = path == 2;
    for (size_t b = 0; b < nblocks; b++, codes += 16, o += GQ_Q8_32_BLOCK_BYTES) {
        if (simd) {
            size_t k = 0, rest = nblocks - b;
            if (wide) {
                /* four at a time, then SSSE3 up to the block that stopped it */
                k = to_q8_avx512(codes, scales + b, rest, o, st);
                rest = rest - k < 4 ? rest - k : 4;
            }
            k += to_q8_ssse3(codes + 16 * k, scales + b + k, rest, o + GQ_Q8_32_BLOCK_BYTES * k, st);
            b += k;
            codes += 16 * k;
            o += GQ_Q8_32_BLOCK_BYTES * k;
            if (b == nblocks)
                break;
        }
        int minctz = 8;
        for (int k = 0; k < 16; k++) {
            int lo = K_CTZ[codes[k] & 7], hi = K_CTZ[(codes[k] >> 4) & 7];
            minctz = lo < minctz ? lo : minctz;
            minctz = hi < minctz ? hi : minctz;
        }
        int p = (int)scales[b] - 128 + minctz;
        if (minctz == 8 || p < -24 || p > 15) {
            gq_mxfp4_hf_decode(codes, scales + b, 1, scratch);
            q8->encode(scratch, o, 32, st);
            continue;
        }
        uint16_t d = f16_pow2(p);
        o[0] = (uint8_t)d;
        o[1] = (uint8_t)(d >> 8);
        int8_t *q = (int8_t *)(o + 2);
        for (int k = 0; k < 16; k++) {
            uint8_t lo = codes[k] & 15, hi = codes[k] >> 4;
            int vl = K_MAG[lo & 7] >> minctz, vh = K_MAG[hi & 7] >> minctz;
            q[2 * k] = (int8_t)(lo & 8 ? -vl : vl);
            q[2 * k + 1] = (int8_t)(hi & 8 ? -vh : vh);
        }
        if (st) {
            st->blocks++;
            st->values += 32;
        }
    }
}

void cv_produce_view(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch, gq_stats *st,
                    const uint8_t *src, uint64_t src_row0, const uint8_t *scales)
{
    const cv_producer *p = &t->prod;
    const gq_traits *ot = gq_traits_of(t->type);
    const uint64_t cols = p->cols, out_row = gq_row_bytes(t->type, cols);
    uint8_t *dst = out;
    const int contiguous = p->row_stride == 1;

    if (p->kind == CV_SRC_MXFP4) {
        const uint64_t nb = cols / 32;
        const uint8_t *codes = src;
        if (t->type == GQ_MXFP4) {
            /* Exact re-layout: same values, ggml nibble order. */
            if (contiguous) {
                uint64_t sr = cv_producer_src_row(p, r0) - src_row0;
                gq_mxfp4_from_hf(codes + sr * nb * 16, scales + sr * nb, nb * nrows, dst);
            } else {
                for (uint64_t r = 0; r < nrows; r++) {
                    uint64_t sr = cv_producer_src_row(p, r0 + r) - src_row0;
                    gq_mxfp4_from_hf(codes + sr * nb * 16, scales + sr * nb, nb, dst + r * out_row);
                }
            }
            if (st) {
                st->blocks += nb * nrows;
                st->values += cols * nrows;
            }
            return;
        }
        for (uint64_t r = 0; r < nrows; r++) {
            uint64_t sr = cv_producer_src_row(p, r0 + r) - src_row0;
            if (t->type == GQ_Q8_32) {
                cv_mxfp4_hf_to_q8(codes + sr * nb * 16, scales + sr * nb, nb, dst + r * out_row, scratch, st);
                continue;
            }
            gq_mxfp4_hf_decode(codes + sr * nb * 16, scales + sr * nb, nb, scratch);
            ot->encode(scratch, dst + r * out_row, cols, st);
        }
        return;
    }

    const gq_traits *it = gq_traits_of(p->src_type);
    const uint64_t in_row = cols * (uint64_t)it->block_bytes;
    if (p->src_type == t->type) {
        /* bf16 -> bf16, f32 -> f32: bytes are the values. */
        if (contiguous)
            memcpy(dst, src + (cv_producer_src_row(p, r0) - src_row0) * in_row, nrows * in_row);
        else
            for (uint64_t r = 0; r < nrows; r++)
                memcpy(dst + r * out_row, src + (cv_producer_src_row(p, r0 + r) - src_row0) * in_row, in_row);
        if (st) {
            st->blocks += nrows * cols / (uint64_t)ot->block_values;
            st->values += nrows * cols;
        }
        return;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        it->decode(src + (cv_producer_src_row(p, r0 + r) - src_row0) * in_row, scratch, cols);
        ot->encode(scratch, dst + r * out_row, cols, st);
    }
}

void cv_produce_rows(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch,
                     gq_stats *st)
{
    const cv_producer *p = &t->prod;
    cv_produce_view(t, r0, nrows, out, scratch, st, p->src->data, 0,
            p->kind == CV_SRC_MXFP4 ? (const uint8_t *)p->scales->data : NULL);
}


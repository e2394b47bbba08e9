/* mxfp4_q8.c - Hugging Face MXFP4 blocks straight to Q8_32 blocks, without
 * floats: the converter's q8 expert path (12 of the 13.8 GB of a 20b
 * checkpoint are MXFP4 experts).
 *
 * Why it can skip the floats: an MXFP4 value is K * 2^(e-128) with K the
 * doubled FP4 magnitude (0,1,2,3,4,6,8,12) and a sign; the q8 encoder
 * (q8.c) stores such a block exactly with d = 2^p, p = (e-128) plus the
 * fewest trailing zero bits of the nonzero K, whenever -24 <= p <= 15 (p an
 * f16 power of two); then q = K / 2^(p-(e-128)) = K >> minctz. Blocks outside
 * that range (and all-zero blocks, which are cheap anyway) go through floats
 * and the encoder itself, so the bytes equal decode + encode for every block.
 *
 * Three paths, the same bytes (tests/quant/test_quant_simd.c compares each
 * with the scalar one, and the scalar one with decode + encode, on every
 * scale byte): the scalar rule (a table lookup per value), SSSE3 (one block
 * per step, the byte shuffle is the lookup) and AVX512-VBMI (four blocks per
 * step, one 64-entry byte permute). Issue 16: the SSSE3 loop was a third of
 * a 20b q8 conversion's CPU time, the VBMI one about a quarter.
 */
#include <stdatomic.h>
#include <string.h>

#include "quant_internal.h"

static const uint8_t K_MAG[8] = {0, 1, 2, 3, 4, 6, 8, 12};
/* trailing zero bits of K by nibble (the sign bit 8 does not change it); 8:
 * zero, no bit. 16 entries so the vector paths use it as a byte shuffle. */
static const uint8_t K_CTZ[16] = {8, 0, 1, 0, 2, 1, 3, 2, 8, 0, 1, 0, 2, 1, 3, 2};

enum { Q8B = GQ_Q8_32_BLOCK_BYTES };

/* The f16 bits of 2^p, -24 <= p <= 15. */
static uint16_t f16_pow2(int p)
{
    return p >= -14 ? (uint16_t)((p + 15) << 10) : (uint16_t)(1u << (p + 24));
}

static void add_exact(gq_stats *st, size_t nblocks)
{
    if (st) {
        st->blocks += nblocks;
        st->values += 32 * nblocks;
    }
}

/* One block by the rule; the floats and the encoder where the rule does
 * not apply. The reference the vector paths are tested against. */
static void block_scalar(const uint8_t *codes, uint8_t scale, uint8_t *o, gq_stats *st)
{
    int minctz = 8;
    for (int k = 0; k < 16; k++) {
        int lo = K_CTZ[codes[k] & 7], hi = K_CTZ[(codes[k] >> 4) & 7];
        minctz = lo < minctz ? lo : minctz;
        minctz = hi < minctz ? hi : minctz;
    }
    int p = (int)scale - 128 + minctz;
    if (minctz == 8 || p < -24 || p > 15) {
        float x[32];
        gq_mxfp4_hf_decode(codes, &scale, 1, x);
        gq__q8_encode(x, o, 32, st);
        return;
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
    add_exact(st, 1);
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HFQ8_X86 1

/* The vector paths' lookup: t[16 * sh + nibble] = the signed K >> sh of the
 * nibble, for the four shifts sh = minctz a block can have (0..3). */
static void shifted_values(int8_t t[64])
{
    for (int sh = 0; sh < 4; sh++)
        for (int c = 0; c < 16; c++)
            t[16 * sh + c] = (int8_t)(c & 8 ? -(K_MAG[c & 7] >> sh) : (K_MAG[c & 7] >> sh));
}

/* 16 codes at a time: per block the nibbles' trailing-zero counts and their
 * minimum, then the signed values K >> minctz of all 32 codes from one of
 * four tables, in HF element order (low nibble first). Returns how many
 * leading blocks it did; it stops at the first block the rule does not
 * cover (all zero, or p out of range), which the caller then does. */
__attribute__((target("ssse3"))) static size_t run_ssse3(const uint8_t *codes, const uint8_t *scales,
                                                         size_t nblocks, uint8_t *o)
{
    const __m128i m4 = _mm_set1_epi8(15), ctz = _mm_loadu_si128((const __m128i *)K_CTZ);
    int8_t t[64];
    shifted_values(t);
    __m128i val[4];
    for (int sh = 0; sh < 4; sh++)
        val[sh] = _mm_loadu_si128((const __m128i *)(t + 16 * sh));
    size_t b = 0;
    for (; b < nblocks; b++, codes += 16, o += Q8B) {
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
    return b;
}

/* Four blocks per step (one per 128-bit lane): the per-block minimum as
 * above, then one 64-entry byte permute looks up K >> minctz for every code
 * at once (index = code + 16 * minctz). Stops before the first group of four
 * that holds a block the rule does not cover, and reports how many blocks it
 * did; the caller finishes that group another way. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t run_vbmi(const uint8_t *codes,
                                                                               const uint8_t *scales,
                                                                               size_t nblocks, uint8_t *o)
{
    int8_t t[64];
    shifted_values(t);
    const __m512i tbl = _mm512_loadu_si512(t), m4 = _mm512_set1_epi8(15);
    const __m512i ctz = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)K_CTZ));
    size_t b = 0;
    for (; b + 4 <= nblocks; b += 4, codes += 64) {
        __m512i c = _mm512_loadu_si512(codes);
        __m512i lo = _mm512_and_si512(c, m4), hi = _mm512_and_si512(_mm512_srli_epi16(c, 4), m4);
        __m512i m = _mm512_min_epu8(_mm512_shuffle_epi8(ctz, lo), _mm512_shuffle_epi8(ctz, hi));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 8));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 4));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 2));
        m = _mm512_min_epu8(m, _mm512_bsrli_epi128(m, 1));
        m = _mm512_shuffle_epi8(m, _mm512_setzero_si512()); /* each lane's byte 0 across the lane */
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
        __m512i sh = _mm512_slli_epi16(m, 4); /* 16 * minctz (<= 48: no carry between bytes) */
        __m512i ql = _mm512_permutexvar_epi8(_mm512_add_epi8(lo, sh), tbl);
        __m512i qh = _mm512_permutexvar_epi8(_mm512_add_epi8(hi, sh), tbl);
        __m512i v0 = _mm512_unpacklo_epi8(ql, qh), v1 = _mm512_unpackhi_epi8(ql, qh);
        uint8_t *ob = o + b * Q8B;
#define Q8_STORE(k)                                                                                \
    ob[(k)*Q8B] = (uint8_t)d[k];                                                                   \
    ob[(k)*Q8B + 1] = (uint8_t)(d[k] >> 8);                                                        \
    _mm_storeu_si128((__m128i *)(ob + (k)*Q8B + 2), _mm512_extracti32x4_epi32(v0, k));             \
    _mm_storeu_si128((__m128i *)(ob + (k)*Q8B + 18), _mm512_extracti32x4_epi32(v1, k));
        Q8_STORE(0)
        Q8_STORE(1)
        Q8_STORE(2)
        Q8_STORE(3)
#undef Q8_STORE
    }
    return b;
}
#endif

int gq__hfq8_path_supported(int path)
{
    if (path == GQ_HFQ8_SCALAR)
        return 1;
#if defined(HFQ8_X86)
    __builtin_cpu_init();
    if (path == GQ_HFQ8_SSSE3)
        return __builtin_cpu_supports("ssse3") != 0;
    if (path == GQ_HFQ8_VBMI)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vbmi");
#endif
    return 0;
}

void gq__mxfp4_hf_to_q8_path(int path, const uint8_t *codes, const uint8_t *scales, size_t nblocks,
                             void *out_blocks, gq_stats *st)
{
    uint8_t *o = out_blocks;
    size_t b = 0;
    while (b < nblocks) {
#if defined(HFQ8_X86)
        if (path >= GQ_HFQ8_SSSE3) {
            size_t k = 0, rest = nblocks - b;
            if (path == GQ_HFQ8_VBMI) {
                /* four at a time, then SSSE3 up to the block that stopped it */
                k = run_vbmi(codes + 16 * b, scales + b, rest, o + Q8B * b);
                rest = rest - k < 4 ? rest - k : 4;
            }
            k += run_ssse3(codes + 16 * (b + k), scales + b + k, rest, o + Q8B * (b + k));
            add_exact(st, k);
            b += k;
            if (b == nblocks)
                break;
        }
#else
        (void)path;
#endif
        /* the block a vector path stopped at (or every block, scalar) */
        block_scalar(codes + 16 * b, scales[b], o + Q8B * b, st);
        b++;
    }
}

/* the best path, asked once; GPTOSS_QUANT_ISA caps it as it caps the
 * encoders ("portable": scalar, "avx2": SSSE3) */
static int best_path(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v >= 0)
        return v;
    int cap = gq__isa_cap();
    v = cap == GQ_ISA_PORTABLE ? GQ_HFQ8_SCALAR : cap == GQ_ISA_AVX2 ? GQ_HFQ8_SSSE3 : GQ_HFQ8_VBMI;
    while (v > GQ_HFQ8_SCALAR && !gq__hfq8_path_supported(v))
        v--;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

void gq_mxfp4_hf_to_q8(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out_blocks,
                       gq_stats *stats)
{
    gq__mxfp4_hf_to_q8_path(best_path(), codes, scales, nblocks, out_blocks, stats);
}

/* test_quant_simd.c - the SIMD paths of the q4 and q8 encoders (AVX-512,
 * AVX2: whichever this CPU has) write the same bytes and the same statistics,
 * bit for bit, as the portable path that states the rule (quant/q4.c,
 * quant/q8.c), on:
 *  - real-shaped weights: gaussian, bf16-rounded gaussian (the dense
 *    tensors' source: 8-bit significands, so many exact ties), MXFP4-derived
 *    blocks for every scale byte 0..255;
 *  - adversarial blocks: exact midpoints between levels of an f16 scale,
 *    blocks that are exactly levels * an f16 d (normal and subnormal d),
 *    all-equal, +-0, lone values, both signs of the largest magnitude,
 *    subnormals, magnitudes around 2^-60 (where the search stops) and around
 *    the f16 range's ends (65504 * 8: the saturating reference scale), near
 *    FLT_MAX (overflowing products), and inf / NaN;
 *  - every mix of those within one vector group (kinds drawn per block), at
 *    every start offset 0..15 (so groups straddle differently) and with
 *    n % 16 != 0 (the narrower paths take the tail).
 * And the MXFP4 (HF layout) -> Q8_32 paths against decoding to floats and
 * encoding (test_mxfp4_hf_to_q8 below).
 * A path this CPU lacks is reported and skipped; the portable path is always
 * compared against itself block by block (grouping must not matter).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "quant.h"
#include "quant_internal.h"
#define TEST_RNG_SEED 0x2545F4914F6CDD1Dull
#include "test_rng.h"

static float bf16_round(float f) { return gq_bf16_to_f32(gq_f32_to_bf16(f)); }

enum { KINDS = 22 };

/* one block of kind k */
static void make_block(int kind, float *v)
{
    double scale = ldexp(1.0, (int)(rnd() % 40) - 30);
    for (int j = 0; j < 32; j++)
        v[j] = (float)(gauss() * scale);
    switch (kind) {
    case 0: break;                                            /* gaussian, random scale */
    case 1:                                                   /* bf16 source weights */
        for (int j = 0; j < 32; j++)
            v[j] = bf16_round((float)(gauss() * 0.02));
        break;
    case 2: {                                                 /* MXFP4, any scale byte */
        uint8_t m[17];
        m[0] = (uint8_t)(rnd() % 4 ? 100 + rnd() % 50 : rnd() % 256);
        for (int j = 1; j < 17; j++)
            m[j] = (uint8_t)rnd();
        gq_traits_of(GQ_MXFP4)->decode(m, v, 32);
        break;
    }
    case 3: case 4: {                                         /* exactly levels * f16 d */
        uint8_t b[18];
        uint16_t d = kind == 3 ? (uint16_t)(0x0400 + rnd() % 0x7400) : (uint16_t)(1 + rnd() % 0x3ff);
        d |= (uint16_t)(rnd() & 1 ? 0x8000 : 0);
        b[0] = (uint8_t)d;
        b[1] = (uint8_t)(d >> 8);
        for (int j = 2; j < 18; j++)
            b[j] = (uint8_t)rnd();
        gq_traits_of(GQ_Q4_32)->decode(b, v, 32);
        break;
    }
    case 5: {                                                 /* midpoints between levels */
        float d = gq_f16_to_f32((uint16_t)(0x1000 + rnd() % 0x5000));
        for (int j = 0; j < 32; j++)
            v[j] = ((float)((int)(rnd() % 16) - 8) + (rnd() & 1 ? 0.5f : 0.0f)) * d;
        v[rnd() % 32] = -8.0f * d;
        break;
    }
    case 6:                                                   /* all equal */
        for (int j = 0; j < 32; j++)
            v[j] = (float)scale;
        break;
    case 7:                                                   /* +-0 */
        for (int j = 0; j < 32; j++)
            v[j] = j & 1 ? -0.0f : 0.0f;
        break;
    case 8:                                                   /* a lone value */
        for (int j = 0; j < 32; j++)
            v[j] = 0.0f;
        v[rnd() % 32] = (float)(gauss() * scale);
        break;
    case 9: {                                                 /* +a and -a both largest */
        float a = (float)scale * 4.0f;
        v[rnd() % 16] = -a;
        v[16 + rnd() % 16] = a;
        break;
    }
    case 10:                                                  /* subnormal floats */
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * 1e-39);
        break;
    case 11: {                                                /* around 2^-60 */
        float e = ldexpf(1.0f, -60);
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * 0x1p-62);
        v[rnd() % 32] = rnd() % 3 == 0 ? e : rnd() & 1 ? nextafterf(e, 1.0f) : -nextafterf(e, 0.0f) * 1.0f;
        break;
    }
    case 12:                                                  /* around the smallest f16 scales */
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * ldexp(1.0, -24 - (int)(rnd() % 6)));
        break;
    case 13:                                                  /* around 65504 * 8 */
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * 65504.0 * (1 + rnd() % 16));
        v[rnd() % 32] = (rnd() & 1 ? 1.0f : -1.0f) * (float)(65504.0 * 8.0 * (0.9 + 0.2 * unif()));
        break;
    case 14:                                                  /* near FLT_MAX */
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * 1e37);
        v[rnd() % 32] = rnd() & 1 ? FLT_MAX : -FLT_MAX;
        break;
    case 15:                                                  /* inf */
        v[rnd() % 32] = rnd() & 1 ? INFINITY : -INFINITY;
        break;
    case 16:                                                  /* NaN */
        v[rnd() % 32] = NAN;
        break;
    case 17:                                                  /* huge range in one block */
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * ldexp(1.0, (int)(rnd() % 200) - 100));
        break;
    case 18:                                                  /* small integers (ties for many d) */
        for (int j = 0; j < 32; j++)
            v[j] = (float)((int)(rnd() % 33) - 16);
        break;
    case 19:                                                  /* int8 * 2^p (q8's exact case) */
        for (int j = 0; j < 32; j++)
            v[j] = ldexpf((float)((int)(rnd() % 255) - 127), (int)(rnd() % 8) - 20);
        break;
    case 20:                                                  /* q8 blocks, amax 127 */
        for (int j = 0; j < 32; j++)
            v[j] = (float)((int)(rnd() % 255) - 127) * 0.013f;
        v[rnd() % 32] = 127.0f * 0.013f;
        break;
    default:                                                  /* bf16 at random scales */
        for (int j = 0; j < 32; j++)
            v[j] = bf16_round(v[j]);
        break;
    }
}

static const char *isa_name(int isa) { return isa == GQ_ISA_AVX512 ? "avx512" : isa == GQ_ISA_AVX2 ? "avx2" : "portable"; }

static int same_stats(const gq_stats *a, const gq_stats *b)
{
    return a->blocks == b->blocks && a->inexact_blocks == b->inexact_blocks && a->values == b->values &&
           memcmp(&a->sq_err, &b->sq_err, sizeof a->sq_err) == 0 && memcmp(&a->sq_ref, &b->sq_ref, sizeof a->sq_ref) == 0;
}

typedef void (*encode_isa_fn)(int isa, const float *in, void *blocks, size_t n, gq_stats *stats);

/* Encodes x (nb blocks) with every path from every offset; the portable
 * path's bytes and stats are the reference. */
static void compare_paths(const char *fmt, encode_isa_fn enc, int bytes, const char *what, const float *x, size_t nb)
{
    uint8_t *ref = malloc(nb * (size_t)bytes), *got = malloc(nb * (size_t)bytes);
    gq_stats sref = {0};
    enc(GQ_ISA_PORTABLE, x, ref, nb * 32, &sref);
    for (int isa = GQ_ISA_AVX2; isa <= GQ_ISA_AVX512; isa++) {
        if (!gq__isa_supported(isa))
            continue;
        for (size_t start = 0; start < 16 && start < nb; start += start < 2 ? 1 : 5) {
            gq_stats sa = {0}, sp = {0};
            size_t n = nb - start;
            enc(isa, x + start * 32, got, n * 32, &sa);
            long bad = 0, first = -1;
            for (size_t b = 0; b < n; b++)
                if (memcmp(got + b * (size_t)bytes, ref + (start + b) * (size_t)bytes, (size_t)bytes)) {
                    bad++;
                    first = first < 0 ? (long)(start + b) : first;
                }
            CHECK_MSG(bad == 0, "%s %s, %s from block %zu: %ld of %zu blocks differ from the portable path (first %ld)",
                      fmt, what, isa_name(isa), start, bad, n, first);
            if (bad)
                break;
            enc(GQ_ISA_PORTABLE, x + start * 32, got, n * 32, &sp);
            CHECK_MSG(same_stats(&sa, &sp), "%s %s, %s from block %zu: statistics differ (sq_err %.17g vs %.17g)", fmt,
                      what, isa_name(isa), start, sa.sq_err, sp.sq_err);
        }
        /* without statistics too (another code path in the encoders) */
        enc(isa, x, got, nb * 32, NULL);
        CHECK_MSG(memcmp(got, ref, nb * (size_t)bytes) == 0, "%s %s, %s without stats: other bytes", fmt, what,
                  isa_name(isa));
    }
    /* the portable path block by block: grouping does not matter */
    long bad = 0;
    gq_stats s1 = {0};
    for (size_t b = 0; b < nb; b++) {
        enc(GQ_ISA_PORTABLE, x + b * 32, got + b * (size_t)bytes, 32, &s1);
        bad += memcmp(got + b * (size_t)bytes, ref + b * (size_t)bytes, (size_t)bytes) != 0;
    }
    CHECK_MSG(bad == 0 && same_stats(&s1, &sref), "%s %s: portable block by block differs (%ld)", fmt, what, bad);
    free(ref);
    free(got);
}

static void run_sets(const char *fmt, encode_isa_fn enc, int bytes)
{
    enum { NB = 16 * 2500 + 13 };
    float *x = malloc((size_t)NB * 32 * sizeof *x);
    /* one kind per data set: long runs of full groups of it */
    for (int k = 0; k < KINDS; k++) {
        size_t nb = k == 15 || k == 16 ? 16 * 40 + 5 : 16 * 400 + 7;
        for (size_t b = 0; b < nb; b++)
            make_block(k, x + b * 32);
        char what[32];
        snprintf(what, sizeof what, "kind %d", k);
        compare_paths(fmt, enc, bytes, what, x, nb);
    }
    /* MXFP4-derived, every scale byte */
    for (int e = 0; e < 256; e++)
        for (int i = 0; i < 32; i++) {
            uint8_t m[17];
            m[0] = (uint8_t)e;
            for (int j = 1; j < 17; j++)
                m[j] = (uint8_t)rnd();
            gq_traits_of(GQ_MXFP4)->decode(m, x + (size_t)(e * 32 + i) * 32, 32);
        }
    compare_paths(fmt, enc, bytes, "mxfp4 scale bytes 0..255", x, 256 * 32);
    /* every kind mixed within groups (no inf / NaN: their stats are NaN) */
    for (size_t b = 0; b < NB; b++) {
        int k;
        do
            k = (int)(rnd() % KINDS);
        while (k == 15 || k == 16);
        make_block(k, x + b * 32);
    }
    compare_paths(fmt, enc, bytes, "mixed finite kinds", x, NB);
    /* and with inf / NaN sprinkled in */
    for (size_t b = 0; b < NB; b += 1 + rnd() % 40)
        make_block(15 + (int)(rnd() & 1), x + b * 32);
    compare_paths(fmt, enc, bytes, "mixed with inf/nan", x, NB);
    free(x);
}

/* ---- MXFP4 (HF layout) -> Q8_32 without floats (quant/mxfp4_q8.c) ----
 * Every path (scalar rule, SSSE3, AVX512-VBMI) writes, block for block, what
 * the definition gives: gq_mxfp4_hf_decode to floats, then the q8 encoder;
 * blocks, values, inexact blocks and sq_err agree too (sq_ref is only added
 * for blocks taken through floats: quant.h). Code patterns hit every
 * trailing-zero case (odd K; K in {2,6}; {4,12}; {8}; zeros, -0), every
 * scale byte (104..146 is the range the rule covers; the rest and the
 * all-zero blocks fall back), at every start offset and length mod 4 (the
 * VBMI path takes four blocks per step and stops at a group with a
 * fallback block). */
static const char *hfq8_name(int path)
{
    return path == GQ_HFQ8_VBMI ? "avx512-vbmi" : path == GQ_HFQ8_SSSE3 ? "ssse3" : "scalar";
}

static void hfq8_reference(const uint8_t *codes, const uint8_t *scales, size_t nb, uint8_t *out, gq_stats *st)
{
    float x[32];
    for (size_t b = 0; b < nb; b++) {
        gq_mxfp4_hf_decode(codes + 16 * b, scales + b, 1, x);
        gq_traits_of(GQ_Q8_32)->encode(x, out + 34 * b, 32, st);
    }
}

static int hfq8_same(const gq_stats *a, const gq_stats *b)
{
    return a->blocks == b->blocks && a->values == b->values && a->inexact_blocks == b->inexact_blocks &&
           memcmp(&a->sq_err, &b->sq_err, sizeof a->sq_err) == 0;
}

static void test_mxfp4_hf_to_q8(void)
{
    static const uint8_t pools[][8] = {
        {1, 3, 9, 11, 2, 5, 14, 0},   /* mixed: min ctz 0 */
        {2, 5, 10, 13, 0, 8, 2, 5},   /* K 2, 6: ctz 1 */
        {4, 7, 12, 15, 0, 8, 4, 7},   /* K 4, 12: ctz 2 */
        {6, 14, 6, 14, 0, 8, 6, 14},  /* K 8: ctz 3 */
        {0, 8, 0, 8, 0, 8, 0, 8},     /* all zero / -0 */
        {7, 15, 7, 15, 7, 15, 7, 15}, /* K 12 only */
    };
    enum { NB = 256 * 48 };
    uint8_t *codes = malloc((size_t)NB * 16), *scales = malloc(NB);
    uint8_t *ref = malloc((size_t)NB * 34), *got = malloc((size_t)NB * 34);
    /* every scale byte x 48 code patterns, in runs of one scale... */
    for (int e = 0; e < 256; e++)
        for (int pat = 0; pat < 48; pat++) {
            size_t b = (size_t)e * 48 + (size_t)pat;
            const uint8_t *pool = pools[pat % 6];
            for (int k = 0; k < 16; k++) {
                uint64_t r = rnd();
                codes[16 * b + k] = pat >= 36 ? (uint8_t)(r >> 11) /* fully random codes */
                                              : (uint8_t)(pool[r & 7] | (pool[(r >> 3) & 7] << 4));
            }
            scales[b] = (uint8_t)e;
        }
    for (int set = 0; set < 2; set++) {
        if (set == 1) /* ...then mixed: mostly the rule's range, fallbacks sprinkled in */
            for (size_t b = 0; b < NB; b++) {
                uint64_t r = rnd();
                scales[b] = (uint8_t)(r % 7 ? 104 + (r >> 8) % 43 : (r >> 8) % 256);
                if (r % 11 == 0)
                    memset(codes + 16 * b, r & 1 ? 0x88 : 0, 16); /* all +-0 */
            }
        gq_stats sref = {0};
        hfq8_reference(codes, scales, NB, ref, &sref);
        for (int path = GQ_HFQ8_SCALAR; path <= GQ_HFQ8_VBMI; path++) {
            if (!gq__hfq8_path_supported(path)) {
                if (set == 0)
                    printf("mxfp4 -> q8 %s path: not on this CPU (skipped)\n", hfq8_name(path));
                continue;
            }
            /* one call over everything, and from every start offset 0..7
             * with lengths of every residue mod 4 */
            gq_stats sa = {0};
            memset(got, 0xAA, (size_t)NB * 34);
            gq__mxfp4_hf_to_q8_path(path, codes, scales, NB, got, &sa);
            size_t bad = 0, first = 0;
            for (size_t b = NB; b-- > 0;)
                if (memcmp(got + 34 * b, ref + 34 * b, 34))
                    bad++, first = b;
            CHECK_MSG(bad == 0, "mxfp4 -> q8, set %d, %s: %zu of %d blocks differ (first %zu, scale %d)", set,
                      hfq8_name(path), bad, NB, first, scales[first]);
            CHECK_MSG(hfq8_same(&sa, &sref), "mxfp4 -> q8, set %d, %s: statistics differ", set, hfq8_name(path));
            for (size_t start = 0; start < 8; start++) {
                size_t n = NB - start - (start * 3) % 4;
                memset(got, 0xAA, n * 34);
                gq__mxfp4_hf_to_q8_path(path, codes + 16 * start, scales + start, n, got, NULL);
                CHECK_MSG(memcmp(got, ref + 34 * start, n * 34) == 0, "mxfp4 -> q8, set %d, %s from block %zu (%zu): other bytes",
                          set, hfq8_name(path), start, n);
            }
        }
        /* the public entry (the CPU's best path) too */
        gq_stats sp = {0};
        gq_mxfp4_hf_to_q8(codes, scales, NB, got, &sp);
        CHECK_MSG(memcmp(got, ref, (size_t)NB * 34) == 0 && hfq8_same(&sp, &sref),
                  "mxfp4 -> q8, set %d: gq_mxfp4_hf_to_q8 differs", set);
    }
    free(codes);
    free(scales);
    free(ref);
    free(got);
}

int main(void)
{
    for (int isa = GQ_ISA_AVX2; isa <= GQ_ISA_AVX512; isa++)
        printf("%s path: %s\n", isa_name(isa), gq__isa_supported(isa) ? "compared" : "not on this CPU (skipped)");
    printf("default path: %s\n", isa_name(gq__isa()));
    run_sets("q4_32", gq__q4_encode_isa, GQ_Q4_32_BLOCK_BYTES);
    run_sets("q8_32", gq__q8_encode_isa, GQ_Q8_32_BLOCK_BYTES);
    test_mxfp4_hf_to_q8();
    return check_done("test_quant_simd");
}

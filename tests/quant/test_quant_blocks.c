/* test_quant_blocks.c - the block formats against independent arithmetic.
 *
 *  - MXFP4 decode: all 16 codes x all 256 scale bytes against ldexp of the
 *    E2M1 value computed from its bit fields (not from our table).
 *  - HF -> ggml re-layout: every value equals the direct HF decode.
 *  - Q8_32 on MXFP4 blocks: lossless for every scale byte 104..146 (every
 *    block); outside, lossless exactly when the power-of-two rule allows,
 *    which the test re-derives; the counts are printed.
 *  - Q4_32: RMSE strictly below llama.cpp's Q4_0 reference rule on gaussian
 *    and on MXFP4-derived weights, and never worse block by block.
 *  - round trips and edge cases of every format; the traits table and
 *    quant_blocks.h against the formats' specs (block sizes, ggml numbers,
 *    which weights each may hold); the FP4 and E8M0 tables the kernels use.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "quant.h"
#include "test_rng.h"


/* E2M1 from its bit fields: sign bit 3, exponent bits 2..1, mantissa bit 0 */
static double e2m1(int code)
{
    int s = code >> 3, e = (code >> 1) & 3, m = code & 1;
    double v = e == 0 ? 0.5 * m : ldexp(1.0 + 0.5 * m, e - 1);
    return s ? -v : v;
}

/* exact f32 of FP4 * 2^(scale-127), as an MX spec reader computes it */
static float mx_exact(int code, int scale)
{
    return (float)ldexp(e2m1(code), scale - 127);
}

static int same(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

/* llama.cpp's Q4_0 reference rule, re-implemented from its description:
 * d = max / -8 (max: signed value of largest magnitude), q = (int8)(x/d +
 * 8.5) clamped to 15, d stored as f16. Writes the decoded values. */
static void q4_0_reference(const float *x, float *dec)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    float dd = gq_f16_to_f32(gq_f32_to_f16(d));
    for (int j = 0; j < 32; j++) {
        int q = (int8_t)(x[j] * id + 8.5f);
        q = q > 15 ? 15 : q;
        dec[j] = (float)(q - 8) * dd;
    }
}

static void test_mxfp4_decode(void)
{
    const gq_traits *t = gq_traits_of(GQ_MXFP4);
    long bad = 0;
    for (int e = 0; e < 256; e++)
        for (int code = 0; code < 16; code++) {
            /* the code at every position; other positions get code^5 */
            uint8_t blk[17];
            blk[0] = (uint8_t)e;
            int other = code ^ 5;
            for (int j = 0; j < 16; j++)
                blk[1 + j] = (uint8_t)((j & 1 ? other : code) | ((j & 2 ? other : code) << 4));
            float out[32];
            t->decode(blk, out, 32);
            for (int j = 0; j < 16; j++) {
                int lo = j & 1 ? other : code, hi = j & 2 ? other : code;
                bad += !same(out[j], mx_exact(lo, e)) || !same(out[j + 16], mx_exact(hi, e));
            }
            /* our scale byte e means 2^(e-128) on doubled values: the value
             * equals FP4 * 2^(e-127); compare through the HF formula too */
            bad += !same(out[0], (float)ldexp(e2m1(code), e - 127));
        }
    CHECK_MSG(bad == 0, "mxfp4 decode: %ld of %d values differ from exact arithmetic", bad, 256 * 16 * 33);
    float v[16];
    for (int c = 0; c < 16; c++)
        v[c] = (float)e2m1(c);
    CHECK(memcmp(v, gq_fp4_values, sizeof v) == 0);
}

static void test_mxfp4_from_hf(void)
{
    enum { NB = 4096 };
    static uint8_t codes[NB * 16], scales[NB], ours[NB * 17];
    static float a[NB * 32], b[NB * 32];
    for (int i = 0; i < NB * 16; i++)
        codes[i] = (uint8_t)rnd();
    for (int i = 0; i < NB; i++)
        scales[i] = (uint8_t)i;                   /* every scale byte, 16 times */
    gq_mxfp4_from_hf(codes, scales, NB, ours);
    gq_traits_of(GQ_MXFP4)->decode(ours, a, NB * 32);
    gq_mxfp4_hf_decode(codes, scales, NB, b);
    long bad = 0;
    for (int i = 0; i < NB * 32; i++) {
        /* independent: element i is nibble i%2 of HF byte i/2 */
        int blk = i / 32, k = (i % 32) / 2;
        int code = i % 2 ? codes[blk * 16 + k] >> 4 : codes[blk * 16 + k] & 15;
        float want = mx_exact(code, scales[blk]);
        bad += !same(a[i], want) || !same(b[i], want);
    }
    CHECK_MSG(bad == 0, "HF re-layout: %ld values differ", bad);
    CHECK(ours[0] == scales[0] && ours[17] == scales[1]);
    /* every count (the vector path takes two blocks per step, then a
     * scalar tail) and unaligned pointers, byte for byte against the
     * definition: our byte j = element j | element j+16 << 4 */
    static uint8_t out[24 * 17 + 3], ref[24 * 17];
    for (int n = 0; n <= 23; n++) {
        for (int shift = 0; shift < 3; shift++) {
            const uint8_t *c = codes + 16 * n + shift;
            memset(out, 0xA5, sizeof out);
            gq_mxfp4_from_hf(c, scales + n, (size_t)n, out + shift);
            for (int blk = 0; blk < n; blk++) {
                ref[blk * 17] = scales[n + blk];
                for (int j = 0; j < 16; j++) {
                    int lo = j % 2 ? c[blk * 16 + j / 2] >> 4 : c[blk * 16 + j / 2] & 15;
                    int hj = j + 16;
                    int hi = hj % 2 ? c[blk * 16 + hj / 2] >> 4 : c[blk * 16 + hj / 2] & 15;
                    ref[blk * 17 + 1 + j] = (uint8_t)(lo | hi << 4);
                }
            }
            CHECK_MSG(memcmp(out + shift, ref, (size_t)n * 17) == 0, "HF re-layout of %d blocks differs", n);
            CHECK_MSG(out[shift + n * 17] == 0xA5, "HF re-layout of %d blocks wrote past the end", n);
        }
    }
}

/* Re-derivation of when Q8_32 can hold an MXFP4 block exactly: the block is
 * K_j * 2^(e-128); it is exact iff some p with -24 <= p <= 15 has every K_j *
 * 2^(e-128-p) an integer of magnitude <= 127. */
static int q8_can_be_exact(const int *K, int e)
{
    for (int p = -24; p <= 15; p++) {
        int ok = 1;
        for (int j = 0; j < 32 && ok; j++) {
            double v = ldexp(K[j], e - 128 - p);
            ok = v == floor(v) && fabs(v) <= 127.0;
        }
        if (ok)
            return 1;
    }
    return 0;
}

static void test_q8_on_mxfp4(void)
{
    static const int kv[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    const gq_traits *mx = gq_traits_of(GQ_MXFP4), *q8 = gq_traits_of(GQ_Q8_32);
    long claimed_bad = 0, mismatch = 0, inexact_outside = 0, total_outside = 0;
    for (int e = 0; e < 256; e++) {
        for (int kind = 0; kind < 40; kind++) {
            uint8_t blk[17];
            blk[0] = (uint8_t)e;
            for (int j = 0; j < 16; j++) {
                int c0, c1;
                if (kind == 0) { c0 = j; c1 = 15 - j; }                /* every code */
                else if (kind == 1) { c0 = c1 = (j & 1) ? 14 : 6; }    /* only +-8: all even */
                else if (kind == 2) { c0 = 1; c1 = 9; }                /* only +-1 */
                else if (kind == 3) { c0 = 7; c1 = 15; }               /* only +-12 */
                else if (kind == 4) { c0 = c1 = 0; }                   /* all zero */
                else { c0 = (int)(rnd() & 15); c1 = (int)(rnd() & 15); }
                blk[1 + j] = (uint8_t)(c0 | (c1 << 4));
            }
            int K[32];
            for (int j = 0; j < 16; j++) {
                K[j] = kv[blk[1 + j] & 15];
                K[j + 16] = kv[blk[1 + j] >> 4];
            }
            float x[32], y[32];
            mx->decode(blk, x, 32);
            int finite = 1;
            for (int j = 0; j < 32; j++)
                finite &= isfinite(x[j]);
            uint8_t qb[34];
            gq_stats st = {0};
            q8->encode(x, qb, 32, &st);
            q8->decode(qb, y, 32);
            int exact = 1;
            for (int j = 0; j < 32; j++)
                exact &= x[j] == y[j];
            CHECK(st.blocks == 1 && st.inexact_blocks == (uint64_t)!exact);
            int can = finite && q8_can_be_exact(K, e);
            mismatch += exact != can;                  /* lossless exactly when possible */
            if (e >= 104 && e <= 146)
                claimed_bad += !exact;
            else {
                total_outside++;
                inexact_outside += !exact;
            }
            if (exact && e >= 104 && e <= 143 && kind == 0)  /* d is the MXFP4 scale itself */
                CHECK(gq_f16_to_f32((uint16_t)(qb[0] | qb[1] << 8)) == (float)ldexp(1.0, e - 128));
        }
    }
    CHECK_MSG(claimed_bad == 0, "q8 on MXFP4: %ld blocks inexact for scale bytes 104..146", claimed_bad);
    CHECK_MSG(mismatch == 0, "q8 on MXFP4: %ld blocks where exactness differs from the power-of-two rule", mismatch);
    printf("q8 on MXFP4: lossless for every block with scale byte 104..146; outside that range "
           "%ld of %ld test blocks inexact (all-zero and all-even blocks can still be exact)\n",
           inexact_outside, total_outside);
}

/* The rounded rule byte for byte, on blocks that are never exact (random
 * 24-bit mantissas) mixed with NaN, infinities, zeros and huge values: d =
 * f16(max|x| / 127) (NaN ignored, saturated at the largest finite f16), q =
 * nearest-even of x / d clamped to +-127, NaN -> 0; q = 0 when d is 0.
 * Written out here independently of quant/q8.c (whose vector form must
 * give these same bytes). */
static void test_q8_rounded_rule(void)
{
    const gq_traits *q8 = gq_traits_of(GQ_Q8_32);
    long bad = 0;
    for (int blk = 0; blk < 20000; blk++) {
        float x[32];
        uint8_t got[34], want[34];
        for (int j = 0; j < 32; j++) {
            uint64_t r = rnd();
            x[j] = (float)(((double)(r % 16777216) + 0.5) / 16777216.0 * 2.0 - 1.0) * ldexpf(1.0f, (int)(r >> 40) % 40 - 20);
            if (blk % 7 == 0 && j == (int)(r >> 30) % 32)
                x[j] = (r >> 50) % 4 == 0 ? NAN : (r >> 50) % 4 == 1 ? INFINITY : (r >> 50) % 4 == 2 ? -0.0f : 7e37f;
        }
        if (blk % 101 == 0)
            memset(x, 0, sizeof x);
        q8->encode(x, got, 32, NULL);
        float amax = 0.0f;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax)
                amax = fabsf(x[j]);
        uint16_t dh = gq_f32_to_f16(amax / 127.0f);
        if ((dh & 0x7fffu) >= 0x7c00u)
            dh = 0x7bffu;
        float df = gq_f16_to_f32(dh);
        want[0] = (uint8_t)dh;
        want[1] = (uint8_t)(dh >> 8);
        for (int j = 0; j < 32; j++) {
            float v = df > 0.0f ? x[j] / df : 0.0f;
            v = isnan(v) ? 0.0f : v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
            want[2 + j] = (uint8_t)(int8_t)lrintf(v);
        }
        /* an all-zero block takes the exact path: d = 0, q = 0, the same bytes */
        bad += memcmp(got, want, 34) != 0;
    }
    CHECK_MSG(bad == 0, "q8 rounded rule: %ld of 20000 blocks differ from the definition", bad);
}

static void test_q8_general(void)
{
    const gq_traits *q8 = gq_traits_of(GQ_Q8_32);
    enum { N = 32 * 2000 };
    static float x[N], y[N];
    static uint8_t b[N / 32 * 34];
    for (int i = 0; i < N; i++)
        x[i] = (float)(gauss() * 0.05);
    gq_stats st = {0};
    q8->encode(x, b, N, &st);
    q8->decode(b, y, N);
    long bad = 0;
    for (int blk = 0; blk < N / 32; blk++) {
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(x[blk * 32 + j]));
        float d = gq_f16_to_f32((uint16_t)(b[blk * 34] | b[blk * 34 + 1] << 8));
        /* nearest level: error at most half a step (plus f16 rounding of d
         * pushing the top value by at most 127 * rel. error of d) */
        for (int j = 0; j < 32; j++)
            bad += fabsf(y[blk * 32 + j] - x[blk * 32 + j]) > 0.5f * d + amax * 1e-3f;
    }
    CHECK_MSG(bad == 0, "q8 rounding: %ld values off by more than half a step", bad);
    CHECK(st.blocks == N / 32 && st.values == N && st.inexact_blocks == N / 32);
    double rel = sqrt(st.sq_err / st.sq_ref);
    CHECK_MSG(rel < 0.01, "q8 relative RMSE %g", rel);

    /* a Q8 block whose largest |q| is 127 survives decode -> encode intact */
    long rt_bad = 0;
    for (int i = 0; i < 2000; i++) {
        uint8_t blk[34], blk2[34];
        uint16_t d = (uint16_t)(0x0400 + rnd() % 0x7000);  /* normal, finite */
        blk[0] = (uint8_t)d;
        blk[1] = (uint8_t)(d >> 8);
        for (int j = 0; j < 32; j++)
            blk[2 + j] = (uint8_t)(int8_t)((int)(rnd() % 255) - 127);
        blk[2 + (rnd() & 31)] = (uint8_t)(rnd() & 1 ? 127 : -127);
        float v[32], w[32];
        q8->decode(blk, v, 32);
        q8->encode(v, blk2, 32, NULL);
        q8->decode(blk2, w, 32);
        rt_bad += memcmp(v, w, sizeof v) != 0;
    }
    CHECK_MSG(rt_bad == 0, "q8 decode->encode: %ld blocks changed", rt_bad);
}

static void q4_compare(const char *what, const float *x, size_t n)
{
    const gq_traits *q4 = gq_traits_of(GQ_Q4_32);
    static float y[32 * 20000], r[32 * 20000];
    static uint8_t b[20000 * 18];
    gq_stats st = {0};
    q4->encode(x, b, n, &st);
    q4->decode(b, y, n);
    double eo = 0, er = 0;
    long worse = 0;
    for (size_t blk = 0; blk < n / 32; blk++) {
        q4_0_reference(x + blk * 32, r + blk * 32);
        double bo = 0, br = 0;
        for (int j = 0; j < 32; j++) {
            double a = (double)y[blk * 32 + j] - x[blk * 32 + j];
            double c = (double)r[blk * 32 + j] - x[blk * 32 + j];
            bo += a * a;
            br += c * c;
        }
        worse += bo > br * (1 + 1e-6);
        eo += bo;
        er += br;
    }
    double ro = sqrt(eo / n), rr = sqrt(er / n);
    CHECK_MSG(ro < rr, "%s: q4 RMSE %g not below the Q4_0 rule's %g", what, ro, rr);
    CHECK_MSG(worse == 0, "%s: %ld blocks worse than the Q4_0 rule", what, worse);
    CHECK_MSG(fabs(st.sq_err - eo) <= 1e-9 * eo + 1e-30, "%s: stats sq_err %g vs %g", what, st.sq_err, eo);
    printf("%s: q4_32 RMSE %.6g vs Q4_0 rule %.6g (%.1f%% lower)\n", what, ro, rr, 100.0 * (1 - ro / rr));
}

static void test_q4(void)
{
    enum { N = 32 * 20000 };
    static float x[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(gauss() * 0.02);
    q4_compare("gaussian", x, N);

    /* MXFP4-derived: experts as the checkpoint stores them, realistic
     * scale bytes (gpt-oss experts sit around 2^-6 .. 2^-1) */
    const gq_traits *mx = gq_traits_of(GQ_MXFP4);
    for (int blk = 0; blk < N / 32; blk++) {
        uint8_t m[17];
        m[0] = (uint8_t)(118 + rnd() % 8);
        for (int j = 0; j < 16; j++)
            m[1 + j] = (uint8_t)rnd();
        mx->decode(m, x + blk * 32, 32);
    }
    q4_compare("mxfp4-derived", x, N);

    /* a block that is exactly (q-8)*d for a representable d with -8 present
     * is reproduced exactly */
    const gq_traits *q4 = gq_traits_of(GQ_Q4_32);
    long bad = 0;
    for (int i = 0; i < 2000; i++) {
        uint8_t blk[18], blk2[18];
        uint16_t d = (uint16_t)(0x0800 + rnd() % 0x6800);
        blk[0] = (uint8_t)d;
        blk[1] = (uint8_t)(d >> 8);
        for (int j = 0; j < 16; j++)
            blk[2 + j] = (uint8_t)rnd();
        blk[2 + (rnd() & 15)] &= 0xf0;                /* a level -8 */
        float v[32], w[32];
        q4->decode(blk, v, 32);
        gq_stats st = {0};
        q4->encode(v, blk2, 32, &st);
        q4->decode(blk2, w, 32);
        bad += memcmp(v, w, sizeof v) != 0 || st.inexact_blocks != 0;
    }
    CHECK_MSG(bad == 0, "q4 decode->encode of blocks with a -8 level: %ld changed", bad);

    /* deterministic: same input, same bytes */
    static uint8_t b1[N / 32 * 18], b2[N / 32 * 18];
    q4->encode(x, b1, N, NULL);
    q4->encode(x, b2, N, NULL);
    CHECK(memcmp(b1, b2, sizeof b1) == 0);
}

/* q4 encodes groups of 8 blocks with one block per vector lane where the CPU
 * has AVX2, single blocks otherwise and for a call's last n % 8 blocks. The
 * bytes must not depend on that: encode a mix of every kind of block in one
 * call, block by block, and from odd offsets (other groupings), and compare.
 * (Without AVX2 all three run the same code and this checks nothing more.) */
static void test_q4_grouping(void)
{
    enum { B = 8 * 1000 + 5 };
    static float x[B * 32];
    static uint8_t all[B * 18], one[B * 18], off[B * 18];   /* 8005 blocks: ~1/2 s */
    const gq_traits *q4 = gq_traits_of(GQ_Q4_32), *mx = gq_traits_of(GQ_MXFP4);
    for (int blk = 0; blk < B; blk++) {
        float *v = x + blk * 32;
        int kind = (int)(rnd() % 16);
        /* mostly where f16 scales work (and the search decides), some far outside */
        double scale = ldexp(1.0, kind == 8 ? (int)(rnd() % 200) - 100 : (int)(rnd() % 30) - 20);
        for (int j = 0; j < 32; j++)
            v[j] = (float)(gauss() * scale);
        if (kind == 0) {                          /* MXFP4-derived */
            uint8_t m[17];
            m[0] = (uint8_t)(100 + rnd() % 50);
            for (int j = 0; j < 16; j++)
                m[1 + j] = (uint8_t)rnd();
            mx->decode(m, v, 32);
        } else if (kind == 1) {                   /* all zero, or +-0 */
            for (int j = 0; j < 32; j++)
                v[j] = j & 1 ? -0.0f : 0.0f;
        } else if (kind == 2) {                   /* below 2^-60, some subnormal */
            for (int j = 0; j < 32; j++)
                v[j] = (float)(gauss() * 1e-25) * (j & 3 ? 1.0f : 1e-20f);
        } else if (kind == 3) {                   /* huge: products overflow */
            for (int j = 0; j < 32; j++)
                v[j] = (float)(gauss() * 1e37);
            v[rnd() % 32] = (rnd() & 1) ? 3.4e38f : -3.4e38f;
        } else if (kind == 4) {                   /* inf / NaN somewhere */
            v[rnd() % 32] = (rnd() & 1) ? INFINITY : NAN;
        } else if (kind == 5) {                   /* +a and -a both largest: m is the first */
            float a = (float)fabs(gauss() * scale) * 4.0f + (float)scale;
            v[rnd() % 16] = -a;
            v[16 + rnd() % 16] = a;
        } else if (kind == 6) {                   /* one value repeated */
            for (int j = 0; j < 32; j++)
                v[j] = (float)scale;
        } else if (kind == 7) {                   /* a lone nonzero value */
            for (int j = 0; j < 32; j++)
                v[j] = 0.0f;
            v[rnd() % 32] = (float)(gauss() * scale);
        }                                         /* else gaussian */
    }
    gq_stats sa = {0}, so = {0};
    q4->encode(x, all, B * 32, &sa);
    for (int blk = 0; blk < B; blk++)
        q4->encode(x + blk * 32, one + blk * 18, 32, &so);
    long bad = 0;
    for (int blk = 0; blk < B; blk++)
        bad += memcmp(all + blk * 18, one + blk * 18, 18) != 0;
    CHECK_MSG(bad == 0, "q4: %ld of %d blocks differ between one call and block-by-block calls", bad, (int)B);
    CHECK(sa.blocks == so.blocks && sa.inexact_blocks == so.inexact_blocks && sa.values == so.values);
    /* bit for bit: the NaN inputs make both sums NaN */
    CHECK_MSG(memcmp(&sa.sq_err, &so.sq_err, sizeof sa.sq_err) == 0 &&
                  memcmp(&sa.sq_ref, &so.sq_ref, sizeof sa.sq_ref) == 0,
              "q4: stats differ by grouping");
    for (int start = 1; start < 8; start += 3) {
        q4->encode(x + start * 32, off, (size_t)(B - start) * 32, NULL);
        CHECK_MSG(memcmp(off, one + start * 18, (size_t)(B - start) * 18) == 0,
                  "q4: encoding from block %d gives other bytes", start);
    }
}

static void test_float_formats(void)
{
    /* f32 is a copy; f16/bf16 blocks decode->encode to the same bytes */
    const gq_type ty[3] = {GQ_F32, GQ_F16, GQ_BF16};
    for (int k = 0; k < 3; k++) {
        const gq_traits *t = gq_traits_of(ty[k]);
        uint8_t in[256 * 4], out[256 * 4];
        float v[256];
        for (int i = 0; i < 256 * 4; i++)
            in[i] = (uint8_t)rnd();
        /* no inf/NaN codes (NaN payloads may change) */
        if (ty[k] != GQ_F32) {
            for (int i = 0; i < 256; i++)
                if ((in[2 * i + 1] & 0x7f) == 0x7f || (in[2 * i + 1] & 0x7c) == 0x7c)
                    in[2 * i + 1] &= 0x3f;
        } else {
            for (int i = 0; i < 256; i++)
                in[4 * i + 3] &= 0x3f;
        }
        t->decode(in, v, 256);
        gq_stats st = {0};
        t->encode(v, out, 256, &st);
        CHECK_MSG(memcmp(in, out, (size_t)t->block_bytes * 256) == 0, "%s round trip", t->name);
        CHECK_MSG(st.inexact_blocks == 0 && st.blocks == 256, "%s stats", t->name);
    }
    /* block decoders of all 65536 codes agree with the scalar conversions
     * (which test_quant_scalar checks against independent references) */
    static uint8_t codes[65536 * 2];
    static float dec[65536];
    for (uint32_t h = 0; h < 65536; h++) {
        codes[2 * h] = (uint8_t)h;
        codes[2 * h + 1] = (uint8_t)(h >> 8);
    }
    long bad = 0;
    gq_traits_of(GQ_BF16)->decode(codes, dec, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        float w = gq_bf16_to_f32((uint16_t)h);
        bad += memcmp(&dec[h], &w, 4) != 0;
    }
    gq_traits_of(GQ_F16)->decode(codes, dec, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        float w = gq_f16_to_f32((uint16_t)h);
        bad += memcmp(&dec[h], &w, 4) != 0;
    }
    CHECK_MSG(bad == 0, "16-bit block decode: %ld codes differ from the scalar conversion", bad);

    /* little-endian storage whatever the host */
    uint8_t b[2];
    float one = 1.0f;
    gq_traits_of(GQ_BF16)->encode(&one, b, 1, NULL);
    CHECK(b[0] == 0x80 && b[1] == 0x3f);
    gq_traits_of(GQ_F16)->encode(&one, b, 1, NULL);
    CHECK(b[0] == 0x00 && b[1] == 0x3c);
    float third = 1.0f / 3.0f;
    gq_stats st = {0};
    gq_traits_of(GQ_BF16)->encode(&third, b, 1, &st);
    CHECK(st.inexact_blocks == 1 && st.sq_err > 0);
}

static void test_mxfp4_encode(void)
{
    const gq_traits *mx = gq_traits_of(GQ_MXFP4);
    /* decode -> encode -> decode keeps every value (a block may pick a
     * smaller scale byte when its largest code is small: same values) */
    long bad = 0;
    for (int i = 0; i < 5000; i++) {
        uint8_t blk[17], blk2[17];
        blk[0] = (uint8_t)(1 + rnd() % 250);
        for (int j = 0; j < 16; j++)
            blk[1 + j] = (uint8_t)rnd();
        float v[32], w[32];
        mx->decode(blk, v, 32);
        gq_stats st = {0};
        mx->encode(v, blk2, 32, &st);
        mx->decode(blk2, w, 32);
        bad += memcmp(v, w, sizeof v) != 0 || st.inexact_blocks != 0;
    }
    CHECK_MSG(bad == 0, "mxfp4 decode->encode: %ld blocks changed", bad);

    /* nearest FP4 value, ties to the even code; scale byte so 12 units hold
     * the max: x = 12 -> e = 128 (unit 1) */
    float x[32] = {12.0f, 0.5f, 1.5f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f, 0.49f, 0.51f, 11.0f, -12.0f, -0.5f, -5.0f, 9.9f, 100.0f};
    x[15] = 0.0f;
    uint8_t blk[17];
    mx->encode(x, blk, 32, NULL);
    CHECK(blk[0] == 128);
    float y[32];
    mx->decode(blk, y, 32);
    const float want[16] = {12, 0, 2, 2, 4, 4, 8, 8, 0, 1, 12, -12, 0, -4, 8, 0};
    for (int j = 0; j < 16; j++)
        CHECK_MSG(y[j] == want[j], "mxfp4 encode of %g gave %g want %g", x[j], y[j], want[j]);
    /* 13 needs the next scale up */
    x[0] = 13.0f;
    mx->encode(x, blk, 32, NULL);
    CHECK(blk[0] == 129);
}

static void test_traits(void)
{
    const char *names[] = {"f32", "f16", "bf16", "mxfp4", "q8_32", "q4_32"};
    for (int i = 0; i < GQ_TYPE_COUNT; i++) {
        const gq_traits *t = gq_traits_of((gq_type)i);
        CHECK(t && (int)t->type == i && strcmp(t->name, names[i]) == 0 && t->decode && t->encode);
        CHECK(gq_traits_by_name(names[i]) == t);
    }
    CHECK(gq_traits_of(GQ_TYPE_COUNT) == NULL);
    CHECK(gq_traits_of((gq_type)-1) == NULL);
    CHECK(gq_traits_by_name("q8") == gq_traits_of(GQ_Q8_32));
    CHECK(gq_traits_by_name("q4") == gq_traits_of(GQ_Q4_32));
    CHECK(gq_traits_by_name("q5") == NULL && gq_traits_by_name("") == NULL && gq_traits_by_name(NULL) == NULL);

    CHECK(gq_row_bytes(GQ_MXFP4, 2880) == 90 * 17);
    CHECK(gq_row_bytes(GQ_Q8_32, 32) == 34);
    CHECK(gq_row_bytes(GQ_Q4_32, 64) == 36);
    CHECK(gq_row_bytes(GQ_BF16, 3) == 6);
    CHECK(gq_row_bytes(GQ_F32, 0) == 0);
    CHECK(gq_row_bytes(GQ_Q8_32, 31) == 0);
    CHECK(gq_row_bytes(GQ_Q4_32, 33) == 0);
    CHECK(gq_row_bytes(GQ_TYPE_COUNT, 32) == 0);
    CHECK(gq_row_bytes(GQ_F32, UINT64_MAX / 2) == 0);            /* overflows */
    CHECK(gq_row_bytes(GQ_Q8_32, (UINT64_MAX / 34 + 1) * 32) == 0);
    CHECK(gq_row_bytes(GQ_Q8_32, (uint64_t)(SIZE_MAX / 34) * 32) == (SIZE_MAX / 34) * 34);

    /* n = 0 touches nothing; n = several blocks writes exactly their bytes */
    for (int i = 0; i < GQ_TYPE_COUNT; i++) {
        const gq_traits *t = gq_traits_of((gq_type)i);
        uint8_t buf[512];
        memset(buf, 0xAB, sizeof buf);
        t->encode(NULL, buf, 0, NULL);
        t->decode(buf, NULL, 0);
        long untouched = 0;
        for (size_t k = 0; k < sizeof buf; k++)
            untouched += buf[k] == 0xAB;
        CHECK_MSG(untouched == (long)sizeof buf, "%s: n=0 wrote bytes", t->name);
        float x[96];
        for (int k = 0; k < 96; k++)
            x[k] = (float)k - 40.0f;
        size_t nb = gq_row_bytes(t->type, 64);
        t->encode(x, buf, 64, NULL);
        CHECK_MSG(buf[nb] == 0xAB, "%s: encode wrote past %zu bytes", t->name, nb);
    }
    /* huge and tiny finite blocks: q8/q4 saturate d at the largest f16 and
     * keep signs; blocks far below the smallest f16 step become zeros */
    for (int i = GQ_Q8_32; i <= GQ_Q4_32; i++) {
        const gq_traits *t = gq_traits_of((gq_type)i);
        float big[32], tiny[32], out[32];
        for (int j = 0; j < 32; j++) {
            big[j] = (j & 1 ? -3e38f : 1e30f) * (float)(j + 1) / 32.0f;
            tiny[j] = (j & 1 ? -1e-42f : 1e-30f);
        }
        uint8_t buf[34];
        t->encode(big, buf, 32, NULL);
        t->decode(buf, out, 32);
        int ok = 1;
        for (int j = 0; j < 32; j++)
            ok &= isfinite(out[j]) && (out[j] == 0.0f || (out[j] < 0) == (big[j] < 0));
        ok &= out[31] <= -65504.0f * 7.0f;          /* the largest magnitude saturates */
        CHECK_MSG(ok, "%s: huge block", t->name);
        t->encode(tiny, buf, 32, NULL);
        t->decode(buf, out, 32);
        ok = 1;
        for (int j = 0; j < 32; j++)
            ok &= out[j] == 0.0f;
        CHECK_MSG(ok, "%s: tiny block", t->name);
    }

    /* all-zero blocks, and a block with inf/NaN stays finite in q8/q4 */
    float z[32] = {0}, y[32];
    for (int i = GQ_MXFP4; i < GQ_TYPE_COUNT; i++) {
        const gq_traits *t = gq_traits_of((gq_type)i);
        uint8_t buf[34];
        gq_stats st = {0};
        t->encode(z, buf, 32, &st);
        t->decode(buf, y, 32);
        CHECK_MSG(memcmp(y, z, sizeof z) == 0 && st.inexact_blocks == 0, "%s: zero block", t->name);
        float w[32] = {1.0f, INFINITY, NAN, -2.0f};
        t->encode(w, buf, 32, NULL);
        t->decode(buf, y, 32);
        int nan = 0;
        for (int j = 0; j < 32; j++)
            nan += isnan(y[j]);
        CHECK_MSG(nan == 0, "%s: NaN decoded from a block with inf/NaN input", t->name);
    }
}

/* quant_blocks.h and the rows of the table against the specs (numbers
 * written here independently: ggml-common.h block structs, ggml.h's
 * enum ggml_type, llama.h's enum llama_ftype). */
static void test_traits_spec(void)
{
    CHECK(GQ_BLOCK_VALUES == 32 && GQ_MXFP4_BLOCK_BYTES == 1 + 16 && GQ_Q8_32_BLOCK_BYTES == 2 + 32 &&
          GQ_Q4_32_BLOCK_BYTES == 2 + 16 && GQ_F16_BYTES == 2 && GQ_BF16_BYTES == 2 && GQ_F32_BYTES == 4);
    CHECK(GQ_MXFP4_QS_OFFSET + GQ_NIBBLE_BYTES == GQ_MXFP4_BLOCK_BYTES &&
          GQ_Q8_32_QS_OFFSET + GQ_BLOCK_VALUES == GQ_Q8_32_BLOCK_BYTES &&
          GQ_Q4_32_QS_OFFSET + GQ_NIBBLE_BYTES == GQ_Q4_32_BLOCK_BYTES);
    static const struct {
        int values, bytes, ggml, ftype;
        const char *short_name;
        unsigned uses;
        gq_type act;
    } want[GQ_TYPE_COUNT] = {
        [GQ_F32] = {1, 4, 0, 0, "f32", GQ_USE_DENSE | GQ_USE_EXPERTS, GQ_F32},
        [GQ_F16] = {1, 2, 1, 1, "f16", GQ_USE_DENSE | GQ_USE_EXPERTS, GQ_F16},
        [GQ_BF16] = {1, 2, 30, 32, "bf16", GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_BF16},
        [GQ_MXFP4] = {32, 17, 39, 38, "mxfp4", GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_Q8_32},
        [GQ_Q8_32] = {32, 34, 8, 7, "q8", GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_Q8_32},
        [GQ_Q4_32] = {32, 18, 2, 2, "q4", GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_Q8_32},
    };
    for (int i = 0; i < GQ_TYPE_COUNT; i++) {
        const gq_traits *t = gq_traits_of((gq_type)i);
        CHECK_MSG(t->block_values == want[i].values && t->block_bytes == want[i].bytes && t->ggml_type == want[i].ggml &&
                      t->gguf_file_type == want[i].ftype && !strcmp(t->short_name, want[i].short_name) &&
                      t->uses == want[i].uses && t->ggml_act_type == want[i].act,
                  "%s: traits row differs from the spec", t->name);
        CHECK(gq_traits_by_name(t->short_name) == t);
    }
    CHECK(GQ_F32 == GQ_T_F32 && GQ_F16 == GQ_T_F16 && GQ_BF16 == GQ_T_BF16 && GQ_MXFP4 == GQ_T_MXFP4 &&
          GQ_Q8_32 == GQ_T_Q8_32 && GQ_Q4_32 == GQ_T_Q4_32 && GQ_TYPE_COUNT == GQ_T_COUNT);

    /* the doubled FP4 table is twice the E2M1 values (-0 as +0) */
    int bad = 0;
    for (int c = 0; c < 16; c++) {
        float w = (float)(2.0 * e2m1(c));
        bad += memcmp(&gq_mxfp4_kvalues[c], &(float){w == 0.0f ? 0.0f : w}, sizeof(float)) != 0;
    }
    CHECK_MSG(bad == 0, "gq_mxfp4_kvalues: %d of 16 differ from 2 * E2M1", bad);
    /* the E8M0 scale (formula and the table the SIMD loops load from) is
     * 2^(e-128) for every byte, bit for bit, denormals at e = 0, 1 included */
    bad = 0;
    for (int e = 0; e < 256; e++) {
        float f = gq_e8m0_half((uint8_t)e), g = (float)ldexp(1.0, e - 128);
        bad += memcmp(&f, &g, sizeof f) != 0 || memcmp(&gq_e8m0_half_table[e], &g, sizeof f) != 0;
    }
    CHECK_MSG(bad == 0, "e8m0: %d of 256 scale bytes differ from 2^(e-128)", bad);
}

int main(void)
{
    test_traits_spec();
    test_mxfp4_decode();
    test_mxfp4_from_hf();
    test_q8_rounded_rule();
    test_mxfp4_encode();
    test_q8_on_mxfp4();
    test_q8_general();
    test_q4();
    test_q4_grouping();
    test_float_formats();
    test_traits();
    return check_done("test_quant_blocks");
}
